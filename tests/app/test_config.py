"""A wrong setting stops start-up with a message that names the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.config import ConfigurationError, load_settings


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("CRMSYNC_CRM_TIMEZONE", "Mars/Olympus", "CRMSYNC_CRM_TIMEZONE"),
        ("CRMSYNC_PUBLIC_BASE_URL", "crm.example.com", "CRMSYNC_PUBLIC_BASE_URL"),
        ("CRMSYNC_DATABASE_URL", "not a url", "CRMSYNC_DATABASE_URL"),
        ("CRMSYNC_EWS_TIMEOUT_SECONDS", "soon", "CRMSYNC_EWS_TIMEOUT_SECONDS"),
        ("CRMSYNC_ENVIRONMENT", "staging", "CRMSYNC_ENVIRONMENT"),
    ],
)
def test_wrong_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=expected):
        load_settings()


def test_production_requires_explicit_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRMSYNC_ENVIRONMENT", "production")
    monkeypatch.delenv("CRMSYNC_SECRET_KEY")
    with pytest.raises(ConfigurationError, match="CRMSYNC_SECRET_KEY"):
        load_settings()


def test_embedded_default_needs_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for variable in ("CRMSYNC_DATABASE_URL", "CRMSYNC_BROKER_URL", "CRMSYNC_SECRET_KEY"):
        monkeypatch.delenv(variable)
    monkeypatch.setenv("CRMSYNC_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.embedded
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_broker_url.startswith("sqla+sqlite:///")
    key = settings.effective_secret_key()
    assert len(key) >= 32
    assert settings.effective_secret_key() == key, "the generated key is kept"


def test_cli_refuses_to_start_with_a_bad_value() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "users", "list"],
        env={"CRMSYNC_CRM_TIMEZONE": "Nowhere/Land", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "CRMSYNC_CRM_TIMEZONE" in result.stderr
