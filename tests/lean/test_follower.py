"""The TradingView follower: alert rows parsed strictly, batch == streaming, and the Lean algorithm's
orders (alerts read through its PythonData reader from an exported CSV) equal the local runner's
simulation of the same signals."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from alphapulse.alerts import FEED_COLUMNS, TradingViewFollower, parse_feed_line, read_feed
from alphapulse.bars import Bars, format_time
from alphapulse.config import ContractConfig, load_contracts
from alphapulse.errors import DataError
from alphapulse.intervals import warm_up_days
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.runner.backtest import risk_sizer, symbol_rules
from alphapulse_tools.runner.engine import simulate
from alphapulse_tools.runner.fees import fee_model_for
from alphapulse_tools.runner.trades import Instrument
from tests.lean.qc_double import SymbolPropertiesDouble, run_algorithm

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "algorithms" / "TradingViewFollower" / "main.py"
DAY = 86_400 * 10**9


def alerts_csv(bars: Bars, symbol: str, every: int = 37, hold: int = 11) -> str:
    """A feed export with a buy every ``every`` bars and a close ``hold`` bars later (received 5 s
    after the alert's bar closed), in the webhook's CSV format."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FEED_COLUMNS)
    number = 0
    for i in range(every, len(bars) - hold, every):
        for j, action in ((i, "buy"), (i + hold, "close")):
            number += 1
            received = int(bars.time[j]) + bars.period * 10**9 + 5 * 10**9
            writer.writerow([f"{1000 + number}.{number}", number, format_time(received), format_time(int(bars.time[j])),
                             symbol, "COINBASE", "1D", action, repr(float(bars.close[j])), "", "", "", "test", ""])
    return out.getvalue()


def test_feed_rows_are_parsed_strictly() -> None:
    header = ",".join(FEED_COLUMNS)
    assert parse_feed_line(header) is None and parse_feed_line("  ") is None
    row = "7.3,3,2024-01-01T01:00:05Z,2024-01-01T00:00:00Z,btcusdt,BINANCE,60,BUY,42000.5,1,,abc,s,hello"
    alert = parse_feed_line(row)
    assert alert is not None and alert.ticker == "BTCUSDT" and alert.action == "buy" and alert.price == 42000.5
    for bad, message in [
        ("1,2,3", "3 columns"),
        (row.replace("BUY", "hold"), "action 'hold'"),
        (row.replace("42000.5", "-1"), "positive number"),
        (row.replace("2024-01-01T00:00:00Z", ""), "bar_time is empty"),
        (row.replace("2024-01-01T00:00:00Z", "yesterday"), "malformed alert row"),
    ]:
        with pytest.raises(DataError, match=message):
            parse_feed_line(bad)
    with pytest.raises(DataError, match="line 2"):
        read_feed(header + "\n" + "1,2,3\n")


def test_batch_equals_streaming_on_real_data(lean_data: Path) -> None:
    bars = read_trade_bars(lean_data, "coinbase", "BTCUSD", "daily")
    contract = ContractConfig.from_dict("BTCUSD", {"timeframe": "1d"})
    alerts = read_feed(alerts_csv(bars, "BTCUSD"))
    strategy = TradingViewFollower(contract, symbol="BTCUSD", market="coinbase", alerts=alerts)
    batch = strategy.signals(bars)
    stream = strategy.stream()
    streamed = [s for s in (stream.update(bar) for bar in bars) if s is not None]
    assert len(batch) > 20
    # the streaming ATR is a recursion equal to TA-Lib's up to the last bits (see alphapulse.indicators):
    # the signal bars, directions and reasons are identical, the levels equal to 1e-12 relative
    assert [(s.time, s.direction, s.reason, s.entry) for s in streamed] == \
        [(s.time, s.direction, s.reason, s.entry) for s in batch]
    for a, b in zip(streamed, batch, strict=True):
        assert (a.stop is None) == (b.stop is None)
        if a.stop is not None and b.stop is not None and a.target is not None and b.target is not None:
            assert a.stop == pytest.approx(b.stop, rel=1e-12) and a.target == pytest.approx(b.target, rel=1e-12)
    # no look-ahead: cutting the history never changes an earlier signal
    cut = int(bars.time[len(bars) // 2])
    assert strategy.signals(bars.between(None, cut)) == [s for s in batch if s.time < cut]


def test_follower_algorithm_orders_equal_the_runner(lean_data: Path, tmp_path: Path) -> None:
    market, symbol, start, end = "coinbase", "BTCUSD", date(2015, 9, 1), date(2018, 8, 13)
    bars = read_trade_bars(lean_data, market, symbol, "daily")
    (tmp_path / "alerts.csv").write_text(alerts_csv(bars, symbol))
    (tmp_path / "contracts.json").write_text(json.dumps({symbol: {"timeframe": "1d"}}))
    props = symbol_rules(lean_data, market, symbol)
    fee_model = fee_model_for(market)
    algorithm = run_algorithm(
        MAIN, {"symbols": symbol, "market": market, "start": start.isoformat(), "end": end.isoformat(),
               "contracts": str(tmp_path / "contracts.json"), "alerts_csv": str(tmp_path / "alerts.csv")},
        {symbol: bars},
        properties={symbol: SymbolPropertiesDouble(props.quote_currency, props.lot_size,
                                                   props.min_order_value or props.min_order_size, props.tick_size)},
        fee=lambda quantity, price, kind: fee_model.fee(quantity, price, kind, 0))
    assert algorithm.sources[0].source == str(tmp_path / "alerts.csv")
    actual = sorted((int(o.time.timestamp()), round(o.quantity, 10), o.type, o.stop_price, o.limit_price)
                    for o in algorithm.orders if o.status != "invalid")

    contract = load_contracts(tmp_path / "contracts.json").for_symbol(symbol)
    strategy = TradingViewFollower(contract, symbol=symbol, market=market,
                                   alerts=read_feed((tmp_path / "alerts.csv").read_text()))
    first = start - timedelta(days=warm_up_days(strategy.warm_up_period, 86_400, market))
    history = read_trade_bars(lean_data, market, symbol, "daily", first, end)
    start_ns = int(history.time[history.time >= (start - date(1970, 1, 1)).days * DAY][0])
    window = history.between(start_ns, None)
    signals = [s for s in strategy.signals(history) if s.time >= start_ns]
    result = simulate([Instrument(symbol, market, window, signals, fee_model, props.lot_size, props.min_order_size,
                                  props.min_order_value, props.tick_size, False, props.quote_currency)],
                      cash=100_000.0, sizer=risk_sizer(contract.risk, {symbol: contract.risk}))
    expected = sorted((o.time // 10**9, round(o.quantity, 10), o.type, o.stop_price, o.limit_price)
                      for o in result.orders)
    assert len(expected) > 20
    assert actual == expected


def test_malformed_rows_are_logged_and_skipped(lean_data: Path, tmp_path: Path) -> None:
    bars = read_trade_bars(lean_data, "coinbase", "BTCUSD", "daily")
    text = alerts_csv(bars, "BTCUSD")
    lines = text.splitlines()
    lines.insert(3, "not,a,valid,row")
    (tmp_path / "alerts.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "contracts.json").write_text(json.dumps({"BTCUSD": {"timeframe": "1d"}}))
    algorithm = run_algorithm(MAIN, {"symbols": "BTCUSD", "market": "coinbase", "start": "2015-09-01",
                                     "end": "2018-08-13", "contracts": str(tmp_path / "contracts.json"),
                                     "alerts_csv": str(tmp_path / "alerts.csv")}, {"BTCUSD": bars})
    assert any("skipped a malformed alert row" in line and "4 columns" in line for line in algorithm.logs)
    assert any(o.status == "filled" for o in algorithm.orders)
