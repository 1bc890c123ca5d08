"""Storing runs: result folders and journals into the schema of :mod:`.migrations`, idempotently.

Each run is stored in ONE transaction: the run row (found again by its ``run_key``), its
instruments, signals (+ one row per pattern hit), order events, fills, equity points and closed
trades. Every table has a unique key, and rows are inserted with ``ON CONFLICT DO NOTHING``, so
exporting the same source again stores nothing twice. A bad file or a row the database rejects
rolls back that run only; the other runs are still stored.

Two bulk paths, same result: ``COPY`` into a temporary staging table then ``INSERT ... SELECT ...
ON CONFLICT DO NOTHING`` (fast), or ``executemany`` of the same INSERT (for servers without
``COPY FROM STDIN``, such as PGlite, detected by :func:`copy_supported`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from alphapulse.bars import from_ns
from alphapulse.errors import DataError, StoreError
from alphapulse_tools.store.migrations import schema_state
from alphapulse_tools.store.mode import StoreMode
from alphapulse_tools.store.readers import (
    JOURNAL_FILES,
    JournalChunk,
    RunSource,
    discover,
    journal_run,
    read_journal_chunk,
    read_result_folder,
    result_file,
)

#: columns of each time-series table, in the order the row builders below produce them
COLUMNS: dict[str, tuple[str, ...]] = {
    "signals": ("run_id", "signal_id", "time", "strategy", "symbol", "market", "interval", "direction",
                "entry", "stop", "target", "risk_reward", "score", "factors", "patterns", "reason",
                "max_bars"),
    "signal_patterns": ("run_id", "signal_id", "time", "pattern", "symbol", "direction", "value",
                        "confidence"),
    "order_events": ("run_id", "order_id", "order_event_id", "time", "symbol", "symbol_id", "status",
                     "direction", "quantity", "fill_quantity", "fill_price", "fill_price_currency", "fee",
                     "fee_currency", "stop_price", "limit_price", "is_assignment", "message"),
    "fills": ("run_id", "fill_id", "time", "algorithm", "order_id", "symbol", "market", "quantity", "price",
              "fee", "fee_currency", "order_type", "signal_id", "tag"),
    "equity": ("run_id", "time", "equity"),
    "trades": ("run_id", "trade_no", "exit_time", "entry_time", "symbol", "direction", "quantity",
               "entry_price", "exit_price", "profit_loss", "fees", "mae", "mfe", "signal_id"),
}
#: the time column each table is partitioned (plain) or chunked (Timescale) by
TIME_COLUMN = {table: ("exit_time" if table == "trades" else "time") for table in COLUMNS}
#: daily rollups refreshed after an export
ROLLUPS = ("daily_pnl", "daily_pattern_signals")
#: advisory lock key taken while adding partitions (next to the migration lock)
PARTITION_LOCK = 0x616C706861707574


@dataclass(frozen=True, slots=True)
class RunExport:
    """The outcome of one source: the run stored with the rows new to the database, or an error."""

    source: Path
    run_key: str = ""
    algorithm: str = ""
    kind: str = ""
    run_id: int | None = None
    inserted: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def __str__(self) -> str:
        if self.error:
            return f"FAILED {self.source}: {self.error} (nothing of this run was stored)"
        if self.run_id is None:
            return f"nothing new in {self.source}"
        counts = ", ".join(f"{self.inserted.get(t, 0)}/{n} {t}" for t, n in self.read.items() if n)
        return (f"stored {self.kind} run {self.algorithm!r} (id {self.run_id}) from {self.source}: "
                f"{counts or 'no rows'} new")


@dataclass(frozen=True, slots=True)
class ExportReport:
    """The outcome of every source of one export."""

    runs: tuple[RunExport, ...]

    @property
    def failed(self) -> tuple[RunExport, ...]:
        return tuple(run for run in self.runs if not run.ok)

    def inserted(self, table: str) -> int:
        return sum(run.inserted.get(table, 0) for run in self.runs)


def copy_supported(conn: psycopg.Connection) -> bool:
    """False for servers whose ``COPY FROM STDIN`` is missing or unsafe (PGlite, PostgreSQL in WASM)."""
    row = conn.execute("SELECT version()").fetchone()
    return row is not None and "emscripten" not in str(row[0]).lower()


def require_schema(conn: psycopg.Connection) -> StoreMode:
    """The database's mode; raises :class:`StoreError` when it has no AlphaPulse schema yet."""
    mode, version = schema_state(conn)
    if mode is None or version == 0:
        raise StoreError("the database has no AlphaPulse schema: run `alphapulse db init` first")
    return mode


