"""Administration commands: the database, staff users and API tokens."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer
from rich.table import Table

from tillit.audit.service import Actor
from tillit.errors import TillitError
from tillit.staff import service as staff
from tillit.staff.models import Role
from tillit.staff.scopes import ALL_SCOPES
from tillit.storage.migrate import current_revision, head_revision

from .context import console, context, fail

db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
users_app = typer.Typer(help="Staff users.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for other systems.", no_args_is_help=True)
CLI_ACTOR = Actor.system("cli")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    ctx = context()
    before = current_revision(ctx.engine)
    ctx.migrate()
    after = current_revision(ctx.engine)
    console.print(f"Database at revision {after} (was {before or 'empty'}).")


@db_app.command("status")
def db_status() -> None:
    """Show the database's revision and the code's."""
    ctx = context()
    console.print(f"database {current_revision(ctx.engine) or 'empty'}, code {head_revision()}")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Sign-in e-mail.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[Role, typer.Option(help="What the user may do.")] = Role.analyst,
    password: Annotated[
        str | None,
        typer.Option(help="At least 12 characters. Left out: one is generated and printed once."),
    ] = None,
) -> None:
    """Create a staff user."""
    ctx = context()
    ctx.migrate()
    chosen = password or secrets.token_urlsafe(12)
    try:
        with ctx.sessions() as session, session.begin():
            user = staff.create_user(
                session=session, email=email, name=name, role=role, password=chosen, actor=CLI_ACTOR
            )
    except TillitError as error:
        raise fail(error.detail) from error
    console.print(f"Created {user.role} {user.email} (id {user.id}).")
    if not password:
        console.print(f"Password (shown once): [bold]{chosen}[/]")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'web shop'.")],
    scope: Annotated[list[str], typer.Option(help=f"Repeat for several: {', '.join(ALL_SCOPES)}")],
    days: Annotated[int | None, typer.Option(help="Expire after this many days.")] = None,
) -> None:
    """Create an API token. It is printed once and stored only as a hash."""
    ctx = context()
    ctx.migrate()
    try:
        with ctx.sessions() as session, session.begin():
            new = staff.create_token(
                session=session, name=name, scopes=scope, actor=CLI_ACTOR, days=days
            )
    except TillitError as error:
        raise fail(error.detail) from error
    console.print(f"Token {new.token.name!r} ({', '.join(new.token.scopes)}), shown once:")
    print(new.plaintext)  # plain print: no wrapping or markup around a secret meant for copying


@tokens_app.command("list")
def tokens_list() -> None:
    """List API tokens (never their secrets)."""
    ctx = context()
    table = Table("id", "name", "prefix", "scopes", "created", "last used", "state")
    with ctx.sessions() as session:
        for token in staff.list_tokens(session=session):
            state = "revoked" if token.revoked_at else "active"
            table.add_row(
                str(token.id),
                token.name,
                token.prefix,
                ", ".join(token.scopes),
                f"{token.created_at:%Y-%m-%d}",
                f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "—",
                state,
            )
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="The id from `tokens list`.")],
) -> None:
    """Revoke an API token at once."""
    ctx = context()
    try:
        with ctx.sessions() as session, session.begin():
            staff.revoke_token(session=session, token_id=token_id, actor=CLI_ACTOR)
    except TillitError as error:
        raise fail(error.detail) from error
    console.print(f"Token {token_id} revoked.")
