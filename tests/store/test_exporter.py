"""Exporting into real PostgreSQL (plain mode): both bulk paths, idempotency, bad files, rollups."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import psycopg
import pytest

from alphapulse.bars import Bars, from_ns
from alphapulse.errors import StoreError
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.store.exporter import COLUMNS, copy_supported, export_sources
from alphapulse_tools.store.migrations import migrate
from tests.store.lean_results import (
    Backtest,
    assert_daily_views,
    simulate,
    write_journal,
    write_lines,
    write_result_folder,
)

TABLES = ("runs", "instruments", *COLUMNS)


@pytest.fixture(scope="module")
def bars(lean_data: Path) -> Bars:
    return read_trade_bars(lean_data, "binance", "btcusdt", "hour")


@pytest.fixture(scope="module")
def backtest(bars: Bars) -> Backtest:
    return simulate(bars)


@pytest.fixture
def store(conn: psycopg.Connection) -> psycopg.Connection:
    migrate(conn)
    return conn


def counts(conn: psycopg.Connection) -> dict[str, int]:
    out = {}
    for table in TABLES:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        out[table] = row[0]
    return out


@pytest.mark.parametrize("use_copy", [True, False], ids=["copy", "executemany"])
def test_local_runner_folder_is_stored_completely(tmp_path: Path, store: psycopg.Connection,
                                                  backtest: Backtest, use_copy: bool) -> None:
    folder = write_result_folder(tmp_path / "run", backtest, local_runner=True)
    report = export_sources(store, [folder], use_copy=use_copy)
    assert report.failed == ()
    patterns = sum(len(s.patterns) for s in backtest.signals)
    assert counts(store) == {"runs": 1, "instruments": 1, "signals": len(backtest.signals),
                             "signal_patterns": patterns, "order_events": len(backtest.events),
                             "fills": len(backtest.fills), "equity": len(backtest.equity),
                             "trades": len(backtest.trades)}
    assert report.inserted("signals") == len(backtest.signals)
    stored = store.execute("SELECT signal_id, direction, entry, stop, target, score, factors, patterns "
                           "FROM signals ORDER BY time").fetchall()
    assert stored == [(s.id, s.direction.label, s.entry, s.stop, s.target, s.score, s.factors,
                       [{"name": p.name, "value": p.value, "confidence": p.confidence} for p in s.patterns])
                      for s in backtest.signals]
    fills = store.execute("SELECT fill_id, quantity, price, fee, signal_id FROM fills "
                          "ORDER BY time, order_id")
    assert fills.fetchall() == [(f.id, f.quantity, f.price, f.fee, f.signal_id) for f in backtest.fills]
    last = store.execute("SELECT equity FROM equity ORDER BY time DESC LIMIT 1").fetchone()
    assert last is not None and last[0] == backtest.equity[-1][-1]
    run = store.execute("SELECT kind, algorithm, parameters, statistics->>'Total Orders' "
                        "FROM runs").fetchone()
    assert run == ("backtest", "PatternTrader", {"hold-bars": "3"}, str(len(backtest.orders)))


def test_the_same_folders_twice_store_nothing_new(tmp_path: Path, store: psycopg.Connection,
                                                  backtest: Backtest) -> None:
    folders = [write_result_folder(tmp_path / "lean", backtest),
               write_result_folder(tmp_path / "runner", simulate_other(backtest), result_id="99",
                                   local_runner=True),
               write_journal(tmp_path / "storage", backtest)]
    export_sources(store, folders, use_copy=True)
    first = counts(store)
    again = export_sources(store, folders, use_copy=False)
    assert counts(store) == first
    assert all(sum(run.inserted.values()) == 0 for run in again.runs)
    assert first["runs"] == 3


def simulate_other(backtest: Backtest) -> Backtest:
    return Backtest(backtest.signals[::2], backtest.fills[:4], backtest.events[:8], backtest.trades[:2],
                    backtest.equity[:50], dict(list(backtest.orders.items())[:4]))


def test_a_corrupt_file_fails_its_run_only(tmp_path: Path, store: psycopg.Connection,
                                           backtest: Backtest) -> None:
    good_a = write_result_folder(tmp_path / "a", backtest, result_id="1", local_runner=True)
    bad = write_result_folder(tmp_path / "b", backtest, result_id="2", local_runner=True)
    good_c = write_result_folder(tmp_path / "c", simulate_other(backtest), result_id="3", local_runner=True)
    lines = (bad / "fills.jsonl").read_text().splitlines()
    lines[len(lines) // 2] = lines[len(lines) // 2][:-20]  # a record cut in the middle of the file
    write_lines(bad / "fills.jsonl", lines)
    report = export_sources(store, [tmp_path], use_copy=True)
    assert [run.ok for run in report.runs] == [True, False, True]
    assert f"fills.jsonl: line {len(lines) // 2 + 1}: not valid JSON" in report.failed[0].error
    assert "nothing of this run was stored" in str(report.failed[0])
    keys = {row[0] for row in store.execute("SELECT source_path FROM runs").fetchall()}
    assert keys == {str(good_a.resolve()), str(good_c.resolve())}
    signals = store.execute("SELECT count(*) FROM signals").fetchone()
    assert signals is not None and signals[0] == len(backtest.signals) + len(simulate_other(backtest).signals)


def test_lean_and_local_runner_folders_give_the_same_trades_and_events(
        tmp_path: Path, store: psycopg.Connection, backtest: Backtest) -> None:
    lean = write_result_folder(tmp_path / "lean", backtest, result_id="1")
    runner = write_result_folder(tmp_path / "runner", backtest, result_id="2", local_runner=True)
    assert export_sources(store, [lean, runner]).failed == ()
    per_run = store.execute(
        "SELECT r.source_path, (SELECT count(*) FROM fills f WHERE f.run_id = r.id), "
        "(SELECT count(*) FROM order_events e WHERE e.run_id = r.id), "
        "(SELECT sum(profit_loss) FROM trades t WHERE t.run_id = r.id) FROM runs r ORDER BY r.id").fetchall()
    profit = pytest.approx(sum(t["profitLoss"] for t in backtest.trades))
    assert [row[1:] for row in per_run] == [(len(backtest.fills), len(backtest.events), profit)] * 2
    # fills derived from Lean's filled events match the runner's fills.jsonl
    lean_fills = store.execute("SELECT order_id, quantity, price, fee, signal_id FROM fills f JOIN runs r "
                               "ON r.id = f.run_id WHERE r.source_path = %s ORDER BY time, order_id",
                               (str(lean.resolve()),)).fetchall()
    assert lean_fills == [(f.order_id, f.quantity, f.price, f.fee, f.signal_id) for f in backtest.fills]


def test_daily_rollups_match_a_reference_sum(tmp_path: Path, store: psycopg.Connection,
                                             backtest: Backtest) -> None:
    export_sources(store, [write_result_folder(tmp_path / "run", backtest, local_runner=True)])
    assert_daily_views(store, backtest)


def test_years_get_their_own_partitions(tmp_path: Path, store: psycopg.Connection, lean_data: Path) -> None:
    daily = read_trade_bars(lean_data, "coinbase", "btcusd", "daily")  # 2014-12 .. 2018-08
    backtest = simulate(daily, market="coinbase", interval="1d")
    report = export_sources(store, [write_result_folder(tmp_path / "run", backtest, local_runner=True)])
    assert report.failed == ()
    partitions = {row[0] for row in store.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'signals' "
        "AND p.relnamespace = current_schema()::regnamespace").fetchall()}
    years = {f"signals_y{from_ns(s.time).year}" for s in backtest.signals}
    assert len(years) >= 4
    assert years <= partitions
    in_default = store.execute("SELECT count(*) FROM signals_default").fetchone()
    assert in_default is not None and in_default[0] == 0
    total = store.execute("SELECT count(*) FROM signals").fetchone()
    assert total is not None and total[0] == len(backtest.signals)


def test_rows_of_a_year_already_in_default_stay_there(tmp_path: Path, store: psycopg.Connection,
                                                      backtest: Backtest) -> None:
    run = store.execute("INSERT INTO runs (run_key, kind, algorithm, source_path) "
                        "VALUES ('manual', 'live', 'x', '-') RETURNING id").fetchone()
    assert run is not None
    store.execute("INSERT INTO equity (run_id, time, equity) VALUES (%s, '2018-05-01T00:00:00Z', 1)",
                  (run[0],))
    assert export_sources(store, [write_result_folder(tmp_path / "run", backtest)]).failed == ()
    exists = store.execute("SELECT to_regclass('equity_y2018')").fetchone()
    assert exists == (None,)
    total = store.execute("SELECT count(*) FROM equity").fetchone()
    assert total is not None and total[0] == len(backtest.equity) + 1


def test_export_needs_a_schema(tmp_path: Path, conn: psycopg.Connection, backtest: Backtest) -> None:
    with pytest.raises(StoreError, match="db init"):
        export_sources(conn, [write_result_folder(tmp_path / "run", backtest)])


def test_postgres_supports_copy(store: psycopg.Connection) -> None:
    assert copy_supported(store)


def test_a_row_the_database_rejects_rolls_back_its_whole_run(tmp_path: Path, store: psycopg.Connection,
                                                             backtest: Backtest) -> None:
    good = write_result_folder(tmp_path / "good", backtest, result_id="1", local_runner=True)
    bad = write_result_folder(tmp_path / "bad", backtest, result_id="2", local_runner=True)
    events_file = bad / "2-order-events.json"
    events = json.loads(events_file.read_text())
    events[-1]["orderId"] = 2**40  # readable, but beyond the integer column
    events_file.write_text(json.dumps(events))
    report = export_sources(store, [bad, good], use_copy=True)
    assert [run.ok for run in report.runs] == [False, True]
    assert "the database rejected the run" in report.runs[0].error
    assert "out of range" in report.runs[0].error
    assert counts(store)["runs"] == 1 and counts(store)["signals"] == len(backtest.signals)


def test_concurrent_exports_of_the_same_folders_store_each_row_once(
        tmp_path: Path, store: psycopg.Connection, schema_url: str, lean_data: Path) -> None:
    daily = simulate(read_trade_bars(lean_data, "coinbase", "btcusd", "daily"), market="coinbase",
                     interval="1d")  # several years: the exporters race to add the same partitions
    folders = [write_result_folder(tmp_path / "a", daily, result_id="1", local_runner=True),
               write_journal(tmp_path / "storage", daily)]
    errors: list[BaseException] = []
    reports = []

    def export() -> None:
        try:
            with psycopg.connect(schema_url, autocommit=True) as conn:
                reports.append(export_sources(conn, folders, use_copy=True))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=export) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert [str(run) for report in reports for run in report.failed] == []
    assert counts(store)["signals"] == 2 * len(daily.signals)
    assert counts(store)["runs"] == 2
    assert sum(report.inserted("fills") for report in reports) == 2 * len(daily.fills)
