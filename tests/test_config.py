import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from tillit.config import Settings, load_settings

README = Path(__file__).parents[1] / "README.md"


def test_production_refuses_placeholder_or_short_secrets():
    for secret in ("", "changeme", "short-but-not-placeholder"):
        with pytest.raises(ValidationError, match="TILLIT_SECRET_KEY"):
            load_settings(env="production", secret_key=secret)
    ok = load_settings(env="production", secret_key="x" * 40)
    assert ok.secret_key == "x" * 40


def test_development_keeps_one_secret_in_the_data_dir(tmp_path):
    first = load_settings(env="development", data_dir=tmp_path / "var")
    second = load_settings(env="development", data_dir=tmp_path / "var")
    assert len(first.secret_key) >= 32 and first.secret_key == second.secret_key
    kept = tmp_path / "var" / "secret-key"
    assert kept.read_text().strip() == first.secret_key
    assert kept.stat().st_mode & 0o777 == 0o600
    other = load_settings(env="development", data_dir=tmp_path / "elsewhere")
    assert other.secret_key != first.secret_key


def test_an_explicit_secret_wins_and_writes_nothing(tmp_path):
    settings = load_settings(env="development", data_dir=tmp_path, secret_key="y" * 40)
    assert settings.secret_key == "y" * 40 and not (tmp_path / "secret-key").exists()


def test_tests_get_a_throwaway_secret(tmp_path):
    first = load_settings(env="test", data_dir=tmp_path)
    second = load_settings(env="test", data_dir=tmp_path)
    assert first.secret_key != second.secret_key and not (tmp_path / "secret-key").exists()


def test_database_defaults_to_sqlite_in_the_data_dir(tmp_path):
    settings = load_settings(data_dir=tmp_path, database_url="")
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve() / 'tillit.db'}"


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("TILLIT_DEFAULT_COUNTRY", "se")
    monkeypatch.setenv("TILLIT_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.default_country == "SE" and settings.data_dir == tmp_path


def test_bad_values_are_refused_with_the_field():
    with pytest.raises(ValidationError, match="default_time_zone"):
        load_settings(default_time_zone="Europe/Atlantis")
    with pytest.raises(ValidationError, match="default_language"):
        load_settings(default_language="de")
    with pytest.raises(ValidationError, match="match_memory_limit"):
        load_settings(match_memory_limit="as much as it likes")
    assert load_settings(match_memory_limit="512MB").match_memory_limit == "512MB"


def test_readme_documents_every_setting():
    text = README.read_text()
    documented = set(re.findall(r"`(TILLIT_[A-Z_]+)`", text))
    expected = {f"TILLIT_{name.upper()}" for name in Settings.model_fields}
    assert expected <= documented, sorted(expected - documented)
