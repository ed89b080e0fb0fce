"""The company's brand on customer pages: its colour as a stylesheet, and its logo.

A stylesheet rather than an inline style, because the Content-Security-Policy allows styles
only from this site.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from tillit.config import LOGO_TYPES
from tillit.errors import NotFound

router = APIRouter(include_in_schema=False)


@router.get("/brand.css")
def brand_css(request: Request) -> Response:
    colour = request.app.state.settings.company_colour
    css = f":root {{ --brand: {colour}; }}\n"
    return Response(css, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})


@router.get("/brand/logo")
def brand_logo(request: Request) -> Response:
    path = request.app.state.settings.logo_path
    if path is None or not path.is_file():
        raise NotFound("no company logo is set")
    return FileResponse(
        path,
        media_type=LOGO_TYPES[path.suffix.lower()],
        headers={"Cache-Control": "public, max-age=300"},
    )
