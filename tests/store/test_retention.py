"""Retention on plain PostgreSQL: whole yearly partitions older than the limit are dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from alphapulse.bars import from_ns
from alphapulse.errors import ConfigError
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.cli import main
from alphapulse_tools.store.exporter import export_sources
from alphapulse_tools.store.migrations import migrate
from alphapulse_tools.store.mode import StoreMode
from alphapulse_tools.store.retention import apply_retention
from tests.store.lean_results import Backtest, simulate, write_result_folder


@pytest.fixture(scope="module")
def daily(lean_data: Path) -> Backtest:
    return simulate(read_trade_bars(lean_data, "coinbase", "btcusd", "daily"), market="coinbase",
                    interval="1d")


def count(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return row[0]


def test_partitions_ending_before_the_limit_are_dropped(tmp_path: Path, conn: psycopg.Connection,
                                                        daily: Backtest) -> None:
    migrate(conn)
    assert export_sources(conn, [write_result_folder(tmp_path / "run", daily, local_runner=True)]).failed == ()
    now = datetime(2019, 6, 1, tzinfo=UTC)
    keep = now - datetime(2017, 3, 1, tzinfo=UTC)  # the limit falls inside 2017: 2017 is kept whole
    mode, done = apply_retention(conn, keep, now=now)
    assert mode is StoreMode.PLAIN
    assert "signals_y2016: dropped" in done and not any("y2017" in line for line in done)
    assert count(conn, "signals") == sum(1 for s in daily.signals if from_ns(s.time).year >= 2017)
    assert count(conn, "equity") == sum(1 for p in daily.equity
                                        if datetime.fromtimestamp(p[0], tz=UTC).year >= 2017)
    assert count(conn, "runs") == 1
    assert apply_retention(conn, keep, now=now)[1] == []  # nothing left to drop


def test_retention_shorter_than_a_day_is_refused(conn: psycopg.Connection) -> None:
    with pytest.raises(ConfigError, match="at least one day"):
        apply_retention(conn, timedelta(hours=1))


def test_db_retention_command(schema_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "init", "--database-url", schema_url]) == 0
    assert main(["db", "retention", "--keep-days", "3650", "--database-url", schema_url]) == 0
    assert "no partition is old enough" in capsys.readouterr().out
    assert main(["db", "retention", "--keep-days", "0", "--database-url", schema_url]) == 2
