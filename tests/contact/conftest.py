"""Warnings are errors here, as everywhere in Tillit's tests (there is no shared config yet)."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", "error")
