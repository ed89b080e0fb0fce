"""The e-mail the outbox writes header by header is, byte for byte, what the ``email``
package's ``MIMEText`` and ``compat32`` generator write (as the outbox built it before): short
and long headers, non-ASCII subjects and sender names, odd line ends in the body."""

from __future__ import annotations

import email
import re
from email import charset
from email.header import Header
from email.mime.text import MIMEText
from email.policy import compat32, default
from email.utils import formataddr, parseaddr

import pytest

from tillit.config import Settings
from tillit.i18n import translations
from tillit.outbox.smtp_transport import build_email
from tillit.outbox.store import Claimed
from tillit.outbox.transport import Prepared

_UTF8 = charset.Charset("utf-8")
_UTF8.body_encoding = charset.QP
_DATE = re.compile(rb"^Date: [^\r]*\r\n", re.MULTILINE)


def _reference(settings: Settings, item: Prepared) -> bytes:
    """The outbox's message as the ``email`` package builds and serialises it."""
    message = item.message
    _ = translations(message.language).gettext
    footer = [_("Why did I get this? See what we send you, and change it:") + f"\n{item.why_url}"]
    if item.unsubscribe_url:
        footer.append(_("No more of these messages:") + f"\n{item.unsubscribe_url}")
    text = message.body.rstrip() + "\n\n-- \n" + "\n\n".join(footer) + "\n"
    mail = MIMEText(text, "plain", _UTF8)  # type: ignore[arg-type]
    name, address = parseaddr(settings.smtp_sender)
    mail["From"] = formataddr((name, address), charset="utf-8") if name else address
    mail["To"] = item.address
    subject = message.subject
    mail["Subject"] = subject if subject.isascii() else Header(subject, "utf-8").encode()
    mail["Date"] = "Wed, 04 Mar 2026 11:00:00 +0000"
    mail["Message-ID"] = item.message_id
    mail["Content-Language"] = message.language
    if item.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{item.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return mail.as_bytes(policy=compat32.clone(linesep="\r\n"))


def _item(subject: str, body: str, unsubscribe: str | None, language: str = "da") -> Prepared:
    claimed = Claimed(
        id=17,
        customer_id=42,
        channel="email",
        kind="marketing",
        topic="offers",
        purpose_key="marketing",
        language=language,
        subject=subject,
        body=body,
        source="campaign:spring",
        dedupe_key="spring:42",
        decision_id=None,
        attempts=1,
        claim_token="t" * 32,
    )
    return Prepared(
        message=claimed,
        address="ida.kristensen@example.com",
        address_type="email",
        point_hash="h",
        message_id="<outbox.17.3f2a9c0e51d24b7a@example.com>",
        why_url="https://shop.example.com/p/" + "a" * 43,
        unsubscribe_url=unsubscribe,
    )


LONG_URL = "https://shop.example.com/u/" + "b" * 120
CASES = [
    ("Forårsudsalg", "Hej Ida,\n\nAlt i haven er 20 % billigere.", LONG_URL),
    ("Spring sale", "Hi,\r\nall 20% off.\r\n.a line with a dot\rend", None),
    ("Spring sale, " * 12, "Short.", "https://shop.example.com/u/x"),
    ("Ærlige tilbud på æbler, pærer og blommer " * 4, "Ukens tilbud. " * 60, LONG_URL),
    ("Tab\there", "Trailing spaces   \n\n\n", None),
    # A List-Unsubscribe of one word just over a line, and one that compat32 may fold.
    ("Spring sale", "Hi.", "https://shop.example.com/u/" + "Ab-_.9" * 5),
    ("Spring sale", "Hi.", "https://shop.example.com/u/a,b;c=d" + "e" * 40),
]


@pytest.mark.parametrize("sender", ["Butik <hej@example.com>", "Bütik Ørsted <hej@example.com>"])
@pytest.mark.parametrize(("subject", "body", "unsubscribe"), CASES)
def test_the_wire_bytes_are_those_of_the_email_package(
    settings, sender, subject, body, unsubscribe
):
    config = settings.model_copy(update={"smtp_sender": sender})
    item = _item(subject, body, unsubscribe, language="nl" if "\t" in subject else "da")
    ours = build_email(config, item)
    theirs = _reference(config, item)
    assert _DATE.sub(b"", ours) == _DATE.sub(b"", theirs)
    assert _DATE.search(ours)
    parsed = email.message_from_bytes(ours, policy=default)
    assert parsed["Subject"].split() == subject.split()  # folding may move white space
    assert parsed.get_content().startswith(body.replace("\r\n", "\n").split("\n")[0].rstrip())
