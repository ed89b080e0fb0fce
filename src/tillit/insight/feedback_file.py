"""Reading a feedback file (CSV with a header, or JSON Lines) into comments, with every bad
line reported by number and reason; and writing the analysis back as CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tillit.insight.pipeline import AnalysisResult, FeedbackComment

RESULT_COLUMNS = (
    "line",
    "language",
    "language_confidence",
    "sentiment",
    "sentiment_score",
    "because",
    "theme",
    "text",
)


@dataclass
class FeedbackFile:
    comments: list[FeedbackComment] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def read_feedback(path: Path) -> FeedbackFile:
    result = FeedbackFile()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, record in _records(path, handle, result):
            problem = _problem(record)
            if problem:
                result.rejected.append((line, problem))
                continue
            result.comments.append(
                FeedbackComment(
                    comment_id=str(line),
                    text=str(record["text"]).strip(),
                    locale=record.get("locale") or None,
                    nps=_int(record.get("nps")),
                    csat=_int(record.get("csat")),
                    country=str(record.get("country") or "").upper() or None,
                )
            )
    return result


def _records(
    path: Path, handle: TextIO, result: FeedbackFile
) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for line, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as error:
                result.rejected.append((line, f"not JSON: {error.msg}"))
                continue
            if not isinstance(record, dict):
                result.rejected.append((line, "not a JSON object"))
                continue
            yield line, record
        return
    reader = csv.DictReader(handle)
    if "text" not in (reader.fieldnames or []):
        raise ValueError(
            "line 1: the header needs a 'text' column (optional: locale, country, nps, csat)"
        )
    for record in reader:
        yield reader.line_num, record


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


def _problem(record: dict[str, Any]) -> str | None:
    if not str(record.get("text") or "").strip():
        return "text is empty"
    country = str(record.get("country") or "")
    if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
        return "country must be two letters (ISO 3166-1)"
    for name, low, high in (("nps", 0, 10), ("csat", 1, 5)):
        value = record.get(name)
        if value in (None, ""):
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            return f"{name} must be a whole number"
        if not low <= number <= high:
            return f"{name} must be between {low} and {high}"
    return None


def write_results(path: Path, comments: list[FeedbackComment], result: AnalysisResult) -> None:
    labels = {theme.theme_id: theme.label for theme in result.themes}
    texts = {comment.comment_id: comment.text for comment in comments}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(RESULT_COLUMNS)
        for insight in result.insights:
            writer.writerow(
                [
                    insight.comment_id,
                    insight.language.language,
                    f"{insight.language.confidence:.2f}",
                    insight.sentiment.label,
                    f"{insight.sentiment.score:.2f}",
                    "; ".join(phrase for phrase, _ in insight.sentiment.explanation[:3]),
                    labels.get(insight.theme_id or "", ""),
                    texts[insight.comment_id],
                ]
            )
