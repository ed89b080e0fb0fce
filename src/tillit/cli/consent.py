"""Consent commands: check the ledger, issue and check receipts, personal links, erasure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tillit.audit.service import Actor
from tillit.consent import ledger, links, receipts
from tillit.errors import TillitError
from tillit.privacy import erasure
from tillit.privacy.export import export_customer

from .context import console, context, fail

consent_app = typer.Typer(
    help="The consent ledger, receipts and data requests.", no_args_is_help=True
)
links_app = typer.Typer(help="Personal links to the preference centre.", no_args_is_help=True)
CLI_ACTOR = Actor.system("cli")


@consent_app.command("verify")
def verify() -> None:
    """Check every customer's hash chain; exit 1 naming the first broken record of each."""
    ctx = context()
    with ctx.sessions() as session:
        chains, breaks = ledger.verify_all(session=session)
    for found in breaks:
        console.print(f"[red]BROKEN[/] {found}")
    if breaks:
        raise typer.Exit(1)
    console.print(f"All {chains} consent chains verify.")


@consent_app.command("receipt")
def receipt(
    record_id: Annotated[int, typer.Argument(help="Consent record id.")],
    language: Annotated[str, typer.Option(help="Receipt language.")] = "en",
) -> None:
    """Print the signed JSON receipt of one consent record."""
    ctx = context()
    with ctx.sessions() as session:
        found = ledger.record_with_purpose(session=session, record_id=record_id)
        if found is None:
            raise fail(f"no consent record {record_id}")
        entry, purpose = found
        document = receipts.build_receipt(
            entry=entry,
            purpose=purpose,
            controller="Tillit",
            base_url=ctx.settings.base_url,
            language=language,
        )
    signed = receipts.sign_receipt(document, secret_key=ctx.settings.secret_key)
    typer.echo(json.dumps(signed, indent=2, ensure_ascii=False))


@consent_app.command("verify-receipt")
def verify_receipt(
    file: Annotated[Path, typer.Argument(help="A receipt JSON file.", exists=True)],
    public_key: Annotated[
        str | None, typer.Option(help="Base64url Ed25519 key; default: this workspace's key.")
    ] = None,
) -> None:
    """Check a receipt's signature; exit 1 when it does not verify."""
    key = public_key or receipts.public_key_text(context().settings.secret_key)
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise fail(f"cannot read {file}: {error}") from error
    if not isinstance(document, dict) or not receipts.verify_receipt(document, public_key=key):
        console.print("[red]INVALID[/] the signature does not match this receipt and key")
        raise typer.Exit(1)
    console.print(f"Valid receipt {document.get('consentReceiptID')}")


@consent_app.command("public-key")
def public_key() -> None:
    """Print the workspace's receipt-signing public key (give it to whoever checks receipts)."""
    typer.echo(receipts.public_key_text(context().settings.secret_key))


@consent_app.command("export")
def export(customer_id: int) -> None:
    """Print everything held about a customer as JSON (GDPR 15/20)."""
    ctx = context()
    with ctx.sessions() as session:
        try:
            document = export_customer(session=session, customer_id=customer_id)
        except TillitError as error:
            raise fail(error.detail) from error
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


@consent_app.command("erase")
def erase(
    customer_id: int, yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False
) -> None:
    """Erase a customer everywhere (GDPR 17); keeps a suppression hash and a proof."""
    if not yes:
        typer.confirm(f"Erase customer {customer_id} for good?", abort=True)
    ctx = context()
    with ctx.sessions() as session, session.begin():
        try:
            proof = erasure.erase_customer(
                session=session,
                customer_id=customer_id,
                secret_key=ctx.settings.secret_key,
                actor=CLI_ACTOR,
                data_dir=ctx.settings.data_dir,
            )
        except TillitError as error:
            raise fail(error.detail) from error
    console.print(f"Erased customer {customer_id} (proof {proof.id}).")


@links_app.command("create")
def links_create(
    customer_id: int,
    days: Annotated[int, typer.Option(help="Days until the link expires.")] = links.DEFAULT_DAYS,
) -> None:
    """Print a new personal preference-centre link for a customer."""
    ctx = context()
    ctx.migrate()
    with ctx.sessions() as session, session.begin():
        try:
            issued = links.create_link(
                session=session,
                customer_id=customer_id,
                days=days,
                secret_key=ctx.settings.secret_key,
                actor=CLI_ACTOR,
            )
        except TillitError as error:
            raise fail(error.detail) from error
    typer.echo(issued.url(ctx.settings.base_url))


@links_app.command("revoke")
def links_revoke(link_id: int) -> None:
    """Revoke a personal link by its id (the number before the dot in the token)."""
    ctx = context()
    with ctx.sessions() as session, session.begin():
        try:
            links.revoke_link(session=session, link_id=link_id, actor=CLI_ACTOR)
        except TillitError as error:
            raise fail(error.detail) from error
    console.print(f"Link {link_id} revoked.")
