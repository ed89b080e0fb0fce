"""The merge rules: which identifiers count, in what order, how many per profile, which are junk.

Read from ``TILLIT_IDENTITY_*`` environment variables (JSON for lists and maps), e.g.
``TILLIT_IDENTITY_BLOCKED_VALUES='["null","0"]'``, or from the ``.env`` file the main settings
read (tillit.config), so one file configures the whole product.
"""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tillit.customers.models import IdentityType

DEFAULT_PRIORITY = [
    "user_id",
    "email",
    "phone",
    "loyalty_card",
    "social_handle",
    "device_id",
    "anonymous_id",
]
# Values trackers and forms send when they have nothing: one of them would merge everybody.
DEFAULT_BLOCKED_VALUES = [
    "null",
    "none",
    "nil",
    "undefined",
    "anonymous",
    "unknown",
    "guest",
    "0",
    "-1",
    "n/a",
    "na",
    "test",
    "[object object]",
    "nan",
    "false",
    "true",
    "00000000-0000-0000-0000-000000000000",
]
DEFAULT_BLOCKED_PATTERNS = [
    r"^(test|none|null|noreply|no-reply|donotreply|nobody|noemail|no-email|email|example)@",
    r"^\+?0+$",
    r"^(.)\1{5,}$",  # 0000000, aaaaaaa, 1111111
]


class IdentityRules(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TILLIT_IDENTITY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    priority: list[str] = Field(
        DEFAULT_PRIORITY,
        description="Identifier types, strongest first: the profile holding the strongest "
        "shared identifier is the one others merge into.",
    )
    limits: dict[str, int] = Field(
        {"user_id": 1},
        description="Most identifiers of a type one profile may hold; a merge that would break "
        "a limit is refused (alias excepted: it is an explicit instruction).",
    )
    blocked_values: list[str] = Field(
        DEFAULT_BLOCKED_VALUES, description="Values (case-insensitive) never used to link."
    )
    blocked_patterns: list[str] = Field(
        DEFAULT_BLOCKED_PATTERNS, description="Regular expressions for values never used to link."
    )

    @cached_property
    def _blocked(self) -> frozenset[str]:
        return frozenset(value.lower() for value in self.blocked_values)

    @cached_property
    def _patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(pattern, re.IGNORECASE) for pattern in self.blocked_patterns]

    def is_blocked(self, value: str) -> bool:
        lowered = value.strip().lower()
        return lowered in self._blocked or any(p.search(lowered) for p in self._patterns)

    @cached_property
    def key_cache(self) -> dict[tuple[str, str, str], tuple[str, str] | None]:
        """(type, raw value, default country) -> normalised key or None (see identity.resolve)."""
        return {}

    @cached_property
    def _ranks(self) -> dict[str, int]:
        return {kind: self.priority.index(kind) for kind in reversed(self.priority)}

    def key_rank(self, key: tuple[str, str]) -> int:
        return self._ranks.get(key[0], len(self.priority))

    def rank(self, identity_type: str) -> int:
        """Lower is stronger; unknown types rank last."""
        try:
            return self.priority.index(identity_type)
        except ValueError:
            return len(self.priority)

    def limit(self, identity_type: str) -> int | None:
        return self.limits.get(identity_type)


LINKABLE_TRAITS = {
    "email": IdentityType.email,
    "phone": IdentityType.phone,
    "loyalty_card": IdentityType.loyalty_card,
    "device_id": IdentityType.device_id,
    "social_handle": IdentityType.social_handle,
}


def load_rules(**overrides: object) -> IdentityRules:
    return IdentityRules(**overrides)  # type: ignore[arg-type]
