"""Optional retention: forget journal rows whose time is older than a limit.

Retention works on the rows' own time (bar, fill or exit time), not on when they were exported:
a backtest of 2018 data is "old" at once. Use it on live databases, or with a limit longer than
the backtests to keep. Runs and alerts are kept. Continuous aggregates keep the days already
materialized; plain materialized views lose the dropped days at their next refresh.

TimescaleDB: a retention policy per hypertable (``add_retention_policy``), run by its job
scheduler. Plain PostgreSQL: :func:`drop_old_partitions` drops whole yearly partitions that end
before the limit; run it periodically (e.g. from cron via ``alphapulse db retention``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from alphapulse.errors import ConfigError
from alphapulse_tools.store.exporter import COLUMNS, PARTITION_LOCK, require_schema
from alphapulse_tools.store.mode import StoreMode


def check_keep(keep: timedelta) -> None:
    """Raise :class:`ConfigError` for a limit shorter than one day."""
    if keep < timedelta(days=1):
        raise ConfigError(f"retention must keep at least one day of data, got {keep}")


def apply_retention(conn: psycopg.Connection, keep: timedelta,
                    now: datetime | None = None) -> tuple[StoreMode, list[str]]:
    """Apply the limit: (mode, what was done, one entry per table or partition).

    TimescaleDB: replaces each hypertable's retention policy with ``drop_after => keep``.
    Plain: drops the yearly partitions that end before ``now - keep`` (now: the current time).
    The connection must be in autocommit mode.
    """
    check_keep(keep)
    mode = require_schema(conn)
    if mode is StoreMode.TIMESCALE:
        done = []
        for table in COLUMNS:
            with conn.transaction():
                conn.execute("SELECT remove_retention_policy(%s, if_exists => true)", (table,))
                conn.execute("SELECT add_retention_policy(%s, drop_after => %s)", (table, keep))
            done.append(f"{table}: retention policy, drop after {keep.days} days")
        return mode, done
    return mode, drop_old_partitions(conn, (now or datetime.now(UTC)) - keep)


def drop_old_partitions(conn: psycopg.Connection, before: datetime) -> list[str]:
    """Plain mode: drop the yearly partitions ``<table>_y<year>`` that end at or before ``before``."""
    dropped = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))  # no run is being stored
        for table in COLUMNS:
            rows = conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = %s::regclass AND c.relname ~ %s ORDER BY c.relname",
                (table, f"^{table}_y[0-9]{{4}}$")).fetchall()
            for (name,) in rows:
                year = int(name[-4:])
                if datetime(year + 1, 1, 1, tzinfo=UTC) <= before:
                    conn.execute(f"DROP TABLE {name}")
                    dropped.append(f"{name}: dropped")
    return dropped
