"""The audit log in words for staff pages: what happened, and what changed, never raw codes or
JSON. Unknown actions and fields still read as words (underscores and dots become spaces)."""

from __future__ import annotations

from typing import Any

from tillit.web.staff_words import (
    DATA_REQUEST_KINDS,
    coded_value,
    data_request_kind,
    merge_reason,
)

ACTIONS = {
    "customer.create": "Profile created",
    "customer.update": "Profile changed",
    "customer.import": "Profile imported",
    "customer.merge": "Profiles merged",
    "customer.unmerge": "Merge undone",
    "customer.erase": "Erased on request",
    "customer.preference_centre_opened": "Preference centre opened by staff",
    "identity.add": "Identity added",
    "identity.remove": "Identity removed",
    "consent.record": "Consent recorded",
    "preferences.update": "Preferences changed",
    "link.create": "Personal link made",
    "link.revoke": "Personal link revoked",
    "data_request.open": "Data request received",
    "data_request.complete": "Data request completed",
    "match.accept": "Match accepted",
    "case.assign": "Case assigned",
    "case.resolve": "Case resolved",
    "case.note": "Note added to a case",
    "case.reply": "Reply sent to the customer",
}
VALUES = {
    "preference_centre": "in the preference centre",
    "form": "on a form",
    "api": "through the API",
    "import": "by import",
    "gpc": "by a Global Privacy Control signal",
    "unsubscribe": "by unsubscribing",
    "dialogue": "in answer to a question",
    "granted": "granted",
    "withdrawn": "withdrawn",
    "email": "e-mail",
    "sms": "text message",
}


def action_words(action: str) -> str:
    return ACTIONS.get(action) or action.replace("_", " ").replace(".", ": ").capitalize()


def field_words(name: str) -> str:
    return name.replace("_", " ")


def value_words(value: Any, key: str | None = None) -> str:
    """A stored value in words; ``key`` (the field it is stored under) names codes that read
    differently by field: a country code under "country", a merge's reason, a request's kind."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value_words(item, key) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{field_words(k)}: {value_words(v, k)}" for k, v in value.items())
    if key is not None and (words := _keyed_words(key, value)):
        return words
    return VALUES.get(
        str(value), str(value).replace("_", " ") if isinstance(value, str) else str(value)
    )


def _keyed_words(key: str, value: Any) -> str | None:
    if key == "reason" and isinstance(value, str):
        return merge_reason(value)
    if key == "kind" and value in DATA_REQUEST_KINDS:
        return data_request_kind(value)
    return coded_value(key, value)


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """One line per field: "name: Ingrid → Ingrid H." when both sides have it, else its value."""
    before, after = before or {}, after or {}
    lines = []
    for key in dict.fromkeys([*before, *after]):
        if key in before and key in after:
            if before[key] != after[key]:
                lines.append(
                    f"{field_words(key)}: {value_words(before[key], key)} → "
                    f"{value_words(after[key], key)}"
                )
        elif key in after:
            lines.append(f"{field_words(key)}: {value_words(after[key], key)}")
        else:
            lines.append(f"{field_words(key)} was {value_words(before[key], key)}")
    return lines
