"""The local runner's real output (``alphapulse backtest``) exported and checked against its files."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from alphapulse_tools.cli import main
from alphapulse_tools.store.exporter import export_sources
from alphapulse_tools.store.migrations import migrate


@pytest.fixture(scope="module")
def result_folder(tmp_path_factory: pytest.TempPathFactory, lean_data: Path) -> Path:
    out = tmp_path_factory.mktemp("runner") / "rsi"
    code = main(["backtest", "--strategy", "rsi-mean-reversion", "--symbol", "BTCUSD", "--interval", "1d",
                 "--start", "2015-01-01", "--end", "2018-08-01", "--market", "coinbase",
                 "--data-dir", str(lean_data), "--out", str(out), "--no-report"])
    assert code == 0
    return out


def test_runner_output_is_stored_as_written(result_folder: Path, conn: psycopg.Connection) -> None:
    migrate(conn)
    assert export_sources(conn, [result_folder]).failed == ()
    main_file = next(p for p in result_folder.glob("*.json")
                     if not p.name.endswith(("-summary.json", "-order-events.json")))
    result = json.loads(main_file.read_text())
    events = json.loads(main_file.with_name(main_file.stem + "-order-events.json").read_text())
    fill_ids = [json.loads(line)["id"] for line in (result_folder / "fills.jsonl").read_text().splitlines()]
    signal_ids = [json.loads(line)["id"] for line in (result_folder / "signals.jsonl").read_text().splitlines()]
    trades = result["totalPerformance"]["closedTrades"]
    assert fill_ids and signal_ids and trades
    assert sorted(r[0] for r in conn.execute("SELECT fill_id FROM fills").fetchall()) == sorted(fill_ids)
    assert sorted(r[0] for r in conn.execute("SELECT signal_id FROM signals").fetchall()) == sorted(signal_ids)
    row = conn.execute("SELECT count(*) FROM order_events").fetchone()
    assert row == (len(events),)
    row = conn.execute("SELECT count(*), sum(profit_loss), sum(fees) FROM trades").fetchone()
    assert row is not None and row[0] == len(trades)
    assert (row[1], row[2]) == pytest.approx((sum(t["profitLoss"] for t in trades),
                                              sum(t["totalFees"] for t in trades)))
    stored = conn.execute("SELECT statistics, parameters FROM runs").fetchone()
    assert stored == (result["statistics"], result["algorithmConfiguration"]["parameters"])
    again = export_sources(conn, [result_folder])
    assert sum(sum(run.inserted.values()) for run in again.runs) == 0
