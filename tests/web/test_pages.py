"""Staff pages: sign-in with CSRF, the customer list and a customer's page."""

from __future__ import annotations

import re

from sqlalchemy import select

from tillit.audit.models import AuditEntry

PASSWORD = "correct horse battery staple"  # the staff_user fixture's


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


def make_customer(client, admin_headers, name="Ingrid Haugen", email="ingrid@example.com"):
    body = {
        "name": name,
        "locale": "nb-NO",
        "time_zone": "Europe/Oslo",
        "identities": [{"type": "email", "value": email}],
    }
    return client.post("/api/v1/customers", json=body, headers=admin_headers).json()


def test_pages_need_sign_in(client):
    response = client.get(
        "/staff/customers", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/staff/login")


def test_sign_in_needs_the_form_token_and_the_password(client, staff_user):
    client.get("/staff/login")
    no_token = client.post("/staff/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert no_token.status_code == 403
    # The refusal hands out a fresh form (and cookie), as a browser would show it.
    wrong = client.post(
        "/staff/login",
        data={
            "email": "ada@example.com",
            "password": "nope",
            "csrf_token": hidden(no_token.text, "csrf_token"),
        },
    )
    assert wrong.status_code == 401 and "Wrong e-mail or password" in wrong.text


def test_next_never_leaves_the_site(client, staff_user):
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "csrf_token": hidden(page.text, "csrf_token"),
            "next": "https://evil.invalid/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/staff"  # the overview, not the other site


def test_search_finds_a_customer_and_shows_the_profile(client, staff_csrf, admin_headers):
    ingrid = make_customer(client, admin_headers)
    make_customer(client, admin_headers, name="Ole Olsen", email="ole@example.com")
    found = client.get("/staff/customers", params={"q": "ingrid@example.com"})
    assert "Ingrid Haugen" in found.text and "Ole Olsen" not in found.text
    page = client.get(f"/staff/customers/{ingrid['id']}")
    assert page.status_code == 200
    assert "ingrid@example.com" in page.text and "Profile created" in page.text
    assert "customer.create" not in page.text and "{&#34;" not in page.text  # no codes, no JSON
    assert "Content-Security-Policy" in page.headers


def test_forms_refuse_a_missing_csrf_token(client, staff_csrf, admin_headers, sessions):
    ingrid = make_customer(client, admin_headers)
    csrf = staff_csrf
    url = f"/staff/customers/{ingrid['id']}"
    refused = client.post(url, data={"name": "Hacked"})
    assert refused.status_code == 403
    refused = client.post(url, data={"name": "Hacked", "csrf_token": "forged"})
    assert refused.status_code == 403
    saved = client.post(
        url,
        data={
            "name": "Ingrid H. Haugen",
            "csrf_token": csrf,
            "locale": "nb-NO",
            "time_zone": "Europe/Oslo",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with sessions() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "customer.update")
        ).one()
    assert entry.actor_label == "ada@example.com"
    assert entry.before["name"] == "Ingrid Haugen" and entry.after["name"] == "Ingrid H. Haugen"


def test_a_bad_identity_in_the_form_shows_the_reason(client, staff_csrf, admin_headers):
    ingrid = make_customer(client, admin_headers)
    csrf = staff_csrf
    response = client.post(
        f"/staff/customers/{ingrid['id']}/identities",
        data={"type": "phone", "value": "12", "csrf_token": csrf},
    )
    assert response.status_code == 422
    assert "not a valid phone number" in response.text


def test_sign_out_ends_the_session(client, staff_csrf):
    csrf = staff_csrf
    client.post("/staff/logout", data={"csrf_token": csrf}, follow_redirects=False)
    response = client.get(
        "/staff/customers", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert response.status_code == 303


def test_error_pages_speak_the_customers_language(client):
    response = client.get(
        "/no/such/page", headers={"accept": "text/html", "accept-language": "sv-SE,sv;q=0.9"}
    )
    assert response.status_code == 404
    assert "Vi kunde inte hitta sidan" in response.text
    assert response.headers["content-language"] == "sv"


def test_every_staff_form_carries_the_sessions_csrf_token(client, staff_csrf, admin_headers):
    ingrid = make_customer(client, admin_headers)
    csrf = staff_csrf
    pages = [f"/staff/customers/{ingrid['id']}", "/staff/consent", "/staff/data-requests"]
    for path in pages:
        html = client.get(path).text
        tokens = re.findall(r'name="csrf_token" value="([^"]*)"', html)
        assert tokens and set(tokens) == {csrf}, path  # none empty, none stale


def test_search_finds_a_customer_by_part_of_an_email(client, staff_csrf, admin_headers):
    make_customer(client, admin_headers)  # Ingrid Haugen, ingrid@example.com
    make_customer(client, admin_headers, name="Ole Olsen", email="ole@olsen.example.org")
    for part in ("@example.com", "grid@exam", "EXAMPLE.COM"):
        found = client.get("/staff/customers", params={"q": part})
        assert "Ingrid Haugen" in found.text and "Ole Olsen" not in found.text, part
    assert "Ole Olsen" in client.get("/staff/customers", params={"q": "olsen.example"}).text
    short = client.get("/staff/customers", params={"q": "om"})  # too short to be a part
    assert "Ingrid Haugen" not in short.text


def test_the_audit_reads_as_words_not_codes():
    from tillit.web.audit_words import action_words, changes

    assert action_words("preferences.update") == "Preferences changed"
    assert action_words("something.new_here") == "Something: new here"
    assert changes({"name": "Ingrid"}, {"name": "Ingrid H.", "method": "preference_centre"}) == [
        "name: Ingrid → Ingrid H.",
        "method: in the preference centre",
    ]
    assert changes({"changed": ["topics", "quiet_hours"]}, None) == [
        "changed was topics, quiet hours"
    ]
