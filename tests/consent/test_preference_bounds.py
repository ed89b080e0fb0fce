"""A pause is bounded on input (at most PAUSE_MAX_DAYS ahead), in the service and the form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tillit.consent.models import PreferenceVersion
from tillit.consent.preferences import (
    PAUSE_MAX_DAYS,
    current_preferences,
    preference_history,
    update_preferences,
)
from tillit.errors import InvalidInput
from tillit.storage.base import utcnow

from .conftest import ACTOR
from .test_pages import _form_token, _link


def change(session: Session, customer_id: int, **changes: object) -> None:
    update_preferences(
        session=session, customer_id=customer_id, changes=changes, method="api", actor=ACTOR
    )


def test_a_pause_beyond_the_bound_is_refused_naming_the_field(session, anna) -> None:
    last = utcnow().date() + timedelta(days=PAUSE_MAX_DAYS)
    with pytest.raises(InvalidInput) as refused:
        change(session, anna, paused_until="9999-12-31")
    assert [e.field for e in refused.value.errors] == ["paused_until"]
    with pytest.raises(InvalidInput):
        change(session, anna, paused_until=(last + timedelta(days=1)).isoformat())
    change(session, anna, paused_until=last.isoformat())
    assert current_preferences(session=session, customer_id=anna).paused_until == last


def test_an_old_stored_pause_does_not_block_other_changes(session, anna) -> None:
    session.add(
        PreferenceVersion(
            customer_id=anna,
            version=1,
            document={"paused_until": "9999-12-31"},
            changed=["paused_until"],
            method="api",
        )
    )
    session.commit()
    # The form sends every field back, the stored pause included, unchanged.
    change(session, anna, paused_until="9999-12-31", language="da")
    assert current_preferences(session=session, customer_id=anna).language == "da"


def test_the_preference_form_answers_422_and_stores_nothing(client, session, anna) -> None:
    token = _link(session, anna)
    csrf = _form_token(client.get(f"/p/{token}").text)
    refused = client.post(
        f"/p/{token}/preferences",
        data={"csrf_token": csrf, "channel_email": "on", "paused_until": "9999-12-31"},
        headers={"Accept": "text/html"},
    )
    assert refused.status_code == 422
    assert "paused_until" in refused.text
    session.expire_all()
    assert preference_history(session=session, customer_id=anna) == []
