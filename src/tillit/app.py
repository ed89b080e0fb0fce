"""The ASGI application: ``create_app(settings)`` wires storage, faces and error handling."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from tillit import __version__
from tillit.background import lifespan
from tillit.config import Settings, load_settings
from tillit.storage import make_engine, make_session_factory
from tillit.storage.group import GroupCommit
from tillit.storage.writer import DatabaseWriter
from tillit.web import openapi, problems
from tillit.web.api import analytics as analytics_api
from tillit.web.api import campaigns as campaigns_api
from tillit.web.api import consent as consent_api
from tillit.web.api import contact as contact_api
from tillit.web.api import customers as customers_api
from tillit.web.api import dialogues as dialogues_api
from tillit.web.api import event_imports as event_imports_api
from tillit.web.api import experiments as experiments_api
from tillit.web.api import health, tracking_docs
from tillit.web.api import insight as insight_api
from tillit.web.api import matches as matches_api
from tillit.web.api import promises as promises_api
from tillit.web.api import segments as segments_api
from tillit.web.api import tracking as tracking_api
from tillit.web.api.tracking import SOURCE_CACHE_SECONDS
from tillit.web.cors import TrackingCorsMiddleware
from tillit.web.deps import TOKEN_CACHE_SECONDS
from tillit.web.expiring import ExpiringCache
from tillit.web.pages import analytics as analytics_pages
from tillit.web.pages import (
    api_docs,
    brand,
    consent_staff,
    dialogues_staff,
    home,
    preference_centre,
    unsubscribe,
)
from tillit.web.pages import auth as auth_pages
from tillit.web.pages import campaigns as campaign_pages
from tillit.web.pages import customers as customer_pages
from tillit.web.pages import dialogues as dialogue_pages
from tillit.web.pages import errors as error_pages
from tillit.web.pages import experiments as experiment_pages
from tillit.web.pages import imports as import_pages
from tillit.web.pages import insight as insight_pages
from tillit.web.pages import matches as match_pages
from tillit.web.pages import promises as promise_pages
from tillit.web.pages import quality as quality_pages
from tillit.web.pages import segments as segment_pages
from tillit.web.pages import timeline as timeline_pages
from tillit.web.security import SecurityHeadersMiddleware

STATIC_DIR = Path(__file__).parent / "web" / "static"
API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    engine = make_engine(settings.resolved_database_url)
    app = FastAPI(
        lifespan=lifespan,
        title="Tillit API",
        version=__version__,
        description="Customer-managed relationships. Errors are RFC 9457 problem details.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # web.pages.api_docs serves it from vendored files, under our CSP
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    app.state.read_sessions = make_session_factory(engine, read_only=True)
    # The tracking API's writes, in group commits (tillit.storage.group).
    app.state.writer = DatabaseWriter(app.state.sessions, group=GroupCommit(app.state.sessions))
    app.state.token_cache = ExpiringCache(TOKEN_CACHE_SECONDS)  # see web.deps.require_scope
    app.state.source_cache = ExpiringCache(SOURCE_CACHE_SECONDS)  # web.api.tracking._source

    app.add_middleware(SecurityHeadersMiddleware)
    origins = [o.strip().rstrip("/") for o in settings.widget_origins.split(",") if o.strip()]
    if origins:
        # Only the widget's calls need other origins: its next question and its answer.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Accept", "Content-Type"],
            allow_credentials=False,
        )
    app.add_middleware(TrackingCorsMiddleware)  # outside the widget's: /v1/* from any origin
    problems.install(app)
    openapi.install(
        app,
        models=tracking_docs.MODELS,
        security_schemes={tracking_docs.WRITE_KEY_SCHEME: tracking_docs.SECURITY_SCHEME},
    )
    app.include_router(health.router)
    app.include_router(api_docs.router)
    app.include_router(brand.router)
    app.include_router(tracking_api.router)
    app.include_router(customers_api.router, prefix=API_PREFIX)
    app.include_router(consent_api.router, prefix=API_PREFIX)
    app.include_router(contact_api.router, prefix=API_PREFIX)
    app.include_router(insight_api.router, prefix=API_PREFIX)
    app.include_router(matches_api.router, prefix=API_PREFIX)
    app.include_router(segments_api.router, prefix=API_PREFIX)
    app.include_router(analytics_api.router, prefix=API_PREFIX)
    app.include_router(promises_api.router, prefix=API_PREFIX)
    app.include_router(promises_api.value_router, prefix=API_PREFIX)
    app.include_router(dialogues_api.router, prefix=API_PREFIX)
    app.include_router(event_imports_api.router, prefix=API_PREFIX)
    app.include_router(experiments_api.router, prefix=API_PREFIX)
    app.include_router(campaigns_api.router, prefix=API_PREFIX)
    app.include_router(dialogue_pages.router)
    app.include_router(dialogues_staff.router)
    app.include_router(auth_pages.router)
    app.include_router(home.router)
    app.include_router(customer_pages.router)
    app.include_router(timeline_pages.router)
    app.include_router(quality_pages.router)
    app.include_router(experiment_pages.router)
    app.include_router(campaign_pages.router)
    app.include_router(match_pages.router)
    app.include_router(import_pages.router)
    app.include_router(segment_pages.router)
    app.include_router(analytics_pages.router)
    app.include_router(promise_pages.router)
    app.include_router(insight_pages.router)
    app.include_router(error_pages.router)
    for router in (preference_centre.router, unsubscribe.router, consent_staff.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
