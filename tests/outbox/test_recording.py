"""Recording a sent message (on PostgreSQL one statement, on SQLite a transaction): only the
sender that still holds the message records it; a sender whose lease was taken over counts
nothing, and the planner's decision is marked sent once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, text

from tests.outbox.conftest import NOW, outgoing
from tillit.contact.tables import DecisionRecord, SendRecord
from tillit.outbox import OutboxMessage, enqueue, store
from tillit.outbox.recorder import Recorder
from tillit.outbox.report import DeliveryReport
from tillit.outbox.settling import record_sent
from tillit.outbox.transport import Prepared

LEASE = timedelta(seconds=60)


def _prepared(message: store.Claimed) -> Prepared:
    return Prepared(
        message=message,
        address="ida@example.com",
        address_type="email",
        point_hash="h",
        message_id=f"<outbox.{message.id}@example.com>",
        why_url="https://shop.example.com/p/x",
        unsubscribe_url=None,
    )


def test_only_the_sender_holding_the_message_records_it(sessions, make_customer):
    customer = make_customer(email="ida@example.com")
    with sessions() as session, session.begin():
        decision = DecisionRecord(
            customer_id=customer, channel="email", kind="marketing", outcome="allowed"
        )
        session.add(decision)
        session.flush()
        enqueue(session, [outgoing(customer, "one", decision_id=decision.id)])
    [stale] = store.claim(sessions, now=NOW, lease=LEASE, size=10, channels=["email"])
    # The first sender hangs past its lease; a second takes the message over.
    [fresh] = store.claim(sessions, now=NOW + 2 * LEASE, lease=LEASE, size=10, channels=["email"])
    assert stale.id == fresh.id and stale.claim_token != fresh.claim_token

    report = DeliveryReport()
    with Recorder(sessions) as recorder:
        record_sent(recorder, _prepared(stale), provider_id="<old>", now=NOW, report=report)
        record_sent(recorder, _prepared(fresh), provider_id="<new>", now=NOW, report=report)
        record_sent(recorder, _prepared(fresh), provider_id="<again>", now=NOW, report=report)
    assert (report.sent, report.lost_lease) == (1, 2)
    with sessions() as session:
        row = session.get_one(OutboxMessage, fresh.id)
        assert (row.state, row.provider_id, row.claim_token) == ("sent", "<new>", None)
        assert session.scalar(select(func.count()).select_from(SendRecord)) == 1
        send = session.scalars(select(SendRecord)).one()
        assert (send.customer_id, send.decision_id, send.topic) == (customer, decision.id, "offers")
        assert session.get_one(DecisionRecord, decision.id).sent is True


def test_records_that_need_not_wait_for_the_disk_leave_the_pool_as_it_was(sessions, engine):
    """``durable=False``: the recording connections commit with synchronous_commit off (on
    PostgreSQL; SQLite has no such setting), and no pooled connection keeps the setting."""
    if engine.dialect.name != "postgresql":
        with Recorder(sessions, durable=False) as recorder:
            recorder.record(lambda session: session.execute(text("SELECT 1")))
        return
    seen: list[str] = []

    def show(session_or_connection) -> None:
        seen.append(session_or_connection.execute(text("SHOW synchronous_commit")).scalar_one())

    with Recorder(sessions, durable=False) as recorder:
        recorder.record(show)
        recorder.record_statement(show)
    with Recorder(sessions) as recorder:
        recorder.record(show)
        recorder.record_statement(show)
    with engine.connect() as connection:  # what any later user of the pool gets
        show(connection)
    assert seen == ["off", "off", "on", "on", "on"]


def test_a_renewal_names_the_messages_the_sender_still_holds(sessions, make_customer):
    customers = [make_customer(email=f"p{n}@example.com") for n in range(2)]
    with sessions() as session, session.begin():
        enqueue(session, [outgoing(c, f"r{c}") for c in customers])
    first, second = store.claim(sessions, now=NOW, lease=LEASE, size=2, channels=["email"])
    # The sender waits past its lease (a batch claimed ahead, behind a slow one); a second
    # sender takes one of its messages over.
    [taken] = store.claim(sessions, now=NOW + 2 * LEASE, lease=LEASE, size=1, channels=["email"])
    assert taken.id == first.id
    with sessions() as session, session.begin():
        held = store.renew(session, token=first.claim_token, at=NOW + 2 * LEASE)
    assert held == {second.id}
    with sessions() as session:
        rows = {row.id: row for row in session.scalars(select(OutboxMessage))}
    assert rows[first.id].claim_token == taken.claim_token
    assert rows[second.id].claimed_at == NOW + 2 * LEASE
