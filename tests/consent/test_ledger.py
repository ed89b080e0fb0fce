from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tillit.consent.evidence import Evidence, truncate_ip
from tillit.consent.ledger import current_consents, record_consent, verify_all, verify_chain
from tillit.consent.models import ConsentDecision, ConsentRecord, Method, Purpose
from tillit.consent.receipts import build_receipt, public_key_text, sign_receipt, verify_receipt

from .conftest import ACTOR, SECRET


def _grant(
    session: Session,
    customer_id: int,
    purpose: str = "marketing",
    decision: ConsentDecision = ConsentDecision.granted,
) -> ConsentRecord:
    entry = record_consent(
        session=session,
        customer_id=customer_id,
        purpose_key=purpose,
        decision=decision,
        method=Method.preference_centre,
        actor=ACTOR,
        channel="web",
        evidence=Evidence(ip="203.0.113.77", user_agent="Firefox/140"),
    )
    session.commit()
    return entry


def test_truncates_ip_addresses() -> None:
    assert truncate_ip("203.0.113.77") == "203.0.113.0/24"
    assert truncate_ip("2001:db8:abcd:12:1:2:3:4") == "2001:db8:abcd::/48"
    assert truncate_ip("::ffff:198.51.100.9") == "198.51.100.0/24"
    assert truncate_ip("not an ip") is None


def test_chain_links_records_and_state_is_derived(session: Session, anna: int) -> None:
    first = _grant(session, anna)
    second = _grant(session, anna, decision=ConsentDecision.withdrawn)
    assert first.sequence == 1 and second.sequence == 2
    assert second.previous_hash == first.record_hash
    assert first.ip_prefix == "203.0.113.0/24"
    assert first.notice_version == 1  # Danish notice, version 1 from the seed
    assert current_consents(session=session, customer_id=anna)["marketing"].decision == "withdrawn"
    assert verify_chain(session=session, customer_id=anna) is None


def test_tampering_names_the_first_altered_record(session: Session, anna: int, bram: int) -> None:
    _grant(session, anna)
    altered = _grant(session, anna, purpose="analytics")
    _grant(session, anna, purpose="research")
    _grant(session, bram)
    session.execute(
        text("UPDATE consent_record SET decision = 'withdrawn' WHERE id = :id"), {"id": altered.id}
    )
    session.commit()
    session.expire_all()
    chains, breaks = verify_all(session=session)
    assert chains == 2
    assert len(breaks) == 1
    assert breaks[0].record_id == altered.id and breaks[0].customer_id == anna
    assert "altered" in breaks[0].reason


def test_deleted_record_and_altered_evidence_are_detected(session: Session, anna: int) -> None:
    first = _grant(session, anna)
    second = _grant(session, anna, purpose="analytics")
    session.execute(
        text("UPDATE consent_record SET user_agent = 'Forged' WHERE id = :id"), {"id": first.id}
    )
    session.commit()
    session.expire_all()
    found = verify_chain(session=session, customer_id=anna)
    assert found is not None and found.record_id == first.id and "evidence" in found.reason
    session.execute(text("DELETE FROM consent_record WHERE id = :id"), {"id": first.id})
    session.commit()
    session.expire_all()
    found = verify_chain(session=session, customer_id=anna)
    assert found is not None and found.record_id == second.id


# The CLI opens its own engine per command and leaves pooled connections to the collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_cli_verify_exits_1_naming_the_record(
    session: Session, anna: int, settings, monkeypatch
) -> None:
    from tillit.cli.main import app

    altered = _grant(session, anna)
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_SECRET_KEY", SECRET)
    ok = CliRunner().invoke(app, ["consent", "verify"])
    assert ok.exit_code == 0, ok.output
    session.execute(
        text("UPDATE consent_record SET method = 'import' WHERE id = :id"), {"id": altered.id}
    )
    session.commit()
    broken = CliRunner().invoke(app, ["consent", "verify"])
    assert broken.exit_code == 1
    assert f"record {altered.id}" in broken.output


# The CLI opens its own engine per command and leaves pooled connections to the collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_receipt_verifies_and_fails_when_altered(
    session: Session, anna: int, tmp_path, settings, monkeypatch
) -> None:
    from tillit.cli.main import app

    entry = _grant(session, anna)
    purpose = session.scalars(select(Purpose).where(Purpose.key == "marketing")).one()
    receipt = sign_receipt(
        build_receipt(
            entry=entry,
            purpose=purpose,
            controller="Example Shop",
            base_url="https://tillit.example.com",
            language="da",
        ),
        secret_key=SECRET,
    )
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["iso27560"]["event"]["event_type"] == "given"
    assert verify_receipt(receipt, public_key=public_key_text(SECRET))
    assert not verify_receipt(receipt, public_key=public_key_text("another workspace key 123"))
    forged = json.loads(json.dumps(receipt))
    forged["iso27560"]["event"]["event_state"] = "withdrawn"
    assert not verify_receipt(forged, public_key=public_key_text(SECRET))

    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_SECRET_KEY", SECRET)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(receipt))
    bad.write_text(json.dumps(forged))
    assert CliRunner().invoke(app, ["consent", "verify-receipt", str(good)]).exit_code == 0
    assert CliRunner().invoke(app, ["consent", "verify-receipt", str(bad)]).exit_code == 1
