"""The role matrix: every staff page as every role, every API route with and without its scope,
both against the README's "Staff roles and API scopes" tables, so README, code and routes cannot
drift apart."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from tillit.analytics.models import Segment
from tillit.analytics.segment_store import save_segment
from tillit.audit.models import AuditEntry
from tillit.audit.service import Actor
from tillit.campaigns.definitions import parse_definition as parse_campaign
from tillit.campaigns.service import approve_campaign, create_campaign
from tillit.config import Settings
from tillit.customers.models import Customer
from tillit.dialogues.models import Case, Question
from tillit.events.models import EventImport
from tillit.events.sources import create_source
from tillit.experiments.definitions import ExperimentDefinition
from tillit.experiments.service import create_experiment, start_experiment
from tillit.feedback.models import FeedbackTheme
from tillit.i18n import LANGUAGES
from tillit.identity.merge import merge_profiles
from tillit.identity.models import MatchSuggestion
from tillit.privacy.data_requests import open_request
from tillit.privacy.models import DataRequestKind
from tillit.staff import service as staff_service
from tillit.staff.models import Role, StaffUser
from tillit.staff.permissions import GRANTS, MEANING, Permission
from tillit.staff.scopes import ADMIN, ALL_SCOPES
from tillit.storage.base import utcnow
from tillit.storage.session import SessionFactory
from tillit.vocabulary import SourceChannel
from tillit.web.deps import RequiresScope
from tillit.web.pages.staff_auth import RequiresPermission

README = Path(__file__).resolve().parents[2] / "README.md"
SYSTEM = Actor.system("tests")
UNIQUE = itertools.count()  # each role acts on data of its own within one test
# Reached without a role or a scope: sign-in, the customers' own signed links, the problem
# type pages, the tracking API's write keys and the widget's signed link.
PUBLIC = {
    "GET /",
    "GET /staff/login",
    "POST /staff/login",
    "POST /staff/logout",  # any signed-in staff user
    "GET /problems/{slug}",
    "GET /brand.css",  # the company's colour and logo, shown on customer pages
    "GET /brand/logo",
    "GET /promises",  # the company's promises and how often it kept them, for everyone
}
CUSTOMER_LINKS = ("/p/", "/u/", "/d/")
API = ("/api/", "/v1/", "/healthz", "/readyz")  # token scopes, checked below


# ---- the README's tables -------------------------------------------------------------------


def _table(heading: str) -> list[list[str]]:
    """The rows of the README table whose header row starts with ``heading``."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {heading} |"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def readme_roles() -> dict[str, tuple[str, dict[str, bool]]]:
    """permission -> (what it allows, {role: granted})."""
    header, _rule, *rows = _table("Permission")
    roles = header[2:]
    found = {}
    for name, meaning, *marks in rows:
        assert all(mark in ("yes", "no") for mark in marks), name
        found[name.strip("`")] = (
            meaning,
            dict(zip(roles, [m == "yes" for m in marks], strict=True)),
        )
    return found


def readme_scopes() -> dict[str, str | None]:
    """ "METHOD /path" -> the scope the README names for it (None: no token)."""
    _header, _rule, *rows = _table("Scope")
    found: dict[str, str | None] = {}
    for scope, routes in rows:
        for route in re.findall(r"`([A-Z]+ [^`]+)`", routes):
            assert route not in found, f"{route} is in the README's scope table twice"
            found[route] = scope.strip("`") if scope.startswith("`") else None
    return found


# ---- what the routes declare ---------------------------------------------------------------


def _declared(route: APIRoute) -> list[object]:
    found: list[object] = []

    def walk(dependant: Any) -> None:
        for sub in dependant.dependencies:
            if isinstance(sub.call, RequiresPermission | RequiresScope):
                found.append(sub.call)
            walk(sub)

    walk(route.dependant)
    return found


def app_routes(app: FastAPI) -> dict[str, list[object]]:
    """ "METHOD /path" -> the permission and scope checks the route declares."""
    routes = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in context.methods or ():
                routes[f"{method} {context.path}"] = _declared(route)
    return routes


def test_the_readme_table_is_the_permission_model() -> None:
    table = readme_roles()
    assert list(table) == [str(p) for p in Permission]
    for permission in Permission:
        meaning, marks = table[permission]
        assert meaning[:1].lower() + meaning[1:] == MEANING[permission]
        assert marks == {str(role): permission in GRANTS[role] for role in Role}


