"""Telling someone when a promise's error budget burns too fast: an e-mail through the
configured SMTP server (``TILLIT_PROMISE_ALERT_EMAIL``) and/or a JSON POST to a webhook
(``TILLIT_PROMISE_ALERT_WEBHOOK``). A failing channel is logged, never fatal to the round."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from tillit.config import Settings
from tillit.mail import Deliver, new_message, smtp
from tillit.promises.models import Promise
from tillit.promises.slo import Burn

logger = logging.getLogger("tillit.promises")


def describe(promise: Promise, burns: list[Burn]) -> str:
    lines = [
        f"The promise {promise.key!r} is burning its error budget too fast "
        f"(target {promise.target:.2%} kept over 28 days).",
        "",
    ]
    for burn in burns:
        lines.append(
            f"Over the last {burn.long_days} days it broke {burn.long_rate:.1f} times as often as "
            f"the target allows, over the last {burn.short_days} day(s) {burn.short_rate:.1f} "
            f"times (alert at {burn.factor:g})."
        )
    lines += ["", "The broken instances, with their evidence, are on /staff/promises."]
    return "\n".join(lines)


def make_alert(
    settings: Settings,
    *,
    deliver: Deliver | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Callable[[Promise, list[Burn]], None]:
    def alert(promise: Promise, burns: list[Burn]) -> None:
        text = describe(promise, burns)
        for address in filter(None, (a.strip() for a in settings.promise_alert_email.split(","))):
            message = new_message(
                settings,
                to=address,
                subject=f"Promise at risk: {promise.key}",
                language="en",
                tag=f"promise-{promise.key}",
            )
            message.set_content(text)
            try:
                (deliver or smtp(settings))(message)
            except OSError as error:
                logger.warning("promise alert e-mail to %s failed: %s", address, error)
        if settings.promise_alert_webhook:
            body = {
                "promise": promise.key,
                "target": promise.target,
                "burns": [
                    {
                        "long_days": b.long_days,
                        "short_days": b.short_days,
                        "factor": b.factor,
                        "long_rate": b.long_rate,
                        "short_rate": b.short_rate,
                    }
                    for b in burns
                ],
                "text": text,
            }
            try:
                with httpx.Client(transport=transport, timeout=10) as client:
                    client.post(settings.promise_alert_webhook, json=body).raise_for_status()
            except httpx.HTTPError as error:
                logger.warning("promise alert webhook failed: %s", error)

    return alert
