"""Consent over HTTP: personal links, the ledger, unsubscribe tokens and data requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field

from tillit.audit.service import Actor
from tillit.consent import ledger, links, unsubscribe
from tillit.consent.evidence import Evidence
from tillit.consent.models import ConsentDecision, Method
from tillit.customers.validation import PlainText
from tillit.privacy.export import export_customer
from tillit.staff.scopes import CONSENT_READ, CONSENT_WRITE
from tillit.storage.base import EntityId
from tillit.web.deps import SessionDep, SettingsDep, require_scope

router = APIRouter(tags=["consent"])
Reader = Annotated[Actor, Depends(require_scope(CONSENT_READ))]
Writer = Annotated[Actor, Depends(require_scope(CONSENT_WRITE))]


class LinkCreate(BaseModel):
    days: int = Field(links.DEFAULT_DAYS, ge=1, le=365)


class LinkPublic(BaseModel):
    id: int
    url: str
    expires_at: datetime


class ConsentCreate(BaseModel):
    purpose: PlainText
    decision: ConsentDecision
    method: Method = Method.api
    channel: PlainText | None = None
    language: PlainText | None = None
    shown_text_sha256: str | None = Field(None, pattern="^[0-9a-f]{64}$")


class UnsubscribeCreate(BaseModel):
    scope: PlainText = Field(description="topic:<key> or purpose:<key>")


@router.post(
    "/customers/{customer_id}/links",
    status_code=status.HTTP_201_CREATED,
    response_model=LinkPublic,
    summary="Issue a personal preference-centre link",
)
def create_link(
    customer_id: EntityId,
    data: LinkCreate,
    session: SessionDep,
    settings: SettingsDep,
    actor: Writer,
) -> LinkPublic:
    issued = links.create_link(
        session=session,
        customer_id=customer_id,
        days=data.days,
        secret_key=settings.secret_key,
        actor=actor,
    )
    session.commit()
    return LinkPublic(id=issued.id, url=issued.url(settings.base_url), expires_at=issued.expires_at)


@router.post(
    "/customers/{customer_id}/consents",
    status_code=status.HTTP_201_CREATED,
    summary="Append a consent decision to the customer's ledger",
)
def record_consent(
    customer_id: EntityId, data: ConsentCreate, session: SessionDep, actor: Writer
) -> dict[str, Any]:
    entry = ledger.record_consent(
        session=session,
        customer_id=customer_id,
        purpose_key=data.purpose,
        decision=data.decision,
        method=data.method,
        channel=data.channel,
        actor=actor,
        language=data.language,
        evidence=Evidence(shown_text_hash=data.shown_text_sha256),
    )
    session.commit()
    return {"id": entry.id, "sequence": entry.sequence, "record_hash": entry.record_hash}


@router.get("/customers/{customer_id}/consents", summary="Current consent per purpose")
def current_consents(customer_id: EntityId, session: SessionDep, _actor: Reader) -> dict[str, Any]:
    return {
        key: {
            "decision": str(e.decision),
            "method": str(e.method),
            "recorded_at": e.recorded_at,
            "notice_version": e.notice_version,
        }
        for key, e in ledger.current_consents(session=session, customer_id=customer_id).items()
    }


@router.post(
    "/customers/{customer_id}/unsubscribe-links",
    status_code=status.HTTP_201_CREATED,
    summary="The RFC 8058 List-Unsubscribe URL for a customer and list",
)
def unsubscribe_link(
    customer_id: EntityId,
    data: UnsubscribeCreate,
    session: SessionDep,
    settings: SettingsDep,
    _actor: Writer,
) -> dict[str, str]:
    token = unsubscribe.unsubscribe_token(
        session=session, customer_id=customer_id, scope=data.scope, secret_key=settings.secret_key
    )
    session.commit()
    url = unsubscribe.unsubscribe_url(settings.base_url, token)
    return {
        "url": url,
        "list_unsubscribe": f"<{url}>",
        "list_unsubscribe_post": "List-Unsubscribe=One-Click",
    }


@router.get("/customers/{customer_id}/export", summary="Everything held (GDPR 15 and 20)")
def export(customer_id: EntityId, session: SessionDep, _actor: Reader) -> dict[str, Any]:
    return export_customer(session=session, customer_id=customer_id)