def test_every_staff_page_declares_exactly_one_permission(client: TestClient) -> None:
    undeclared = []
    for route, checks in app_routes(client.app).items():
        path = route.split(" ", 1)[1]
        if route in PUBLIC or path.startswith(CUSTOMER_LINKS + API):
            continue
        if len(checks) != 1 or not isinstance(checks[0], RequiresPermission):
            undeclared.append(f"{route}: {checks}")
    assert undeclared == [], "pages that declare no permission (or several)"


def test_every_api_route_declares_the_readme_scope(client: TestClient) -> None:
    declared = {}
    for route, checks in app_routes(client.app).items():
        path = route.split(" ", 1)[1]
        if path.startswith(API):
            assert all(isinstance(check, RequiresScope) for check in checks), route
            assert len(checks) <= 1, f"{route} asks for several scopes"
            declared[route] = checks[0].scope if checks else None  # type: ignore[attr-defined]
    assert declared == readme_scopes()
    unscoped = {route for route, scope in declared.items() if scope is None}
    # Only these authenticate otherwise: a source's write key, a signed widget link, nothing.
    assert all(
        route.split(" ", 1)[1].startswith("/v1/")
        or route
        in (
            "GET /healthz",
            "GET /readyz",
            "GET /api/v1/docs",  # the API's documentation page, as public as the document
            "GET /api/v1/dialogues/widget/{widget_token}/next",
        )
        for route in unscoped
    ), unscoped


# ---- every staff page as every role ----------------------------------------------------------


@dataclass
class Call:
    """One request to a staff route: its URL, the form it posts, and whether success is audited."""

    url: str
    form: dict[str, str | list[str]] | None = None
    files: dict[str, tuple[str, bytes]] | None = None
    audited: bool = True
    expected: int = field(default=0)


def _customer(session: Any, name: str = "Ingrid Berg") -> int:
    customer = Customer(name=name, locale="nb", time_zone="Europe/Oslo", traits={})
    session.add(customer)
    session.flush()
    return customer.id


def _merge(session: Any) -> int:
    into, other = _customer(session), _customer(session, "Ingrid B.")
    return merge_profiles(
        session=session, from_id=other, into_id=into, reason="test", actor=SYSTEM
    ).id


def _suggestion(session: Any) -> int:
    left, right = _customer(session), _customer(session, "Ingrid B.")
    suggestion = MatchSuggestion(left_customer_id=left, right_customer_id=right, probability=0.9)
    session.add(suggestion)
    session.flush()
    return suggestion.id


def _import(session: Any) -> int:
    source, _key = create_source(
        session=session, name=f"shop {next(UNIQUE)}", channel=SourceChannel.web, actor=SYSTEM
    )
    job = EventImport(
        source_id=source.id,
        file_name="events.jsonl",
        stored_as="matrix-test",
        file_key="0" * 64,
        format="jsonl",
        size_bytes=0,
        total_lines=0,
        requested_by="tests",
    )
    session.add(job)
    session.flush()
    return job.id


def _theme(session: Any) -> int:
    theme = FeedbackTheme(key=f"delivery-{next(UNIQUE)}", label="Delivery", centroid=bytes(384 * 4))
    session.add(theme)
    session.flush()
    return theme.id


def _match_run(session: Any) -> Call:
    names = [
        create_source(
            session=session, name=f"system {next(UNIQUE)}", channel=SourceChannel.web, actor=SYSTEM
        )[0].name
        for _ in range(2)
    ]
    return Call("/staff/match-runs", {"left": names[0], "right": names[1]})


def _self_merge(theme: int) -> Call:
    return Call(f"/staff/insight/themes/{theme}/merge", {"other_id": str(theme)}, audited=False)


def _case(session: Any) -> int:
    now = utcnow()
    case = Case(
        customer_id=_customer(session),
        rule="nps<=6",
        priority="normal",
        first_response_due=now + timedelta(hours=24),
        resolution_due=now + timedelta(hours=72),
    )
    session.add(case)
    session.flush()
    return case.id


def _data_request(session: Any) -> int:
    return open_request(
        session=session,
        customer_id=_customer(session),
        kind=DataRequestKind.access,
        channel="email",
        actor=SYSTEM,
    ).id


