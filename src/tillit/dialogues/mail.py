"""E-mail invitations: one localised message per ask, sent with smtplib via settings.smtp_*.

Headers: From, To, Subject (in the customer's language), Date, Message-ID, and RFC 8058
one-click unsubscribe (List-Unsubscribe + List-Unsubscribe-Post) that withdraws the research
consent the invitations rest on.
"""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy.orm import Session

from tillit.config import Settings
from tillit.consent.unsubscribe import unsubscribe_token, unsubscribe_url
from tillit.contact.models import DIALOGUE_PURPOSE
from tillit.customers.service import email_address
from tillit.dialogues import catalogue
from tillit.dialogues.ask_links import ask_url
from tillit.dialogues.delivery import Sender
from tillit.dialogues.models import Ask, QuestionVersion
from tillit.errors import Conflict
from tillit.i18n import translations
from tillit.mail import new_message, smtp


def build_invitation(*, session: Session, settings: Settings, ask: Ask, token: str) -> EmailMessage:
    address = email_address(session=session, customer_id=ask.customer_id)
    if address is None:
        raise Conflict(f"customer {ask.customer_id} has no e-mail address")
    _ = translations(ask.language).gettext
    version = session.get_one(QuestionVersion, ask.version_id)
    question = catalogue.text_in(version.texts, ask.language)
    link = ask_url(settings.base_url, token)
    message = new_message(
        settings,
        to=address,
        subject=_("One short question from us"),
        language=ask.language,
        tag=f"ask{ask.id}",
    )
    unsubscribe = unsubscribe_url(
        settings.base_url,
        unsubscribe_token(
            session=session,
            customer_id=ask.customer_id,
            scope=f"purpose:{DIALOGUE_PURPOSE}",
            secret_key=settings.secret_key,
        ),
    )
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(
        "\n\n".join(
            [
                question,
                _("Answer here (it takes ten seconds):") + f"\n{link}",
                _("No more questions from us:") + f"\n{unsubscribe}",
            ]
        )
        + "\n"
    )
    return message


def smtp_sender(*, session: Session, settings: Settings) -> Sender:
    """A :data:`Sender` for :func:`tillit.dialogues.delivery.deliver_due` that uses SMTP."""

    deliver = smtp(settings)

    def send(ask: Ask, token: str) -> None:
        deliver(build_invitation(session=session, settings=settings, ask=ask, token=token))

    return send
