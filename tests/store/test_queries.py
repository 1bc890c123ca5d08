"""The documented queries of QUERIES.md, run on real PostgreSQL against references from the files."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
import pytest

from alphapulse.bars import from_ns, parse_time
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.store.exporter import export_sources
from alphapulse_tools.store.migrations import migrate
from tests.store.lean_results import Backtest, daily_sums, simulate, write_result_folder


def documented_queries() -> dict[str, str]:
    """Title of each ``## `` section of QUERIES.md -> its SQL block."""
    text = (resources.files("alphapulse_tools.store") / "QUERIES.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    queries = {}
    for title, body in sections:
        block = re.search(r"```sql\n(.*?)```", body, flags=re.S)
        assert block is not None, f"section {title!r} of QUERIES.md has no sql block"
        queries[title.strip()] = block.group(1)
    return queries


QUERIES = documented_queries()


@pytest.fixture(scope="module")
def backtest(lean_data: Path) -> Backtest:
    return simulate(read_trade_bars(lean_data, "binance", "btcusdt", "hour"))


@pytest.fixture(params=[True, False], ids=["trades-name-signals", "trades-matched-by-fills"])
def loaded(request: pytest.FixtureRequest, tmp_path: Path, conn: psycopg.Connection,
           backtest: Backtest) -> tuple[psycopg.Connection, int]:
    migrate(conn)
    folder = write_result_folder(tmp_path / "run", backtest, local_runner=True,
                                 trade_signal_ids=request.param)
    assert export_sources(conn, [folder]).failed == ()
    row = conn.execute("SELECT id FROM runs").fetchone()
    assert row is not None
    return conn, row[0]


def run(conn: psycopg.Connection, title: str, **params: Any) -> list[tuple[Any, ...]]:
    return conn.execute(QUERIES[title], params).fetchall()


def test_every_documented_section_has_a_query() -> None:
    assert set(QUERIES) == {"Equity curve of a run", "P&L per day", "Win rate per pattern",
                            "Signals vs fills for a run", "Alerts received vs traded"}


def test_equity_curve(loaded: tuple[psycopg.Connection, int], backtest: Backtest) -> None:
    conn, run_id = loaded
    reference: dict[datetime, float] = {}
    for point in backtest.equity:
        moment = datetime.fromtimestamp(point[0], tz=UTC)
        reference[datetime(moment.year, moment.month, moment.day, tzinfo=UTC)] = point[-1]
    assert run(conn, "Equity curve of a run", run_id=run_id) == list(reference.items())


def test_pnl_per_day(loaded: tuple[psycopg.Connection, int], backtest: Backtest) -> None:
    conn, run_id = loaded
    rows = run(conn, "P&L per day", run_id=run_id)
    reference = daily_sums(backtest.trades)
    wins = Counter(t["exitTime"][:10] for t in backtest.trades if t["profitLoss"] > 0)
    assert [r[0].strftime("%Y-%m-%d") for r in rows] == list(reference)
    for day, pnl, fees, net, trades, won in rows:
        key = day.strftime("%Y-%m-%d")
        assert (pnl, fees, net) == pytest.approx(
            (reference[key][0], reference[key][1], reference[key][0] - reference[key][1]))
        assert (trades, won) == (reference[key][2], wins[key])


def test_win_rate_per_pattern(loaded: tuple[psycopg.Connection, int], backtest: Backtest) -> None:
    conn, run_id = loaded
    signals = {s.id: s for s in backtest.signals}
    entries = {(f.symbol, f.time): f.signal_id for f in backtest.fills if f.quantity > 0}
    results: dict[str, list[float]] = defaultdict(list)
    for trade in backtest.trades:
        signal = signals[entries[(trade["symbol"]["value"], parse_time(trade["entryTime"]))]]
        for hit in signal.patterns:
            results[hit.name].append(trade["profitLoss"])
    rows = run(conn, "Win rate per pattern", run_id=run_id)
    assert {r[0]: (r[1], float(r[2]), r[3]) for r in rows} == {
        name: (len(pnl), pytest.approx(sum(p > 0 for p in pnl) / len(pnl)), pytest.approx(sum(pnl)))
        for name, pnl in results.items()}


def test_signals_vs_fills(loaded: tuple[psycopg.Connection, int], backtest: Backtest) -> None:
    conn, run_id = loaded
    rows = run(conn, "Signals vs fills for a run", run_id=run_id)
    per_signal = Counter(f.signal_id for f in backtest.fills)
    expected = [(from_ns(s.time), per_signal.get(s.id, 0)) for s in backtest.signals]
    assert [(r[0], r[8]) for r in rows] == expected
    assert sum(1 for r in rows if r[8] == 0) == sum(1 for s in backtest.signals if s.id not in per_signal)


def test_alerts_received_vs_traded(loaded: tuple[psycopg.Connection, int], backtest: Backtest) -> None:
    conn, _ = loaded
    entry = next(f for f in backtest.fills if f.quantity > 0)
    before = from_ns(entry.time) - timedelta(minutes=2)
    alerts = [("k1", before, "buy"),                          # followed by the entry fill 2 minutes later
              ("k2", before, "sell"),                         # no sell in the next hour
              ("k3", from_ns(backtest.fills[-1].time) + timedelta(minutes=1), "buy")]  # nothing after
    for key, received, action in alerts:
        conn.execute("INSERT INTO alerts (idempotency_key, received_at, schema_version, ticker, action, "
                     "payload) VALUES (%s, %s, 1, %s, %s, '{}')", (key, received, entry.symbol, action))
    rows = run(conn, "Alerts received vs traded", since=before - timedelta(days=1))
    assert [(r[2], r[5], r[8]) for r in rows] == [
        ("buy", from_ns(entry.time), timedelta(minutes=2)), ("sell", None, None), ("buy", None, None)]
