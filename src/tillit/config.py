"""Settings, read from ``TILLIT_*`` environment variables and an optional ``.env``-style file.

Every field is described; ``tillit config`` prints them and the README lists them (a test keeps
the two in step).
"""

from __future__ import annotations

import os
import secrets
import time
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tillit.i18n import LANGUAGES
from tillit.vocabulary import OutboundChannel, Period

# Secrets that must never reach production: the documented examples and obvious stand-ins.
PLACEHOLDER_SECRETS = frozenset(
    {"", "changeme", "change-me", "secret", "development", "dev", "insecure", "please-change-me"}
)


class CompanyCapSetting(NamedTuple):
    """One part of the company caps setting: at most ``limit`` marketing and dialogue messages
    per customer per rolling ``period`` on ``channel`` (None: every channel together)."""

    channel: OutboundChannel | None
    limit: int
    period: Period


def parse_company_caps(text: str) -> tuple[CompanyCapSetting, ...]:
    """``email:2/week,sms:1/week,all:6/month`` as data; a ValueError names the wrong part."""
    caps = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        scope, _, rule = part.partition(":")
        limit, _, period = rule.partition("/")
        try:
            channel = None if scope == "all" else OutboundChannel(scope)
            cap = CompanyCapSetting(channel=channel, limit=int(limit), period=Period(period))
        except ValueError:
            cap = None
        if cap is None or cap.limit < 0:
            raise ValueError(
                f"{part!r}: use CHANNEL:N/PERIOD with CHANNEL one of "
                f"{', '.join(OutboundChannel)} or all, N zero or more, PERIOD day, week or month"
            )
        caps.append(cap)
    return tuple(caps)


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TILLIT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    env: Environment = Field(
        Environment.development,
        description="development, test or production; production refuses unsafe settings.",
    )
    data_dir: Path = Field(
        Path("var"), description="Where the SQLite file, the event lake and exports live."
    )
    database_url: str = Field(
        "",
        description=(
            "SQLAlchemy URL. Default: a SQLite file tillit.db in the data directory. "
            "PostgreSQL: postgresql+psycopg://user@host:5432/db"
        ),
    )
    base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public URL of this installation; used in customer links and e-mails.",
    )
    secret_key: str = Field(
        "",
        description=(
            "Signs sessions, CSRF tokens and customer links. Required in production; "
            "in development one is generated once into the data directory (secret-key, "
            "mode 0600) and shared by the server and the CLI."
        ),
    )
    default_country: str = Field(
        "DK", description="ISO 3166 country used to read phone numbers written without +prefix."
    )
    default_language: str = Field("en", description="Language when a customer has none set.")
    default_time_zone: str = Field(
        "Europe/Copenhagen", description="IANA time zone when a customer has none set."
    )
    company_name: str = Field(
        "",
        max_length=80,
        description="The company's name on customer pages and e-mails; empty: Tillit.",
    )
    company_colour: str = Field(
        "#1f5f57",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description=(
            "The company's colour (#rrggbb) for the bar and buttons of customer pages; it "
            "carries white text, so it must contrast with white at 4.5:1 or more (WCAG AA)."
        ),
    )
    company_logo: Path | None = Field(
        None,
        description=(
            "An SVG or PNG file with the company's logo, shown on customer pages; "
            "a relative path is read from the data directory."
        ),
    )
    staff_time_zone: str = Field(
        "",
        description=(
            "IANA time zone in which staff pages show every time, labelled; "
            "empty: the default time zone."
        ),
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP server for outgoing e-mail.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_username: str = Field("", description="SMTP user name; empty for no authentication.")
    smtp_password: str = Field("", description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_sender: str = Field(
        "Tillit <no-reply@example.com>", description="From address of outgoing e-mail."
    )
    gateway_url: str = Field(
        "",
        description=(
            "The company's message gateway: the outbox POSTs every message on a channel other "
            "than e-mail (sms, push, in_app, social, phone, post) here as JSON, signed with "
            "TILLIT_GATEWAY_SECRET; empty: such messages wait in the outbox."
        ),
    )
    gateway_secret: str = Field(
        "",
        description=(
            "Key of the HMAC-SHA256 signature on each gateway request (Tillit-Signature "
            "header); required when TILLIT_GATEWAY_URL is set."
        ),
    )
    outbox_batch_size: int = Field(
        100, ge=1, le=10_000, description="Messages one outbox sender claims at a time."
    )
    outbox_lease_seconds: int = Field(
        300,
        ge=1,
        description=(
            "How long a claimed message stays with its sender; a message still 'sending' "
            "after this (its sender died) is claimed and sent again."
        ),
    )
    outbox_durable_records: bool = Field(
        True,
        description=(
            "PostgreSQL: each 'sent' record waits for the disk (synchronous_commit on) before "
            "the next message goes out. False: about twice the speed, but if the database "
            "server itself crashes, the messages sent in its last ~0.6 s go out again "
            "(never lost; docs/outreach.md, 'Exactly once')."
        ),
    )
    outbox_max_attempts: int = Field(
        6, ge=1, le=50, description="Attempts before a message that keeps failing is 'failed'."
    )
    outbox_retry_seconds: int = Field(
        60,
        ge=1,
        description="Wait before the first retry of a failed message; doubled for each next.",
    )
    company_caps: str = Field(
        "email:2/week,sms:1/week",
        description=(
            "Company-wide caps on marketing and dialogue messages per customer, "
            "CHANNEL:N/PERIOD separated by commas; 'all' counts every channel."
        ),
    )
    promise_alert_email: str = Field(
        "",
        description=(
            "Promises: e-mail address(es), comma-separated, told when a promise's error budget "
            "burns too fast; empty: no e-mail."
        ),
    )
    promise_alert_webhook: str = Field(
        "",
        description=(
            "Promises: URL that gets a JSON POST when a promise's error budget burns too fast; "
            "empty: no webhook."
        ),
    )
    dialogue_cooldown_days: int = Field(
        14,
        ge=0,
        le=365,
        description="Dialogues: at most one question per customer in this many days, all channels.",
    )
    dialogue_ask_days: int = Field(
        14, ge=1, le=90, description="Dialogues: days a question link stays open before it expires."
    )
    dialogue_seed: int = Field(
        0, description="Dialogues: seed of the randomised tie-break in next-question selection."
    )
    case_first_response_hours: int = Field(
        24, ge=1, description="Cases: hours to the first reply to the customer (the SLA)."
    )
    case_resolution_hours: int = Field(
        72, ge=1, description="Cases: hours to resolution (the SLA); high priority gets half."
    )
    case_words: str = Field(
        "cancel,refund,complaint,lawyer,opsig,klage,reklamation,uppsäg,klagomål,återbetal,"
        "oppsig,refusjon,opzeg,klacht,terugbetal",
        description="Cases: comma-separated word stems in a comment that open a case.",
    )
    widget_origins: str = Field(
        "",
        description=(
            "Web sites allowed to embed the dialogue widget, e.g. "
            "https://shop.example.com,https://www.example.com (CORS); empty: this site only."
        ),
    )
    jobs_interval_seconds: int = Field(
        60,
        ge=0,
        description=(
            "How often the server imports event files sent to the API, exports new events to "
            "the lake, sends due dialogue invitations and escalates overdue cases; 0 turns the "
            "background loop off (run "
            "`tillit import queued` and `tillit dialogues send` from cron instead)."
        ),
    )
    session_hours: int = Field(12, ge=1, le=24 * 30, description="Staff session lifetime.")
    signin_max_failures: int = Field(
        10,
        ge=1,
        le=1000,
        description="Failed staff sign-ins per account, and per client address, after which "
        "sign-in is refused (429) for TILLIT_SIGNIN_LOCK_MINUTES.",
    )
    signin_lock_minutes: int = Field(
        15,
        ge=1,
        le=24 * 60,
        description="Minutes failed sign-ins count for, and a locked account or address waits.",
    )
    import_max_bytes: int = Field(
        1024**3,
        ge=1,
        description="The largest event file the API takes (POST /api/v1/event-imports).",
    )
    match_auto_threshold: float = Field(
        0.99,
        ge=0,
        le=1,
        description="Match probability at or above which `tillit match run` merges (undoable).",
    )
    match_review_floor: float = Field(
        0.8,
        ge=0,
        le=1,
        description="Match probability at or above which a pair is kept as a suggestion to "
        "review; below it, it is dropped.",
    )
    match_fields: list[str | dict[str, Any]] | None = Field(
        None,
        description="What `tillit match run` compares (JSON): built-in field names (first_name, "
        "last_name, birth_date, address, suburb, postcode, phone, email, id_number) or objects "
        '{"name": ..., "kind": ..., "traits": [...]}; unset: all the built-in fields.',
    )
    match_memory_limit: str = Field(
        "3GB",
        pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="Memory DuckDB may use in `tillit match run`; beyond it, it spills to "
        "disk under the data directory (1,000,000 records: 14 GiB without a limit).",
    )
    analytics_engine: Literal["duckdb", "spark"] = Field(
        "duckdb",
        description=(
            "Engine of the analytics layer (goals, funnels, cohorts, segments) and of "
            "`tillit match run`: duckdb, embedded, or spark (PySpark, at TILLIT_SPARK_MASTER)."
        ),
    )
    spark_master: str = Field(
        "local[2]",
        description="Spark master URL when TILLIT_ANALYTICS_ENGINE=spark, e.g. local[2] or "
        "spark://host:7077; needs Java and the spark extra.",
    )
    quality_current_days: int = Field(
        365,
        ge=1,
        description="Data quality: a value seen or updated within this many days is current.",
    )

    @field_validator("default_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown ISO 3166 country code {value!r}")
        return value

    @field_validator("company_caps")
    @classmethod
    def _valid_caps(cls, value: str) -> str:
        parse_company_caps(value)  # raises ValueError naming the bad part
        return value

    @field_validator("company_colour")
    @classmethod
    def _readable_colour(cls, value: str) -> str:
        ratio = contrast_with_white(value)
        if ratio < 4.5:
            raise ValueError(
                f"{value} against white text has a contrast of {ratio:.1f}:1; "
                "WCAG AA needs 4.5:1: choose a darker colour"
            )
        return value.lower()

    @field_validator("company_logo")
    @classmethod
    def _logo_kind(cls, value: Path | None) -> Path | None:
        if value is not None and value.suffix.lower() not in LOGO_TYPES:
            raise ValueError(f"the logo must be one of {', '.join(LOGO_TYPES)}")
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("default_time_zone", "staff_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not value:
            return value  # staff_time_zone: empty means the default time zone
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA time zone {value!r}") from error
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.env is Environment.production:
            if self.secret_key.strip().lower() in PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
                raise ValueError(
                    "TILLIT_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if self.gateway_url and (
                self.gateway_secret.strip().lower() in PLACEHOLDER_SECRETS
                or len(self.gateway_secret) < 32
            ):
                raise ValueError(
                    "TILLIT_GATEWAY_SECRET must be a random value of at least 32 characters "
                    "when TILLIT_GATEWAY_URL is set in production"
                )
        elif not self.secret_key and self.env is Environment.development:
            # One secret for the server, the jobs process and the CLI, or a link that
            # `tillit links create` prints would not open on the running demo.
            self.secret_key = _development_secret(self.data_dir / DEVELOPMENT_SECRET_FILE)
        elif not self.secret_key:
            self.secret_key = secrets.token_urlsafe(48)  # tests: dies with the process
        return self

    @property
    def company_cap_limits(self) -> tuple[CompanyCapSetting, ...]:
        """:attr:`company_caps` as data (validated when the settings were read)."""
        return parse_company_caps(self.company_caps)

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tillit.db').resolve()}"

    @property
    def brand_name(self) -> str:
        return self.company_name or "Tillit"

    @property
    def logo_path(self) -> Path | None:
        if self.company_logo is None:
            return None
        return (
            self.company_logo
            if self.company_logo.is_absolute()
            else self.data_dir / self.company_logo
        )

    @property
    def staff_zone(self) -> str:
        return self.staff_time_zone or self.default_time_zone

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


LOGO_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}


def contrast_with_white(colour: str) -> float:
    """WCAG 2.1 contrast ratio of ``#rrggbb`` against white."""

    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


DEVELOPMENT_SECRET_FILE = "secret-key"  # noqa: S105 - a file name, not a secret


def _development_secret(path: Path) -> str:
    """The data directory's own secret, made on first use. Created with O_EXCL at mode 0600, so
    two processes starting together agree on one secret and no other user can read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exists:
        for _ in range(50):  # the winner of the race may not have written it yet
            if secret := path.read_text().strip():
                return secret
            time.sleep(0.01)
        raise ValueError(
            f"the development secret {path} is empty: delete it to make a new one"
        ) from exists
    secret = secrets.token_urlsafe(48)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret + "\n")
    return secret


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
