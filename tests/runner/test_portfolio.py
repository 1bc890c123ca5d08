"""Several symbols share one cash book: events merge in time order; cash limits entries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from alphapulse.bars import Bars, parse_time
from alphapulse.journal import Direction, Signal
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.runner.engine import simulate
from alphapulse_tools.runner.fees import PercentOfValueFee
from alphapulse_tools.runner.trades import Instrument
from tests.runner.replay import CrossoverProbe

FIXED = 2.0


def fixed(signal: Signal, price: float, context) -> float:
    return FIXED


def test_portfolio_is_the_union_of_single_runs_when_cash_is_ample(lean_data: Path) -> None:
    """With a fixed size, exits do not depend on cash: the portfolio's trades are each symbol's own
    trades, and its equity is the start plus the sum of each run's gains."""
    instruments = []
    for symbol in ("BTCUSD", "ETHUSD", "LTCUSD"):
        bars = read_trade_bars(lean_data, "coinbase", symbol, "minute", date(2018, 4, 4), date(2018, 4, 6))
        bars = bars[: (len(bars) // 10) * 10]
        signals = CrossoverProbe(10, symbol=symbol, market="coinbase", interval="1m").signals(bars)
        instruments.append(Instrument(symbol, "coinbase", bars, signals, PercentOfValueFee(0.003),
                                      lot_size=1e-8))
    cash = 1e9
    together = simulate(instruments, cash=cash, sizer=fixed)
    alone = [simulate([inst], cash=cash, sizer=fixed) for inst in instruments]
    key = lambda t: (t.symbol, t.entry_time)  # noqa: E731
    assert sorted(together.trades, key=key) == sorted((t for r in alone for t in r.trades), key=key)
    assert len({t.symbol for t in together.trades}) == 3
    gains = sum(r.end_equity - cash for r in alone)
    assert together.end_equity == pytest.approx(cash + gains, rel=0, abs=1e-4)
    # the merged equity grid covers every symbol's bars
    assert len(together.equity_time) >= max(len(i.bars) for i in instruments)


def _bars(rows: list[tuple[float, float, float, float]], symbol: str) -> Bars:
    o, h, low, c = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    times = parse_time("2024-01-01T00:00:00Z") + 3_600 * 10**9 * np.arange(len(rows))
    return Bars(times, o, h, low, c, np.ones(len(rows)), period=3600, symbol=symbol)


def test_cash_is_shared_and_limits_entries() -> None:
    """A: buys 6 units at 100 (600 of 1,000 cash) at bar 1, holds to bar 4. B: an entry at bar 2
    needs 6 x 100 = 600 + fee but only ~399 is left: skipped. B's entry at bar 5, after A's exit
    freed the cash, is taken."""
    flat = [(100.0, 101.0, 99.0, 100.0)] * 7
    a, b = _bars(flat, "A"), _bars(flat, "B")

    def sig(bars: Bars, symbol: str, i: int, direction: Direction) -> Signal:
        levels = {"entry": 100.0, "stop": 90.0, "target": 130.0} if direction != Direction.FLAT else {}
        return Signal("t", symbol, "binance", "1h", int(bars.time[i]), direction, **levels)  # type: ignore[arg-type]

    inst_a = Instrument("A", "binance", a, [sig(a, "A", 1, Direction.LONG), sig(a, "A", 4, Direction.FLAT)],
                        PercentOfValueFee(0.001), lot_size=1.0)
    inst_b = Instrument("B", "binance", b, [sig(b, "B", 2, Direction.LONG), sig(b, "B", 5, Direction.LONG)],
                        PercentOfValueFee(0.001), lot_size=1.0)
    result = simulate([inst_a, inst_b], cash=1_000.0, sizer=lambda s, p, c: 6.0)
    assert [(t.symbol, t.entry_index) for t in result.trades] == [("A", 1), ("B", 5)]
    assert len(result.skipped) == 1 and "insufficient buying power" in result.skipped[0].reason
    # the end: A's round trip cost two fees of 0.6; B holds 6 units at 100 after paying 0.6
    assert result.end_equity == pytest.approx(1_000.0 - 0.6 * 3)


def test_short_signal_is_refused_on_spot_and_taken_with_margin() -> None:
    rows = [(100.0, 101.0, 99.0, 100.0), (100.0, 101.0, 99.0, 100.0), (100.0, 100.5, 94.0, 95.0),
            (95.0, 96.0, 79.0, 80.0)]
    bars = _bars(rows, "S")
    short = Signal("t", "S", "binance", "1h", int(bars.time[1]), Direction.SHORT, entry=100.0, stop=110.0,
                   target=80.0)
    spot = simulate([Instrument("S", "binance", bars, [short], PercentOfValueFee(0.0), lot_size=1.0)],
                    cash=1_000.0, sizer=lambda s, p, c: 5.0)
    assert spot.trades == [] and "short" in spot.skipped[0].reason
    margin = simulate([Instrument("S", "binance", bars, [short], PercentOfValueFee(0.0), lot_size=1.0,
                                  allow_short=True)], cash=1_000.0, sizer=lambda s, p, c: 5.0)
    (trade,) = margin.trades
    # bar 3 opened at 95 above the target 80 and traded down through it: filled at the target
    assert (trade.exit_index, trade.exit_price, trade.exit_reason) == (3, 80.0, "target")
    assert margin.end_equity == pytest.approx(1_000.0 + 5 * 20)


def test_stop_is_taken_when_stop_and_target_are_in_one_bar() -> None:
    rows = [(100.0, 101.0, 99.0, 100.0), (100.0, 101.0, 99.0, 100.0), (100.0, 140.0, 80.0, 120.0)]
    bars = _bars(rows, "X")
    long = Signal("t", "X", "binance", "1h", int(bars.time[1]), Direction.LONG, entry=100.0, stop=90.0,
                  target=130.0)
    result = simulate([Instrument("X", "binance", bars, [long], PercentOfValueFee(0.0), lot_size=1.0)],
                      cash=1_000.0, sizer=lambda s, p, c: 1.0)
    assert (result.trades[0].exit_reason, result.trades[0].exit_price) == ("stop", 90.0)


def test_gaps_fill_at_the_open() -> None:
    rows = [(100.0, 101.0, 99.0, 100.0), (100.0, 101.0, 99.0, 100.0), (85.0, 86.0, 84.0, 85.0)]
    up = [(100.0, 101.0, 99.0, 100.0), (100.0, 101.0, 99.0, 100.0), (140.0, 141.0, 139.0, 140.0)]
    for rows_, reason, price in ((rows, "stop", 85.0), (up, "target", 140.0)):
        bars = _bars(rows_, "G")
        long = Signal("t", "G", "binance", "1h", int(bars.time[1]), Direction.LONG, entry=100.0, stop=90.0,
                      target=130.0)
        result = simulate([Instrument("G", "binance", bars, [long], PercentOfValueFee(0.0), lot_size=1.0)],
                          cash=1_000.0, sizer=lambda s, p, c: 1.0)
        assert (result.trades[0].exit_reason, result.trades[0].exit_price) == (reason, price)


def test_lot_tick_and_minimum_order() -> None:
    bars = _bars([(100.0, 101.0, 99.0, 100.0)] * 3, "L")
    long = Signal("t", "L", "binance", "1h", int(bars.time[1]), Direction.LONG, entry=100.0,
                  stop=90.123456, target=130.987654)
    inst = Instrument("L", "binance", bars, [long], PercentOfValueFee(0.0), lot_size=0.001, tick_size=0.01,
                      min_order_value=5.0)
    result = simulate([inst], cash=1_000.0, sizer=lambda s, p, c: 1.23456789)
    (trade,) = result.trades
    assert (trade.quantity, trade.stop, trade.target) == (1.234, 90.12, 130.99)
    tiny = simulate([inst], cash=1_000.0, sizer=lambda s, p, c: 0.04)  # 4.0 of value < 5 minimum
    assert tiny.trades == [] and "minimum" in tiny.skipped[0].reason


def test_order_count_matches_the_orders(lean_data: Path) -> None:
    bars = read_trade_bars(lean_data, "coinbase", "BTCUSD", "daily")
    signals = CrossoverProbe(10, symbol="BTCUSD", market="coinbase", interval="1d").signals(bars)
    result = simulate([Instrument("BTCUSD", "coinbase", bars, signals, PercentOfValueFee(0.003), lot_size=1e-8)],
                      cash=1e6, sizer=lambda s, p, c: 1.0)
    assert result.order_count == len(result.orders) > 20
    assert [o.id for o in result.orders] == sorted(o.id for o in result.orders)


@pytest.mark.parametrize("cut", [300, 1111, 2500, 4000])
def test_later_bars_never_change_earlier_trades(shared_data: Path, cut: int) -> None:
    """Simulating a prefix of the data gives the same trades wherever they closed inside it."""
    import pandas as pd

    frame = pd.read_feather(shared_data / "freqtrade" / "LTC_BTC-5m.feather")
    bars = Bars.from_frame(frame, period=300, symbol="LTCBTC")
    signals = CrossoverProbe(12, max_bars=40).signals(bars)
    sizer = lambda s, p, c: 100.0  # noqa: E731
    full = simulate([Instrument("X", "binance", bars, signals, PercentOfValueFee(0.001))], cash=1e4, sizer=sizer)
    head = bars[:cut]
    early = [s for s in signals if s.time < int(head.time[-1]) + 1]
    part = simulate([Instrument("X", "binance", head, early, PercentOfValueFee(0.001))], cash=1e4, sizer=sizer)
    closed_early = [t for t in full.trades if t.is_closed and t.exit_index < cut]
    assert [t for t in part.trades if t.is_closed] == closed_early
    assert np.array_equal(part.equity[: cut - 1], full.equity[: cut - 1])
