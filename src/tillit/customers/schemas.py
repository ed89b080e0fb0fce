"""The customer API's shapes: what callers send (Create/Update) and what they get (Public)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from tillit.customers.models import CustomerStatus, IdentityType


class IdentityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: IdentityType
    value: str = Field(max_length=320)
    verified: bool = False
    source: str | None = Field(None, max_length=100)


class IdentityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    type: IdentityType
    value: str
    verified: bool
    source: str | None
    created_at: datetime


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    locale: str | None = Field(None, description="BCP 47, e.g. da-DK; default from settings")
    time_zone: str | None = Field(None, description="IANA zone, e.g. Europe/Copenhagen")
    country: str | None = Field(None, min_length=2, max_length=2)
    traits: dict[str, Any] = Field(default_factory=dict)
    identities: list[IdentityCreate] = Field(default_factory=list, max_length=50)


class CustomerUpdate(BaseModel):
    """Fields left out stay as they are; traits are merged key by key (null removes a key)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    locale: str | None = None
    time_zone: str | None = None
    country: str | None = Field(None, min_length=2, max_length=2)
    traits: dict[str, Any] | None = None
    status: CustomerStatus | None = None

    @field_validator("locale", "time_zone", "status", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Left out means "keep"; null would mean "clear", which these fields cannot be.
        if value is None:
            raise PydanticCustomError("not_null", "may be left out, but cannot be null")
        return value


class CustomerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str | None
    locale: str
    time_zone: str
    country: str | None
    traits: dict[str, Any]
    status: CustomerStatus
    created_at: datetime
    updated_at: datetime
    identities: list[IdentityPublic]


class CustomerPage(BaseModel):
    items: list[CustomerPublic]
    next_cursor: str | None = Field(
        None, description="Pass as ?cursor= to get the next page; null on the last page."
    )
