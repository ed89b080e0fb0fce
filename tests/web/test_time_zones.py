"""Staff pages show every time in one zone, the staff time zone, labelled with it: a customer
in another zone no longer makes the same moment read differently on one page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.events.test_timeline import sign_in
from tillit.app import create_app
from tillit.audit.service import Actor
from tillit.config import load_settings
from tillit.customers.schemas import CustomerCreate, IdentityCreate
from tillit.customers.service import create_customer


def test_staff_pages_use_the_staff_zone_with_its_label(settings, engine, sessions, defaults):
    with sessions() as session, session.begin():
        customer = create_customer(
            session=session,
            defaults=defaults,
            actor=Actor.system("tests"),
            data=CustomerCreate(
                name="Kenji Example",
                locale="en",
                time_zone="Asia/Tokyo",
                identities=[IdentityCreate(type="email", value="kenji@example.com")],
            ),
        )
        customer.created_at = customer.updated_at = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
        customer_id = customer.id
    app = create_app(settings.model_copy(update={"staff_time_zone": "America/New_York"}))
    with TestClient(app) as client:
        sign_in(client, sessions)
        listing = client.get("/staff/customers").text
        detail = client.get(f"/staff/customers/{customer_id}").text
    app.state.engine.dispose()
    for page in (listing, detail):
        assert "15 Jan 2026, 07:00 EST" in page  # 12:00 UTC in New York, labelled
        assert "21:00" not in page  # not in the customer's own zone (Tokyo)


def test_the_staff_zone_defaults_to_the_default_zone_and_is_checked():
    assert load_settings(default_time_zone="Europe/Oslo").staff_zone == "Europe/Oslo"
    with pytest.raises(ValidationError, match="staff_time_zone"):
        load_settings(staff_time_zone="Mars/Olympus")
