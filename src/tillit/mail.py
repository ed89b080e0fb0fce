"""Sending one e-mail through the configured SMTP server (settings.smtp_*): the one place that
speaks SMTP, for dialogue invitations and service messages alike."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from tillit.config import Settings
from tillit.storage.base import utcnow

Deliver = Callable[[EmailMessage], None]


def new_message(
    settings: Settings, *, to: str, subject: str, language: str, tag: str
) -> EmailMessage:
    """A message from the company's sender, dated now, with an id that names ``tag``."""
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    domain = parseaddr(settings.smtp_sender)[1].partition("@")[2] or "tillit.invalid"
    message["Message-ID"] = make_msgid(idstring=tag, domain=domain)
    message["Content-Language"] = language
    return message


def smtp(settings: Settings) -> Deliver:
    def deliver(message: EmailMessage) -> None:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as server:
            if settings.smtp_starttls:
                server.starttls()
            if settings.smtp_username:
                server.login(settings.smtp_username, settings.smtp_password)
            server.send_message(message)

    return deliver
