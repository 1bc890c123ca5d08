"""The schema and exporter on a real TimescaleDB (PGlite + TimescaleDB 2.23).

One shared connection (PGlite serves one), so the tests build on one exported state: the schema is
migrated once, two runs are exported, and each test checks one Timescale feature against a
reference computed from the files in Python.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.store.exporter import COLUMNS, copy_supported, export_sources
from alphapulse_tools.store.follow import FollowSettings, follow
from alphapulse_tools.store.migrations import latest_version, migrate
from alphapulse_tools.store.mode import StoreMode
from alphapulse_tools.store.retention import apply_retention
from tests.store.lean_results import (
    Backtest,
    assert_daily_views,
    simulate,
    write_journal,
    write_lines,
    write_result_folder,
)
from tests.store.test_queries import QUERIES

HYPERTABLES = {"signals", "signal_patterns", "order_events", "fills", "equity", "trades"}


@pytest.fixture(scope="module")
def backtest(lean_data: Path) -> Backtest:
    return simulate(read_trade_bars(lean_data, "binance", "btcusdt", "hour"))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory, backtest: Backtest) -> list[Path]:
    root = tmp_path_factory.mktemp("timescale")
    return [write_result_folder(root / "runner", backtest, local_runner=True),
            write_journal(root / "storage", backtest)]


@pytest.fixture(scope="module")
def exported(timescale: psycopg.Connection, folders: list[Path]) -> Iterator[psycopg.Connection]:
    report = migrate(timescale)
    assert report.mode is StoreMode.TIMESCALE
    result = export_sources(timescale, folders)
    assert result.failed == ()
    yield timescale


def counts(conn: psycopg.Connection) -> dict[str, int]:
    out = {}
    for table in ("runs", *COLUMNS):
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        out[table] = row[0]
    return out


def totals(conn: psycopg.Connection) -> tuple[float, float]:
    equity = conn.execute("SELECT sum(equity) FROM equity").fetchone()
    traded = conn.execute("SELECT sum(quantity * price) FROM fills").fetchone()
    assert equity is not None and traded is not None
    return equity[0], traded[0]


def test_timescale_is_detected_and_the_schema_made_of_hypertables(exported: psycopg.Connection) -> None:
    again = migrate(exported)
    assert (again.mode, again.version, again.applied) == (StoreMode.TIMESCALE, latest_version(), ())
    assert exported.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone() == (1,)
    rows = exported.execute("SELECT hypertable_name, compression_enabled "
                            "FROM timescaledb_information.hypertables").fetchall()
    assert {name for name, _ in rows} == HYPERTABLES
    assert all(enabled for _, enabled in rows)
    aggregates = exported.execute("SELECT view_name FROM timescaledb_information.continuous_aggregates")
    assert {row[0] for row in aggregates.fetchall()} == {"daily_pnl", "daily_pattern_signals"}
    jobs = Counter(row[0] for row in exported.execute(
        "SELECT proc_name FROM timescaledb_information.jobs WHERE hypertable_name IS NOT NULL").fetchall())
    assert jobs == {"policy_compression": 6, "policy_refresh_continuous_aggregate": 2}


def test_pglite_is_loaded_without_copy(exported: psycopg.Connection) -> None:
    assert not copy_supported(exported)  # COPY FROM STDIN crashes PGlite: the executemany path is used


def test_export_stored_every_row_once_and_again_nothing(exported: psycopg.Connection, folders: list[Path],
                                                        backtest: Backtest) -> None:
    patterns = sum(len(s.patterns) for s in backtest.signals)
    first = counts(exported)
    assert first == {"runs": 2, "signals": 2 * len(backtest.signals), "signal_patterns": 2 * patterns,
                     "order_events": len(backtest.events), "fills": 2 * len(backtest.fills),
                     "equity": len(backtest.equity), "trades": len(backtest.trades)}
    again = export_sources(exported, folders)
    assert again.failed == () and sum(again.inserted(t) for t in COLUMNS) == 0
    assert counts(exported) == first


def test_time_bucket_gives_the_last_equity_of_each_day(exported: psycopg.Connection,
                                                        backtest: Backtest) -> None:
    rows = exported.execute(
        "SELECT time_bucket(INTERVAL '1 day', time) AS day, last(equity, time) FROM equity "
        "GROUP BY day ORDER BY day").fetchall()
    reference: dict[datetime, float] = {}
    for point in backtest.equity:  # points are in time order: the last one of a day wins
        moment = datetime.fromtimestamp(point[0], tz=UTC)
        reference[datetime(moment.year, moment.month, moment.day, tzinfo=UTC)] = point[-1]
    assert [(day, value) for day, value in rows] == list(reference.items())


def test_continuous_aggregates_match_the_reference(exported: psycopg.Connection, backtest: Backtest) -> None:
    assert_daily_views(exported, backtest, copies=2)  # two runs hold the same signals


def test_compression_by_policy_and_by_hand_keeps_data_and_idempotency(
        exported: psycopg.Connection, folders: list[Path], backtest: Backtest) -> None:
    before = counts(exported)
    total_before = totals(exported)
    job = exported.execute("SELECT job_id FROM timescaledb_information.jobs "
                           "WHERE proc_name = 'policy_compression' AND hypertable_name = 'equity'").fetchone()
    assert job is not None
    exported.execute("CALL run_job(%s)", (job[0],))  # the data is from 2018: older than the 30 days
    for (chunk,) in exported.execute("SELECT show_chunks('fills')").fetchall():
        exported.execute("SELECT compress_chunk(%s, if_not_compressed => true)", (chunk,))
    compressed = dict(exported.execute(
        "SELECT hypertable_name, bool_and(is_compressed) FROM timescaledb_information.chunks "
        "WHERE hypertable_name IN ('equity', 'fills') GROUP BY 1").fetchall())
    assert compressed == {"equity": True, "fills": True}
    assert totals(exported) == total_before
    again = export_sources(exported, folders)  # ON CONFLICT DO NOTHING into compressed chunks
    assert again.failed == ()
    assert counts(exported) == before


def test_documented_queries_run_on_timescale(exported: psycopg.Connection) -> None:
    run = exported.execute("SELECT id FROM runs WHERE kind = 'backtest'").fetchone()
    assert run is not None
    params = {"run_id": run[0], "since": datetime(2000, 1, 1, tzinfo=UTC)}
    results = {title: exported.execute(sql, params).fetchall() for title, sql in QUERIES.items()}
    assert all(results[title] for title in QUERIES if title != "Alerts received vs traded")
    bucketed = exported.execute(
        "SELECT time_bucket(INTERVAL '1 day', time) AS day, last(equity, time) FROM equity "
        "WHERE run_id = %s GROUP BY day ORDER BY day", (run[0],)).fetchall()
    assert results["Equity curve of a run"] == bucketed  # date_bin with Timescale's origin = time_bucket


def test_follow_loads_appended_lines_once(exported: psycopg.Connection, tmp_path: Path,
                                          backtest: Backtest) -> None:
    journal = tmp_path / "alphapulse" / "FollowedOnTimescale"
    journal.mkdir(parents=True)
    lines = [s.to_json() for s in backtest.signals]
    write_lines(journal / "signals.jsonl", lines[:5])
    follow(exported, journal, FollowSettings(once=True))
    with (journal / "signals.jsonl").open("a") as handle:
        handle.write("\n".join(lines[5:]) + "\n" + lines[0][:40])  # and a line being written
    follow(exported, journal, FollowSettings(once=True))
    follow(exported, journal, FollowSettings(once=True))
    row = exported.execute("SELECT count(*), count(DISTINCT s.signal_id) FROM signals s JOIN runs r "
                           "ON r.id = s.run_id WHERE r.algorithm = 'FollowedOnTimescale'").fetchone()
    assert row == (len(lines), len(lines))


def test_retention_policy_drops_old_chunks_when_its_job_runs(exported: psycopg.Connection) -> None:
    """Last in this file: it drops the exported data."""
    before = counts(exported)
    keep = datetime.now(UTC) - datetime(2018, 7, 1, tzinfo=UTC)  # every chunk of May 2018 is older
    mode, done = apply_retention(exported, keep)
    assert mode is StoreMode.TIMESCALE and len(done) == len(COLUMNS)
    jobs = exported.execute("SELECT job_id FROM timescaledb_information.jobs "
                            "WHERE proc_name = 'policy_retention'").fetchall()
    assert len(jobs) == len(COLUMNS)
    for (job,) in jobs:
        exported.execute("CALL run_job(%s)", (job,))
    after = counts(exported)
    assert after["runs"] == before["runs"] and all(after[table] == 0 for table in COLUMNS)
    assert before["signals"] > 0
