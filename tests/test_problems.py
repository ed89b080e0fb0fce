"""Domain errors carry no HTTP status; the web layer maps each one (tillit.web.problems)."""

from __future__ import annotations

import tillit.app  # noqa: F401  (imports every area, so every domain error is defined)
from tillit.consent.links import LinkGone
from tillit.errors import InvalidInput, NotFound, TillitError
from tillit.events.import_jobs import FileTooLarge
from tillit.web.problems import HTTP_STATUS, http_status


def _all_subclasses(kind: type[TillitError]) -> set[type[TillitError]]:
    found = set()
    for sub in kind.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def test_every_domain_error_has_a_status_in_the_web_layer_and_none_of_its_own() -> None:
    errors = {e for e in _all_subclasses(TillitError) if e.__module__.startswith("tillit.")}
    assert {LinkGone, FileTooLarge, InvalidInput, NotFound} <= errors
    # Mapped itself or through a parent (UnknownSource is a NotFound): none falls to a 500.
    unmapped = [e for e in errors if not any(kind in HTTP_STATUS for kind in e.__mro__)]
    assert unmapped == [], "map each domain error (or a parent) to its HTTP status"
    assert not [e for e in (TillitError, *errors) if "status" in vars(e)]


def test_a_subclass_takes_its_nearest_mapped_parents_status() -> None:
    class StillMissing(NotFound):
        pass

    assert http_status(StillMissing("x")) == 404
    assert http_status(LinkGone("x")) == 410 and http_status(FileTooLarge("x")) == 413
    assert http_status(TillitError("x")) == 500
