"""Parsing the company-wide caps setting, e.g. ``email:2/week,sms:1/week,all:6/month``."""

from __future__ import annotations

from tillit.contact.models import Channel, CompanyCap, Period


def parse_company_caps(text: str) -> tuple[CompanyCap, ...]:
    caps = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        scope, _, rule = part.partition(":")
        limit, _, period = rule.partition("/")
        try:
            channel = None if scope == "all" else Channel(scope)
            caps.append(CompanyCap(channel=channel, limit=int(limit), period=Period(period)))
        except ValueError as error:
            raise ValueError(
                f"{part!r}: use CHANNEL:N/PERIOD with CHANNEL one of "
                f"{', '.join(c.value for c in Channel)} or all, PERIOD day, week or month"
            ) from error
    return tuple(caps)
