"""MACD crossover: buy when the MACD line crosses above its signal line, sell on the cross down.

Rules (per bar, on its close; parameters from the contract's ``indicators.macd`` / ``ema`` /
``atr`` / ``risk``):

* LONG when the histogram (MACD − signal) turns positive: previous <= 0 < current, where values
  within ``1e-9 × close`` of zero count as zero (so that last-bit differences between the batch
  and the streaming arithmetic cannot create or hide a cross). Optional filters: ``above_zero``
  (MACD line > 0) and ``trend_filter`` (close above the longest configured EMA). Entry at the
  close, stop ``risk.atr_multiple`` ATRs below, target ``risk.target_multiple`` R above,
  ``risk.max_bars`` time exit;
* FLAT when the histogram turns negative (previous >= 0 > current, same dead band).

Long only. Warm-up: max(slow + signal, ATR period + 1, longest EMA when trend-filtered) bars.
"""

from __future__ import annotations

import math

import numpy as np

from alphapulse.bars import Bar, Bars
from alphapulse.config import ContractConfig
from alphapulse.indicators import Atr, Ema, Macd, MacdValue, atr, ema, macd
from alphapulse.journal import Signal
from alphapulse.patterns import check_next_bar
from alphapulse.scoring import atr_stop, entry_signal, exit_signal, valid_levels
from alphapulse.strategies.base import Strategy, StrategyStream

#: histogram values within this fraction of the close count as zero
DEAD_BAND = 1e-9


class MacdCrossover(Strategy):
    """The ``macd-crossover`` strategy for one contract."""

    name = "macd-crossover"

    def __init__(self, contract: ContractConfig, *, symbol: str | None = None, market: str = "") -> None:
        self.contract = contract
        self.symbol = symbol or contract.symbol
        self.market = market
        self.settings = contract.indicators.macd
        self.atr_period = contract.indicators.atr.period
        self.trend_period = max(contract.indicators.ema) if self.settings.trend_filter else None

    @property
    def warm_up_period(self) -> int:
        return max(self.settings.slow + self.settings.signal, self.atr_period + 1, self.trend_period or 0)

    def columns(self, bars: Bars) -> dict[str, np.ndarray]:
        """The indicators the rules read, one value per bar."""
        s = self.settings
        line, signal, histogram = macd(bars.close, s.fast, s.slow, s.signal)
        out = {"macd": line, "macd_signal": signal, "macd_histogram": histogram,
               f"atr_{self.atr_period}": atr(bars.high, bars.low, bars.close, self.atr_period)}
        if self.trend_period is not None:
            out[f"ema_{self.trend_period}"] = ema(bars.close, self.trend_period)
        return out

    def decide(self, time: int, close: float, previous_histogram: float, histogram: float,
               line: float, current_atr: float, trend: float) -> Signal | None:
        """The rule on one bar's values (shared by the batch and the streaming path)."""
        band = DEAD_BAND * close
        if previous_histogram >= -band and histogram < -band:
            return exit_signal(strategy=self.name, symbol=self.symbol, market=self.market,
                               interval=self.contract.timeframe, time=time,
                               reason="MACD crossed below its signal line")
        if not (previous_histogram <= band < histogram) or math.isnan(current_atr):
            return None
        if self.settings.above_zero and not line > 0:
            return None
        if self.trend_period is not None and not close > trend:
            return None
        risk = self.contract.risk
        stop = atr_stop(1, close, current_atr, risk.atr_multiple)
        if not valid_levels(1, close, stop, risk.target_multiple):
            return None
        return entry_signal(
            strategy=self.name, symbol=self.symbol, market=self.market,
            interval=self.contract.timeframe, time=time, direction=1, entry=close, stop=stop,
            r_multiple=risk.target_multiple, factors={"trend": 1.0} if self.trend_period else {}, score=1.0,
            reason="MACD crossed above its signal line", max_bars=risk.max_bars)

    def signals(self, bars: Bars) -> list[Signal]:
        columns = self.columns(bars)
        histogram = columns["macd_histogram"]
        previous = np.concatenate(([np.nan], histogram[:-1]))
        band = DEAD_BAND * bars.close
        candidates = ((previous <= band) & (histogram > band)) | ((previous >= -band) & (histogram < -band))
        line, ranges = columns["macd"], columns[f"atr_{self.atr_period}"]
        trend = columns.get(f"ema_{self.trend_period}", np.full(len(bars), np.nan))
        out = []
        for i in np.flatnonzero(candidates).tolist():
            signal = self.decide(int(bars.time[i]), float(bars.close[i]), float(previous[i]),
                                 float(histogram[i]), float(line[i]), float(ranges[i]), float(trend[i]))
            if signal is not None:
                out.append(signal)
        return out

    def stream(self) -> StrategyStream:
        return _MacdStream(self)


class _MacdStream(StrategyStream):
    def __init__(self, strategy: MacdCrossover) -> None:
        s = strategy.settings
        self.strategy = strategy
        self._macd = Macd(s.fast, s.slow, s.signal)
        self._atr = Atr(strategy.atr_period)
        self._trend = Ema(strategy.trend_period) if strategy.trend_period else None
        self._previous = math.nan
        self._time: int | None = None

    @property
    def is_ready(self) -> bool:
        return self._macd.samples >= self.strategy.warm_up_period

    def update(self, bar: Bar) -> Signal | None:
        check_next_bar(bar, self._time, f"{self.strategy.name} {self.strategy.symbol}")
        self._time = bar.time
        self._macd.update(bar)
        self._atr.update(bar)
        trend = math.nan
        if self._trend is not None:
            self._trend.update(bar)
            trend = float(self._trend.value)  # type: ignore[arg-type]
        value = self._macd.value
        assert isinstance(value, MacdValue)
        previous, self._previous = self._previous, value.histogram
        if math.isnan(previous) or math.isnan(value.histogram):
            return None
        return self.strategy.decide(bar.time, bar.close, previous, value.histogram, value.macd,
                                    float(self._atr.value), trend)  # type: ignore[arg-type]
