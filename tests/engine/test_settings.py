"""Settings: defaults that work with nothing set, and TANGRAM_* variables validated once."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from engine import Settings


def test_defaults_need_no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.chdir(tmp_path)
    for name in ("TANGRAM_DATABASE_URL", "TANGRAM_DATA_DIR", "TANGRAM_SECRET_KEY", "TANGRAM_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    # one folder per user, not a new ./data wherever a command runs
    assert settings.resolved_database_url() == f"sqlite:///{tmp_path / 'share' / 'tangram' / 'tangram.db'}"
    key = settings.resolved_secret_key()
    assert len(key) > 40 and Settings().resolved_secret_key() == key  # generated once, then kept
    assert not (tmp_path / "data").exists()


def test_default_data_folder_without_xdg_is_in_the_home_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("TANGRAM_DATA_DIR", raising=False)
    assert Settings().data_dir == Path.home() / ".local" / "share" / "tangram"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANGRAM_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("TANGRAM_LOG_LEVEL", "debug")
    monkeypatch.setenv("TANGRAM_PORT", "9001")
    settings = Settings()
    assert settings.resolved_database_url() == "postgresql+psycopg://u@h/db"
    assert settings.log_level == "DEBUG" and settings.port == 9001


def test_bad_values_are_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANGRAM_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="port"):
        Settings()
