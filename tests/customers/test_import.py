"""`tillit import customers` end to end: a real file, a real database, the real CLI."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tillit.cli.main import app
from tillit.customers.models import Customer, Identity
from tillit.events.models import Event

ROWS = """name,email,phone,locale,time_zone,country,trait.city
Freja Nielsen,freja@example.com,+45 20 11 22 33,da-DK,Europe/Copenhagen,DK,Odense
Lotte de Vries,LOTTE@example.com,06 12345678,nl-NL,Europe/Amsterdam,NL,Utrecht
Broken Mail,not-an-email,,sv-SE,Europe/Stockholm,SE,
Bad Zone,zone@example.com,,sv-SE,Mars/Olympus,SE,
Freja Nielsen,freja@example.com,,da-DK,Europe/Copenhagen,DK,Odense
No Identity,,,en-GB,Europe/London,GB,
"""


@pytest.fixture
def cli_env(monkeypatch, settings):
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("TILLIT_DEFAULT_COUNTRY", "NL")


def run(*args):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_import_commits_good_rows_and_reports_bad_ones(tmp_path, cli_env, engine, sessions):
    source = tmp_path / "people.csv"
    source.write_text(ROWS, encoding="utf-8")
    result = run("import", "customers", str(source))
    assert result.exit_code == 1, result.output
    assert "created 2, updated 0, unchanged 1, rejected 3" in result.output
    with (tmp_path / "people.rejects.csv").open(encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert [(r["line"], r["reason"].split(":")[0]) for r in rejects] == [
        ("4", "email"),
        ("5", "time_zone"),
        ("7", "row"),
    ]
    assert rejects[0]["name"] == "Broken Mail"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 2
        lotte = session.scalar(select(Identity).where(Identity.value == "lotte@example.com"))
        phones = {i.value for i in lotte.customer.identities if i.type == "phone"}
    assert phones == {"+31612345678"}  # read with TILLIT_DEFAULT_COUNTRY=NL

    again = run("import", "customers", str(source))
    assert "created 0, updated 0, unchanged 3, rejected 3" in again.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 2


def test_a_file_with_unknown_columns_writes_nothing(tmp_path, cli_env, engine, sessions):
    source = tmp_path / "odd.csv"
    source.write_text("name,email,shoe_size\nA,a@example.com,42\n", encoding="utf-8")
    result = run("import", "customers", str(source))
    assert result.exit_code == 1
    assert "shoe_size" in result.output and "line 1" in result.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_rows_whose_identities_belong_to_two_customers_are_not_merged(tmp_path, cli_env, engine):
    first = tmp_path / "first.csv"
    first.write_text("name,email,phone\nA,a@example.com,\nB,,+31 6 11112222\n", encoding="utf-8")
    assert run("import", "customers", str(first)).exit_code == 0
    second = tmp_path / "second.csv"
    second.write_text("name,email,phone\nAB,a@example.com,+31 6 11112222\n", encoding="utf-8")
    result = run("import", "customers", str(second))
    assert result.exit_code == 1 and "belong to different customers" in result.output


def test_version_and_users_and_tokens(cli_env, engine):
    assert run("--version").output.startswith("tillit ")
    created = run(
        "users",
        "create",
        "--email",
        "pia@example.com",
        "--name",
        "Pia",
        "--role",
        "privacy_officer",
    )
    assert created.exit_code == 0 and "Password (shown once)" in created.output
    token = run("tokens", "create", "--name", "shop", "--scope", "customers:read")
    assert token.exit_code == 0
    assert token.output.strip().splitlines()[-1].startswith("tlt_")
    assert "customers:read" in run("tokens", "list").output
    bad = run("tokens", "create", "--name", "x", "--scope", "root")
    assert bad.exit_code == 1 and "unknown scope" in bad.output


def test_import_events_with_a_parsing_worker_through_the_cli(tmp_path, cli_env, engine, sessions):
    lines = [
        f'{{"type":"track","userId":"kund-{n % 9}","event":"Köpte","messageId":"e{n}"}}'
        for n in range(120)
    ]
    lines[7] = "{half a line"
    source = tmp_path / "hændelser.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("import", "events", str(source), "--workers", "1")
    assert result.exit_code == 1, result.output  # one bad line
    assert "accepted 119, duplicates 0, rejected 1" in result.output
    assert "line 8: not JSON" in result.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 119
    again = run("import", "events", str(source), "--workers", "1")
    assert "accepted 0, duplicates 0, rejected 0" in again.output  # resumed after the end


def test_nul_characters_and_oversized_traits_are_rejected_rows(tmp_path, cli_env, engine, sessions):
    """The API's rules in the importer: NUL refused in any cell, traits bounded in size (also
    once merged into what a returning customer already holds)."""
    from tillit.customers.validation import NUL_REASON, TRAITS_MAX_BYTES

    half = "x" * (TRAITS_MAX_BYTES // 2)
    rows = [
        "name,email,user_id,trait.a,trait.b",
        "Ok,ok@example.com,,,",
        "Nul Name\x00,nul@example.com,,,",
        "Nul Id,,u\x001,,",
        "Nul Trait,trait@example.com,,A\x00,",
        f"Too Big,big@example.com,,{half},{half}",
        f"Half,ok@example.com,,{half},",
        f"Other Half,ok@example.com,,,{half}",
    ]
    source = tmp_path / "nul.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = run("import", "customers", str(source))
    assert "created 1, updated 1, unchanged 0, rejected 5" in result.output, result.output
    with (tmp_path / "nul.rejects.csv").open(encoding="utf-8") as handle:
        reasons = {r["line"]: r["reason"] for r in csv.DictReader(handle)}
    assert reasons["3"] == f"name: {NUL_REASON}"
    assert reasons["4"] == f"user_id: {NUL_REASON}"
    assert reasons["5"] == f"trait.a: {NUL_REASON}"
    assert reasons["6"].startswith("trait: take") and reasons["8"].startswith("traits: take")
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
