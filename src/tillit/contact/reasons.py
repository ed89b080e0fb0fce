"""Stable reason codes, check names, and customer-facing explanations.

Reason codes are stored with every contact decision and shown to customers, so they never
change spelling. Explanations are looked up by message id (``contact.reason.<code>``) so a
translation catalogue can replace the English text later without touching the policy.
"""

from __future__ import annotations

from datetime import datetime

from tillit.contact.models import CheckStatus, Decision
from tillit.i18n import N_

ERASED = "erased"
SUPPRESSED = "suppressed"
NO_LEGAL_BASIS = "no_legal_basis"  # purpose not registered with a legal basis
OBJECTED = "objected"  # GDPR 21: objection to direct marketing or to a legitimate interest
NO_CONSENT = "no_consent"
CHANNEL_BLOCKED = "channel_blocked"
CHANNEL_UNREACHABLE = "channel_unreachable"
TOPIC_OPT_OUT = "topic_opt_out"
TOPIC_NOT_CHOSEN = "topic_not_chosen"
PAUSED = "paused"
QUIET_HOURS = "quiet_hours"
CUSTOMER_CAP = "customer_cap"
COMPANY_CAP = "company_cap"
# The customer turned dialogue questions off in their preferences: said as such, everywhere
# (it was a withdrawn consent to the policy and "dialogues_off" to the dialogue rules).
DIALOGUES_OFF = "dialogues_off"
# Not a rule of the policy: an audience id with no customer behind it is never contacted.
UNKNOWN_CUSTOMER = "unknown_customer"
# A company promise (tillit.promises) the message would break: ``promise:<key>``, one code per
# promise, made by :func:`promise_reason`; the batch form numbers them after REASON_CODES.
PROMISE_PREFIX = "promise:"
PROMISE = "promise"  # the message id's name for every promise code


def promise_reason(key: str) -> str:
    return f"{PROMISE_PREFIX}{key}"


def promise_of(code: str) -> str | None:
    """The promise key of a ``promise:<key>`` code; None for any other code."""
    return code.removeprefix(PROMISE_PREFIX) if code.startswith(PROMISE_PREFIX) else None


# The index of each code is its number in the batch result's dictionary column.
REASON_CODES: tuple[str, ...] = (
    ERASED,
    SUPPRESSED,
    NO_LEGAL_BASIS,
    OBJECTED,
    NO_CONSENT,
    CHANNEL_BLOCKED,
    CHANNEL_UNREACHABLE,
    TOPIC_OPT_OUT,
    TOPIC_NOT_CHOSEN,
    PAUSED,
    QUIET_HOURS,
    CUSTOMER_CAP,
    COMPANY_CAP,
    DIALOGUES_OFF,  # last: the codes before it keep their numbers
)

# Check names, in the fixed evaluation order.
CHECK_ERASURE = "erasure"
CHECK_LEGAL_BASIS = "legal_basis"
CHECK_CHANNEL = "channel"
CHECK_TOPIC = "topic"
CHECK_PAUSE = "pause"
CHECK_QUIET_HOURS = "quiet_hours"
CHECK_CUSTOMER_CAP = "customer_cap"
CHECK_COMPANY_CAP = "company_cap"
CHECK_ORDER: tuple[str, ...] = (
    CHECK_ERASURE,
    CHECK_LEGAL_BASIS,
    CHECK_CHANNEL,
    CHECK_TOPIC,
    CHECK_PAUSE,
    CHECK_QUIET_HOURS,
    CHECK_CUSTOMER_CAP,
    CHECK_COMPANY_CAP,
)

MESSAGES_EN: dict[str, str] = {
    "contact.outcome.allowed": "We may send you this message now.",
    "contact.outcome.deferred": "We will wait until {until} before sending this message.",
    "contact.outcome.denied": "We will not send you this message.",
    "contact.reason.erased": "You asked us to erase your data.",
    "contact.reason.suppressed": "Your address is on our do-not-contact list.",
    "contact.reason.no_legal_basis": "We have no lawful reason to send this kind of message.",
    "contact.reason.objected": "You objected to this use of your data.",
    "contact.reason.no_consent": "You have not given consent for this purpose.",
    "contact.reason.channel_blocked": "You told us not to use this channel.",
    "contact.reason.channel_unreachable": "We have no working address for this channel.",
    "contact.reason.topic_opt_out": "You opted out of this topic.",
    "contact.reason.topic_not_chosen": "This topic is not one you chose.",
    "contact.reason.paused": "You paused messages until {until}.",
    "contact.reason.quiet_hours": "It is within your quiet hours; they end at {until}.",
    "contact.reason.customer_cap": "You would get more messages than you asked for.",
    "contact.reason.company_cap": "We promised not to send more than our limit.",
    "contact.reason.dialogues_off": "You turned off questions from us.",
    "contact.reason.promise": "We promised you not to send this now (promise {check}).",
    "contact.check.ok": "{check}: fine.",
    "contact.check.skip": "{check}: does not apply to this kind of message.",
}


