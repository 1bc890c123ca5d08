"""Technical indicators: one batch function and one streaming object per indicator, side by side.

Batch functions take numpy float64 columns (e.g. ``bars.close``) and return arrays of the same
length, NaN where the indicator has no value yet (its lookback). Where TA-Lib has the indicator
the batch function *is* the TA-Lib call (``rsi`` = ``talib.RSI``, ...).

Streaming objects have the shape a Lean indicator has: ``name``, ``update(bar_or_value) -> bool``
(True once ready), ``value`` (NaN until ready; a small frozen tuple for multi-output indicators),
``is_ready``, ``warm_up_period`` (bars needed for the first value), ``reset()``, ``current``
(an :class:`IndicatorPoint` with ``time`` and ``value``) and ``samples`` (bars seen). Updates cost
O(1) except Bollinger (a tail window of ``period`` closes): they follow TA-Lib's own recursions
(SMA-seeded EMA and Wilder smoothing, running sums) operation for operation.

Streaming versus batch, after the warm-up: SMA, OBV, VWAP and the volume ratio are equal bit for
bit. EMA, RSI, ATR, MACD and the stochastic are bit-identical with TA-Lib's C library 0.6.4 (the
ta-lib 0.6.7 wheel pinned like Lean's image; measured on every dataset of ``../shared/data``) and
equal to within **1e-9 relative** (of the price level for price-valued outputs, of 100 for RSI and
the stochastic) in general: other builds of TA-Lib's C (e.g. the one in the ta-lib 0.8 wheel) fuse
a multiply and an add into one rounding (FMA) where Python rounds twice, so values can differ in
the last bits (measured: at most ~1e-14 relative). Bollinger Bands: the middle
band to 1e-9 of the price level; the upper and lower bands to ``deviations × sqrt(period × 2^-52)
× price`` — the float64 cancellation error of a variance taken as mean of squares minus squared
mean, which TA-Lib's batch keeps as running sums over the whole history (TA-Lib 0.6.4 differs from
a fresh window by up to ~6e-9 of the price on the shared data; newer builds by ~3e-12). The tests
check these tolerances on every dataset.

``update`` accepts a :class:`~alphapulse.bars.Bar` (the close is used by close-only indicators) or,
for close-only indicators, a plain float. A bar whose time is not after the last bar's raises
:class:`~alphapulse.errors.BarError`; so does a NaN or infinite input.

Warm-up (bars until the first value, i.e. TA-Lib's lookback + 1):

============================ =================================================
SMA(n), EMA(n)               n
RSI(n), ATR(n)               n + 1
MACD(fast, slow, signal)     slow + signal - 1 (the MACD line itself from ``slow``)
Bollinger(n)                 n
Stochastic(k, sk, d)         k + sk + d - 2
OBV, VWAP                    1
volume ratio(n)              n
============================ =================================================
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import talib

from alphapulse.bars import Bar, format_time
from alphapulse.errors import BarError, ConfigError

NAN = float("nan")
_NS_PER_DAY = 86_400 * 1_000_000_000
# TA-Lib's "is zero" test (TA_IS_ZERO / TA_IS_ZERO_OR_NEG in ta_func.h)
_TA_EPSILON = 0.00000001


def _f64(values: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


def _check_period(name: str, period: int, minimum: int = 1) -> int:
    if isinstance(period, bool) or not isinstance(period, int | np.integer) or period < minimum:
        raise ConfigError(f"{name}: period {period!r} must be an integer >= {minimum}")
    return int(period)


# --------------------------------------------------------------------------------------------
# batch
# --------------------------------------------------------------------------------------------
class MacdLines(NamedTuple):
    """MACD line (fast EMA - slow EMA), its signal line (EMA of the MACD) and the histogram."""

    macd: np.ndarray
    signal: np.ndarray
    histogram: np.ndarray


class BandLines(NamedTuple):
    """Bollinger Bands: upper, middle (SMA) and lower band."""

    upper: np.ndarray
    middle: np.ndarray
    lower: np.ndarray


class StochasticLines(NamedTuple):
    """Slow stochastic: %K (SMA-smoothed fast %K) and %D (SMA of %K), both in [0, 100]."""

    k: np.ndarray
    d: np.ndarray


def sma(values: np.ndarray, period: int = 20) -> np.ndarray:
    """Simple moving average over ``period`` bars (``talib.SMA``); NaN for the first period-1 bars."""
    return talib.SMA(_f64(values), timeperiod=_check_period("sma", period))


def ema(values: np.ndarray, period: int = 20) -> np.ndarray:
    """Exponential moving average, k = 2/(period+1), seeded with the SMA of the first ``period``
    values (``talib.EMA``); NaN for the first period-1 bars."""
    return talib.EMA(_f64(values), timeperiod=_check_period("ema", period))


def rsi(close: np.ndarray, period: int = 14) -> np.ndarray:
    """Wilder's RSI in [0, 100] (``talib.RSI``); NaN for the first ``period`` bars.
    A window with neither gains nor losses gives 0 (TA-Lib's rule)."""
    return talib.RSI(_f64(close), timeperiod=_check_period("rsi", period, 2))


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    """Average true range in price units, Wilder-smoothed (``talib.ATR``); NaN for the first
    ``period`` bars."""
    return talib.ATR(_f64(high), _f64(low), _f64(close), timeperiod=_check_period("atr", period))


def macd(close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9) -> MacdLines:
    """MACD (``talib.MACD``): all three lines are NaN for the first slow + signal - 2 bars."""
    fast, slow, signal = _macd_periods(fast, slow, signal)
    line, sig, hist = talib.MACD(_f64(close), fastperiod=fast, slowperiod=slow, signalperiod=signal)
    return MacdLines(line, sig, hist)


def bollinger(close: np.ndarray, period: int = 20, deviations: float = 2.0) -> BandLines:
    """Bollinger Bands: SMA ± ``deviations`` population standard deviations (``talib.BBANDS``);
    NaN for the first period-1 bars."""
    period = _check_period("bollinger", period, 2)
    deviations = _check_deviations(deviations)
    upper, middle, lower = talib.BBANDS(_f64(close), timeperiod=period, nbdevup=deviations,
                                        nbdevdn=deviations, matype=talib.MA_Type.SMA)
    return BandLines(upper, middle, lower)


def stochastic(high: np.ndarray, low: np.ndarray, close: np.ndarray, k_period: int = 5,
               k_smoothing: int = 3, d_period: int = 3) -> StochasticLines:
    """Slow stochastic (``talib.STOCH`` with SMA smoothing); NaN for the first
    k_period + k_smoothing + d_period - 3 bars. A flat high-low range gives a fast %K of 0."""
    k_period = _check_period("stochastic k_period", k_period)
    k_smoothing = _check_period("stochastic k_smoothing", k_smoothing)
    d_period = _check_period("stochastic d_period", d_period)
    k, d = talib.STOCH(_f64(high), _f64(low), _f64(close), fastk_period=k_period,
                       slowk_period=k_smoothing, slowk_matype=talib.MA_Type.SMA,
                       slowd_period=d_period, slowd_matype=talib.MA_Type.SMA)
    return StochasticLines(k, d)


def obv(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """On-balance volume (``talib.OBV``): starts at the first bar's volume, then adds the volume of
    an up-close bar and subtracts that of a down-close bar. Defined from the first bar."""
    return talib.OBV(_f64(close), _f64(volume))


def volume_ratio(volume: np.ndarray, period: int = 20) -> np.ndarray:
    """Volume / SMA(volume, ``period``), the current bar included in the average (1.0 = average).
    NaN for the first period-1 bars and where the average volume is 0."""
    average = sma(volume, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _f64(volume) / average
    ratio[~(average > 0)] = np.nan
    return ratio


def session_starts(time: np.ndarray, session_offset: int = 0) -> np.ndarray:
    """True where a bar opens a new VWAP session: its session day differs from the previous bar's.

    The session day of a bar is ``floor((time - session_offset) / 1 day)`` with ``time`` in ns UTC
    and ``session_offset`` in seconds (0: sessions start at 00:00 UTC, the crypto convention; for
    US equities the UTC day is the New York trading day for every bar from 04:00 to 19:00 New York
    time, so the default also anchors regular-session VWAP at the open).
    """
    day = (np.asarray(time, dtype=np.int64) - int(session_offset) * 1_000_000_000) // _NS_PER_DAY
    starts = np.ones(len(day), dtype=bool)
    starts[1:] = day[1:] != day[:-1]
    return starts


def vwap(time: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
         volume: np.ndarray, session_offset: int = 0) -> np.ndarray:
    """Session-anchored volume-weighted average price of the typical price (high+low+close)/3.

    Anchored daily: the sums restart on the first bar of each session day (see
    :func:`session_starts`; ``session_offset`` seconds shifts the day boundary from 00:00 UTC).
    NaN while the session has had no volume. Not in TA-Lib; sums are running sums in bar order.
    """
    typical = (_f64(high) + _f64(low) + _f64(close)) / 3.0
    vol = _f64(volume)
    weighted = typical * vol
    out = np.full(len(vol), np.nan)
    starts = np.flatnonzero(session_starts(time, session_offset))
    bounds = [*starts.tolist(), len(vol)]
    for a, b in itertools.pairwise(bounds):
        cum_pv = np.cumsum(weighted[a:b])
        cum_v = np.cumsum(vol[a:b])
        with np.errstate(divide="ignore", invalid="ignore"):
            out[a:b] = np.where(cum_v > 0, cum_pv / cum_v, np.nan)
    return out


def _macd_periods(fast: int, slow: int, signal: int) -> tuple[int, int, int]:
    fast = _check_period("macd fast", fast, 2)
    slow = _check_period("macd slow", slow, 2)
    signal = _check_period("macd signal", signal, 1)
    if fast >= slow:
        raise ConfigError(f"macd: fast period {fast} must be shorter than slow period {slow}")
    return fast, slow, signal


def _check_deviations(deviations: float) -> float:
    if not isinstance(deviations, int | float) or not math.isfinite(deviations) or deviations <= 0:
        raise ConfigError(f"bollinger: deviations {deviations!r} must be a positive number")
    return float(deviations)


# --------------------------------------------------------------------------------------------
# streaming
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class IndicatorPoint:
    """The latest reading of a streaming indicator: the bar's start time (ns, 0 when fed floats)
    and the value (NaN, or a tuple of NaN, before the indicator is ready)."""

    time: int
    value: object


class MacdValue(NamedTuple):
    macd: float
    signal: float
    histogram: float


class BandValue(NamedTuple):
    upper: float
    middle: float
    lower: float


class StochasticValue(NamedTuple):
    k: float
    d: float


class StreamingIndicator:
    """Base of the streaming indicators: time ordering, sample counting and the Lean-like API."""

    name: str
    warm_up_period: int
    needs_bar: bool = False

    def __init__(self) -> None:
        self._time: int | None = None
        self.samples = 0

    # the public Lean-like surface ---------------------------------------------------------------
    @property
    def is_ready(self) -> bool:
        return self.samples >= self.warm_up_period

    @property
    def value(self) -> object:
        return self._value() if self.is_ready else self._empty()

    @property
    def current(self) -> IndicatorPoint:
        return IndicatorPoint(self._time or 0, self.value)

    def update(self, data: Bar | float, time: int | None = None) -> bool:
        """Feed the next closed bar (or a value, for close-only indicators); True once ready."""
        if isinstance(data, Bar):
            stamp = data.time
            # one sum is NaN or infinite when any of its terms is
            if not math.isfinite(data.high + data.low + data.close + data.volume):
                raise BarError(f"{self.name}: bar at {format_time(stamp)} has a NaN or infinite field")
        else:
            if self.needs_bar:
                raise BarError(f"{self.name} needs bars (high, low, close, volume), got {data!r}")
            stamp = time
            if not isinstance(data, int | float) or not math.isfinite(data):
                raise BarError(f"{self.name}: input {data!r} is not a finite number")
        if stamp is not None:
            if self._time is not None and stamp <= self._time:
                raise BarError(
                    f"{self.name}: bar at {format_time(stamp)} is not after the last bar "
                    f"({format_time(self._time)}); feed bars in strictly increasing time order"
                )
            self._time = stamp
        self.samples += 1
        self._update(data)
        return self.is_ready

    def reset(self) -> None:
        """Forget every bar seen (as if newly created)."""
        self._time = None
        self.samples = 0
        self._reset()

    def __repr__(self) -> str:
        return f"{self.name}(ready={self.is_ready}, value={self.value})"

    # for subclasses --------------------------------------------------------------------------------
    def _update(self, data: Bar | float) -> None:
        raise NotImplementedError

    def _value(self) -> object:
        raise NotImplementedError

    def _empty(self) -> object:
        return NAN

    def _reset(self) -> None:
        raise NotImplementedError

    @staticmethod
    def _close(data: Bar | float) -> float:
        return data.close if isinstance(data, Bar) else float(data)


class Sma(StreamingIndicator):
    """Streaming :func:`sma` (TA-Lib's running sum: add the new value, divide, drop the oldest)."""

    def __init__(self, period: int = 20) -> None:
        super().__init__()
        self.period = _check_period("sma", period)
        self.name = f"SMA({self.period})"
        self.warm_up_period = self.period
        self._reset()

    def _reset(self) -> None:
        self._window: deque[float] = deque()
        self._total = 0.0
        self._out = NAN

    def _update(self, data: Bar | float) -> None:
        x = self._close(data)
        self._window.append(x)
        self._total += x
        if len(self._window) == self.period:
            self._out = self._total / self.period
            self._total -= self._window.popleft()

    def _value(self) -> float:
        return self._out


class _EmaRecursion:
    """TA-Lib's EMA: SMA of the first ``period`` values (a left-to-right sum), then
    ``prev = (x - prev) * k + prev`` with ``k = 2 / (period + 1)``."""

    __slots__ = ("count", "k", "period", "prev", "total")

    def __init__(self, period: int) -> None:
        self.period = period
        self.k = 2.0 / (period + 1)
        self.count = 0
        self.total = 0.0
        self.prev = NAN

    def push(self, x: float) -> float:
        self.count += 1
        if self.count < self.period:
            self.total += x
            return NAN
        if self.count == self.period:
            self.total += x
            self.prev = self.total / self.period
        else:
            self.prev = ((x - self.prev) * self.k) + self.prev
        return self.prev

    def seed(self, average: float) -> None:
        self.count = self.period
        self.prev = average


class Ema(StreamingIndicator):
    """Streaming :func:`ema`."""

    def __init__(self, period: int = 20) -> None:
        super().__init__()
        self.period = _check_period("ema", period)
        self.name = f"EMA({self.period})"
        self.warm_up_period = self.period
        self._reset()

    def _reset(self) -> None:
        self._ema = _EmaRecursion(self.period)

    def _update(self, data: Bar | float) -> None:
        self._ema.push(self._close(data))

    def _value(self) -> float:
        return self._ema.prev


class Rsi(StreamingIndicator):
    """Streaming :func:`rsi` (Wilder smoothing of gains and losses, seeded with their mean over the
    first ``period`` changes)."""

    def __init__(self, period: int = 14) -> None:
        super().__init__()
        self.period = _check_period("rsi", period, 2)
        self.name = f"RSI({self.period})"
        self.warm_up_period = self.period + 1
        self._reset()

    def _reset(self) -> None:
        self._previous = NAN
        self._gain = 0.0
        self._loss = 0.0
        self._out = NAN

    def _update(self, data: Bar | float) -> None:
        x = self._close(data)
        n = self.samples  # already counts this bar
        if n == 1:
            self._previous = x
            return
        change = x - self._previous
        self._previous = x
        if n > self.period + 1:
            self._loss *= self.period - 1
            self._gain *= self.period - 1
        if change < 0:
            self._loss -= change
        else:
            self._gain += change
        if n < self.period + 1:
            return
        self._loss /= self.period
        self._gain /= self.period
        total = self._gain + self._loss
        self._out = 100.0 * (self._gain / total) if not -_TA_EPSILON < total < _TA_EPSILON else 0.0

    def _value(self) -> float:
        return self._out


def _true_range(high: float, low: float, previous_close: float) -> float:
    greatest = high - low
    up = abs(previous_close - high)
    if up > greatest:
        greatest = up
    down = abs(previous_close - low)
    if down > greatest:
        greatest = down
    return greatest


class Atr(StreamingIndicator):
    """Streaming :func:`atr`: true range, seeded with its SMA over ``period`` bars, then
    ``atr = (atr * (period - 1) + tr) / period``."""

    needs_bar = True

    def __init__(self, period: int = 14) -> None:
        super().__init__()
        self.period = _check_period("atr", period)
        self.name = f"ATR({self.period})"
        self.warm_up_period = self.period + 1
        self._reset()

    def _reset(self) -> None:
        self._previous_close = NAN
        self._total = 0.0
        self._out = NAN

    def _update(self, data: Bar | float) -> None:
        assert isinstance(data, Bar)
        n = self.samples
        previous, self._previous_close = self._previous_close, data.close
        if n == 1:
            return
        tr = _true_range(data.high, data.low, previous)
        if n <= self.period:
            self._total += tr
        elif n == self.period + 1:
            self._total += tr
            self._out = self._total / self.period
        else:
            self._out = (self._out * (self.period - 1) + tr) / self.period

    def _value(self) -> float:
        return self._out


class Macd(StreamingIndicator):
    """Streaming :func:`macd`. As in TA-Lib the fast EMA is seeded on the ``fast`` closes that end
    where the slow EMA's seed ends, so both start on bar ``slow``; the signal EMA is seeded with the
    mean of the first ``signal`` MACD values."""

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        super().__init__()
        self.fast, self.slow, self.signal = _macd_periods(fast, slow, signal)
        self.name = f"MACD({self.fast},{self.slow},{self.signal})"
        self.warm_up_period = self.slow + self.signal - 1
        self._reset()

    def _reset(self) -> None:
        self._seed: list[float] = []
        self._fast = _EmaRecursion(self.fast)
        self._slow = _EmaRecursion(self.slow)
        self._signal = _EmaRecursion(self.signal)
        self._line = NAN
        self._out = MacdValue(NAN, NAN, NAN)

    @property
    def line(self) -> float:
        """The MACD line alone; available from bar ``slow`` on (NaN before)."""
        return self._line

    def _update(self, data: Bar | float) -> None:
        x = self._close(data)
        if self.samples < self.slow:
            self._seed.append(x)
            return
        if self.samples == self.slow:
            self._seed.append(x)
            slow_total = 0.0
            for value in self._seed:
                slow_total += value
            fast_total = 0.0
            for value in self._seed[self.slow - self.fast:]:
                fast_total += value
            self._slow.seed(slow_total / self.slow)
            self._fast.seed(fast_total / self.fast)
            self._seed = []
            fast_value, slow_value = self._fast.prev, self._slow.prev
        else:
            fast_value, slow_value = self._fast.push(x), self._slow.push(x)
        self._line = fast_value - slow_value
        signal_value = self._signal.push(self._line)
        if self._signal.count >= self.signal:
            self._out = MacdValue(self._line, signal_value, self._line - signal_value)

    def _value(self) -> MacdValue:
        return self._out

    def _empty(self) -> MacdValue:
        return MacdValue(NAN, NAN, NAN)


class Bollinger(StreamingIndicator):
    """Streaming :func:`bollinger` over a fixed tail window of ``period`` closes (``talib.BBANDS``
    on that window, O(period) per bar). The batch function keeps running sums over the whole
    history, so the two agree to the documented tolerance, not bit for bit."""

    def __init__(self, period: int = 20, deviations: float = 2.0) -> None:
        super().__init__()
        self.period = _check_period("bollinger", period, 2)
        self.deviations = _check_deviations(deviations)
        self.name = f"BB({self.period},{self.deviations:g})"
        self.warm_up_period = self.period
        self._reset()

    def _reset(self) -> None:
        self._window: deque[float] = deque(maxlen=self.period)
        self._out = BandValue(NAN, NAN, NAN)

    def _update(self, data: Bar | float) -> None:
        self._window.append(self._close(data))
        if len(self._window) < self.period:
            return
        upper, middle, lower = talib.BBANDS(np.fromiter(self._window, np.float64, self.period),
                                            timeperiod=self.period, nbdevup=self.deviations,
                                            nbdevdn=self.deviations, matype=talib.MA_Type.SMA)
        self._out = BandValue(float(upper[-1]), float(middle[-1]), float(lower[-1]))

    def _value(self) -> BandValue:
        return self._out

    def _empty(self) -> BandValue:
        return BandValue(NAN, NAN, NAN)


class Stochastic(StreamingIndicator):
    """Streaming :func:`stochastic`: fast %K over a ``k_period`` window, then two running-sum SMAs."""

    needs_bar = True

    def __init__(self, k_period: int = 5, k_smoothing: int = 3, d_period: int = 3) -> None:
        super().__init__()
        self.k_period = _check_period("stochastic k_period", k_period)
        self.k_smoothing = _check_period("stochastic k_smoothing", k_smoothing)
        self.d_period = _check_period("stochastic d_period", d_period)
        self.name = f"STOCH({self.k_period},{self.k_smoothing},{self.d_period})"
        self.warm_up_period = self.k_period + self.k_smoothing + self.d_period - 2
        self._reset()

    def _reset(self) -> None:
        self._highs: deque[float] = deque(maxlen=self.k_period)
        self._lows: deque[float] = deque(maxlen=self.k_period)
        self._k = Sma(self.k_smoothing)
        self._d = Sma(self.d_period)
        self._out = StochasticValue(NAN, NAN)

    def _update(self, data: Bar | float) -> None:
        assert isinstance(data, Bar)
        self._highs.append(data.high)
        self._lows.append(data.low)
        if len(self._highs) < self.k_period:
            return
        highest, lowest = max(self._highs), min(self._lows)
        diff = (highest - lowest) / 100.0
        fast_k = (data.close - lowest) / diff if diff != 0.0 else 0.0
        if self._k.update(fast_k) and self._d.update(self._k._value()):
            self._out = StochasticValue(self._k._value(), self._d._value())

    def _value(self) -> StochasticValue:
        return self._out

    def _empty(self) -> StochasticValue:
        return StochasticValue(NAN, NAN)


class Obv(StreamingIndicator):
    """Streaming :func:`obv`."""

    needs_bar = True

    def __init__(self) -> None:
        super().__init__()
        self.name = "OBV"
        self.warm_up_period = 1
        self._reset()

    def _reset(self) -> None:
        self._previous_close = NAN
        self._out = NAN

    def _update(self, data: Bar | float) -> None:
        assert isinstance(data, Bar)
        if self.samples == 1:
            self._out = data.volume
        elif data.close > self._previous_close:
            self._out += data.volume
        elif data.close < self._previous_close:
            self._out -= data.volume
        self._previous_close = data.close

    def _value(self) -> float:
        return self._out


class Vwap(StreamingIndicator):
    """Streaming :func:`vwap` (session-anchored; needs bars with times)."""

    needs_bar = True

    def __init__(self, session_offset: int = 0) -> None:
        super().__init__()
        self.session_offset = int(session_offset)
        self.name = "VWAP" if not self.session_offset else f"VWAP({self.session_offset}s)"
        self.warm_up_period = 1
        self._reset()

    def _reset(self) -> None:
        self._day: int | None = None
        self._pv = 0.0
        self._volume = 0.0

    def _update(self, data: Bar | float) -> None:
        assert isinstance(data, Bar)
        day = (data.time - self.session_offset * 1_000_000_000) // _NS_PER_DAY
        if day != self._day:
            self._day, self._pv, self._volume = day, 0.0, 0.0
        typical = (data.high + data.low + data.close) / 3.0
        self._pv += typical * data.volume
        self._volume += data.volume

    def _value(self) -> float:
        return self._pv / self._volume if self._volume > 0 else NAN


class VolumeRatio(StreamingIndicator):
    """Streaming :func:`volume_ratio`."""

    needs_bar = True

    def __init__(self, period: int = 20) -> None:
        super().__init__()
        self._average = Sma(period)
        self.period = self._average.period
        self.name = f"VOLRATIO({self.period})"
        self.warm_up_period = self.period
        self._out = NAN

    def _reset(self) -> None:
        self._average.reset()
        self._out = NAN

    def _update(self, data: Bar | float) -> None:
        assert isinstance(data, Bar)
        if self._average.update(data.volume):
            average = self._average._value()
            self._out = data.volume / average if average > 0 else NAN

    def _value(self) -> float:
        return self._out
