"""The company's promises as the contact policy's company rules (registered with
``tillit.contact.service.COMPANY_RULES``, read through its late registry).

Only promises for every customer take part (a promise scoped to a segment is measured, not
enforced): each active message-cap promise gives its caps (its own, or TILLIT_COMPANY_CAPS),
and an active quiet-hours promise makes a marketing or dialogue message inside the customer's
quiet hours wait with ``promise:<key>``. Before the catalogue exists (it is seeded on first
use) the company caps setting applies as before.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from tillit.config import Settings, parse_company_caps
from tillit.contact.models import CompanyCap
from tillit.contact.service import COMPANY_RULES, CompanyRules
from tillit.promises import catalogue
from tillit.promises.models import Promise

_ENFORCED = (
    select(Promise.key, Promise.kind, Promise.parameters)
    .where(
        Promise.active.is_(True),
        Promise.segment_key.is_(None),
        Promise.kind.in_((catalogue.MESSAGE_CAP, catalogue.QUIET_HOURS)),
    )
    .order_by(Promise.position, Promise.id)
)
_ANY = select(exists().where(Promise.id.is_not(None)))


def company_rules(session: Session, settings: Settings) -> CompanyRules | None:
    rows = session.execute(_ENFORCED).all()
    if not rows and not session.scalar(_ANY):
        return None
    caps: list[CompanyCap] = []
    quiet: str | None = None
    for key, kind, parameters in rows:
        if kind == catalogue.QUIET_HOURS:
            quiet = quiet or key
            continue
        for cap in parse_company_caps(catalogue.effective_caps(parameters or {}, settings)):
            caps.append(CompanyCap(cap.channel, cap.limit, cap.period, promise=key))
    return CompanyRules(caps=tuple(caps), quiet_hours_promise=quiet)


COMPANY_RULES.add(company_rules)
