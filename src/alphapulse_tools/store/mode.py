"""Which storage mode a database gets: TimescaleDB when the extension can be used, plain PostgreSQL
otherwise (range partitions, BRIN indexes, materialized views with the same names)."""

from __future__ import annotations

from enum import StrEnum

import psycopg

from alphapulse.errors import ConfigError, StoreError


class StoreMode(StrEnum):
    """``timescale``: hypertables, compression, continuous aggregates. ``plain``: partitions, BRIN."""

    TIMESCALE = "timescale"
    PLAIN = "plain"

    @classmethod
    def parse(cls, text: str) -> StoreMode | None:
        """``auto`` gives None (detect at run time); otherwise ``timescale`` or ``plain``."""
        if text == "auto":
            return None
        try:
            return cls(text)
        except ValueError:
            raise ConfigError(f"storage mode {text!r} is not one of auto, timescale, plain") from None


def timescale_installed(conn: psycopg.Connection) -> bool:
    """True when the ``timescaledb`` extension is installed in this database."""
    return conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone() is not None


def timescale_available(conn: psycopg.Connection) -> bool:
    """True when the server offers the ``timescaledb`` extension (installed or installable)."""
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    return row is not None


def choose_mode(conn: psycopg.Connection, wanted: StoreMode | None = None) -> StoreMode:
    """Pick the mode for a database without a schema yet, installing TimescaleDB when it is used.

    ``wanted`` None detects: Timescale when the extension is installed or can be created (a server
    that lists it but cannot load it, e.g. without ``shared_preload_libraries``, gives plain).
    ``wanted`` TIMESCALE raises :class:`StoreError` when the extension cannot be used.
    Must run outside a transaction (autocommit connection).
    """
    if wanted is StoreMode.PLAIN:
        return StoreMode.PLAIN
    if timescale_installed(conn):
        return StoreMode.TIMESCALE
    problem = "the server does not offer the timescaledb extension"
    if timescale_available(conn):
        try:
            with conn.transaction():
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            return StoreMode.TIMESCALE
        except psycopg.Error as exc:
            problem = f"CREATE EXTENSION timescaledb failed: {str(exc).strip().splitlines()[0]}"
    if wanted is StoreMode.TIMESCALE:
        raise StoreError(f"cannot use TimescaleDB: {problem}; use --mode plain or a server with it")
    return StoreMode.PLAIN
