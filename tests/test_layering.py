"""The architecture is guarded by tools, and the tools are tested: a deliberately bad import in a
copy of the tree must make `ruff` (banned APIs) and `lint-imports` (the layers contract) fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "src" / "tillit", tmp_path / "src" / "tillit")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        capture_output=True,
        text=True,
        timeout=120,
    )


def ruff(root: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "--select", "TID251", str(path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_tree_keeps_its_contracts(tree_copy: Path):
    result = lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_area_importing_a_web_framework_is_caught(tree_copy: Path):
    bad = tree_copy / "src" / "tillit" / "consent" / "leaky.py"
    bad.write_text("from fastapi import Request\n\nREQUEST = Request\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "tillit.consent.leaky -> fastapi" in result.stdout
    linted = ruff(tree_copy, bad)
    assert linted.returncode != 0 and "TID251" in linted.stdout, linted.stdout


def test_an_upward_import_is_caught(tree_copy: Path):
    bad = tree_copy / "src" / "tillit" / "storage" / "upward.py"
    bad.write_text("from tillit.consent import ledger\n\nLEDGER = ledger\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "tillit.storage is not allowed to import tillit.consent" in result.stdout


def test_identity_importing_events_writing_modules_is_caught(tree_copy: Path):
    """The events <-> identity cycle cannot come back: events store through identity, so
    identity must not write events (through events' modules), even by way of another module."""
    bad = tree_copy / "src" / "tillit" / "identity" / "writes_events.py"
    bad.write_text("from tillit.events import repository\n\nREPOSITORY = repository\n")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert "tillit.identity.writes_events -> tillit.events.repository" in result.stdout
    bad.write_text("from tillit.events import models\n\nMODELS = models\n")  # reading: fine
    assert lint_imports(tree_copy).returncode == 0


def test_a_face_may_import_what_areas_may_not(tree_copy: Path):
    fine = tree_copy / "src" / "tillit" / "web" / "fine.py"
    fine.write_text("from fastapi import Request\n\nREQUEST = Request\n")
    assert ruff(tree_copy, fine).returncode == 0
