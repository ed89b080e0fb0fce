"""A small world of records with known kept and broken promises, written through the areas'
own services where they have one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.campaigns.definitions import parse_definition
from tillit.campaigns.models import Campaign, CampaignMessage, CampaignRound
from tillit.consent.ledger import record_consent
from tillit.consent.models import ConsentDecision, Method
from tillit.consent.preferences import update_preferences
from tillit.contact.tables import DecisionRecord, SendRecord
from tillit.customers.models import Customer
from tillit.dialogues.models import Ask, Case, Question, QuestionVersion, Response
from tillit.i18n import LANGUAGES
from tillit.privacy.models import DataRequest

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
SYSTEM = Actor.system("test")
CAMPAIGN = ("winter-sale", "Winter sale")  # plans the marketing that breaks two promises
TEAM = "Customer care, Oslo"  # the late case's assignee
LOYALTY = "Loyalty team"  # the assignee of the case about a low score


@dataclass
class World:
    customers: dict[str, int] = field(default_factory=dict)
    broken: set[tuple[str, str, int]] = field(default_factory=set)  # (promise, kind, id)
    # Where each broken instance broke: (promise, kind, id) -> (campaign, team, channel).
    where: dict[tuple[str, str, int], tuple[str | None, str | None, str | None]] = field(
        default_factory=dict
    )


def customer(session: Session, name: str, zone: str = "Europe/Oslo", locale: str = "nb-NO") -> int:
    row = Customer(name=None, locale=locale, time_zone=zone, country="NO", traits={})
    session.add(row)
    session.flush()
    return row.id


def send(
    session: Session,
    customer_id: int,
    at: datetime,
    *,
    kind: str = "marketing",
    channel: str = "email",
    purpose: str = "marketing",
    topic: str | None = "offers",
    planned_in: int | None = None,
) -> int:
    """A send (and the decision that allowed it); ``planned_in``: the round of the campaign
    whose planned message it is."""
    decision = DecisionRecord(
        customer_id=customer_id,
        purpose_key=purpose,
        kind=kind,
        channel=channel,
        topic=topic,
        outcome="allowed",
        reasons=[],
        decided_at=at,
        sent=True,
    )
    session.add(decision)
    session.flush()
    row = SendRecord(
        customer_id=customer_id,
        decision_id=decision.id,
        channel=channel,
        kind=kind,
        topic=topic,
        sent_at=at,
    )
    session.add(row)
    session.flush()
    if planned_in is not None:
        planned = session.get(CampaignRound, planned_in)
        assert planned is not None
        session.add(
            CampaignMessage(
                campaign_id=planned.campaign_id,
                round_id=planned_in,
                customer_id=customer_id,
                group="relevant",
                status="scheduled",
                channel=channel,
                language="nb",
                not_before=at,
                decision_id=decision.id,
                dedupe_key=f"test:{planned_in}:{customer_id}",
                planned_at=at,
            )
        )
        session.flush()
    return row.id


def campaign_round(session: Session, key: str, name: str, occurrence: str) -> int:
    """A campaign (made once) and one planning round of it."""
    found = session.scalar(select(Campaign).where(Campaign.key == key))
    if found is None:
        definition = parse_definition(
            {
                "key": key,
                "name": name,
                "purpose": "marketing",
                "kind": "marketing",
                "topics": ["offers"],
                "segment": "everyone",
                "channel": "email",
                "content": {
                    language: {"subject": name, "body": f"{name}\n\n{{why_url}}"}
                    for language in LANGUAGES
                },
            }
        )
        found = Campaign(
            key=key,
            name=name,
            definition=definition.model_dump(mode="json"),
            status="running",
            created_by="test",
        )
        session.add(found)
        session.flush()
    planned = CampaignRound(campaign_id=found.id, occurrence=occurrence)
    session.add(planned)
    session.flush()
    return planned.id


def case(
    session: Session,
    customer_id: int,
    at: datetime,
    *,
    replied_after: timedelta | None,
    resolved_after: timedelta | None,
    assignee: str | None = None,
    response_id: int | None = None,
) -> int:
    row = Case(
        customer_id=customer_id,
        response_id=response_id,
        rule="nps<=6",
        priority="normal",
        status="resolved" if resolved_after else "open",
        assignee=assignee,
        first_response_due=at + timedelta(hours=24),
        resolution_due=at + timedelta(hours=72),
        first_response_at=at + replied_after if replied_after else None,
        resolved_at=at + resolved_after if resolved_after else None,
        created_at=at,
    )
    session.add(row)
    session.flush()
    return row.id


def request(
    session: Session, customer_id: int, at: datetime, *, done_after: timedelta | None
) -> int:
    row = DataRequest(
        customer_id=customer_id,
        kind="access",
        status="done" if done_after else "open",
        channel="web",
        received_at=at,
        due_on=(at + timedelta(days=30)).date(),
        completed_at=at + done_after if done_after else None,
    )
    session.add(row)
    session.flush()
    return row.id


def consent(
    session: Session, customer_id: int, decision: str, at: datetime, purpose: str = "marketing"
) -> int:
    row = record_consent(
        session=session,
        customer_id=customer_id,
        purpose_key=purpose,
        decision=ConsentDecision(decision),
        method=Method.preference_centre,
        actor=SYSTEM,
        at=at,
    )
    return row.id


def quiet_hours(session: Session, customer_id: int, at: datetime, start: str, end: str) -> None:
    update_preferences(
        session=session,
        customer_id=customer_id,
        changes={"quiet_hours": {"start": start, "end": end}},
        method="preference_centre",
        actor=SYSTEM,
        now=at,
    )


def low_score(session: Session, customer_id: int, at: datetime, score: int) -> int:
    """An NPS answer (and the question and ask behind it); returns the response's id."""
    question = session.scalar(select(Question).where(Question.key == "nps"))
    if question is None:
        question = Question(key="nps", type="nps")
        session.add(question)
        session.flush()
        session.add(QuestionVersion(question_id=question.id, version=1, texts={"en": "NPS?"}))
        session.flush()
    version = session.scalar(
        select(QuestionVersion.id).where(QuestionVersion.question_id == question.id)
    )
    assert version is not None
    ask = Ask(
        customer_id=customer_id,
        question_id=question.id,
        version_id=version,
        channel="email",
        trigger="periodic",
        reason="test",
        status="answered",
        language="nb",
        created_at=at,
        due_at=at,
        expires_at=at + timedelta(days=14),
        closed_at=at,
    )
    session.add(ask)
    session.flush()
    response = Response(
        ask_id=ask.id,
        customer_id=customer_id,
        question_id=question.id,
        version_id=version,
        score=score,
        channel="email",
        language="nb",
        answered_at=at,
    )
    session.add(response)
    session.flush()
    return response.id


