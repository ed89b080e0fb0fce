"""The browsable API documentation, served from vendored Swagger UI files (no CDN), so it works
offline and under the strict Content-Security-Policy that FastAPI's own docs page breaks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tillit.web.templating import render

router = APIRouter(include_in_schema=False)
SWAGGER_UI = "/static/vendor/swagger-ui-5.35.0"  # see web/static/vendor/README.md


@router.get("/api/v1/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    return render(
        request,
        "api_docs.html",
        swagger_ui=SWAGGER_UI,
        openapi_url=request.app.openapi_url,
    )
