"""The preference centre's "how and when we contact you" form: what it shows, what it posts.

The form is drawn from one dict of field values, made either from the saved preferences or
from what the customer just posted; so when one field is wrong the page comes back with every
other change the customer made still in place, and the error beside the field it belongs to.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.datastructures import FormData

from tillit.consent import preferences
from tillit.consent.preferences import PreferenceDocument
from tillit.errors import FieldError, InvalidInput
from tillit.i18n import N_
from tillit.vocabulary import OutboundChannel

PERIODS = ("day", "week", "month")
NO_QUIET, CUSTOM_QUIET = "none", "custom"
NO_PAUSE, KEEP_PAUSE, PAUSE_DATE = "none", "keep", "date"
ORDER_FIELDS = ("channel_order_1", "channel_order_2")
# What the customer reads beside a field that is wrong (msgids), by form field.
FIELD_MESSAGES = {
    "time_zone": N_("Choose your time zone from the list."),
    "count": N_("Enter a whole number from 0 to 1000, or leave it empty for no limit."),
    "period": N_("Choose a day, a week or a month."),
    "quiet": N_("Enter both times, such as 21:00 and 08:00."),
    "paused_until": N_("Choose a day after today."),
    "language": N_("Choose a language from the list."),
    "channel_order": N_("Choose a channel from the list."),
    "topics": N_("Choose topics from the list."),
    "other": N_("Please check this choice."),
}


def preset_key(quiet: preferences.QuietHours) -> str:
    return f"{quiet.start:%H:%M}-{quiet.end:%H:%M}"


QUIET_PRESETS = {preset_key(quiet): quiet for quiet in preferences.QUIET_PRESETS}


def saved_values(prefs: PreferenceDocument, *, profile_zone: str) -> dict[str, Any]:
    """The form's fields as the saved preferences fill them."""
    values: dict[str, Any] = {f"channel_{c}": prefs.channels.get(c, True) for c in OutboundChannel}
    for channel in OutboundChannel:
        cap = prefs.caps.get(channel)
        values[f"cap_{channel}_count"] = str(cap.count) if cap else ""
        values[f"cap_{channel}_period"] = cap.period if cap else "week"
    overall = prefs.overall_cap
    values["cap_overall_count"] = str(overall.count) if overall else ""
    values["cap_overall_period"] = overall.period if overall else "week"
    quiet = prefs.quiet_hours
    key = preset_key(quiet) if quiet else NO_QUIET
    values["quiet"] = key if key in QUIET_PRESETS or key == NO_QUIET else CUSTOM_QUIET
    values["quiet_start"] = f"{quiet.start:%H:%M}" if quiet else ""
    values["quiet_end"] = f"{quiet.end:%H:%M}" if quiet else ""
    values["time_zone"] = prefs.time_zone or profile_zone
    values["topics"] = None if prefs.topics is None else set(prefs.topics)
    values["pause"] = KEEP_PAUSE if prefs.paused_until else NO_PAUSE
    values["paused_until"] = prefs.paused_until.isoformat() if prefs.paused_until else ""
    values["language"] = prefs.language or ""
    order = [str(c) for c in prefs.channel_order]
    values.update(
        {name: (order[i] if i < len(order) else "") for i, name in enumerate(ORDER_FIELDS)}
    )
    values["dialogues"] = prefs.dialogues
    return values


def posted_values(form: FormData) -> dict[str, Any]:
    """The form's fields as the customer posted them, right or wrong, to draw them again."""
    values: dict[str, Any] = {
        f"channel_{c}": form.get(f"channel_{c}") == "on" for c in OutboundChannel
    }
    for key in (*(f"cap_{c}_{part}" for c in OutboundChannel for part in ("count", "period")),):
        values[key] = str(form.get(key, ""))
    for key in ("cap_overall_count", "cap_overall_period", "quiet", "quiet_start", "quiet_end"):
        values[key] = str(form.get(key, ""))
    for key in ("time_zone", "pause", "paused_until", "language", *ORDER_FIELDS):
        values[key] = str(form.get(key, ""))
    values["topics"] = {str(topic) for topic in form.getlist("topics")}
    values["dialogues"] = form.get("dialogues") == "on"
    return values


def _cap(form: FormData, name: str) -> dict[str, Any] | None:
    count = str(form.get(f"cap_{name}_count", "")).strip()
    return {"count": count, "period": form.get(f"cap_{name}_period")} if count else None


