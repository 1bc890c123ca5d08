"""Settings: read from ALPHAPULSE_* variables; the service refuses weak secrets (also on the CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from alphapulse.errors import ConfigError
from alphapulse_webhook import SECRET_PLACEHOLDER, create_app, get_settings, load_settings
from alphapulse_webhook.settings import TRADINGVIEW_ADDRESSES

STRONG = "a-long-random-secret-value-123"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("ALPHAPULSE_"):
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_reads_environment(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("ALPHAPULSE_DATABASE_URL", "postgresql://db.example:5432/alerts")
    clean_env.setenv("ALPHAPULSE_WEBHOOK_SECRET", STRONG)
    clean_env.setenv("ALPHAPULSE_FEED_TOKEN", STRONG + "-feed")
    clean_env.setenv("ALPHAPULSE_SPOOL_DIR", str(tmp_path))
    clean_env.setenv("ALPHAPULSE_IP_ALLOWLIST_ENABLED", "true")
    clean_env.setenv("ALPHAPULSE_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1")
    clean_env.setenv("ALPHAPULSE_FORWARDED_HEADER", "X-Forwarded-For")
    settings = get_settings()
    assert settings.database_url == "postgresql://db.example:5432/alerts"
    assert settings.webhook_secret.get_secret_value() == STRONG
    assert settings.spool_dir == tmp_path
    assert settings.ip_allowlist_enabled and settings.ip_allowlist == TRADINGVIEW_ADDRESSES
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.1.1")
    assert settings.forwarded_header == "x-forwarded-for"
    assert get_settings() is settings  # cached
    assert STRONG not in repr(settings)


@pytest.mark.parametrize("secret", ["", "   ", "changeme", "secret", SECRET_PLACEHOLDER, "short-secret",
                                    "x" * 15])
def test_refuses_weak_webhook_secret(clean_env: pytest.MonkeyPatch, secret: str) -> None:
    clean_env.setenv("ALPHAPULSE_WEBHOOK_SECRET", secret)
    clean_env.setenv("ALPHAPULSE_FEED_TOKEN", STRONG)
    with pytest.raises(ConfigError, match="ALPHAPULSE_WEBHOOK_SECRET"):
        load_settings()
    with pytest.raises(ConfigError, match="ALPHAPULSE_WEBHOOK_SECRET"):
        create_app()


def test_refuses_missing_secrets(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"ALPHAPULSE_WEBHOOK_SECRET.*ALPHAPULSE_FEED_TOKEN"):
        load_settings()


@pytest.mark.parametrize(("name", "value"), [("IP_ALLOWLIST", "not-an-address"),
                                             ("TRUSTED_PROXIES", "10.0.0.0/33"),
                                             ("MAX_BODY_BYTES", "10"), ("DB_TIMEOUT_SECONDS", "5")])
def test_bad_values_name_the_variable(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv("ALPHAPULSE_WEBHOOK_SECRET", STRONG)
    clean_env.setenv("ALPHAPULSE_FEED_TOKEN", STRONG)
    clean_env.setenv(f"ALPHAPULSE_{name}", value)
    with pytest.raises(ConfigError, match=f"ALPHAPULSE_{name}"):
        load_settings()


def test_cli_serve_refuses_default_secret_with_exit_2() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPULSE_")}
    env.update({"ALPHAPULSE_WEBHOOK_SECRET": "changeme", "ALPHAPULSE_FEED_TOKEN": STRONG})
    result = subprocess.run([sys.executable, "-m", "alphapulse_tools.cli", "webhook", "serve", "--port", "1"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "ALPHAPULSE_WEBHOOK_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_prints_the_template() -> None:
    result = subprocess.run([sys.executable, "-m", "alphapulse_tools.cli", "webhook", "template"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert SECRET_PLACEHOLDER in result.stdout and "{{ticker}}" in result.stdout


def test_feed_token_must_differ_from_the_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ALPHAPULSE_WEBHOOK_SECRET", STRONG)
    clean_env.setenv("ALPHAPULSE_FEED_TOKEN", STRONG)
    with pytest.raises(ConfigError, match="ALPHAPULSE_FEED_TOKEN must differ"):
        load_settings()


def test_cli_serve_refuses_an_unusable_spool_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHAPULSE_")}
    env.update({"ALPHAPULSE_WEBHOOK_SECRET": STRONG, "ALPHAPULSE_FEED_TOKEN": STRONG + "-feed",
                "ALPHAPULSE_SPOOL_DIR": str(blocker / "spool")})
    result = subprocess.run([sys.executable, "-m", "alphapulse_tools.cli", "webhook", "serve", "--port", "1"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "ALPHAPULSE_SPOOL_DIR" in result.stderr and "Traceback" not in result.stderr
