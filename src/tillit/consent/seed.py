"""The starting catalogue (purposes with notices in five languages, topics), from data/seed.json.

Written with plain table inserts, not the ORM classes, so the migration that calls it keeps
working however the models change later.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tillit.consent.notices import NoticeText, notice_text_hash

SEED = Path(__file__).with_name("data") / "seed.json"


def seed_catalogue(connection: Connection) -> None:
    data: dict[str, Any] = json.loads(SEED.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    metadata = sa.MetaData()
    purpose = sa.Table("consent_purpose", metadata, autoload_with=connection)
    notice = sa.Table("consent_notice", metadata, autoload_with=connection)
    topic = sa.Table("consent_topic", metadata, autoload_with=connection)
    for position, item in enumerate(data["purposes"]):
        purpose_id = connection.execute(
            purpose.insert()
            .values(
                key=item["key"],
                legal_basis=item["legal_basis"],
                position=position,
                active=True,
                created_at=now,
            )
            .returning(purpose.c.id)
        ).scalar_one()
        for language, (title, what_we_do, what_you_get) in item["notices"].items():
            text = NoticeText(title, what_we_do, what_you_get)
            connection.execute(
                notice.insert().values(
                    purpose_id=purpose_id,
                    version=1,
                    language=language,
                    title=title,
                    what_we_do=what_we_do,
                    what_you_get=what_you_get,
                    text_hash=notice_text_hash(text),
                    created_at=now,
                )
            )
    for position, item in enumerate(data["topics"]):
        connection.execute(
            topic.insert().values(
                key=item["key"], names=item["names"], position=position, active=True
            )
        )
