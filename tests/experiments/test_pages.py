"""The staff experiments page: the split as people, plain words for a refused stop, and the
start and stop forms only for the roles that may use them."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tillit.experiments.assignment import assign
from tillit.staff.models import StaffUser
from tillit.storage.session import SessionFactory


def test_admins_stop_with_a_reason_and_analysts_see_no_forms(
    client: TestClient,
    sessions: SessionFactory,
    staff_as: Callable[[str], tuple[StaffUser, str]],
    make_customer: Callable[..., int],
    running: Callable[..., str],
) -> None:
    key = running()
    customers = [make_customer(f"Person {n}") for n in range(5)]
    with sessions() as session, session.begin():
        for customer in customers:
            assign(session=session, key=key, customer_id=customer)
    _, csrf = staff_as("admin")
    page = client.get("/staff/experiments").text
    assert "Checkout button copy" in page and "Running" in page
    assert f'action="/staff/experiments/{key}/stop"' in page
    refused = client.post(
        f"/staff/experiments/{key}/stop", data={"csrf_token": csrf, "reason": "  "}
    )
    assert refused.status_code == 200 and "say why in 1 to 500 characters" in refused.text
    stopped = client.post(
        f"/staff/experiments/{key}/stop", data={"csrf_token": csrf, "reason": "Seen enough"}
    )
    assert (
        stopped.status_code == 200 and "Stopped" in stopped.text and "Seen enough" in stopped.text
    )
    again = client.post(
        f"/staff/experiments/{key}/stop", data={"csrf_token": csrf, "reason": "Again"}
    )
    assert "only a running one stops" in again.text

    staff_as("analyst")
    page = client.get("/staff/experiments").text
    assert "Checkout button copy" in page and "<form" not in page.split("<main", 1)[1]
