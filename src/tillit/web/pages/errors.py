"""Error pages and the problem-type documentation that API problems link to."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tillit.i18n import negotiate
from tillit.web.templating import render

router = APIRouter(include_in_schema=False)

PROBLEM_TYPES = {
    "invalid-input": "A field is missing or malformed; `errors` lists each field and why.",
    "conflict": (
        "The request clashes with what is stored, e.g. an identity owned by another customer."
    ),
    "not-found": "The resource does not exist, or you may not know that it does.",
    "unauthenticated": "Send a valid API token as `Authorization: Bearer <token>`.",
    "forbidden": "The token or user lacks the scope or role this needs.",
}


def error_page(request: Request, *, status: int, title: str, detail: str) -> HTMLResponse:
    language = negotiate(
        request.query_params.get("lang"), accept_language=request.headers.get("accept-language")
    )
    return render(
        request,
        "error.html",
        status_code=status,
        language=language,
        status=status,
        title=title,
        detail=detail,
    )


@router.get("/problems/{slug}", response_class=HTMLResponse)
def problem_type(slug: str, request: Request) -> HTMLResponse:
    return render(
        request,
        "problem_type.html",
        slug=slug,
        description=PROBLEM_TYPES.get(slug, "An HTTP error; the detail field says more."),
    )