# Short labels for staff pages, one per reason a message was held (contact policy reasons,
# then the dialogue rules that hold a question before the policy is asked).
STAFF_LABELS: dict[str, str] = {
    ERASED: "Erased",
    SUPPRESSED: "On the do-not-contact list",
    NO_LEGAL_BASIS: "No lawful basis",
    OBJECTED: "Objected",
    NO_CONSENT: "No consent",
    CHANNEL_BLOCKED: "Channel turned off by the customer",
    CHANNEL_UNREACHABLE: "No working address",
    TOPIC_OPT_OUT: "Topic turned off",
    TOPIC_NOT_CHOSEN: "Topic not chosen",
    PAUSED: "Customer paused messages",
    QUIET_HOURS: "Quiet hours",
    CUSTOMER_CAP: "Customer's own limit reached",
    COMPANY_CAP: "Company limit reached",
    DIALOGUES_OFF: "Customer turned questions off",
}


class _ByCode(dict[str, str]):
    """Texts by reason code, where every ``promise:<key>`` code reads as the promise text."""

    def __init__(self, texts: dict[str, str], promise: str) -> None:
        super().__init__(texts)
        self.promise = promise

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and (
            promise_of(code) is not None or super().__contains__(code)
        )

    def __missing__(self, code: str) -> str:
        if promise_of(code) is not None:
            return self.promise
        raise KeyError(code)


# What the customer reads in their message log, looked back on (msgids for the catalogs).
CUSTOMER_LOG: dict[str, str] = {
    ERASED: N_("You asked us to erase your data."),
    SUPPRESSED: N_("Your address is on our do-not-contact list."),
    NO_LEGAL_BASIS: N_("We had no lawful reason to send this kind of message."),
    OBJECTED: N_("You objected to this use of your data."),
    NO_CONSENT: N_("You had not given consent for this purpose."),
    CHANNEL_BLOCKED: N_("You told us not to use this channel."),
    CHANNEL_UNREACHABLE: N_("We had no working address for this channel."),
    TOPIC_OPT_OUT: N_("You opted out of this topic."),
    TOPIC_NOT_CHOSEN: N_("This topic is not one you chose."),
    PAUSED: N_("You had paused messages."),
    QUIET_HOURS: N_("It was within your quiet hours."),
    CUSTOMER_CAP: N_("You would have got more messages than you asked for."),
    COMPANY_CAP: N_("We promised not to send more than our limit."),
    DIALOGUES_OFF: N_("You had turned off questions from us."),
}
CUSTOMER_LOG = _ByCode(CUSTOMER_LOG, N_("We held it back to keep a promise we made to you."))


def staff_label(code: str) -> str:
    """A reason in plain words for staff; an unknown code is shown readable, never raw."""
    promise = promise_of(code)
    if promise is not None:
        return f"Held to keep the company promise {promise.replace('-', ' ')!r}"
    return STAFF_LABELS.get(code) or code.replace("_", " ").capitalize()


def message_id(code: str) -> str:
    return f"contact.reason.{PROMISE if promise_of(code) is not None else code}"


def _format(msg_id: str, catalogue: dict[str, str], until: datetime | None, check: str) -> str:
    stamp = until.isoformat(timespec="minutes") if until is not None else ""
    return catalogue[msg_id].format(until=stamp, check=check)


def explain(decision: Decision, *, catalogue: dict[str, str] | None = None) -> list[str]:
    """One line for the outcome, then one per check, in evaluation order."""
    texts = catalogue if catalogue is not None else MESSAGES_EN
    head = f"contact.outcome.{decision.outcome.value}"
    lines = [_format(head, texts, decision.defer_until, "")]
    for check in decision.checks:
        if check.reason is not None:
            promise = promise_of(check.reason)
            name = check.name if promise is None else promise
            lines.append(_format(message_id(check.reason), texts, check.until, name))
        else:
            lines.append(_format(f"contact.check.{check.status.value}", texts, None, check.name))
    return lines


def explain_ids(decision: Decision) -> list[str]:
    """The message ids behind :func:`explain`, for callers that translate themselves."""
    ids = [f"contact.outcome.{decision.outcome.value}"]
    for check in decision.checks:
        is_verdict = check.status in (CheckStatus.DENY, CheckStatus.DEFER)
        if is_verdict and check.reason is not None:
            ids.append(message_id(check.reason))
        else:
            ids.append(f"contact.check.{check.status.value}")
    return ids
