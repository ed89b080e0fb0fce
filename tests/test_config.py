import ast
import importlib
import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from tillit.config import CompanyCapSetting, Settings, load_settings
from tillit.identity.rules import IdentityRules, load_rules
from tillit.vocabulary import OutboundChannel, Period

README = Path(__file__).parents[1] / "README.md"
SOURCE = Path(__file__).parents[1] / "src" / "tillit"


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


def settings_classes() -> list[type[BaseSettings]]:
    """Every pydantic-settings class in the product, found in the source rather than listed,
    so a settings class added in an area (``identity.rules``) cannot slip past the README."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id == "BaseSettings" for base in node.bases
            ):
                module = ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts)
                found.append(getattr(importlib.import_module(module), node.name))
    return found


def environment_names() -> set[str]:
    """The variable of every field of every settings class, and every full ``TILLIT_*`` name
    the source spells out (one read with ``os.environ`` would be a setting too)."""
    names = {
        f"{cls.model_config.get('env_prefix', '')}{field}".upper()
        for cls in settings_classes()
        for field in cls.model_fields
    }
    for path in SOURCE.rglob("*.py"):
        names |= set(re.findall(r"\bTILLIT_[A-Z0-9_]*[A-Z0-9]\b(?![_*])", path.read_text()))
    return names


def test_every_settings_class_is_found():
    assert {Settings, IdentityRules} <= set(settings_classes())


def test_readme_documents_every_setting():
    text = README.read_text()
    documented = set(re.findall(r"`(TILLIT_[A-Z0-9_]+)`", text))
    expected = environment_names()
    assert {"TILLIT_ENV", "TILLIT_IDENTITY_LIMITS"} <= expected
    assert expected <= documented, sorted(expected - documented)


def test_identity_rules_come_from_the_env_file_too(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        'TILLIT_DEFAULT_COUNTRY=SE\nTILLIT_IDENTITY_BLOCKED_VALUES=["nobody"]\n', encoding="utf-8"
    )
    assert load_settings().default_country == "SE"
    assert load_rules().blocked_values == ["nobody"]


def test_every_settings_class_reads_the_env_file():
    """The README promises a ``.env`` file works for every variable in its table."""
    for cls in settings_classes():
        assert cls.model_config.get("env_file") == Settings.model_config["env_file"], cls


def test_company_caps_are_read_as_data_and_a_wrong_part_is_named(tmp_path):
    settings = load_settings(data_dir=tmp_path, company_caps="email:2/week, all:6/month")
    assert settings.company_cap_limits == (
        CompanyCapSetting(OutboundChannel.email, 2, Period.week),
        CompanyCapSetting(None, 6, Period.month),
    )
    assert load_settings(data_dir=tmp_path, company_caps="").company_cap_limits == ()
    for wrong in ("fax:1/week", "sms:-1/week", "sms:one/week", "sms:1/fortnight", "sms"):
        with pytest.raises(ValidationError, match=re.escape(repr(wrong))):
            load_settings(data_dir=tmp_path, company_caps=f"email:2/week,{wrong}")