def _experiment(session: Any, *, run: bool) -> str:
    key = f"matrix-{next(UNIQUE)}"
    definition = ExperimentDefinition.model_validate(
        {
            "key": key,
            "hypothesis": "A shorter form raises sign-ups.",
            "variants": [{"key": "control", "weight": 1}, {"key": "short", "weight": 1}],
            "primary_goal": "signed-up",
        }
    )
    create_experiment(session=session, definition=definition, actor=SYSTEM)
    if run:
        start_experiment(session=session, key=key, actor=SYSTEM)
    return key


def _campaign(session: Any, *, approve: bool) -> str:
    key = f"matrix-{next(UNIQUE)}"
    if session.scalar(select(Segment.id).where(Segment.key == "matrix-everyone")) is None:
        save_segment(
            session=session,
            key="matrix-everyone",
            name="Everyone",
            purpose="marketing",
            definition={"kind": "consent", "purpose": "marketing"},
            actor=SYSTEM,
        )
    definition = parse_campaign(
        {
            "key": key,
            "name": "Winter sale",
            "purpose": "marketing",
            "segment": "matrix-everyone",
            "content": {"en": {"subject": "Hi {first_name}", "body": "Our winter sale."}},
            "fallback_language": "en",
        }
    )
    create_campaign(session=session, definition=definition, actor=SYSTEM)
    if approve:
        approve_campaign(session=session, key=key, actor=SYSTEM)
    return key


CAMPAIGN_FORM = {
    "name": "Spring sale",
    "purpose": "marketing",
    "segment": "matrix-everyone",
    "channels": "email",
    "subject_en": "Hi {first_name}",
    "body_en": "Our spring sale.",
    "fallback_language": "en",
}


def _campaign_form(session: Any) -> Call:
    _campaign(session, approve=False)  # makes the segment
    return Call("/staff/campaigns", {**CAMPAIGN_FORM, "key": f"matrix-{next(UNIQUE)}"})


def _question_key(session: Any) -> str:
    return session.scalars(select(Question.key).order_by(Question.id)).first()


NOTICE = {
    f"{language}_{part}": f"Fictional {part} ({language})"
    for language in LANGUAGES
    for part in ("title", "what_we_do", "what_you_get")
}
QUESTION = {
    "key": "matrix_visit",
    "type": "rating",
    **{f"text_{language}": f"How was it? ({language})" for language in LANGUAGES},
}