def export_sources(conn: psycopg.Connection, paths: Sequence[Path], *, use_copy: bool | None = None,
                   refresh: bool = True) -> ExportReport:
    """Store every result folder and journal folder found at or under ``paths``.

    ``conn`` must be in autocommit mode (each run gets its own transaction). ``use_copy`` None
    chooses by :func:`copy_supported`. A path with nothing to export raises :class:`DataError`
    before anything is stored; a bad source is reported in the returned :class:`ExportReport` and
    the others are still stored. The daily rollups are refreshed at the end when ``refresh``.
    """
    if not conn.autocommit:
        raise StoreError("export_sources() needs an autocommit connection (one transaction per run)")
    mode = require_schema(conn)
    copy = copy_supported(conn) if use_copy is None else use_copy
    folders: list[Path] = []
    for path in paths:
        folders += [f for f in discover(path) if f not in folders]
    results: list[RunExport] = []
    for folder in folders:
        if result_file(folder) is not None:
            results.append(export_result_folder(conn, folder, mode=mode, use_copy=copy))
        else:
            results.append(export_journal_folder(conn, folder, mode=mode, use_copy=copy))
    if refresh and any(run.ok and any(run.inserted.values()) for run in results):
        refresh_rollups(conn, mode)
    return ExportReport(tuple(results))


def export_result_folder(conn: psycopg.Connection, folder: Path, *, mode: StoreMode,
                         use_copy: bool) -> RunExport:
    """Store one Lean or local-runner result folder in one transaction; errors are returned."""
    try:
        source = read_result_folder(folder)
    except (DataError, OSError) as exc:
        return RunExport(folder, error=str(exc))
    try:
        if mode is StoreMode.PLAIN:
            prepare_partitions(conn, partition_years(source))
        with conn.transaction():
            _lock_run(conn, source.run_key, mode)
            run_id, inserted, read = store_run(conn, source, use_copy=use_copy)
    except psycopg.Error as exc:
        return RunExport(folder, source.run_key, source.algorithm, source.kind, error=_db_message(exc))
    return RunExport(folder, source.run_key, source.algorithm, source.kind, run_id, inserted, read)


def export_journal_folder(conn: psycopg.Connection, folder: Path, *, mode: StoreMode,
                          use_copy: bool) -> RunExport:
    """Store the journal lines written since the last export of this folder, in one transaction.

    The byte offset reached in each file is stored with the rows (table ``follow_offsets``), so a
    restart continues where the last export stopped; an incomplete last line is left for later.
    """
    resolved = folder.resolve()
    paths = [resolved / name for name in JOURNAL_FILES]

    def read_new() -> tuple[RunSource, list[JournalChunk], bool]:
        offsets = _offsets(conn, paths)
        chunks = [read_journal_chunk(path, *offsets.get(str(path), (0, ""))) for path in paths
                  if path.is_file()]
        moved = any(chunk.end != offsets.get(str(chunk.path), (0, ""))[0] for chunk in chunks)
        return journal_run(resolved, [s for c in chunks for s in c.signals],
                           [f for c in chunks for f in c.fills]), chunks, moved

    try:
        source, _, moved = read_new()
        if not moved:  # nothing written since the last export: no transaction at all
            return RunExport(folder, source.run_key, source.algorithm, source.kind)
        if mode is StoreMode.PLAIN:
            prepare_partitions(conn, partition_years(source))
        with conn.transaction():
            _lock_run(conn, journal_run(resolved, [], []).run_key, mode)
            source, chunks, _ = read_new()  # again, under the lock: another exporter may have moved on
            run_id, inserted, read = store_run(conn, source, use_copy=use_copy)
            conn.cursor().executemany(
                "INSERT INTO follow_offsets (path, run_id, byte_offset, tail_digest) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (path) DO UPDATE SET byte_offset = EXCLUDED.byte_offset, "
                "tail_digest = EXCLUDED.tail_digest, run_id = EXCLUDED.run_id, updated_at = now()",
                [(str(chunk.path), run_id, chunk.end, chunk.digest) for chunk in chunks])
    except (DataError, OSError) as exc:
        return RunExport(folder, error=str(exc))
    except psycopg.Error as exc:
        return RunExport(folder, error=_db_message(exc))
    return RunExport(folder, source.run_key, source.algorithm, source.kind, run_id, inserted, read)


