"""RSI mean reversion: buy when RSI climbs back out of oversold, sell when it reaches the exit level.

Rules (per bar, on its close; parameters from the contract's ``indicators.rsi`` / ``atr`` / ``risk``):

* LONG when RSI crosses up through ``oversold`` (previous RSI < oversold <= RSI, see below) while still below
  the exit level; entry at the close, stop ``risk.atr_multiple`` ATRs below (ATR stop whatever
  ``risk.stop`` says: the strategy has no pattern), target ``risk.target_multiple`` R above,
  ``risk.max_bars`` time exit;
* FLAT when RSI crosses up through the exit level (``rsi.exit``, default ``overbought``); runtimes
  ignore it when no position is open.

"Crosses up through a level" means previous RSI < level − 1e-9 <= RSI: the slack makes an RSI that
lands exactly on a level count as reaching it in both the batch and the streaming arithmetic (which
agree to ~1e-13, see :mod:`alphapulse.indicators`).

Long only. Warm-up: max(RSI period + 2, ATR period + 1) bars (a cross needs two RSI values).
"""

from __future__ import annotations

import math

import numpy as np

from alphapulse.bars import Bar, Bars
from alphapulse.config import ContractConfig
from alphapulse.indicators import Atr, Rsi, atr, rsi
from alphapulse.journal import Signal
from alphapulse.patterns import check_next_bar
from alphapulse.scoring import atr_stop, entry_signal, exit_signal, rsi_support, valid_levels
from alphapulse.strategies.base import Strategy, StrategyStream

#: how far below a level an RSI still counts as having reached it
LEVEL_SLACK = 1e-9


class RsiMeanReversion(Strategy):
    """The ``rsi-mean-reversion`` strategy for one contract."""

    name = "rsi-mean-reversion"

    def __init__(self, contract: ContractConfig, *, symbol: str | None = None, market: str = "") -> None:
        self.contract = contract
        self.symbol = symbol or contract.symbol
        self.market = market
        settings = contract.indicators.rsi
        self.rsi_period = settings.period
        self.oversold = settings.oversold
        self.entry_line = settings.oversold - LEVEL_SLACK
        self.overbought = settings.overbought
        self.exit_level = settings.exit_level
        self.exit_line = settings.exit_level - LEVEL_SLACK
        self.atr_period = contract.indicators.atr.period

    @property
    def warm_up_period(self) -> int:
        return max(self.rsi_period + 2, self.atr_period + 1)

    def columns(self, bars: Bars) -> dict[str, np.ndarray]:
        """The indicators the rules read, one value per bar."""
        return {f"rsi_{self.rsi_period}": rsi(bars.close, self.rsi_period),
                f"atr_{self.atr_period}": atr(bars.high, bars.low, bars.close, self.atr_period)}

    def decide(self, time: int, close: float, previous_rsi: float, current_rsi: float,
               current_atr: float) -> Signal | None:
        """The rule on one bar's values (shared by the batch and the streaming path)."""
        if previous_rsi < self.exit_line <= current_rsi:
            return exit_signal(strategy=self.name, symbol=self.symbol, market=self.market,
                               interval=self.contract.timeframe, time=time,
                               reason=f"RSI crossed above {self.exit_level:g}")
        if not previous_rsi < self.entry_line <= current_rsi or math.isnan(current_atr):
            return None
        risk = self.contract.risk
        stop = atr_stop(1, close, current_atr, risk.atr_multiple)
        if not valid_levels(1, close, stop, risk.target_multiple):
            return None
        support = float(rsi_support(current_rsi, 1, self.oversold, self.overbought))
        return entry_signal(
            strategy=self.name, symbol=self.symbol, market=self.market,
            interval=self.contract.timeframe, time=time, direction=1, entry=close, stop=stop,
            r_multiple=risk.target_multiple, factors={"rsi": support}, score=support,
            reason=f"RSI crossed up through {self.oversold:g}", max_bars=risk.max_bars)

    def signals(self, bars: Bars) -> list[Signal]:
        columns = self.columns(bars)
        values, ranges = columns[f"rsi_{self.rsi_period}"], columns[f"atr_{self.atr_period}"]
        previous = np.concatenate(([np.nan], values[:-1]))
        candidates = ((previous < self.entry_line) & (values >= self.entry_line)) | (
            (previous < self.exit_line) & (values >= self.exit_line))
        out = []
        for i in np.flatnonzero(candidates).tolist():
            signal = self.decide(int(bars.time[i]), float(bars.close[i]), float(previous[i]),
                                 float(values[i]), float(ranges[i]))
            if signal is not None:
                out.append(signal)
        return out

    def stream(self) -> StrategyStream:
        return _RsiStream(self)


class _RsiStream(StrategyStream):
    def __init__(self, strategy: RsiMeanReversion) -> None:
        self.strategy = strategy
        self._rsi = Rsi(strategy.rsi_period)
        self._atr = Atr(strategy.atr_period)
        self._previous = math.nan
        self._time: int | None = None

    @property
    def is_ready(self) -> bool:
        return self._rsi.samples >= self.strategy.warm_up_period

    def update(self, bar: Bar) -> Signal | None:
        check_next_bar(bar, self._time, f"{self.strategy.name} {self.strategy.symbol}")
        self._time = bar.time
        self._rsi.update(bar)
        self._atr.update(bar)
        current = float(self._rsi.value)  # type: ignore[arg-type]
        previous, self._previous = self._previous, current
        if math.isnan(previous) or math.isnan(current):
            return None
        return self.strategy.decide(bar.time, bar.close, previous, current,
                                    float(self._atr.value))  # type: ignore[arg-type]
