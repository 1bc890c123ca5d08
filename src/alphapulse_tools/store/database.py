"""Opening the database named by ``--database-url`` or ``ALPHAPULSE_DATABASE_URL``."""

from __future__ import annotations

import os
import re

import psycopg

from alphapulse.errors import ConfigError, StoreError

DATABASE_URL_ENV = "ALPHAPULSE_DATABASE_URL"
_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]*@")


def database_url(url: str | None) -> str:
    """The URL given, else ``$ALPHAPULSE_DATABASE_URL``; raises :class:`ConfigError` when neither is set."""
    chosen = url or os.environ.get(DATABASE_URL_ENV, "")
    if not chosen:
        raise ConfigError(f"no database given: pass --database-url postgresql://user@host:5432/db "
                          f"or set {DATABASE_URL_ENV}")
    return chosen


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages)."""
    return _PASSWORD.sub(r"\1***@", url)


def connect(url: str) -> psycopg.Connection:
    """An autocommit connection; server-side prepared statements are turned off for PGlite.

    Raises :class:`StoreError` naming the (redacted) URL when the server cannot be reached.
    """
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.ProgrammingError as exc:  # the URL itself is malformed
        raise ConfigError(f"--database-url {redact(url)} is not a PostgreSQL URL ({_first_line(exc)}); "
                          "expected postgresql://user@host:5432/database") from None
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to the database at {redact(url)}: {_first_line(exc)}") from None
    row = conn.execute("SELECT version()").fetchone()
    if row is not None and "emscripten" in str(row[0]).lower():
        conn.prepare_threshold = None
    return conn


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