def store_run(conn: psycopg.Connection, source: RunSource, *,
              use_copy: bool) -> tuple[int, dict[str, int], dict[str, int]]:
    """Store one run inside the caller's transaction: (run id, new rows per table, rows read per table).

    In plain mode, call :func:`prepare_partitions` first (outside the transaction).
    """
    run_id = _upsert_run(conn, source)
    markets = {s.symbol: s.market for s in source.signals} | {f.symbol: f.market for f in source.fills}
    instruments = {(s.symbol, s.market) for s in source.signals}
    instruments |= {(f.symbol, f.market) for f in source.fills}
    instruments |= {(e.symbol, markets.get(e.symbol, "")) for e in source.order_events}
    instruments |= {(t.symbol, markets.get(t.symbol, "")) for t in source.trades}
    if instruments:
        conn.cursor().executemany("INSERT INTO instruments (symbol, market) VALUES (%s, %s) "
                                  "ON CONFLICT (symbol, market) DO NOTHING", sorted(instruments))
    rows = table_rows(run_id, source)
    inserted = {table: load_rows(conn, table, table_rows_, use_copy=use_copy)
                for table, table_rows_ in rows.items()}
    return run_id, inserted, {table: len(table_rows_) for table, table_rows_ in rows.items()}


def partition_years(source: RunSource) -> dict[str, set[int]]:
    """The UTC years of each time-series table's rows of one run."""
    def years(times: Iterable[int]) -> set[int]:
        return {from_ns(t).year for t in times}

    return {"signals": years(s.time for s in source.signals),
            "signal_patterns": years(s.time for s in source.signals if s.patterns),
            "order_events": years(e.time for e in source.order_events),
            "fills": years(f.time for f in source.fills),
            "equity": years(t for t, _ in source.equity),
            "trades": years(t.exit_time for t in source.trades)}


def prepare_partitions(conn: psycopg.Connection, years: dict[str, set[int]]) -> None:
    """Plain mode: add the missing yearly partitions in a short transaction of their own.

    It holds the partition lock exclusively; run transactions hold it shared, so adding a
    partition (which locks the parent table and ``runs``) never interleaves with a run being stored.
    """
    if all(_exists(conn, f"{table}_y{year}") for table, wanted in years.items() for year in wanted):
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))
        for table, wanted in years.items():
            ensure_partitions(conn, table, wanted)


