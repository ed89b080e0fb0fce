"""Every setting, command and route is documented (as Datasette's test_docs.py does): a new one
fails here until README.md or a page under docs/ names it.

A setting is named by its environment variable (``TILLIT_DATA_DIR``), a command by its full
invocation (``tillit consent erase``), a route by its path, with any ``{parameter}`` or
``<parameter>`` standing for any other (``/api/v1/customers/{id}`` documents
``/api/v1/customers/{customer_id}``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import typer.main
from fastapi.routing import iter_route_contexts

from tillit.app import create_app
from tillit.cli.main import app as cli
from tillit.config import Settings

ROOT = Path(__file__).resolve().parents[1]
# Routes no reader needs to be told about, each with the reason.
UNDOCUMENTED_ROUTES = {
    "/brand.css": "the stylesheet with the company's colours that every page links to",
}
_PARAMETER = r"(?:\{[^}\s]*\}|<[^>\s]*>)"
_SEGMENT = rf"(?:[A-Za-z0-9_.\-]+|{_PARAMETER})"
_PATH = re.compile(rf"(?<![\w/.:-])/{_SEGMENT}?(?:/{_SEGMENT})*")


def documentation() -> str:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)


def documented_paths(text: str) -> set[str]:
    """Every path written in the docs, each parameter as ``{}``."""
    return {_general(match.group()) for match in _PATH.finditer(text)}


def _general(path: str) -> str:
    return re.sub(_PARAMETER, "{}", path).rstrip("/.") or "/"


def setting_names(settings: type[Settings] = Settings) -> list[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    return [f"{prefix}{name}".upper() for name in settings.model_fields]


def command_names() -> list[str]:
    def walk(command: click.Command, path: list[str]) -> Iterator[str]:
        subcommands = getattr(command, "commands", None)
        if not subcommands:
            yield " ".join(path)
        for name, sub in (subcommands or {}).items():
            yield from walk(sub, [*path, name])

    return list(walk(typer.main.get_command(cli), ["tillit"]))


def route_paths(settings: Settings) -> list[str]:
    app = create_app(settings)
    return sorted({context.path for context in iter_route_contexts(app.routes)})


def _named(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def test_every_setting_is_documented() -> None:
    text = documentation()
    assert [name for name in setting_names() if not _named(name, text)] == []


def test_every_command_is_documented() -> None:
    text = documentation()
    commands = command_names()
    assert "tillit consent erase" in commands  # the walk reaches sub-commands
    assert [name for name in commands if not _named(name, text)] == []


def test_every_route_is_documented(settings: Settings) -> None:
    documented = documented_paths(documentation())
    paths = route_paths(settings)
    assert "/api/v1/customers/{customer_id}" in paths  # the walk reaches included routers
    missing = [p for p in paths if _general(p) not in documented and p not in UNDOCUMENTED_ROUTES]
    assert missing == []
    assert set(UNDOCUMENTED_ROUTES) <= set(paths)  # no excuse outlives its route


def test_an_undocumented_setting_command_or_route_is_caught(settings: Settings) -> None:
    """The checks above can fail: a setting, command and route that no page names."""

    class WithDummy(Settings):
        dummy_undocumented_knob: int = 0

    assert "TILLIT_DUMMY_UNDOCUMENTED_KNOB" in setting_names(WithDummy)
    text = documentation()
    assert not _named("TILLIT_DUMMY_UNDOCUMENTED_KNOB", text)
    assert _named("TILLIT_DATA_DIR", text)
    assert not _named("TILLIT_DATA", text)  # a prefix of a documented name is not documented
    assert not _named("tillit consent", text.replace("tillit consent ", ""))
    documented = documented_paths(text)
    assert _general("/api/v1/customers/{customer_id}") in documented
    assert _general("/api/v1/customers/{customer_id}/dummy") not in documented
    assert _general("/staff") not in documented_paths("see /staff/cases and /staffing")


@pytest.mark.parametrize(
    ("written", "route"),
    [
        ("`GET /api/v1/customers/{id}`", "/api/v1/customers/{customer_id}"),
        ("the link (`/u/<token>`) unsubscribes", "/u/{token}"),
        ("at `/staff/login`.", "/staff/login"),
    ],
)
def test_paths_are_read_from_prose(written: str, route: str) -> None:
    assert _general(route) in documented_paths(written)
