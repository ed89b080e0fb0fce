"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tillit import __version__
from tillit.storage.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="The database answers and is migrated")
def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = current_revision(engine)
    except Exception as error:  # any failure to reach the database means "not ready"
        return JSONResponse({"status": "unavailable", "detail": str(error)[:200]}, status_code=503)
    head = head_revision()
    if current != head:
        return JSONResponse(
            {"status": "migrating", "database": current, "code": head}, status_code=503
        )
    return JSONResponse({"status": "ready", "revision": current})
