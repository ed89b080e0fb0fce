"""E-mail through the configured SMTP server (``TILLIT_SMTP_*``), one connection per batch.

Each message carries a Message-ID made from its outbox row, the same on every attempt, so a
message sent twice (see "the at-least-once window" in docs/outreach.md) is one message to the
receiving system. Marketing and dialogue messages carry RFC 8058 one-click unsubscribe
(``List-Unsubscribe`` + ``List-Unsubscribe-Post``); every message ends with a link to the
customer's preference centre: why they got it, and how to change that.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import socket
from email import charset
from email.header import Header
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from tillit.config import Settings
from tillit.i18n import translations
from tillit.outbox.transport import Down, Prepared, Refused, TryAgain
from tillit.storage.base import utcnow

TIMEOUT_SECONDS = 30
# Quoted-printable bodies: readable where they are plain ASCII, unlike base64.
_UTF8 = charset.Charset("utf-8")
_UTF8.body_encoding = charset.QP
_WIRE = compat32.clone(linesep="\r\n")  # SMTP's line ends


def message_id(settings: Settings, *, row_id: int, dedupe_key: str) -> str:
    """``<outbox.ROW.HASH@DOMAIN>``: the row and its dedupe key, so ids from two installations
    (or a database restored over another) do not collide."""
    domain = _domain(settings.smtp_sender)
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:16]
    return f"<outbox.{row_id}.{digest}@{domain}>"


# The sender, and most subjects, are the same message after message: parsed and encoded once,
# not for every message (the email package's parser was a fifth of writing an e-mail).
@lru_cache(maxsize=8)
def _domain(sender: str) -> str:
    return parseaddr(sender)[1].partition("@")[2] or "tillit.invalid"


def build_email(settings: Settings, item: Prepared) -> bytes:
    """The e-mail as it goes on the wire (CRLF line ends, before dot-stuffing): plain text in
    UTF-8, quoted-printable. Written header by header, byte for byte what ``MIMEText`` and
    the ``compat32`` generator write (tests/outbox/test_email_bytes.py compares them): the
    generator re-folds every header through ``email.header``, which cost more per message
    than the SMTP exchange; here only a header too long for one line goes through it."""
    message = item.message
    _ = translations(message.language).gettext
    footer = [_("Why did I get this? See what we send you, and change it:") + f"\n{item.why_url}"]
    if item.unsubscribe_url:
        footer.append(_("No more of these messages:") + f"\n{item.unsubscribe_url}")
    text = message.body.rstrip() + "\n\n-- \n" + "\n\n".join(footer) + "\n"
    headers = [
        ("From", _address(settings.smtp_sender)),
        ("To", item.address),
        ("Subject", _header(message.subject)),
        ("Date", format_datetime(utcnow())),
        ("Message-ID", item.message_id),
        ("Content-Language", message.language),
    ]
    if item.unsubscribe_url:
        headers.append(("List-Unsubscribe", f"<{item.unsubscribe_url}>"))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    lines = [_MIME_HEADERS, *(_fold(name, value) for name, value in headers), b"\r\n"]
    body = _UTF8.body_encode(_LINE_END.sub("\n", text))
    lines.append(body.replace("\n", "\r\n").encode("ascii"))
    return b"".join(lines)


_MIME_HEADERS = (
    b'Content-Type: text/plain; charset="utf-8"\r\n'
    b"MIME-Version: 1.0\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
)
_LINE_END = re.compile(r"\r\n|\r")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
_SHORT = 78  # compat32's line length: a shorter ASCII header is written as it is


# Where compat32 may fold an ASCII header: at white space, ";" and ",". A longer value without
# them (a List-Unsubscribe URL) is one word, written on a line of its own after the name.
_FOLDS = re.compile(r"[\s;,]")


def _fold(name: str, value: str) -> bytes:
    if value.isascii() and value.isprintable():
        if len(name) + 2 + len(value) <= _SHORT:
            return f"{name}: {value}\r\n".encode("ascii")
        if not _FOLDS.search(value):
            return f"{name}: \r\n {value}\r\n".encode("ascii")
    return _WIRE.fold_binary(name, value)


@lru_cache(maxsize=256)
def _header(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


@lru_cache(maxsize=8)
def _address(text: str) -> str:
    name, address = parseaddr(text)
    return formataddr((name, address), charset="utf-8") if name else address


class SmtpTransport:
    """Opens the connection at the first message and keeps it for the batch. A message goes
    in two steps: :meth:`start` sends everything but the end of its data (MAIL FROM, RCPT TO,
    DATA and the message itself), :meth:`finish` sends the final ``.``, the moment the server
    takes it. Its sender records the previous message while the next one is started, and
    waits for that record before finishing the next (docs/outreach.md, "Exactly once")."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # MAIL FROM's argument, as smtplib.SMTP.mail writes it: made once, not per message.
        self._mail_from = f"FROM:{smtplib.quoteaddr(parseaddr(settings.smtp_sender)[1])}"
        self._server: smtplib.SMTP | None = None
        self._mid_data = False  # a message's data sent, its final "." not yet

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        try:
            server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
            # The closing "." goes in a packet of its own, after the data: Nagle's algorithm
            # would hold it until the server acknowledged the data (40 ms, delayed ACK).
            assert server.sock is not None  # connected
            server.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if settings.smtp_starttls:
                server.starttls()
            if settings.smtp_username:
                server.login(settings.smtp_username, settings.smtp_password)
        except (OSError, smtplib.SMTPException) as error:
            raise Down(f"the mail server did not answer: {error}") from error
        return server

    def start(self, item: Prepared) -> None:
        """The envelope, then the message without its final ``.``: a refused recipient is
        known (and nothing is delivered) before anything is handed over."""
        if self._server is None:
            self._server = self._connect()
        server = self._server
        try:
            server.ehlo_or_helo_if_needed()
            server.putcmd("mail", self._mail_from)
            code, reply = server.getreply()
            if code != 250:  # our own sender refused: not the customer's fault
                server.rset()
                raise TryAgain(_words(code, reply))
            code, reply = server.rcpt(item.address)
            if code not in (250, 251):
                server.rset()
                raise (Refused if code >= 500 else TryAgain)(_words(code, reply))
            server.putcmd("data")
            code, reply = server.getreply()
            if code != 354:
                server.rset()
                raise (Refused if code >= 500 else TryAgain)(_words(code, reply))
            # Dot-stuffed as smtplib.SMTP.data does; the message ends with a line end.
            self._mid_data = True
            server.send(_LEADING_DOT.sub(b"..", build_email(self.settings, item)))
        except (OSError, smtplib.SMTPException) as error:  # the connection broke
            self.close()
            raise Down(f"the mail server connection broke: {error}") from error

    def finish(self, item: Prepared) -> str:
        """The end of the data: the server's 250 is the moment the message is delivered."""
        assert self._server is not None, "start() first"
        try:
            self._server.send(b".\r\n")
            self._mid_data = False
            code, reply = self._server.getreply()
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise Down(f"the mail server connection broke: {error}") from error
        if code != 250:
            self._rset()
            raise (Refused if code >= 500 else TryAgain)(_words(code, reply))
        return item.message_id

    def _rset(self) -> None:
        try:
            if self._server is not None:
                self._server.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        """QUIT, except in the middle of a message's data: there only dropping the connection
        takes the message back (a server discards a message whose end never came)."""
        server, self._server = self._server, None
        mid_data, self._mid_data = self._mid_data, False
        if server is not None and mid_data:
            server.close()
        elif server is not None:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()


def _words(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"the mail server answered {code} {text}".strip()
