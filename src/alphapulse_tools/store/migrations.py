"""The database schema: ordered SQL migrations applied once each, recorded in ``alphapulse_schema``.

Migrations live in ``migrations/NNNN_name.sql`` (run in both modes) with optional
``NNNN_name.plain.sql`` / ``NNNN_name.timescale.sql`` parts run right after, in the same
transaction. The shared part is written for plain PostgreSQL; in Timescale mode its
``PARTITION BY RANGE (...)`` clauses are dropped (the mode part makes hypertables instead).
``{continuous}`` and ``{bucket(column)}`` become ``WITH (timescaledb.continuous)`` and
``time_bucket('1 day', column)`` under TimescaleDB, nothing and ``date_bin('1 day', column,
'2000-01-03')`` on plain PostgreSQL (the same buckets: Timescale's default origin is 2000-01-03).

:func:`migrate` is safe to call concurrently and repeatedly: it holds a session advisory lock,
applies only the missing versions, each in its own transaction, and keeps the mode chosen first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg

from alphapulse.errors import StoreError
from alphapulse_tools.store.mode import StoreMode, choose_mode

#: advisory lock key held while migrating ("alphapulse" in ASCII, truncated to fit a bigint)
MIGRATION_LOCK = 0x616C706861707573

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_PARTITION_CLAUSE = re.compile(r"\s*PARTITION BY RANGE \(\w+\)", re.IGNORECASE)
_BUCKET = re.compile(r"\{bucket\((\w+)\)\}")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema version: its shared SQL and the SQL of each mode."""

    version: int
    name: str
    shared: str
    plain: str
    timescale: str

    def sql(self, mode: StoreMode) -> str:
        """The statements to run for ``mode``, shared part first."""
        if mode is StoreMode.TIMESCALE:
            shared = _PARTITION_CLAUSE.sub("", self.shared)
            shared = shared.replace("{continuous}", "WITH (timescaledb.continuous)")
            shared = _BUCKET.sub(r"time_bucket(INTERVAL '1 day', \1)", shared)
            return shared + "\n" + self.timescale
        shared = self.shared.replace("{continuous}", "")
        shared = _BUCKET.sub(r"date_bin(INTERVAL '1 day', \1, TIMESTAMPTZ '2000-01-03')", shared)
        return shared + "\n" + self.plain


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What :func:`migrate` found and did: the mode, the schema version now, the versions applied."""

    mode: StoreMode
    version: int
    applied: tuple[int, ...]

    def __str__(self) -> str:
        done = (f"applied {', '.join(str(v) for v in self.applied)}" if self.applied
                else "already up to date")
        return f"{self.mode.value} mode, schema version {self.version} ({done})"


def migrations() -> tuple[Migration, ...]:
    """All migrations shipped with the package, in version order."""
    folder = resources.files("alphapulse_tools.store") / "migrations"
    texts = {entry.name: entry.read_text(encoding="utf-8") for entry in folder.iterdir()
             if entry.name.endswith(".sql")}
    found: list[Migration] = []
    for file_name in sorted(texts):
        match = _NAME.match(file_name)
        if match is None:
            continue
        stem = file_name.removesuffix(".sql")
        found.append(Migration(int(match.group(1)), match.group(2), texts[file_name],
                               texts.get(f"{stem}.plain.sql", ""), texts.get(f"{stem}.timescale.sql", "")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise StoreError(f"migrations are not numbered 1..n without gaps: {versions}")
    return tuple(found)


def latest_version() -> int:
    """The schema version this package brings a database to."""
    return len(migrations())


def schema_state(conn: psycopg.Connection) -> tuple[StoreMode | None, int]:
    """The recorded mode and version of a database; (None, 0) when no schema exists yet."""
    exists = conn.execute("SELECT to_regclass('alphapulse_schema')").fetchone()
    if exists is None or exists[0] is None:
        return None, 0
    row = conn.execute("SELECT max(version), min(mode) FROM alphapulse_schema").fetchone()
    if row is None or row[0] is None:
        return None, 0
    return StoreMode(row[1]), int(row[0])


def migrate(conn: psycopg.Connection, mode: StoreMode | None = None) -> MigrationReport:
    """Bring the database's schema to the latest version; returns the mode and version.

    ``mode`` None chooses TimescaleDB when the extension is usable, plain PostgreSQL otherwise; a
    database that already has a schema keeps its mode (asking for the other one raises
    :class:`StoreError`). The connection must not be inside a transaction; its autocommit setting
    is restored afterwards. Concurrent calls wait on an advisory lock, the later ones find the
    schema current. A failing migration is rolled back and raises :class:`StoreError` naming it.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise StoreError("migrate() needs a connection outside a transaction: commit or roll back first")
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            return _migrate_locked(conn, mode)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    finally:
        conn.autocommit = autocommit


def _migrate_locked(conn: psycopg.Connection, wanted: StoreMode | None) -> MigrationReport:
    recorded, version = schema_state(conn)
    if recorded is not None and wanted is not None and wanted is not recorded:
        raise StoreError(f"the database already has a {recorded.value} schema; it cannot switch to "
                         f"{wanted.value} (use a new database)")
    mode = recorded or choose_mode(conn, wanted)
    conn.execute("""
        CREATE TABLE IF NOT EXISTS alphapulse_schema (
            version     integer PRIMARY KEY,
            name        text NOT NULL,
            mode        text NOT NULL CHECK (mode IN ('plain', 'timescale')),
            applied_at  timestamptz NOT NULL DEFAULT now()
        )""")
    applied: list[int] = []
    for migration in migrations():
        if migration.version <= version:
            continue
        try:
            with conn.transaction():
                conn.execute(migration.sql(mode).encode())
                conn.execute("INSERT INTO alphapulse_schema (version, name, mode) VALUES (%s, %s, %s)",
                             (migration.version, migration.name, mode.value))
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"migration {migration.version:04d}_{migration.name} ({mode.value} mode) "
                             f"failed: {first}") from exc
        applied.append(migration.version)
        version = migration.version
    return MigrationReport(mode, version, tuple(applied))
