"""Sending a customer their own preference-centre link by e-mail, as a service message: staff
press "Send them their link" when a customer asks for it (on the phone, in a store).

It goes through the contact policy like every message (a service message skips consent and
quiet hours, never erasure, suppression or a channel the customer turned off), and is logged
and counted as a send, so the customer sees it in their own message log.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tillit.audit.service import Actor, record
from tillit.config import Settings
from tillit.consent.links import DEFAULT_DAYS, create_link
from tillit.contact.log import record_send
from tillit.contact.reasons import staff_label
from tillit.contact.service import decide_for
from tillit.customers.models import Customer
from tillit.customers.service import email_address
from tillit.i18n import negotiate, translations
from tillit.mail import Deliver, new_message
from tillit.vocabulary import MessageKind

PURPOSE = "service"  # a service message needs no consent; the key names it in the log


@dataclass(frozen=True)
class LinkMail:
    sent: bool
    why_not: str | None = None  # in words, for staff


def send_link(
    *, session: Session, settings: Settings, customer_id: int, actor: Actor, deliver: Deliver
) -> LinkMail:
    """The caller commits; nothing is logged as sent unless the server took the message."""
    decided = decide_for(
        session=session,
        customer_id=customer_id,
        purpose=PURPOSE,
        kind=MessageKind.service,
        channel="email",
        topic=None,
        settings=settings,
        log=True,
    )
    if decided.decision.outcome != "allowed":
        reasons = [check.reason for check in decided.decision.checks if check.reason]
        return LinkMail(sent=False, why_not=staff_label(reasons[0]) if reasons else None)
    customer = session.get_one(Customer, customer_id)
    address = email_address(session=session, customer_id=customer_id)
    assert address is not None  # the policy found the e-mail channel reachable
    issued = create_link(
        session=session, customer_id=customer_id, secret_key=settings.secret_key, actor=actor
    )
    language = negotiate(customer.language)
    _ = translations(language).gettext
    message = new_message(
        settings,
        to=address,
        subject=_("Your choices with us"),
        language=language,
        tag=f"link{issued.id}",
    )
    message.set_content(
        "\n\n".join(
            [
                _("You asked for the page where you decide what we may do and how we contact you."),
                issued.url(settings.base_url),
                _("The link works for %(days)d days.") % {"days": DEFAULT_DAYS},
            ]
        )
        + "\n"
    )
    deliver(message)
    record_send(
        session=session,
        customer_id=customer_id,
        channel="email",
        kind=MessageKind.service,
        decision_id=decided.logged_id,
    )
    record(
        session=session,
        actor=actor,
        action="link.sent",
        entity_type="customer",
        entity_id=customer_id,
        after={"link": issued.id, "channel": "email"},
    )
    return LinkMail(sent=True)