def _quiet_hours(form: FormData, errors: list[FieldError]) -> dict[str, str] | None:
    choice = str(form.get("quiet", CUSTOM_QUIET))  # a client without the presets sends times
    if choice in QUIET_PRESETS:
        return QUIET_PRESETS[choice].model_dump(mode="json")
    if choice != CUSTOM_QUIET:
        return None
    start, end = str(form.get("quiet_start", "")), str(form.get("quiet_end", ""))
    if not (start or end or "quiet" in form):
        return None
    if not (start and end):
        errors.append(FieldError("quiet_start" if not start else "quiet_end", "enter both"))
        return None
    return {"start": start, "end": end}


def _paused_until(form: FormData, today: date, errors: list[FieldError]) -> str | None:
    choice = str(form.get("pause") or (PAUSE_DATE if form.get("paused_until") else NO_PAUSE))
    if choice in preferences.PAUSE_CHOICES:
        return preferences.pause_until(choice, today=today).isoformat()
    if choice != PAUSE_DATE:
        return None
    try:
        until = date.fromisoformat(str(form.get("paused_until", "")))
    except ValueError:
        until = today
    if until <= today:
        errors.append(FieldError("paused_until", "choose a day after today"))
    return until.isoformat()


def preference_changes(form: FormData, *, today: date) -> tuple[dict[str, Any], list[FieldError]]:
    """Read the form: unticked checkboxes are absent, so absence means 'off'. Returns the
    changes and the errors found before the preferences themselves are checked."""
    errors: list[FieldError] = []
    caps = {str(c): cap for c in OutboundChannel if (cap := _cap(form, str(c)))}
    changes: dict[str, Any] = {
        "channels": {str(c): form.get(f"channel_{c}") == "on" for c in OutboundChannel},
        "caps": caps,
        "overall_cap": _cap(form, "overall"),
        "quiet_hours": _quiet_hours(form, errors),
        "time_zone": str(form.get("time_zone", "")).strip() or None,
        "topics": [str(topic) for topic in form.getlist("topics")],
        "language": str(form.get("language", "")) or None,
        "channel_order": [str(form.get(name)) for name in ORDER_FIELDS if form.get(name)],
        "dialogues": form.get("dialogues") == "on",
    }
    if form.get("pause") != KEEP_PAUSE:
        changes["paused_until"] = _paused_until(form, today, errors)
    return changes, errors


def field_of(error: FieldError) -> str:
    """The form field an error belongs to (``caps.email.count`` is ``cap_email_count``)."""
    path = error.field.split(".")
    if path[0] == "caps" and len(path) > 1:
        part = "period" if path[-1] == "period" else "count"
        return f"cap_{path[1]}_{part}"
    if path[0] == "overall_cap":
        return "cap_overall_period" if path[-1] == "period" else "cap_overall_count"
    if path[0] == "quiet_hours":
        return "quiet_end" if path[-1] == "end" else "quiet_start"
    if path[0] == "channel_order":
        return ORDER_FIELDS[0]
    return path[0]


def message_of(field: str) -> str:
    """The msgid the customer reads beside ``field``."""
    if field.startswith("cap_"):
        return FIELD_MESSAGES[field.rsplit("_", 1)[1]]
    if field.startswith("quiet_"):
        return FIELD_MESSAGES["quiet"]
    if field.startswith("channel_order"):
        return FIELD_MESSAGES["channel_order"]
    return FIELD_MESSAGES.get(field, FIELD_MESSAGES["other"])


def check(
    current: PreferenceDocument, changes: dict[str, Any], errors: list[FieldError]
) -> dict[str, str]:
    """Every wrong field of the posted form (field -> msgid), none when it can be saved."""
    found = list(errors)
    try:
        preferences.validated({**current.model_dump(mode="json"), **changes})
    except InvalidInput as invalid:
        found += invalid.errors
    wrong: dict[str, str] = {}
    for error in found:
        wrong.setdefault(field_of(error), message_of(field_of(error)))
    return wrong


def without_defaults(
    changes: dict[str, Any],
    current: PreferenceDocument,
    *,
    profile_zone: str,
    profile_language: str,
    all_topics: set[str],
) -> dict[str, Any]:
    """Leave a default a default: the form shows the profile's zone and language and every
    topic ticked, and posting them back unchanged must not turn them into choices (nor make a
    new version, nor a summary line, of something the customer did not touch)."""
    kept = dict(changes)
    if current.time_zone is None and kept.get("time_zone") == profile_zone:
        kept["time_zone"] = None
    if current.language is None and kept.get("language") == profile_language:
        kept["language"] = None
    if current.topics is None and set(kept.get("topics", ())) == all_topics:
        kept["topics"] = None
    return kept
