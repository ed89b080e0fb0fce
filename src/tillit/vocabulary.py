"""The words every area shares, each defined once: the channels we reach customers on, the
channels events come in on, the legal bases for a purpose, the kinds of message, and the
periods a cap counts over.

Member names are the stored strings (in the database, the Parquet lake and the API), so a
value never changes spelling; adding a member is one edit here (and its translations).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from tillit.i18n import N_


class OutboundChannel(StrEnum):
    """A channel we reach a customer on. The order is the order customers see them in, and a
    channel's :attr:`code` (its position) is its bit in the contact policy's batch table."""

    label: str  # what the channel is called, for customers (a msgid)
    reaches: str  # how it reaches them, the start of a summary sentence (a msgid)

    # Only the members below are made with words; ``OutboundChannel("sms")`` looks one up (the
    # defaults are there so type checkers accept that lookup).
    def __new__(cls, value: str, label: str = "", reaches: str = "") -> OutboundChannel:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.reaches = reaches
        return member

    email = "email", N_("E-mail"), N_("We will e-mail you")
    sms = "sms", N_("Text message (SMS)"), N_("We will text you")
    push = "push", N_("App notifications"), N_("We will send you app notifications")
    phone = "phone", N_("Phone calls"), N_("We will phone you")
    post = "post", N_("Letters by post"), N_("We will write to you by post")
    # A direct message on a social network or chat app.
    social = "social", N_("Social media"), N_("We will contact you on social media")
    in_app = "in_app", N_("Messages in the app"), N_("We will message you in the app")

    @property
    def code(self) -> int:
        return _CODES[self]


_CODES = {channel: code for code, channel in enumerate(OutboundChannel)}


class SourceChannel(StrEnum):
    """Where an event came from: the channel of its source, or the one its message names."""

    web = "web"
    app = "app"
    store = "store"
    email = "email"
    sms = "sms"
    social = "social"
    chat = "chat"
    phone = "phone"
    post = "post"


class LegalBasis(StrEnum):
    """GDPR article 6: why a purpose may use a customer's data at all."""

    consent = "consent"
    legitimate_interest = "legitimate_interest"
    contract = "contract"
    legal_obligation = "legal_obligation"


class MessageKind(StrEnum):
    transactional = "transactional"  # about a transaction: receipt, shipping notice
    service = "service"  # asked for right now: password reset, one-time code
    marketing = "marketing"
    dialogue = "dialogue"  # survey invitations; capped like marketing


class Period(StrEnum):
    """What a cap counts over, as a rolling window; a month is 30 days so a cap never depends
    on the calendar."""

    day = "day"
    week = "week"
    month = "month"

    @property
    def length(self) -> timedelta:
        return _PERIOD_LENGTHS[self]


_PERIOD_LENGTHS = {
    Period.day: timedelta(days=1),
    Period.week: timedelta(days=7),
    Period.month: timedelta(days=30),
}
