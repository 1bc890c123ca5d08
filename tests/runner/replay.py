"""Test support: a small strategy of the tests' own and backtesting.py replaying the same signals.

``CrossoverProbe`` is deliberately simple (close crossing its SMA, stop under the recent low,
target at 2R, time exit, FLAT on a cross down) so that entries, stops, targets, time exits and
FLAT exits all occur on real data. ``backtesting_trades`` feeds the same signals to backtesting.py
(``trade_on_close=True``, same relative commission, ``buy(size=..., sl=..., tp=...)``,
``position.close()`` for FLAT and time exits) and returns its trade list. Quantities are whole
units (lot size 1) because backtesting.py trades whole units; the cash is scaled so that sizes are
large integers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alphapulse.bars import Bar, Bars
from alphapulse.journal import Direction, Signal
from alphapulse.strategies.base import Strategy, StrategyStream
from alphapulse_tools.runner.trades import Candidates, SizingContext


@dataclass(frozen=True)
class RiskRule:
    """Risk per trade and maximum position as fractions of equity."""

    risk_per_trade: float = 0.02
    max_position: float = 0.5

    def size(self, signal: Signal, price: float, context: SizingContext) -> float:
        return self.units(price, signal.stop, context.equity)

    def units(self, price: float, stop: float | None, equity: float) -> float:
        assert stop is not None
        return min(equity * self.risk_per_trade / abs(price - stop), equity * self.max_position / price)


@dataclass(frozen=True)
class FractionRule(RiskRule):
    """:class:`RiskRule`'s limits as one share of equity, ``equity × min(r / |entry − stop|, m / entry)``:
    a :class:`~alphapulse_tools.runner.trades.FractionSizer` (RiskRule's sizes up to the last bit of
    the float arithmetic)."""

    def __call__(self, signal: Signal, price: float, context: SizingContext) -> float:
        return self.units(price, signal.stop, context.equity)

    def units(self, price: float, stop: float | None, equity: float) -> float:
        assert stop is not None
        return equity * min(self.risk_per_trade / abs(price - stop), self.max_position / price)

    def fractions(self, candidates: Candidates) -> np.ndarray:
        return np.minimum(self.risk_per_trade / np.abs(candidates.price - candidates.stop),
                          self.max_position / candidates.price)


class CrossoverProbe(Strategy):
    """LONG when the close crosses above its SMA(n); FLAT when it crosses below SMA(2n)."""

    name = "crossover-probe"

    def __init__(self, n: int = 20, *, symbol: str = "TEST", market: str = "binance",
                 interval: str = "1h", max_bars: int | None = 30, target_r: float = 2.0) -> None:
        self.n, self.symbol, self.market, self.interval = n, symbol, market, interval
        self.max_bars, self.target_r = max_bars, target_r

    @property
    def warm_up_period(self) -> int:
        return 2 * self.n + 1

    def signals(self, bars: Bars) -> list[Signal]:
        close = pd.Series(bars.close)
        fast = close.rolling(self.n).mean().to_numpy()
        slow = close.rolling(2 * self.n).mean().to_numpy()
        low = pd.Series(bars.low).rolling(self.n).min().to_numpy()
        c = bars.close
        up = np.zeros(len(c), dtype=bool)
        down = np.zeros(len(c), dtype=bool)
        up[1:] = (c[1:] > fast[1:]) & (c[:-1] <= fast[:-1])
        down[1:] = (c[1:] < slow[1:]) & (c[:-1] >= slow[:-1])
        out: list[Signal] = []
        for i in np.flatnonzero(up | down):
            if i < self.warm_up_period:
                continue
            t = int(bars.time[i])
            if up[i] and low[i] < c[i]:
                risk = c[i] - low[i]
                out.append(Signal(self.name, self.symbol, self.market, self.interval, t, Direction.LONG,
                                  entry=float(c[i]), stop=float(low[i]),
                                  target=float(c[i] + self.target_r * risk), max_bars=self.max_bars))
            elif down[i]:
                out.append(Signal(self.name, self.symbol, self.market, self.interval, t, Direction.FLAT))
        return out

    def stream(self) -> StrategyStream:
        return _RecomputingStream(self)


class _RecomputingStream(StrategyStream):
    def __init__(self, strategy: CrossoverProbe) -> None:
        self.strategy = strategy
        self.bars: list[Bar] = []

    def update(self, bar: Bar) -> Signal | None:
        self.bars.append(bar)
        found = self.strategy.signals(Bars.from_bars(self.bars))
        return found[-1] if found and found[-1].time == bar.time else None

    @property
    def is_ready(self) -> bool:
        return len(self.bars) >= self.strategy.warm_up_period


def backtesting_trades(bars: Bars, signals: list[Signal], *, cash: float, commission: float,
                       rule: RiskRule) -> pd.DataFrame:
    """backtesting.py's trade list for ``signals`` replayed on ``bars`` (see the module docstring)."""
    from backtesting import Backtest
    from backtesting import Strategy as BtStrategy

    index = {int(t): i for i, t in enumerate(bars.time)}
    entries = {index[s.time]: s for s in signals if s.direction != Direction.FLAT}
    flats = {index[s.time] for s in signals if s.direction == Direction.FLAT}

    class Replay(BtStrategy):
        def init(self) -> None:
            pass

        def next(self) -> None:
            i = len(self.data) - 1
            price = float(self.data.Close[-1])
            equity = self.equity
            closing = False
            if self.trades:
                trade = self.trades[0]
                held = i - trade.entry_bar
                signal = trade.tag
                if i in flats or (signal.max_bars is not None and held >= signal.max_bars):
                    self.position.close()
                    closing = True
                    # the exit fills first (at this close) and pays its fee before the next entry
                    equity -= abs(trade.size) * price * commission
            signal = entries.get(i)
            if signal is not None and (closing or not self.trades):
                units = int(np.floor(rule.units(price, signal.stop, equity) + 1e-9))
                if units >= 1:
                    order = self.buy if signal.direction == Direction.LONG else self.sell
                    order(size=units, sl=signal.stop, tp=signal.target, tag=signal)

    # backtesting.py fills a market order placed on a bar while processing the next bar (at the
    # previous close with trade_on_close), so an order placed on the last bar would never fill; Lean
    # fills it at that close. One flat bar at the last close is appended (it can reach no stop or
    # target and carries no signal) so that such an order fills, as in Lean.
    last = float(bars.close[-1])
    frame = pd.DataFrame({"Open": [*bars.open, last], "High": [*bars.high, last], "Low": [*bars.low, last],
                          "Close": [*bars.close, last], "Volume": [*bars.volume, 0.0]},
                         index=pd.DatetimeIndex(np.append(bars.time, bars.time[-1] + 1).astype("datetime64[ns]")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        test = Backtest(frame, Replay, cash=cash, commission=commission, trade_on_close=True,
                        hedging=False, exclusive_orders=False)
        stats = test.run()
    return stats["_trades"]
