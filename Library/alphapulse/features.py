"""Features of a signal known on its bar's close: the inputs of the meta-labelling model.

For a signal on bar ``i`` every feature is computed from the bars ``i - history + 1 .. i`` only
(all bars up to ``i`` when there are fewer): TA-Lib's indicators are causal and the rolling
statistics use trailing windows. Computing the features on ``bars[: i + 1]`` therefore gives exactly
the values computed on the full history (tested), in batch and streaming alike.

The features, in :meth:`FeatureSpec.names` order:

* ``direction``: +1 long, -1 short;
* ``pattern:<NAME>``: 1 when the configured pattern is among the signal's pattern hits (one-hot
  over :attr:`FeatureSpec.patterns`), and ``pattern_confidence``: the highest hit confidence (0 when
  the signal has no pattern);
* ``rsi``: RSI(rsi_period) / 100; ``macd_hist``: MACD(12, 26, 9) histogram / ATR;
  ``bollinger_b``: Bollinger %b (close - lower) / (upper - lower); ``atr_close``: ATR / close;
  ``volume_ratio``: log(1 + volume / SMA(volume, volume_period)); ``volatility``: standard
  deviation of the last ``volatility_period`` log returns;
* higher-timeframe context over ``higher_timeframe`` bars (e.g. 4 for 4h context on 1h bars):
  ``htf_trend``: (close - EMA(close, 20 x higher_timeframe)) / ATR and ``htf_rsi``:
  RSI(14 x higher_timeframe) / 100 - trailing equivalents of a 20-EMA and a 14-RSI on the higher
  timeframe that need no bar alignment;
* the trade's geometry: ``stop_atr``: |entry - stop| / ATR and ``reward_risk``:
  |target - entry| / |entry - stop|;
* ``return_1`` .. ``return_<window>``: the last ``window`` log returns (most recent first), each
  divided by ATR / close.

Rows before :attr:`FeatureSpec.warm_up_period` bars, and signals without a stop or target, give NaN
features (the caller drops them; a model never sees a NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import talib

from alphapulse.bars import Bar, Bars
from alphapulse.errors import BarError, ConfigError
from alphapulse.journal import Direction, Signal

#: bump when the meaning or order of the features changes; saved models record it
FEATURE_SCHEMA = "alphapulse.features/1"

_INDICATOR_NAMES = ("rsi", "macd_hist", "bollinger_b", "atr_close", "volume_ratio", "volatility",
                    "htf_trend", "htf_rsi", "stop_atr", "reward_risk")


@dataclass(frozen=True)
class FeatureSpec:
    """Which features to compute: the pattern set, the window of recent returns and the periods.

    ``higher_timeframe`` is the number of bars per higher-timeframe bar (4 = 4h context on 1h bars).
    ``history`` is how many bars up to the signal's bar the features are computed on (the
    recursive indicators' start-up effect has decayed below float precision long before 2000 bars),
    so the streaming form keeps a bounded window and its cost per signal does not grow.
    """

    patterns: tuple[str, ...] = ()
    window: int = 16
    rsi_period: int = 14
    atr_period: int = 14
    bollinger_period: int = 20
    bollinger_width: float = 2.0
    volume_period: int = 20
    volatility_period: int = 20
    higher_timeframe: int = 4
    history: int = 2000

    def __post_init__(self) -> None:
        object.__setattr__(self, "patterns", tuple(str(p).upper() for p in self.patterns))
        if len(set(self.patterns)) != len(self.patterns):
            raise ConfigError(f"features.patterns: duplicate pattern names in {list(self.patterns)}")
        for key in ("window", "rsi_period", "atr_period", "bollinger_period", "volume_period",
                    "volatility_period", "higher_timeframe"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
                raise ConfigError(f"features.{key}: {value!r} must be an integer in [1, 1000]")
        if self.rsi_period < 2 or self.atr_period < 2 or self.bollinger_period < 2:
            raise ConfigError("features: rsi_period, atr_period and bollinger_period must be at least 2")
        if not 0 < self.bollinger_width <= 10:
            raise ConfigError(f"features.bollinger_width: {self.bollinger_width!r} must be in (0, 10]")
        if not isinstance(self.history, int) or not self.warm_up_period <= self.history <= 1_000_000:
            raise ConfigError(f"features.history: {self.history!r} must be an integer in "
                              f"[{self.warm_up_period} (the warm-up), 1000000]")

    def names(self) -> tuple[str, ...]:
        """Feature names in column order."""
        return ("direction", *(f"pattern:{p}" for p in self.patterns), "pattern_confidence",
                *_INDICATOR_NAMES, *(f"return_{k}" for k in range(1, self.window + 1)))

    @property
    def warm_up_period(self) -> int:
        """Bars before the first row whose features are all defined."""
        return max(
            34 + 1,  # MACD(12, 26, 9) histogram
            self.rsi_period + 1, self.atr_period + 1, self.bollinger_period, self.volume_period,
            self.volatility_period + 1, 20 * self.higher_timeframe, 14 * self.higher_timeframe + 1,
            self.window + 1,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["patterns"] = list(self.patterns)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"features: unknown key(s) {unknown}; allowed: {sorted(known)}")
        values = dict(data)
        if "patterns" in values:
            values["patterns"] = tuple(values["patterns"])
        return cls(**values)


def indicator_columns(bars: Bars, spec: FeatureSpec) -> dict[str, np.ndarray]:
    """The per-bar indicator columns the features use (NaN during each one's warm-up)."""
    high, low, close, volume = bars.high, bars.low, bars.close, bars.volume
    n = len(bars)
    atr = talib.ATR(high, low, close, timeperiod=spec.atr_period)
    with np.errstate(divide="ignore", invalid="ignore"):
        _, _, hist = talib.MACD(close, fastperiod=12, slowperiod=26, signalperiod=9)
        upper, _, lower = talib.BBANDS(close, timeperiod=spec.bollinger_period, nbdevup=spec.bollinger_width,
                                       nbdevdn=spec.bollinger_width)
        width = upper - lower
        bollinger_b = np.where(width > 0, (close - lower) / np.where(width > 0, width, 1.0), 0.5)
        bollinger_b[np.isnan(width)] = np.nan
        volume_mean = talib.SMA(volume, timeperiod=spec.volume_period)
        ratio = np.where(volume_mean > 0, volume / np.where(volume_mean > 0, volume_mean, 1.0), 1.0)
        ratio[np.isnan(volume_mean)] = np.nan
        log_close = np.log(close)
    returns = np.full(n, np.nan)
    returns[1:] = np.diff(log_close)
    volatility = _trailing_std(returns, spec.volatility_period)
    htf_ema = talib.EMA(close, timeperiod=20 * spec.higher_timeframe)
    return {
        "atr": atr,
        "rsi": talib.RSI(close, timeperiod=spec.rsi_period) / 100.0,
        "macd_hist": _safe_ratio(hist, atr),
        "bollinger_b": bollinger_b,
        "atr_close": atr / close,
        "volume_ratio": np.log1p(ratio),
        "volatility": volatility,
        "htf_trend": _safe_ratio(close - htf_ema, atr),
        "htf_rsi": talib.RSI(close, timeperiod=14 * spec.higher_timeframe) / 100.0,
        "returns": returns,
    }


def signal_features(bars: Bars, signals: Sequence[Signal], spec: FeatureSpec,
                    rows: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """Feature matrix (len(signals) x len(spec.names())) for signals on ``bars``.

    ``rows`` are the signals' bar indices; when omitted they are looked up by ``signal.time``
    (a signal whose time is not a bar of ``bars`` raises :class:`ConfigError`). Rows whose
    features are not yet defined (warm-up) or signals without levels give NaN rows.
    """
    index = _rows_of(bars, signals) if rows is None else np.asarray(rows, dtype=np.int64)
    if len(index) != len(signals):
        raise ConfigError(f"features: {len(index)} rows for {len(signals)} signals")
    out = np.full((len(signals), len(spec.names())), np.nan)
    if not len(signals):
        return out
    if index.min() < 0 or index.max() >= len(bars):
        raise ConfigError(f"features: signal row outside the {len(bars)} bars")
    history = spec.history
    early = indicator_columns(bars[:history], spec) if (index < history).any() else None
    n_patterns = len(spec.patterns)
    position = {name: k for k, name in enumerate(spec.patterns)}
    first_indicator = 2 + n_patterns
    first_return = first_indicator + len(_INDICATOR_NAMES)
    for j, (signal, row) in enumerate(zip(signals, index.tolist(), strict=True)):
        if row < history:
            assert early is not None
            columns, close, at = early, bars.close, row
        else:  # the last `history` bars up to the signal's bar
            start = row - history + 1
            columns, close, at = indicator_columns(bars[start:row + 1], spec), bars.close[start:row + 1], row - start
        returns, atr = columns["returns"], columns["atr"]
        values = out[j]
        values[0] = 1.0 if signal.direction == Direction.LONG else -1.0
        values[1:1 + n_patterns] = 0.0
        best = 0.0
        for hit in signal.patterns:
            k = position.get(hit.name.upper())
            if k is not None:
                values[1 + k] = 1.0
            best = max(best, float(hit.confidence))
        values[1 + n_patterns] = best
        for k, name in enumerate(_INDICATOR_NAMES[:8]):  # the eight bar-based ones
            values[first_indicator + k] = columns[name][at]
        a = atr[at]
        if signal.entry is not None and signal.stop is not None and signal.target is not None:
            risk = abs(signal.entry - signal.stop)
            values[first_indicator + 8] = risk / a if a > 0 else np.nan
            values[first_indicator + 9] = abs(signal.target - signal.entry) / risk if risk > 0 else np.nan
        if at >= spec.window and a > 0:
            scale = a / close[at]
            values[first_return:] = returns[at - spec.window + 1: at + 1][::-1] / scale
    out[index < spec.warm_up_period - 1] = np.nan
    return out


class FeatureStream:
    """Streaming features: keeps the last ``spec.history`` closed bars and computes one signal's
    features on them, equal to :func:`signal_features` on the same history exactly.

    ``update(bar)`` is amortised O(1) (the buffer is compacted when it reaches twice the history);
    ``features(signal)`` costs O(history), independent of how many bars were seen.
    """

    def __init__(self, spec: FeatureSpec, *, period: int = 0, symbol: str = "") -> None:
        self.spec = spec
        self._period = period
        self._symbol = symbol
        capacity = 2 * spec.history
        self._columns = np.empty((5, capacity))
        self._times = np.empty(capacity, dtype=np.int64)
        self._first = 0  # buffer index of the oldest bar kept
        self._count = 0  # bars in the buffer
        self._seen = 0

    def update(self, bar: Bar) -> bool:
        """Append a closed bar; returns True once the features are defined."""
        bar.check(self._symbol or "features")
        end = self._first + self._count
        if self._count and bar.time <= self._times[end - 1]:
            raise BarError(f"{self._symbol or 'features'}: bar at {bar.time} is not newer than the last")
        if end == len(self._times):
            keep = min(self._count, self.spec.history - 1)
            self._times[:keep] = self._times[end - keep:end]
            self._columns[:, :keep] = self._columns[:, end - keep:end]
            self._first, self._count, end = 0, keep, keep
        self._times[end] = bar.time
        self._columns[:, end] = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        self._count += 1
        self._seen += 1
        return self.is_ready

    @property
    def is_ready(self) -> bool:
        return self._seen >= self.spec.warm_up_period

    def reset(self) -> None:
        self._first = self._count = self._seen = 0

    def bars(self) -> Bars:
        """The last ``history`` bars seen (copies)."""
        n = min(self._count, self.spec.history)
        end = self._first + self._count
        c = self._columns[:, end - n:end].copy()
        return Bars(self._times[end - n:end].copy(), c[0], c[1], c[2], c[3], c[4],
                    period=self._period, symbol=self._symbol, validate=False)

    def features(self, signal: Signal) -> np.ndarray:
        """The feature vector of a signal on the last bar seen."""
        if not self._count:
            return np.full(len(self.spec.names()), np.nan)
        window = self.bars()
        return signal_features(window, [signal], self.spec, rows=[len(window) - 1])[0]


def _rows_of(bars: Bars, signals: Sequence[Signal]) -> np.ndarray:
    times = np.array([s.time for s in signals], dtype=np.int64)
    rows = np.searchsorted(bars.time, times)
    inside = rows < len(bars)
    found = inside & (bars.time[np.minimum(rows, len(bars) - 1)] == times) if len(bars) else inside
    if len(times) and not found.all():
        bad = int(np.argmax(~found))
        raise ConfigError(f"features: signal {signals[bad].id} at time {times[bad]} is not a bar of "
                          f"{bars.symbol or 'the bars'}; compute features on the bars the signals came from")
    return rows.astype(np.int64)


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = numerator / np.where(denominator > 0, denominator, np.nan)
    return out


def _trailing_std(values: np.ndarray, period: int) -> np.ndarray:
    """Population standard deviation of the last ``period`` values (NaN until defined)."""
    out = np.full(len(values), np.nan)
    if len(values) <= period:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(values[1:], period)
    out[period:] = windows.std(axis=1)
    return out


def finite_rows(features: np.ndarray) -> np.ndarray:
    """Boolean mask of rows whose features are all finite (usable by a model)."""
    if not features.size:
        return np.zeros(len(features), dtype=bool)
    return np.asarray(np.isfinite(features).all(axis=1))


__all__ = ["FEATURE_SCHEMA", "FeatureSpec", "FeatureStream", "finite_rows", "indicator_columns",
           "signal_features"]
