"""What every command needs: settings, a migrated database and a console."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Engine

from tillit.config import Settings, load_settings
from tillit.customers.service import Defaults
from tillit.storage import make_engine, make_session_factory, upgrade
from tillit.storage.session import SessionFactory

console = Console()
errors = Console(stderr=True)


@dataclass
class Context:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        # No pool: a command is short-lived, and pooled connections would outlive it when
        # commands run in-process (tests), closed only by the garbage collector.
        return make_engine(self.settings.resolved_database_url, pooled=False)

    @cached_property
    def sessions(self) -> SessionFactory:
        return make_session_factory(self.engine)

    @property
    def defaults(self) -> Defaults:
        return Defaults(
            country=self.settings.default_country,
            language=self.settings.default_language,
            time_zone=self.settings.default_time_zone,
        )

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()

    def migrate(self) -> None:
        upgrade(self.engine)


def context() -> Context:
    try:
        ctx = Context(load_settings())
    except ValidationError as error:
        for item in error.errors():
            field = (
                "TILLIT_" + ".".join(str(p) for p in item["loc"]).upper()
                if item["loc"]
                else "settings"
            )
            errors.print(f"[red]Configuration error[/] {field}: {item['msg']}")
        raise typer.Exit(2) from error
    return ctx


def work_progress(verb: str) -> Progress:
    """The progress bar every long command shows: what it does, done of total, time left."""
    return Progress(
        TextColumn(f"[bold]{verb}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]Error:[/] {message}")
    return typer.Exit(code)
