"""`tillit insight analyse FILE`: real comments in five languages, bad lines by number."""

from __future__ import annotations

import csv
from collections import Counter

from typer.testing import CliRunner

from tillit.cli.main import app

ROWS = """text,locale,nps
Pakken kom tre dage for sent,da-DK,3
Het pakket kwam een week te laat,nl-NL,2
Leveransen var försenad igen,sv-SE,4
Pakken kom en uke for sent,nb-NO,3
The parcel arrived a week late,en-GB,2
,da-DK,5
Fantastisk service i butikken,da-DK,11
Vriendelijk personeel in de winkel,nl-NL,10
Great staff at the store,en-GB,9
Trevlig personal i butiken,sv-SE,10
Hyggelig og hjelpsom betjening i butikken,nb-NO,9
Venligt og hjælpsomt personale i butikken,da-DK,10
"""


def test_analyse_writes_results_and_reports_bad_lines(tmp_path):
    source = tmp_path / "feedback.csv"
    source.write_text(ROWS, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["insight", "analyse", str(source), "--themes", "2"], catch_exceptions=False
    )
    assert result.exit_code == 1, result.output  # bad lines were found
    with (tmp_path / "feedback.rejects.csv").open(encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert [(r["line"], r["reason"]) for r in rejects] == [
        ("7", "text is empty"),
        ("8", "nps must be between 0 and 10"),
    ]
    with (tmp_path / "feedback.insight.csv").open(encoding="utf-8") as handle:
        rows = {row["line"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"2", "3", "4", "5", "6", "9", "10", "11", "12", "13"}
    assert {rows[n]["language"] for n in ("2", "3", "4", "5", "6")} == {
        "da",
        "nl",
        "sv",
        "nb",
        "en",
    }
    late = Counter(rows[n]["theme"] for n in ("2", "3", "4", "5", "6")).most_common(1)[0]
    praise = Counter(rows[n]["theme"] for n in ("9", "10", "11", "12", "13")).most_common(1)[0]
    assert late[1] == 5  # late delivery, written in five languages, is one theme
    assert praise[1] == 5 and praise[0] != late[0]


def test_a_file_without_a_text_column_is_refused(tmp_path):
    source = tmp_path / "odd.csv"
    source.write_text("comment\nhej\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["insight", "analyse", str(source)])
    assert result.exit_code == 1 and "line 1" in result.output


def test_the_channel_country_column_is_read_and_checked(tmp_path):
    from tillit.insight.feedback_file import read_feedback

    source = tmp_path / "feedback.csv"
    source.write_text("text,country\nPakken kom,no\nPakken kom,NOR\n", encoding="utf-8")
    parsed = read_feedback(source)
    assert [c.country for c in parsed.comments] == ["NO"]
    assert parsed.rejected == [(3, "country must be two letters (ISO 3166-1)")]