# (route as the app names it, what the request needs from a fresh database)
Prepare = Callable[[Any], Call]
STAFF_ROUTES: dict[str, Prepare] = {
    "GET /staff/customers": lambda s: Call("/staff/customers"),
    "GET /staff/customers/{customer_id}": lambda s: Call(f"/staff/customers/{_customer(s)}"),
    "POST /staff/customers/{customer_id}": lambda s: Call(
        f"/staff/customers/{_customer(s)}", {"name": "Ingrid Haugen"}
    ),
    "POST /staff/customers/{customer_id}/identities": lambda s: Call(
        f"/staff/customers/{_customer(s)}/identities",
        {"type": "email", "value": f"ingrid{next(UNIQUE)}@example.com"},
    ),
    # No mail server in this test: the send fails, is said on the page, and records nothing.
    "POST /staff/customers/{customer_id}/send-link": lambda s: Call(
        f"/staff/customers/{_customer(s)}/send-link", {}, audited=False
    ),
    "POST /staff/customers/{customer_id}/preference-centre": lambda s: Call(
        f"/staff/customers/{_customer(s)}/preference-centre", {}
    ),
    "GET /staff/customers/{customer_id}/timeline": lambda s: Call(
        f"/staff/customers/{_customer(s)}/timeline"
    ),
    "POST /staff/merges/{merge_id}/undo": lambda s: Call(f"/staff/merges/{_merge(s)}/undo", {}),
    "GET /staff": lambda s: Call("/staff"),
    "POST /staff/overview/measure": lambda s: Call("/staff/overview/measure", {}),
    "GET /staff/quality": lambda s: Call("/staff/quality"),
    "POST /staff/quality/measure": lambda s: Call("/staff/quality/measure", {}),
    "GET /staff/matches": lambda s: Call("/staff/matches"),
    # Sources without profiles: the run finds nothing, says so, and is audited.
    "POST /staff/match-runs": lambda s: _match_run(s),
    "POST /staff/matches/{suggestion_id}": lambda s: Call(
        f"/staff/matches/{_suggestion(s)}", {"decision": "reject"}
    ),
    "POST /staff/matches/decisions": lambda s: Call(
        "/staff/matches/decisions", {"decision": "reject", "suggestion": str(_suggestion(s))}
    ),
    "GET /staff/imports": lambda s: Call("/staff/imports"),
    "GET /staff/segments": lambda s: Call("/staff/segments"),
    "POST /staff/segments/builder": lambda s: Call(
        "/staff/segments/builder",
        {
            "key": f"built-{next(UNIQUE)}",
            "name": "Danes",
            "purpose": "marketing",
            "rule_kind": ["country"],
            "rule_value": ["DK"],
            "action": "save",
        },
    ),
    "GET /staff/analytics/goals": lambda s: Call("/staff/analytics/goals?by=week"),
    "GET /staff/analytics/goals.csv": lambda s: Call("/staff/analytics/goals.csv"),
    "GET /staff/analytics/funnels": lambda s: Call("/staff/analytics/funnels?step=A&step=B"),
    "GET /staff/analytics/funnels.csv": lambda s: Call("/staff/analytics/funnels.csv?step=A"),
    "POST /staff/analytics/funnels/dropped": lambda s: Call(
        "/staff/analytics/funnels/dropped",
        {
            "step": ["Product Viewed", "Order Completed"],
            "dropped_at": "2",
            "key": f"dropped-{next(UNIQUE)}",
            "name": "Viewed, did not order",
            "purpose": "marketing",
        },
    ),
    "GET /staff/analytics/cohorts": lambda s: Call("/staff/analytics/cohorts?period=month"),
    "GET /staff/analytics/cohorts.csv": lambda s: Call("/staff/analytics/cohorts.csv"),
    "GET /staff/promises": lambda s: Call("/staff/promises"),
    "GET /staff/promises/{key}": lambda s: Call("/staff/promises/quiet-hours"),
    # Answers with the page itself (the write key is shown once, never in a redirect's URL).
    "POST /staff/sources": lambda s: Call(
        "/staff/sources", {"name": f"till {next(UNIQUE)}", "channel": "store"}, expected=200
    ),
    "POST /staff/imports": lambda s: Call(
        "/staff/imports",
        {
            "source": create_source(
                session=s, name=f"shop {next(UNIQUE)}", channel=SourceChannel.web, actor=SYSTEM
            )[0].name
        },
        files={"file": ("events.jsonl", b'{"type":"track","userId":"u1","event":"Visit"}\n')},
    ),
    "GET /staff/imports/{import_id}/rejects": lambda s: Call(
        f"/staff/imports/{_import(s)}/rejects"
    ),
    "GET /staff/insight": lambda s: Call("/staff/insight"),
    "GET /staff/insight/comments": lambda s: Call("/staff/insight/comments"),
    "POST /staff/insight/themes/{theme_id}/rename": lambda s: Call(
        f"/staff/insight/themes/{_theme(s)}/rename", {"label": "Late parcels"}
    ),
    # A theme merged with itself or split without comments is refused with a message on the
    # page (a 303 back to it): enough to tell a permitted role from a refused one.
    "POST /staff/insight/themes/{theme_id}/merge": lambda s: _self_merge(_theme(s)),
    "POST /staff/insight/themes/{theme_id}/split": lambda s: Call(
        f"/staff/insight/themes/{_theme(s)}/split", {}, audited=False
    ),
    "GET /staff/consent": lambda s: Call("/staff/consent"),
    "POST /staff/consent/purposes/{key}/notices": lambda s: Call(
        "/staff/consent/purposes/research/notices", NOTICE
    ),
    "GET /staff/consent/customers/{customer_id}": lambda s: Call(
        f"/staff/consent/customers/{_customer(s)}"
    ),
    "GET /staff/data-requests": lambda s: Call("/staff/data-requests"),
    "POST /staff/data-requests/{request_id}/done": lambda s: Call(
        f"/staff/data-requests/{_data_request(s)}/done", {}
    ),
    "GET /staff/dialogues": lambda s: Call("/staff/dialogues"),
    "POST /staff/dialogues/questions": lambda s: Call("/staff/dialogues/questions", QUESTION),
    "POST /staff/dialogues/questions/{key}": lambda s: Call(
        f"/staff/dialogues/questions/{_question_key(s)}",
        {
            f"{part}_{language}": f"Changed {part} ({language})"
            for language in LANGUAGES
            for part in ("text", "follow")
        },
    ),
    "GET /staff/dialogues/responses": lambda s: Call("/staff/dialogues/responses"),
    "GET /staff/dialogues/metrics": lambda s: Call("/staff/dialogues/metrics"),
    "GET /staff/dialogues/metrics.csv": lambda s: Call("/staff/dialogues/metrics.csv"),
    "GET /staff/experiments": lambda s: Call("/staff/experiments"),
    "GET /staff/experiments/{key}": lambda s: Call(
        f"/staff/experiments/{_experiment(s, run=True)}"
    ),
    "GET /staff/experiments/{key}/results.csv": lambda s: Call(
        f"/staff/experiments/{_experiment(s, run=True)}/results.csv"
    ),
    "POST /staff/experiments/{key}/start": lambda s: Call(
        f"/staff/experiments/{_experiment(s, run=False)}/start", {}
    ),
    "POST /staff/experiments/{key}/stop": lambda s: Call(
        f"/staff/experiments/{_experiment(s, run=True)}/stop", {"reason": "Enough data"}
    ),
    "GET /staff/campaigns": lambda s: Call("/staff/campaigns"),
    "GET /staff/campaigns/{key}": lambda s: Call(f"/staff/campaigns/{_campaign(s, approve=False)}"),
    "POST /staff/campaigns": _campaign_form,
    "POST /staff/campaigns/{key}/approve": lambda s: Call(
        f"/staff/campaigns/{_campaign(s, approve=False)}/approve", {}
    ),
    "POST /staff/campaigns/{key}/plan": lambda s: Call(
        f"/staff/campaigns/{_campaign(s, approve=True)}/plan", {}
    ),
    "GET /staff/cases": lambda s: Call("/staff/cases"),
    "GET /staff/cases/{case_id}": lambda s: Call(f"/staff/cases/{_case(s)}"),
    "POST /staff/cases/{case_id}/{action}": lambda s: Call(
        f"/staff/cases/{_case(s)}/note", {"body": "Called the customer back."}
    ),
}