def table_rows(run_id: int, source: RunSource) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each time-series table for one run, in :data:`COLUMNS` order."""
    return {
        "signals": [(run_id, s.id, from_ns(s.time), s.strategy, s.symbol, s.market, s.interval,
                     s.direction.label, s.entry, s.stop, s.target, s.risk_reward, s.score,
                     Jsonb(dict(s.factors)), Jsonb([{"name": p.name, "value": p.value,
                                                     "confidence": p.confidence} for p in s.patterns]),
                     s.reason, s.max_bars) for s in source.signals],
        "signal_patterns": [(run_id, s.id, from_ns(s.time), p.name, s.symbol, s.direction.label, p.value,
                             p.confidence) for s in source.signals for p in s.patterns],
        "order_events": [(run_id, e.order_id, e.order_event_id, from_ns(e.time), e.symbol, e.symbol_id,
                          e.status, e.direction, e.quantity, e.fill_quantity, e.fill_price,
                          e.fill_price_currency, e.fee, e.fee_currency, e.stop_price, e.limit_price,
                          e.is_assignment, e.message) for e in source.order_events],
        "fills": [(run_id, f.id, from_ns(f.time), f.algorithm, f.order_id, f.symbol, f.market, f.quantity,
                   f.price, f.fee, f.fee_currency, f.order_type, f.signal_id, f.tag) for f in source.fills],
        "equity": [(run_id, from_ns(time), value) for time, value in source.equity],
        "trades": [(run_id, t.trade_no, from_ns(t.exit_time), from_ns(t.entry_time), t.symbol, t.direction,
                    t.quantity, t.entry_price, t.exit_price, t.profit_loss, t.fees, t.mae, t.mfe,
                    t.signal_id)
                   for t in source.trades],
    }


def load_rows(conn: psycopg.Connection, table: str, rows: Sequence[tuple[Any, ...]], *,
              use_copy: bool) -> int:
    """Insert ``rows`` into ``table`` skipping those already stored; returns how many were new.

    With ``use_copy``: COPY into a temporary staging table (dropped at commit), then one
    ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``. Without: ``executemany`` of that INSERT.
    Runs inside the caller's transaction.
    """
    if not rows:
        return 0
    columns = COLUMNS[table]
    names = ", ".join(columns)
    with conn.cursor() as cursor:
        if use_copy:
            stage = f"stage_{table}"
            cursor.execute(f"CREATE TEMPORARY TABLE {stage} (LIKE {table}) ON COMMIT DROP")
            with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "
                           "ON CONFLICT DO NOTHING")
            inserted = cursor.rowcount
            cursor.execute(f"DROP TABLE {stage}")
            return inserted
        placeholders = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders}) ON CONFLICT DO NOTHING",
                           rows)
        return cursor.rowcount


def ensure_partitions(conn: psycopg.Connection, table: str, years: Iterable[int]) -> None:
    """Plain mode: add yearly range partitions ``<table>_y<year>`` that are missing.

    A year whose rows already sit in the DEFAULT partition keeps them there (PostgreSQL cannot
    add a partition over rows of the DEFAULT one). Runs inside the caller's transaction; an
    advisory lock keeps concurrent exporters from adding the same partition twice.
    """
    missing = [year for year in sorted(set(years)) if not _exists(conn, f"{table}_y{year}")]
    if not missing:
        return
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (PARTITION_LOCK,))  # re-entrant in one session
    column = TIME_COLUMN[table]
    for year in missing:
        name = f"{table}_y{year}"
        if _exists(conn, name):
            continue
        low, high = datetime(year, 1, 1).isoformat() + "+00", datetime(year + 1, 1, 1).isoformat() + "+00"
        crowded = conn.execute(f"SELECT 1 FROM {table}_default WHERE {column} >= %s AND {column} < %s "
                               "LIMIT 1", (low, high)).fetchone()
        if crowded is None:
            conn.execute(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ('{low}') TO ('{high}')")


def refresh_rollups(conn: psycopg.Connection, mode: StoreMode) -> None:
    """Bring ``daily_pnl`` and ``daily_pattern_signals`` up to date (autocommit connection).

    TimescaleDB: ``refresh_continuous_aggregate`` over all time; plain PostgreSQL: ``REFRESH
    MATERIALIZED VIEW CONCURRENTLY`` (a full recompute that does not block readers).
    """
    for view in ROLLUPS:
        if mode is StoreMode.TIMESCALE:
            conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")
        else:
            conn.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")


def _upsert_run(conn: psycopg.Connection, source: RunSource) -> int:
    row = conn.execute(
        """INSERT INTO runs (run_key, kind, algorithm, parameters, statistics, start_time, end_time,
                             source_path)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (run_key) DO UPDATE SET
               parameters = EXCLUDED.parameters,
               statistics = EXCLUDED.statistics,
               start_time = LEAST(runs.start_time, EXCLUDED.start_time),
               end_time = GREATEST(runs.end_time, EXCLUDED.end_time),
               source_path = EXCLUDED.source_path,
               exported_at = now()
           RETURNING id""",
        (source.run_key, source.kind, source.algorithm, Jsonb(source.parameters), Jsonb(source.statistics),
         None if source.start_time is None else from_ns(source.start_time),
         None if source.end_time is None else from_ns(source.end_time), str(source.path))).fetchone()
    assert row is not None  # INSERT ... RETURNING always returns the row
    return int(row[0])


def _lock_run(conn: psycopg.Connection, run_key: str, mode: StoreMode) -> None:
    """Serialize the transactions storing the same run; in plain mode, exclude partition changes."""
    if mode is StoreMode.PLAIN:
        conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (PARTITION_LOCK,))
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (run_key,))


def _offsets(conn: psycopg.Connection, paths: list[Path]) -> dict[str, tuple[int, str]]:
    rows = conn.execute("SELECT path, byte_offset, tail_digest FROM follow_offsets WHERE path = ANY(%s)",
                        ([str(p) for p in paths],)).fetchall()
    return {str(path): (int(offset), str(digest)) for path, offset, digest in rows}


def _exists(conn: psycopg.Connection, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s)", (name,)).fetchone()
    return row is not None and row[0] is not None


def _db_message(exc: psycopg.Error) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"the database rejected the run: {first}"
