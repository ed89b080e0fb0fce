"""Staff page: the segments, with their size, purpose, those left out and freshness; and a
segment builder that works without JavaScript: each "Add a rule" submits the form and comes
back with one more row; "Save" makes the segment, or a new version of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from tillit.analytics.segment_store import all_segments, save_segment
from tillit.consent.models import Purpose
from tillit.errors import FieldError, InvalidInput
from tillit.staff.permissions import Permission
from tillit.web.deps import SessionDep
from tillit.web.pages.staff_auth import FormActorDep, allow
from tillit.web.templating import render

router = APIRouter(prefix="/staff", include_in_schema=False)
MAX_RULES = 20
# What each rule row asks, in words: the kind, what its text field holds, and whether the
# "at least" and "within days" fields apply.
RULE_KINDS: dict[str, tuple[str, str, bool, bool]] = {
    "events": ("Did an event", "the event's name, e.g. Order Completed", True, True),
    "goal": ("Reached a goal", "the goal's key", False, True),
    "consent": ("Has given consent", "the purpose, e.g. marketing", False, False),
    "trait": ("Has a trait", "the trait, or trait=value", False, False),
    "language": ("Speaks", "languages, e.g. da, sv", False, False),
    "country": ("Lives in", "countries, e.g. DK, SE", False, False),
    "nps_group": ("Is an NPS", "promoter, passive or detractor", False, False),
    "theme": ("Wrote about a theme", "the theme's key", False, False),
    "identity": ("Has an identity", "the type, e.g. email or phone", False, False),
    "channel_allowed": (
        "Allows a channel",
        "email, sms, push, phone, post, social, in_app",
        False,
        False,
    ),
    "topic_chosen": ("Chose a topic", "the topic's key", False, False),
    "segment": ("Is in the segment", "the segment's key", False, False),
}
COMBINE = {
    "all": "All of the rules hold",
    "any": "Any of the rules holds",
    "none": "None of the rules holds",
}


@dataclass
class RuleRow:
    kind: str = "events"
    value: str = ""
    at_least: str = ""
    days: str = ""


def _list(text: str, upper: bool = False) -> list[str]:
    items = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    return [i.upper() if upper else i.lower() for i in items]


def _whole(text: str) -> int | str | None:
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text  # not a number: the rule's check names it


def _leaf(row: RuleRow) -> dict[str, Any]:
    value = row.value.strip()
    if row.kind == "events":
        leaf: dict[str, Any] = {"kind": "events", "event": value}
        if _whole(row.at_least) is not None:
            leaf["at_least"] = _whole(row.at_least)
        if _whole(row.days) is not None:
            leaf["within_days"] = _whole(row.days)
        return leaf
    if row.kind == "goal":
        leaf = {"kind": "goal", "goal": value}
        if _whole(row.days) is not None:
            leaf["within_days"] = _whole(row.days)
        return leaf
    if row.kind == "trait":
        name, sep, wanted = value.partition("=")
        return {
            "kind": "trait",
            "name": name.strip(),
            **({"equals": wanted.strip()} if sep else {}),
        }
    if row.kind == "language":
        return {"kind": "language", "languages": _list(value)}
    if row.kind == "country":
        return {"kind": "country", "countries": _list(value, upper=True)}
    field = {
        "consent": "purpose",
        "nps_group": "group",
        "theme": "theme",
        "identity": "type",
        "channel_allowed": "channel",
        "topic_chosen": "topic",
        "segment": "segment",
    }[row.kind]
    return {"kind": row.kind, field: value}


def definition_from(rows: list[RuleRow], combine: str) -> dict[str, Any]:
    leaves = [_leaf(r) for r in rows if r.value.strip()]
    if not leaves:
        raise InvalidInput([_no_rules()])
    if combine == "any":
        return {"kind": "any", "rules": leaves}
    if combine == "none":
        return {"kind": "not", "rule": {"kind": "any", "rules": leaves}}
    return {"kind": "all", "rules": leaves}


def _no_rules() -> FieldError:
    return FieldError("rules", "write at least one rule")


def _page(
    request: Request,
    session: SessionDep,
    *,
    rows: list[RuleRow] | None = None,
    combine: str = "all",
    key: str = "",
    name: str = "",
    purpose: str = "",
    errors: list[str] | None = None,
    saved: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    purposes = session.scalars(select(Purpose.key).order_by(Purpose.position)).all()
    return render(
        request,
        "analytics/segments.html",
        status_code=status_code,
        segments=all_segments(session),
        rows=rows or [RuleRow()],
        combine=combine,
        combines=COMBINE,
        kinds=RULE_KINDS,
        key=key,
        name=name,
        purpose=purpose,
        purposes=purposes,
        errors=errors or [],
        saved=saved[:64],
        max_rules=MAX_RULES,
        nav="segments",
    )


@router.get(
    "/segments", response_class=HTMLResponse, dependencies=[allow(Permission.segments_read)]
)
def segments_page(request: Request, session: SessionDep, saved: str = "") -> HTMLResponse:
    return _page(request, session, saved=saved)


Texts = Annotated[list[str], Form(max_length=MAX_RULES)]


@router.post("/segments/builder", dependencies=[allow(Permission.segments_manage)])
def build_segment(
    request: Request,
    session: SessionDep,
    actor: FormActorDep,
    action: Annotated[str, Form(max_length=16)] = "add",
    key: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    purpose: Annotated[str, Form(max_length=64)] = "",
    combine: Annotated[str, Form(max_length=8)] = "all",
    rule_kind: Texts = [],  # noqa: B006 (FastAPI copies defaults)
    rule_value: Texts = [],  # noqa: B006
    rule_at_least: Texts = [],  # noqa: B006
    rule_days: Texts = [],  # noqa: B006
) -> Response:
    """ "Add a rule" comes back with one more row; "Save" saves a new version (audited)."""
    combine = combine if combine in COMBINE else "all"
    rows = []
    for i, kind in enumerate(rule_kind[:MAX_RULES]):
        rows.append(
            RuleRow(
                kind=kind if kind in RULE_KINDS else "events",
                value=(rule_value[i] if i < len(rule_value) else "")[:200],
                at_least=(rule_at_least[i] if i < len(rule_at_least) else "")[:10],
                days=(rule_days[i] if i < len(rule_days) else "")[:10],
            )
        )
    state: dict[str, Any] = {
        "rows": rows,
        "combine": combine,
        "key": key,
        "name": name,
        "purpose": purpose,
    }
    if action != "save":
        if len(rows) < MAX_RULES:
            rows.append(RuleRow())
        return _page(request, session, **state)
    try:
        save_segment(
            session=session,
            key=key.strip(),
            name=name,
            purpose=purpose,
            definition=definition_from(rows, combine),
            actor=actor,
        )
    except InvalidInput as error:
        session.rollback()
        messages = [f"{_where(e.field)}: {e.message}" for e in error.errors]
        return _page(request, session, **state, errors=messages, status_code=422)
    session.commit()
    return RedirectResponse(f"/staff/segments?saved={key.strip()}", status_code=303)


def _where(field: str) -> str:
    """``definition.all.rules.1.events.at_least`` as "Rule 2, at least"."""
    parts = field.split(".")
    if "rules" in parts:
        at = parts.index("rules")
        if at + 1 < len(parts) and parts[at + 1].isdigit():
            rest = [p for p in parts[at + 2 :] if p not in RULE_KINDS]
            words = ", ".join(p.replace("_", " ") for p in rest)
            return f"Rule {int(parts[at + 1]) + 1}" + (f", {words}" if words else "")
    return {"key": "Key", "name": "Name", "purpose": "Used for", "rules": "Rules"}.get(
        parts[0], "The rules"
    )
