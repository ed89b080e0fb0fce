"""Reading an event file in chunks of lines, from where a resumed import left off."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import orjson

NESTED = ("properties", "traits", "context")


def file_key(path: Path) -> str:
    """Identifies a file by name, size and first 64 KiB, so a resume finds its checkpoint."""
    digest = hashlib.sha256(f"{path.name}:{path.stat().st_size}:".encode())
    with path.open("rb") as handle:
        digest.update(handle.read(65536))
    return digest.hexdigest()


def csv_chunks(path: Path, size: int, after: int) -> Iterator[list[tuple[int, Any]]]:
    """CSV rows as messages, (line number, dict), in lists of ``size``, from the line after
    ``after`` (a resumed import does not parse again what it stored before)."""
    chunk: list[tuple[int, Any]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if reader.line_num > after:
                chunk.append((reader.line_num, from_csv(row)))
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


def line_blocks(path: Path, size: int, after: int) -> Iterator[tuple[int, list[bytes]]]:
    """(first line number, the next ``size`` lines as bytes) after line ``after``. With
    workers the main process only cuts the file; they number, skip blank lines and decode."""
    with path.open("rb") as handle:
        for _ in islice(handle, after):
            pass
        number = after
        while block := list(islice(handle, size)):
            yield number + 1, block
            number += len(block)


def numbered(first: int, block: list[bytes]) -> list[tuple[int, bytes]]:
    """A block's lines that are not blank, with their line numbers."""
    return [(first + i, line) for i, line in enumerate(block) if line.strip()]


def from_csv(row: dict[str | None, str | None]) -> dict[str, Any]:
    message: dict[str, Any] = {}
    for column, value in row.items():
        if column is None or value is None or value == "":
            continue
        prefix, dot, rest = column.partition(".")
        if dot and prefix in NESTED:
            message.setdefault(prefix, {})[rest] = value
        else:
            message[column] = value
    return message


def write_rejects(path: Path, rejected: list[tuple[int, str]]) -> None:
    with path.open("ab") as handle:  # appended: a resumed import adds to the first run's list
        for line, reason in rejected:
            handle.write(orjson.dumps({"line": line, "reason": reason}) + b"\n")
