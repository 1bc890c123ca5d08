"""The webhook's settings, read once from the environment (prefix ``ALPHAPULSE_``).

Every field is an environment variable: ``webhook_secret`` is ``ALPHAPULSE_WEBHOOK_SECRET``, and so
on. Lists (``ALPHAPULSE_IP_ALLOWLIST``, ``ALPHAPULSE_TRUSTED_PROXIES``) are comma-separated
addresses or networks. The service refuses to start with an empty, placeholder or short secret.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from alphapulse.errors import ConfigError

#: The addresses TradingView sends webhooks from (TradingView's documentation).
TRADINGVIEW_ADDRESSES: tuple[str, ...] = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")

MIN_SECRET_LENGTH = 16

#: Secrets that are refused whatever their length (placeholders from docs and examples).
_KNOWN_DEFAULTS = frozenset(
    {"your_webhook_secret", "changeme", "change-me", "secret", "password", "default", "example",
     "your_feed_token", "changeme-please-change-me"}
)

Networks = Annotated[tuple[str, ...], NoDecode]


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    """Configuration of the TradingView webhook service (immutable once read)."""

    model_config = SettingsConfigDict(env_prefix="ALPHAPULSE_", frozen=True, extra="ignore")

    database_url: str = Field("postgresql://127.0.0.1:5432/alphapulse",
                              description="PostgreSQL URL where alerts are committed")
    webhook_secret: SecretStr = Field(description="shared secret every alert must carry (>= 16 characters)")
    feed_token: SecretStr = Field(description="bearer token for GET /alerts (>= 16 characters)")
    spool_dir: Path = Field(Path("webhook-spool"), description="folder of the durable spool used while "
                            "the database is unreachable")
    ip_allowlist_enabled: bool = Field(False, description="accept alerts only from ip_allowlist")
    ip_allowlist: Networks = Field(TRADINGVIEW_ADDRESSES, description="addresses or networks allowed "
                                   "to send alerts (TradingView's four by default)")
    forwarded_header: str | None = Field(None, description="header a trusted reverse proxy sets to the "
                                         "client address, e.g. X-Forwarded-For or X-Real-IP; unset: "
                                         "forwarded headers are ignored")
    trusted_proxies: Networks = Field(("127.0.0.1/32", "::1/128"), description="addresses of reverse "
                                      "proxies whose forwarded header is believed")
    max_body_bytes: int = Field(16_384, ge=256, le=1_048_576, description="largest accepted body")
    rate_limit_per_minute: float = Field(600.0, gt=0, description="sustained alerts per minute per source")
    rate_limit_burst: int = Field(60, ge=1, description="alerts a source may send at once")
    db_timeout_seconds: float = Field(1.0, gt=0, le=2.5, description="longest wait for the database "
                                      "before an alert goes to the spool (keeps answers inside 3 s)")
    pool_min_size: int = Field(2, ge=0)
    pool_max_size: int = Field(10, ge=1)
    replay_interval_seconds: float = Field(1.0, gt=0, description="how often the spool replayer retries")
    feed_max_limit: int = Field(1000, ge=1, description="largest page of GET /alerts")

    @field_validator("webhook_secret", "feed_token")
    @classmethod
    def _strong(cls, value: SecretStr, info: Any) -> SecretStr:
        text = value.get_secret_value()
        name = f"ALPHAPULSE_{info.field_name.upper()}"
        if text.strip().lower() in _KNOWN_DEFAULTS or text.strip() == "":
            raise ValueError(f"{name} is empty or a placeholder; set a random value, e.g. "
                             "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
        if len(text) < MIN_SECRET_LENGTH:
            raise ValueError(f"{name} is shorter than {MIN_SECRET_LENGTH} characters; use a random value")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            conninfo_to_dict(value)
        except psycopg.ProgrammingError as exc:
            raise ValueError(f"is not a PostgreSQL URL or conninfo ({str(exc).strip()[:80]}); "
                             "write it like postgresql://user@host:5432/dbname") from None
        return value

    @field_validator("ip_allowlist", "trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        value = _split(value)
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
        return tuple(value)

    @field_validator("forwarded_header")
    @classmethod
    def _header(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return value.strip().lower()


    @model_validator(mode="after")
    def _distinct(self) -> Settings:
        if self.webhook_secret.get_secret_value() == self.feed_token.get_secret_value():
            raise ValueError("ALPHAPULSE_FEED_TOKEN must differ from ALPHAPULSE_WEBHOOK_SECRET (the secret "
                             "is pasted into TradingView; the token guards the feed)")
        if self.pool_min_size > self.pool_max_size:
            raise ValueError("ALPHAPULSE_POOL_MIN_SIZE is larger than ALPHAPULSE_POOL_MAX_SIZE")
        return self


def load_settings(**overrides: Any) -> Settings:
    """Read :class:`Settings` from the environment (``overrides`` win); raise :class:`ConfigError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            (f"ALPHAPULSE_{'.'.join(str(p) for p in err['loc']).upper()}: " if err["loc"] else "")
            + err["msg"] for err in exc.errors(include_url=False, include_input=False)
        )
        raise ConfigError(f"webhook settings rejected: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (a FastAPI dependency; override it in tests)."""
    return load_settings()
