"""The quality page and command render the report; the page needs sign-in."""

from __future__ import annotations

from typer.testing import CliRunner

from tests.quality.test_quality import dataset  # noqa: F401  (fixture)
from tillit.cli.context import console
from tillit.cli.main import app


def test_quality_page_needs_sign_in_and_shows_bars(client, staff_as, dataset):  # noqa: F811
    refused = client.get("/staff/quality", headers={"accept": "text/html"}, follow_redirects=False)
    assert refused.status_code == 303
    staff_as("analyst")  # an agent may not: quality is for analysts (README, Staff roles)
    page = client.get("/staff/quality?source=web")
    assert page.status_code == 200
    assert "Trait: email" in page.text and '<svg class="q-bar"' in page.text
    assert "Profile: locale" not in page.text  # only the asked source
    assert 'href="/staff/quality"' in page.text  # the nav link


def test_quality_command_prints_a_table_per_source(settings, engine, monkeypatch, dataset):  # noqa: F811
    monkeypatch.setenv("TILLIT_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TILLIT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setattr(console, "width", 200)  # eleven columns
    result = CliRunner().invoke(app, ["quality", "--source", "store"])
    assert result.exit_code == 0, result.output
    assert "identity.phone" in result.output and "traits.email" not in result.output
