"""The runner's trades equal backtesting.py's for the same signals, on real market data.

Both engines get the same signals (computed once by the strategy), the same relative commission
and the same sizing rule; backtesting.py runs with ``trade_on_close=True`` (market orders at the
signal bar's close), stop-loss/take-profit orders from the next bar on (a gap fills at the open,
and when both are inside one bar its stop-loss is processed first, like the runner), whole units.
The trade lists must be identical: entry bar, exit bar, entry and exit price, quantity and fees.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphapulse.bars import Bars
from alphapulse.lean_data import read_trade_bars
from alphapulse.strategies.base import Strategy
from alphapulse_tools.runner.engine import simulate
from alphapulse_tools.runner.fees import PercentOfValueFee
from alphapulse_tools.runner.trades import Instrument
from tests.runner.replay import CrossoverProbe, RiskRule, backtesting_trades

COMMISSION = 0.001


def _freqtrade(shared_data: Path, name: str) -> Bars:
    frame = pd.read_feather(shared_data / "freqtrade" / name)
    times = frame["date"].dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64)
    return Bars(times, frame["open"], frame["high"], frame["low"], frame["close"], frame["volume"],
                period=300, symbol=name)


def datasets(shared_data: Path) -> dict[str, Bars]:
    lean = shared_data / "lean"
    return {
        "binance-btcusdt-1h": read_trade_bars(lean, "binance", "BTCUSDT", "hour"),
        "coinbase-btcusd-1d": read_trade_bars(lean, "coinbase", "BTCUSD", "daily"),
        "spy-1d": read_trade_bars(lean, "usa", "SPY", "daily"),
        "spy-1h-2019-2021": read_trade_bars(lean, "usa", "SPY", "hour").between(
            int(pd.Timestamp("2019-01-01", tz="UTC").value), None),
        "eth-btc-5m": _freqtrade(shared_data, "ETH_BTC-5m.feather"),
    }


def compare(bars: Bars, strategy: Strategy, *, cash: float, rule: RiskRule) -> int:
    return compare_signals(bars, strategy.signals(bars), cash=cash, rule=rule)


def compare_signals(bars: Bars, signals: list, *, cash: float, rule: RiskRule, allow_short: bool = False) -> int:
    instrument = Instrument("TEST", "binance", bars, signals, PercentOfValueFee(COMMISSION), lot_size=1.0,
                            allow_short=allow_short)
    ours = simulate([instrument], cash=cash, sizer=rule.size)
    closed = [t for t in ours.trades if t.is_closed]
    reference = backtesting_trades(bars, signals, cash=cash, commission=COMMISSION, rule=rule)
    reference = reference[reference["ExitBar"].notna()]
    mine = pd.DataFrame({
        "EntryBar": [t.entry_index for t in closed], "ExitBar": [t.exit_index for t in closed],
        "EntryPrice": [t.entry_price for t in closed], "ExitPrice": [t.exit_price for t in closed],
        "Size": [int(t.direction) * t.quantity for t in closed], "Commission": [t.fees for t in closed]})
    theirs = pd.DataFrame({
        "EntryBar": reference["EntryBar"].astype(int).to_list(),
        "ExitBar": reference["ExitBar"].astype(int).to_list(),
        "EntryPrice": reference["EntryPrice"].astype(float).to_list(),
        "ExitPrice": reference["ExitPrice"].astype(float).to_list(),
        "Size": reference["Size"].astype(float).to_list(),
        "Commission": reference["Commission"].astype(float).to_list()})
    pd.testing.assert_frame_equal(mine, theirs, check_exact=True, check_dtype=False)
    return len(mine)


@pytest.mark.parametrize("name", ["binance-btcusdt-1h", "coinbase-btcusd-1d", "spy-1d",
                                  "spy-1h-2019-2021", "eth-btc-5m"])
def test_probe_strategy_trades_equal_backtesting_py(shared_data: Path, name: str) -> None:
    bars = datasets(shared_data)[name]
    n = 5 if len(bars) < 500 else 20
    # cash scaled to the price so that whole-unit sizes are large and rounding is rare
    cash = float(bars.close[0]) * 1e5
    count = compare(bars, CrossoverProbe(n), cash=cash, rule=RiskRule(0.02, 0.5))
    assert count >= 3, f"too few trades on {name} to compare anything"


def test_exit_kinds_are_all_exercised(shared_data: Path) -> None:
    """The comparison covers stops, targets, time exits, FLAT exits and a gap through a stop."""
    from alphapulse_tools.runner.trades import EXIT_FLAT, EXIT_STOP, EXIT_TARGET, EXIT_TIME

    reasons: set[str] = set()
    gaps = 0
    for bars in datasets(shared_data).values():
        n = 5 if len(bars) < 500 else 20
        signals = CrossoverProbe(n).signals(bars)
        inst = Instrument("TEST", "binance", bars, signals, PercentOfValueFee(COMMISSION), lot_size=1.0)
        result = simulate([inst], cash=float(bars.close[0]) * 1e5, sizer=RiskRule().size)
        for t in result.trades:
            reasons.add(t.exit_reason)
            if t.exit_reason == EXIT_STOP and t.stop is not None and t.exit_price < t.stop:
                gaps += 1
    assert {EXIT_STOP, EXIT_TARGET, EXIT_TIME, EXIT_FLAT} <= reasons
    assert gaps > 0


@pytest.mark.parametrize("strategy_name", ["pattern-confluence", "rsi-mean-reversion", "macd-crossover"])
@pytest.mark.parametrize("max_bars", [None, 24])
def test_strategy_trades_equal_backtesting_py(shared_data: Path, strategy_name: str,
                                              max_bars: int | None) -> None:
    """Each real strategy (default contract, with and without a time exit) on every dataset."""
    from alphapulse.config import ContractConfig
    from alphapulse.strategies import STRATEGIES, create_strategy

    if strategy_name not in STRATEGIES:
        pytest.skip(f"{strategy_name} is not in alphapulse.strategies yet")
    contract = ContractConfig.from_dict("TEST", {"risk": {"max_bars": max_bars}})
    total = 0
    for bars in datasets(shared_data).values():
        strategy = create_strategy(strategy_name, contract, symbol="TEST", market="binance")
        if len(bars) <= strategy.warm_up_period:
            continue
        total += compare(bars, strategy, cash=float(bars.close[0]) * 1e5, rule=RiskRule(0.02, 0.5))
    assert total >= 20, f"{strategy_name}: only {total} trades over all datasets"


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_signals_on_random_bars_equal_backtesting_py(data: st.DataObject) -> None:
    """Random walks with gaps, random long and short entries (stop/target near the close, shorts
    allowed as on margin), FLATs and time exits."""
    from alphapulse.journal import Direction, Signal

    n = data.draw(st.integers(20, 160), label="bars")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    gap = rng.normal(0, 0.004, n) * (rng.random(n) < 0.3)
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(gap)
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.004, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.004, n)))
    times = 1_700_000_000 * 10**9 + 3_600 * 10**9 * np.arange(n, dtype=np.int64)
    bars = Bars(times, np.round(open_, 2), np.round(np.maximum(high, np.maximum(open_, close)), 2),
                np.round(np.minimum(low, np.minimum(open_, close)), 2), np.round(close, 2), np.ones(n),
                period=3600)
    signals = []
    for i in range(1, n):
        kind = rng.random()
        c = float(bars.close[i])
        if kind < 0.15:
            side = 1 if rng.random() < 0.7 else -1
            stop = round(c * (1 - side * rng.uniform(0.002, 0.03)), 2)
            target = round(c * (1 + side * rng.uniform(0.002, 0.05)), 2)
            if (stop - c) * side < 0 < (target - c) * side:
                signals.append(Signal("r", "X", "binance", "1h", int(times[i]), Direction(side), entry=c,
                                      stop=stop, target=target,
                                      max_bars=None if rng.random() < 0.5 else int(rng.integers(1, 12))))
        elif kind < 0.22:
            signals.append(Signal("r", "X", "binance", "1h", int(times[i]), Direction.FLAT))
    compare_signals(bars, signals, cash=100.0 * 1e5, rule=RiskRule(0.02, 0.5), allow_short=True)


@pytest.mark.parametrize("rounds", [0, 1])
def test_exit_search_finished_when_taken_gives_the_same_trades(shared_data: Path, rounds: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Candidates whose exit is not found up front finish their search when taken: same trades."""
    from alphapulse_tools.runner import engine

    monkeypatch.setattr(engine, "PRECOMPUTE_ROUNDS", rounds)
    found = datasets(shared_data)
    for name in ("spy-1d", "eth-btc-5m"):
        bars = found[name]
        assert compare(bars, CrossoverProbe(20, max_bars=None), cash=float(bars.close[0]) * 1e5,
                       rule=RiskRule(0.02, 0.5)) > 100
