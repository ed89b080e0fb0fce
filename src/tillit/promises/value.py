"""The value exchange per consent purpose: did we deliver what we promised for the data?

Staff bind an indicator to each purpose's "what you get in return"; the report computes it from
the contact policy's own decisions over the last 90 days. Indicators so far:

``relevant_share``  of the messages planned for the purpose, the share not held back as not
                    relevant (a topic the customer turned off or did not choose): with
                    personalisation, it should be high.
``sent_per_consent`` messages sent for the purpose per person who granted it: what the consent
                    was used for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.consent.models import ConsentRecord
from tillit.consent.notices import get_purpose, list_purposes
from tillit.contact.reasons import TOPIC_NOT_CHOSEN, TOPIC_OPT_OUT
from tillit.contact.tables import DecisionRecord
from tillit.errors import FieldError, InvalidInput
from tillit.promises.models import ValueIndicator
from tillit.storage.base import utcnow

INDICATORS = {
    "relevant_share": "Share of planned messages that were relevant to the customer",
    "sent_per_consent": "Messages sent per person who gave consent",
}
DAYS = 90


def bind_indicator(*, session: Session, purpose_key: str, indicator: str, actor: Actor) -> None:
    if indicator not in INDICATORS:
        raise InvalidInput(FieldError("indicator", f"one of {', '.join(INDICATORS)}"))
    get_purpose(session=session, key=purpose_key)  # NotFound names an unknown purpose
    bound = session.scalar(select(ValueIndicator).where(ValueIndicator.purpose_key == purpose_key))
    before = {"indicator": bound.indicator} if bound else None
    if bound is None:
        session.add(ValueIndicator(purpose_key=purpose_key, indicator=indicator, parameters={}))
    else:
        bound.indicator = indicator
    session.flush()
    record(
        session=session,
        actor=actor,
        action="promise.value_indicator",
        entity_type="consent_purpose",
        entity_id=purpose_key,
        before=before,
        after={"indicator": indicator},
    )


@dataclass(frozen=True)
class PurposeValue:
    purpose_key: str
    indicator: str | None
    label: str | None
    value: float | None  # None: nothing to measure yet, or no indicator bound


def value_report(*, session: Session, now: datetime | None = None) -> list[PurposeValue]:
    since = (now or utcnow()) - timedelta(days=DAYS)
    rows = session.execute(select(ValueIndicator.purpose_key, ValueIndicator.indicator)).all()
    bound = {key: indicator for key, indicator in rows}
    found = []
    for purpose in list_purposes(session=session):
        indicator = bound.get(purpose.key)
        value = None
        if indicator == "relevant_share":
            value = _relevant_share(session, purpose.key, since)
        elif indicator == "sent_per_consent":
            value = _sent_per_consent(session, purpose.key, since)
        found.append(PurposeValue(purpose.key, indicator, INDICATORS.get(indicator or ""), value))
    return found


def _relevant_share(session: Session, purpose: str, since: datetime) -> float | None:
    rows = session.execute(
        select(DecisionRecord.reasons).where(
            DecisionRecord.purpose_key == purpose, DecisionRecord.decided_at >= since
        )
    ).scalars()
    total = held = 0
    for reasons in rows:
        total += 1
        held += bool({TOPIC_NOT_CHOSEN, TOPIC_OPT_OUT} & set(reasons or []))
    return None if total == 0 else (total - held) / total


def _sent_per_consent(session: Session, purpose: str, since: datetime) -> float | None:
    sent = session.scalar(
        select(func.count())
        .select_from(DecisionRecord)
        .where(
            DecisionRecord.purpose_key == purpose,
            DecisionRecord.decided_at >= since,
            DecisionRecord.sent.is_(True),
        )
    )
    last = (
        select(ConsentRecord.customer_id, func.max(ConsentRecord.sequence).label("sequence"))
        .where(ConsentRecord.purpose_key == purpose)
        .group_by(ConsentRecord.customer_id)
        .subquery()
    )
    granted = session.scalar(
        select(func.count())
        .select_from(ConsentRecord)
        .join(
            last,
            (last.c.customer_id == ConsentRecord.customer_id)
            & (last.c.sequence == ConsentRecord.sequence),
        )
        .where(ConsentRecord.purpose_key == purpose, ConsentRecord.decision == "granted")
    )
    return None if not granted else float(sent or 0) / granted
