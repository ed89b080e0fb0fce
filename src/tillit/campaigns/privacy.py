"""Erasure and export hooks for campaigns, listed in ``tillit.privacy.areas``.

Erasure deletes the person's planned messages (each names them, the reason and what made the
campaign relevant to them); a round's counts stay, as counts about no one in particular."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tillit.campaigns.models import Campaign, CampaignMessage

ERASED_TABLES = ("campaign_message",)


def erase_campaign_messages(session: Session, customer_id: int, needles: list[str]) -> int:
    result = session.execute(
        delete(CampaignMessage).where(CampaignMessage.customer_id == customer_id)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def export_campaign_messages(session: Session, customer_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Campaign.key, CampaignMessage)
        .join(Campaign, Campaign.id == CampaignMessage.campaign_id)
        .where(CampaignMessage.customer_id == customer_id)
        .order_by(CampaignMessage.id)
    )
    return [
        {
            "campaign": key,
            "status": message.status,
            "reason": message.reason,
            "channel": message.channel,
            "not_before": message.not_before.isoformat() if message.not_before else None,
            "relevance": message.explanation,
        }
        for key, message in rows
    ]