def test_the_matrix_covers_every_staff_page(client: TestClient) -> None:
    pages = {
        route
        for route, checks in app_routes(client.app).items()
        if checks and route.split(" ", 1)[1].startswith("/staff")
    }
    assert pages == set(STAFF_ROUTES)


def _permission_of(client: TestClient, route: str) -> Permission:
    [check] = app_routes(client.app)[route]
    assert isinstance(check, RequiresPermission)
    return check.permission


def _entries(sessions: SessionFactory, user: StaffUser) -> list[AuditEntry]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.actor_type == "staff", AuditEntry.actor_id == str(user.id))
                .where(AuditEntry.action != "staff.login")
                .order_by(AuditEntry.id)
            )
        )


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with its smallest cost: the matrix signs in 120 times, each through the real form,
    and at the production cost hashing alone took most of its run time."""
    monkeypatch.setattr(staff_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=64))


@pytest.mark.parametrize("route", list(STAFF_ROUTES))
def test_staff_page_as_every_role(
    route: str,
    client: TestClient,
    sessions: SessionFactory,
    settings: Settings,
    staff_as: Callable[[str], tuple[StaffUser, str]],
) -> None:
    """Every role in turn, in one test per page (one app and one clean database per page, not
    per role: the matrix took minutes); each role gets data of its own to act on."""
    permission = _permission_of(client, route)
    for role in (str(role) for role in Role):
        _as_role(route, role, permission, client, sessions, staff_as)


def _as_role(
    route: str,
    role: str,
    permission: Permission,
    client: TestClient,
    sessions: SessionFactory,
    staff_as: Callable[[str], tuple[StaffUser, str]],
) -> None:
    may = readme_roles()[permission][1][role]
    with sessions() as session, session.begin():
        call = STAFF_ROUTES[route](session)
    user, csrf = staff_as(role)
    method = route.split(" ", 1)[0]
    headers = {"accept": "text/html"}
    if method == "GET":
        response = client.get(call.url, headers=headers, follow_redirects=False)
    else:
        response = client.post(
            call.url,
            data={**(call.form or {}), "csrf_token": csrf},
            files=call.files,
            headers=headers,
            follow_redirects=False,
        )
    entries = _entries(sessions, user)
    if may:
        assert response.status_code == (call.expected or (200 if method == "GET" else 303)), (
            role,
            response.text[:2000],
        )
        if method == "POST" and call.audited:
            assert entries, f"{role} did {route}, and the audit log does not say so"
        assert all(entry.action != "staff.denied" for entry in entries), role
    else:
        assert response.status_code == 403, (role, response.text[:2000])
        assert response.headers["content-type"].startswith("text/html")
        assert "You cannot do that here" in response.text and permission in response.text
        # Refused before anything happened: the refusal is the only thing on record.
        assert [(e.action, e.after and e.after["needs"]) for e in entries] == [
            ("staff.denied", str(permission))
        ], role


# ---- every API route with and without its scope ---------------------------------------------


def _api_request(route: str) -> tuple[str, str, dict[str, Any]]:
    """A request to ``route`` with made-up ids; whatever it answers, only 403 means refusal."""
    method, path = route.split(" ", 1)
    url = re.sub(r"\{[^}]+\}", "1", path).replace(
        "/identities/1/1", "/identities/email/a@example.com"
    )
    body: dict[str, Any] = {}
    if method in ("POST", "PATCH"):
        body = {"json": {}}
    return method, url, body


API_ROUTES = [route for route, scope in readme_scopes().items() if scope is not None]


@pytest.mark.parametrize("route", API_ROUTES)
def test_api_route_needs_its_scope(
    route: str, client: TestClient, token_for: Callable[..., str]
) -> None:
    scope = readme_scopes()[route]
    assert scope is not None
    method, url, body = _api_request(route)
    everything_else = [s for s in ALL_SCOPES if s not in (scope, ADMIN)]
    lacking = client.request(
        method, url, headers={"Authorization": f"Bearer {token_for(*everything_else)}"}, **body
    )
    assert lacking.status_code == 403, lacking.text
    assert scope in lacking.json()["detail"]
    having = client.request(
        method, url, headers={"Authorization": f"Bearer {token_for(scope)}"}, **body
    )
    assert having.status_code != 403, having.text
    assert having.status_code < 500, having.text


# ---- what each role is shown -------------------------------------------------------------------

NAV = {
    "/staff/customers": Permission.customers_read,
    "/staff/consent": Permission.consent_read,
    "/staff/data-requests": Permission.data_requests_handle,
    "/staff/dialogues": Permission.dialogues_read,
    "/staff/cases": Permission.cases_read,
    "/staff/matches": Permission.matches_read,
    "/staff/imports": Permission.imports_read,
    "/staff/quality": Permission.quality_read,
    "/staff/insight": Permission.insight_read,
    "/staff/experiments": Permission.experiments_read,
    "/staff/analytics/goals": Permission.analytics_read,
    "/staff/segments": Permission.segments_read,
    "/staff/promises": Permission.promises_read,
}


@pytest.mark.parametrize("role", [str(role) for role in Role])
def test_each_role_sees_the_links_and_forms_it_may_use(
    role: str,
    client: TestClient,
    sessions: SessionFactory,
    staff_as: Callable[[str], tuple[StaffUser, str]],
) -> None:
    with sessions() as session, session.begin():
        customer = _customer(session)
    staff_as(role)
    page = client.get(f"/staff/customers/{customer}").text
    nav = page[page.index('<nav aria-label="Main">') : page.index("</nav>")]
    grants = readme_roles()
    assert {href for href in NAV if f'href="{href}"' in nav} == {
        href for href, permission in NAV.items() if grants[permission][1][role]
    }
    may_edit = grants[Permission.customers_edit][1][role]
    assert (f'action="/staff/customers/{customer}"' in page) is may_edit
    assert (f'action="/staff/customers/{customer}/identities"' in page) is may_edit
    may_read_consent = grants[Permission.consent_read][1][role]
    assert (f'href="/staff/consent/customers/{customer}"' in page) is may_read_consent