def build(session: Session, *, low_score_followed_up_late: bool = False) -> World:
    """Two customers; each promise kept at least once and broken exactly where noted (the
    low-score promise only with ``low_score_followed_up_late``: without, it has nothing to
    measure, which the public page says)."""
    world = World()
    ida = world.customers["ida"] = customer(session, "ida")
    ole = world.customers["ole"] = customer(session, "ole", zone="Europe/Amsterdam", locale="nl-NL")
    # Cases: one answered in 2 h (kept), one answered after 30 h (broken first reply), resolved
    # in 100 h (broken resolution); one still open but young (not yet decided).
    case(session, ida, T0, replied_after=timedelta(hours=2), resolved_after=timedelta(hours=5))
    late = case(
        session,
        ole,
        T0,
        replied_after=timedelta(hours=30),
        resolved_after=timedelta(hours=100),
        assignee=TEAM,
    )
    world.broken |= {("complaint-first-reply", "case", late), ("complaint-resolved", "case", late)}
    world.where[("complaint-first-reply", "case", late)] = (None, TEAM, None)
    world.where[("complaint-resolved", "case", late)] = (None, TEAM, None)
    if low_score_followed_up_late:
        _low_score_followed_up_late(session, world, ida)
    # Data requests: one done in 3 days, one done after 40.
    request(session, ida, T0, done_after=timedelta(days=3))
    slow = request(session, ole, T0, done_after=timedelta(days=40))
    world.broken.add(("data-requests", "request", slow))
    world.where[("data-requests", "request", slow)] = (None, None, "web")
    # The winter sale plans two of the marketing messages: one in ida's quiet hours, one to ole
    # after he withdrew.
    first_round = campaign_round(session, *CAMPAIGN, "2026-11-04")
    second_round = campaign_round(session, *CAMPAIGN, "2026-11-05")
    # Quiet hours 22:00-07:00 for ida (Oslo, UTC+1 in November): a marketing e-mail at 22:30
    # Oslo (21:30 UTC) breaks it, one at 12:00 does not; a transactional one at night is fine.
    quiet_hours(session, ida, T0 - timedelta(days=30), "22:00:00", "07:00:00")
    send(session, ida, T0 + timedelta(days=1, hours=3))  # 13:00 Oslo
    night = send(
        session, ida, T0 + timedelta(days=2, hours=12, minutes=30), planned_in=first_round
    )  # 22:30 Oslo
    send(session, ida, T0 + timedelta(days=2, hours=13), kind="transactional", topic=None)
    world.broken.add(("quiet-hours", "send", night))
    world.where[("quiet-hours", "send", night)] = (CAMPAIGN[0], None, "email")
    # Caps (email:2/week): a third marketing e-mail to ida within the week breaks it.
    third = send(session, ida, T0 + timedelta(days=3, hours=1))  # 11:00 Oslo
    world.broken.add(("message-caps", "send", third))
    world.where[("message-caps", "send", third)] = (None, None, "email")  # no campaign's
    # Withdrawal: ole withdraws marketing; a marketing send 3 days later breaks the promise.
    consent(session, ole, "granted", T0 - timedelta(days=60))
    consent(session, ole, "withdrawn", T0)
    send(session, ole, T0 + timedelta(hours=10))  # within 48 h: not a breach
    after = send(session, ole, T0 + timedelta(days=3), planned_in=second_round)
    world.broken.add(("marketing-stops", "send", after))
    world.where[("marketing-stops", "send", after)] = (CAMPAIGN[0], None, "email")
    # Dialogue questions: ole gets two within five days (breaks the 14-day spacing).
    send(
        session,
        ole,
        T0 - timedelta(days=40),
        kind="dialogue",
        channel="in_app",
        purpose="research",
        topic=None,
    )
    send(
        session,
        ole,
        T0 + timedelta(days=4),
        kind="dialogue",
        channel="in_app",
        purpose="research",
        topic=None,
    )
    second = send(
        session,
        ole,
        T0 + timedelta(days=8),
        kind="dialogue",
        channel="in_app",
        purpose="research",
        topic=None,
    )
    world.broken.add(("question-spacing", "send", second))
    world.where[("question-spacing", "send", second)] = (None, None, "in_app")
    return world


def _low_score_followed_up_late(session: Session, world: World, ida: int) -> None:
    """A score of 3 from ida, followed up only after 10 days (7 promised) by the loyalty team:
    the case about it is late too."""
    score = low_score(session, ida, T0 + timedelta(days=1), 3)
    followed = case(
        session,
        ida,
        T0 + timedelta(days=1),
        replied_after=timedelta(days=10),
        resolved_after=timedelta(days=10),
        assignee=LOYALTY,
        response_id=score,
    )
    for key, kind, evidence in (
        ("low-scores-followed-up", "answer", score),
        ("complaint-first-reply", "case", followed),
        ("complaint-resolved", "case", followed),
    ):
        world.broken.add((key, kind, evidence))
        world.where[(key, kind, evidence)] = (None, LOYALTY, "email" if kind == "answer" else None)
