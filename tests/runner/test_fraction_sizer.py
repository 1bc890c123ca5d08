"""Sizing by fractions of equity (:class:`FractionSizer`) gives what calling the same sizer at each
entry gives, on real data, in both loops of the simulation and with every skip rule; the trades
equal backtesting.py's; lots and price levels are rounded as :func:`alphapulse.risk.round_quantity`
and :func:`alphapulse.risk.round_price` round them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphapulse.bars import Bars
from alphapulse.config import ContractConfig
from alphapulse.errors import StrategyError
from alphapulse.journal import Direction, Signal
from alphapulse.lean_data import read_trade_bars
from alphapulse.risk import round_price, round_quantity
from alphapulse.strategies import create_strategy
from alphapulse_tools.runner.engine import simulate
from alphapulse_tools.runner.fees import CoinbaseFee, PercentOfValueFee
from alphapulse_tools.runner.trades import Candidates, FractionSizer, Instrument, SizingContext
from tests.runner.replay import CrossoverProbe, FractionRule, backtesting_trades

HOUR = 3_600_000_000_000


@dataclasses.dataclass(frozen=True)
class Cycling:
    """Fractions that cycle with the signal's hour: none, a sliver (below the minimum order), 2% of
    equity at risk capped at ``cap`` × equity of position value (above 1: some refused for cash)."""

    cap: float = 1.2

    def _fraction(self, hour: int, price: float, stop: float) -> float:
        return (0.0, 3e-4 / price, min(0.02 / abs(price - stop), self.cap / price))[hour % 3]

    def __call__(self, signal: Signal, price: float, context: SizingContext) -> float:
        assert signal.stop is not None
        return context.equity * self._fraction(signal.time // HOUR, price, signal.stop)

    def fractions(self, candidates: Candidates) -> np.ndarray:
        hours = ((candidates.time // HOUR) - 1) % 3  # entry fill time = signal bar start + 1 hour
        sliver = 3e-4 / candidates.price
        risk = np.minimum(0.02 / np.abs(candidates.price - candidates.stop), self.cap / candidates.price)
        return np.choose(hours, [np.zeros(len(hours)), sliver, risk])


def _signals(bars: Bars) -> list[Signal]:
    contract = ContractConfig.from_dict("BTCUSDT", {
        "timeframe": "1h", "patterns": ["CDLENGULFING", "CDLHAMMER", "CDLHARAMI", "CDLSHOOTINGSTAR"],
        "min_confidence": 0.0, "min_score": 0.0, "risk": {"allow_short": True, "max_bars": 30}})
    return create_strategy("pattern-confluence", contract, symbol="BTCUSDT", market="binance").signals(bars)


def _called(sizer):
    """The same sizer as a plain callable (its fractions hidden)."""
    return lambda signal, price, context: sizer(signal, price, context)


def _outcome(result) -> tuple:
    return (result.trades, [(s.signal, s.reason) for s in result.skipped], result.cash)


@pytest.mark.parametrize("allow_short", [False, True])
@pytest.mark.parametrize("fee", ["percent", "coinbase"])
@pytest.mark.parametrize("sizer", [Cycling(), FractionRule(0.02, 1.2)], ids=["cycling", "risk"])
def test_fractions_equal_calling_the_sizer(lean_data: Path, allow_short: bool, fee: str, sizer) -> None:
    assert isinstance(sizer, FractionSizer)
    bars = read_trade_bars(lean_data, "bitfinex", "BTCUSD", "hour")
    model = PercentOfValueFee(0.001) if fee == "percent" else CoinbaseFee()
    instrument = Instrument("BTCUSDT", "binance", bars, _signals(bars), model, lot_size=1e-5,
                            min_order_value=5.0, tick_size=0.01, allow_short=allow_short)
    idle = dataclasses.replace(instrument, symbol="IDLE", signals=[])
    by_fraction = simulate([instrument], cash=10_000.0, sizer=sizer)
    by_call = simulate([instrument], cash=10_000.0, sizer=_called(sizer))
    queued = simulate([instrument, idle], cash=10_000.0, sizer=sizer)
    queued_call = simulate([instrument, idle], cash=10_000.0, sizer=_called(sizer))
    assert len(by_fraction.trades) >= 3 and len(by_fraction.skipped) > 20
    assert _outcome(by_fraction) == _outcome(by_call) == _outcome(queued) == _outcome(queued_call)
    assert np.array_equal(by_fraction.equity, by_call.equity)
    assert np.array_equal(by_fraction.equity, queued.equity[np.isin(queued.equity_time, by_fraction.equity_time)])
    reasons = {s.reason.split(" ")[0] for s in by_fraction.skipped}
    assert ("short" in reasons) != allow_short
    assert ({"position", "order"} <= reasons) if isinstance(sizer, Cycling) else ("insufficient" in reasons)


@pytest.mark.parametrize(("market", "symbol", "resolution"), [
    ("binance", "BTCUSDT", "hour"), ("coinbase", "BTCUSD", "daily"), ("usa", "SPY", "daily")])
def test_fraction_sizer_trades_equal_backtesting_py(lean_data: Path, market: str, symbol: str,
                                                    resolution: str) -> None:
    bars = read_trade_bars(lean_data, market, symbol, resolution)
    signals = CrossoverProbe(5 if len(bars) < 500 else 20).signals(bars)
    rule = FractionRule(0.02, 0.5)
    cash = float(bars.close[0]) * 1e5
    ours = simulate([Instrument("TEST", "binance", bars, signals, PercentOfValueFee(0.001), lot_size=1.0)],
                    cash=cash, sizer=rule)
    theirs = backtesting_trades(bars, signals, cash=cash, commission=0.001, rule=rule)
    theirs = theirs[theirs["ExitBar"].notna()]
    closed = [t for t in ours.trades if t.is_closed]
    assert len(closed) >= 3
    mine = pd.DataFrame({"EntryBar": [t.entry_index for t in closed], "ExitBar": [t.exit_index for t in closed],
                         "EntryPrice": [t.entry_price for t in closed], "ExitPrice": [t.exit_price for t in closed],
                         "Size": [int(t.direction) * t.quantity for t in closed],
                         "Commission": [t.fees for t in closed]})
    reference = pd.DataFrame({"EntryBar": theirs["EntryBar"].astype(int).to_list(),
                              "ExitBar": theirs["ExitBar"].astype(int).to_list(),
                              "EntryPrice": theirs["EntryPrice"].astype(float).to_list(),
                              "ExitPrice": theirs["ExitPrice"].astype(float).to_list(),
                              "Size": theirs["Size"].astype(float).to_list(),
                              "Commission": theirs["Commission"].astype(float).to_list()})
    pd.testing.assert_frame_equal(mine, reference, check_exact=True, check_dtype=False)


def _bars(n: int = 12) -> Bars:
    close = np.full(n, 100.0)
    times = np.arange(n, dtype=np.int64) * HOUR
    return Bars(times, close, close + 1.0, close - 1.0, close, np.ones(n), period=3600, symbol="T")


@pytest.mark.parametrize(("raw", "lot"), [
    (0.1 + 0.2, 0.1), (0.7 * 3, 0.1), (2.9999999999999996, 1.0), (3.0000000000000004, 1.0),
    (0.123456789, 1e-5), (1e-9, 1e-8), (12.345, 0.0), (0.29999999999999993, 0.1)])
@pytest.mark.parametrize("instruments", [1, 2])
def test_quantities_are_rounded_like_round_quantity(raw: float, lot: float, instruments: int) -> None:
    bars = _bars()
    signals = [Signal("t", "T", "binance", "1h", int(bars.time[i]), Direction.LONG, entry=100.0, stop=90.0,
                      target=150.0, max_bars=2) for i in (0, 4, 8)]
    inst = Instrument("T", "binance", bars, signals, PercentOfValueFee(0.0), lot_size=lot)
    others = [dataclasses.replace(inst, symbol="IDLE", signals=[])] * (instruments - 1)
    result = simulate([inst, *others], cash=1e6, sizer=lambda signal, price, context: raw)
    expected = round_quantity(raw, lot)
    if expected > 0:
        assert [t.quantity for t in result.trades] == [expected] * 3
    else:
        assert result.trades == []
        assert [s.reason for s in result.skipped] == ["position size rounds to zero"] * 3


@pytest.mark.parametrize("tick", [0.01, 0.5, 0.03])
def test_levels_are_rounded_like_round_price(lean_data: Path, tick: float) -> None:
    bars = read_trade_bars(lean_data, "bitfinex", "BTCUSD", "hour")
    inst = Instrument("BTCUSDT", "binance", bars, _signals(bars), PercentOfValueFee(0.001), lot_size=1e-5,
                      tick_size=tick, allow_short=True)
    result = simulate([inst], cash=1e6, sizer=FractionRule(0.01, 0.2))
    assert len(result.trades) > 20
    for trade in result.trades:
        signal = trade.signal
        assert signal.stop is not None and signal.target is not None
        assert trade.stop == round_price(signal.stop, tick)
        assert trade.target == round_price(signal.target, tick)


def test_fractions_of_the_wrong_length_are_refused() -> None:
    class Short:
        def __call__(self, signal: Signal, price: float, context: SizingContext) -> float:
            return 1.0

        def fractions(self, candidates: Candidates) -> np.ndarray:
            return np.ones(len(candidates.price) + 1)

    bars = _bars()
    signal = Signal("t", "T", "binance", "1h", int(bars.time[0]), Direction.LONG, entry=100.0, stop=90.0)
    with pytest.raises(StrategyError, match="one per candidate"):
        simulate([Instrument("T", "binance", bars, [signal], PercentOfValueFee(0.0))], cash=1e4, sizer=Short())
