"""Candlestick patterns: the 61 TA-Lib ``CDL*`` recognisers, in batch and one bar at a time.

Values are TA-Lib's own: an int32 per bar, ``+100`` bullish, ``-100`` bearish, ``±200`` a confirmed
pattern (Hikkake), ``0`` none. Some recognisers only ever answer ``+100`` (Doji family, Hammer,
Inverted Hammer, Takuri) or ``-100`` (Hanging Man, Shooting Star); for the indecision kind (Doji,
Spinning Top, ...) the sign follows the candle's colour or is always ``+`` and says nothing about
direction — :class:`PatternInfo` ``kind`` tells which patterns are which.

* :func:`scan` — batch: the values over a whole history, bit-for-bit ``talib.CDLx(open, high, low,
  close)`` with TA-Lib's default candle settings and penetrations. The first ``lookback`` values
  are 0 (TA-Lib's convention), never NaN.
* :class:`PatternDetector` — streaming: one closed bar at a time; see its docstring for the exact
  parity guarantee with :func:`scan`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import talib
import talib.abstract

from alphapulse.bars import Bar, Bars, format_time
from alphapulse.errors import BarError, ConfigError

PatternKind = Literal["reversal", "continuation", "indecision"]

#: all 61 TA-Lib candlestick recognisers, in TA-Lib's order
ALL_PATTERNS: tuple[str, ...] = tuple(talib.get_function_groups()["Pattern Recognition"])

#: the patterns of the main (pattern-confluence) strategy
DEFAULT_PATTERNS: tuple[str, ...] = (
    "CDLENGULFING", "CDLHAMMER", "CDLINVERTEDHAMMER", "CDLHANGINGMAN", "CDLSHOOTINGSTAR", "CDLDOJI",
    "CDLMORNINGSTAR", "CDLEVENINGSTAR", "CDLPIERCING", "CDLDARKCLOUDCOVER", "CDLHARAMI",
    "CDL3WHITESOLDIERS", "CDL3BLACKCROWS",
)

_CONTINUATION = frozenset({
    "CDL3LINESTRIKE", "CDLCLOSINGMARUBOZU", "CDLGAPSIDESIDEWHITE", "CDLINNECK", "CDLLONGLINE",
    "CDLMARUBOZU", "CDLMATHOLD", "CDLONNECK", "CDLRISEFALL3METHODS", "CDLSEPARATINGLINES",
    "CDLTASUKIGAP", "CDLTHRUSTING", "CDLXSIDEGAP3METHODS",
})
_INDECISION = frozenset({
    "CDLDOJI", "CDLHIGHWAVE", "CDLLONGLEGGEDDOJI", "CDLRICKSHAWMAN", "CDLSHORTLINE", "CDLSPINNINGTOP",
})
#: patterns whose TA-Lib sign is not their conventional direction (TA-Lib answers +100 for both
#: dojis); the value here is the direction traders read into them
_FIXED_BIAS = {"CDLGRAVESTONEDOJI": -1, "CDLDRAGONFLYDOJI": 1}


@dataclass(frozen=True, slots=True)
class PatternInfo:
    """What a pattern is.

    ``name`` the TA-Lib function (``CDLENGULFING``), ``label`` its human name ("Engulfing
    Pattern"), ``kind`` reversal / continuation / indecision, ``lookback`` the number of bars
    TA-Lib needs before the first possible value with default settings (values before it are 0),
    ``bias`` the direction traders read into the pattern when TA-Lib's sign does not carry it
    (+1 / -1), else 0 (then the sign of the value is the direction, except for indecision).
    """

    name: str
    label: str
    kind: PatternKind
    lookback: int
    bias: int = 0


def _info(name: str) -> PatternInfo:
    function = talib.abstract.Function(name)  # type: ignore[attr-defined]
    kind: PatternKind = ("continuation" if name in _CONTINUATION
                         else "indecision" if name in _INDECISION else "reversal")
    return PatternInfo(name, str(function.info["display_name"]), kind, int(function.lookback),
                       _FIXED_BIAS.get(name, 0))


#: metadata of every pattern, by TA-Lib name
PATTERN_INFO: dict[str, PatternInfo] = {name: _info(name) for name in ALL_PATTERNS}

_FUNCTIONS: dict[str, Any] = {name: getattr(talib, name) for name in ALL_PATTERNS}


def pattern_names(names: Iterable[str] | None = None) -> tuple[str, ...]:
    """The given pattern names checked and upper-cased (all 61 when None), duplicates removed.

    Raises :class:`ConfigError` naming an unknown pattern.
    """
    if names is None:
        return ALL_PATTERNS
    if isinstance(names, str):
        names = [names]
    chosen: list[str] = []
    for raw in names:
        name = str(raw).upper()
        if name not in PATTERN_INFO:
            raise ConfigError(f"unknown candlestick pattern {raw!r}: use TA-Lib names such as "
                              "CDLENGULFING (see alphapulse.patterns.ALL_PATTERNS)")
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def scan(bars: Bars, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """TA-Lib's values (int32, ±100/±200/0) of each requested pattern on every bar.

    ``names`` are TA-Lib function names (all 61 when None). Identical to calling ``talib.CDLx`` on
    ``bars.open, bars.high, bars.low, bars.close``; the first ``PATTERN_INFO[name].lookback`` values
    are 0. Bars are validated at construction, so there is no NaN input.
    """
    chosen = pattern_names(names)
    o, h, lo, c = bars.open, bars.high, bars.low, bars.close
    return {name: np.asarray(_FUNCTIONS[name](o, h, lo, c), dtype=np.int32) for name in chosen}


def direction(values: np.ndarray | int) -> np.ndarray:
    """The sign of pattern values: +1 bullish, -1 bearish, 0 none (int8 array).

    This is TA-Lib's sign. For ``indecision`` patterns it is only the candle's colour (or always +1)
    and for patterns with a ``bias`` in :data:`PATTERN_INFO` the conventional direction differs;
    :func:`pattern_direction` applies both rules.
    """
    return np.sign(np.asarray(values)).astype(np.int8)


def pattern_direction(name: str, values: np.ndarray) -> np.ndarray:
    """The direction traders read into pattern ``name`` where it fires: the fixed ``bias`` when the
    pattern has one, 0 for indecision patterns (they have none), else the sign of the value.
    Returns int8; 0 where the pattern does not fire.
    """
    info = PATTERN_INFO[name]
    fired = np.asarray(values) != 0
    if info.kind == "indecision":
        return np.zeros(fired.shape, dtype=np.int8)
    if info.bias:
        return np.where(fired, info.bias, 0).astype(np.int8)
    return direction(values)


# -- streaming ---------------------------------------------------------------------------------------

_INFINITY = math.inf


def check_next_bar(bar: Bar, last_time: int | None, where: str) -> None:
    """Raise :class:`BarError` unless ``bar`` is a valid trade bar newer than ``last_time``.

    The scalar twin of the checks :class:`Bars` runs on columns (no NaN or infinity, prices > 0,
    volume >= 0, low <= open, close <= high), cheap enough to run on every streamed bar.
    """
    # NaN fails every comparison, so this one chain rejects NaN, infinities and bad shapes
    if not (0.0 < bar.low <= bar.open <= bar.high < _INFINITY and bar.low <= bar.close <= bar.high
            and 0.0 <= bar.volume < _INFINITY):
        # the column check names exactly what is wrong
        bar.check(where)
        raise BarError(f"{where}: bar at {format_time(bar.time)} is invalid")  # pragma: no cover
    if last_time is not None and bar.time <= last_time:
        raise BarError(f"{where}: bar at {format_time(bar.time)} is not after the last bar "
                       f"({format_time(last_time)}); feed bars in strictly increasing time order")


#: bars over which TA-Lib's candle averages reach back (10-bar averages plus the bar they drop)
_AVERAGE_SPAN = 11


class PatternDetector:
    """Candlestick patterns one closed bar at a time, equal to :func:`scan` on the same history.

    ``update(bar)`` returns ``{name: value}`` for the newest bar; the value is exactly what
    ``scan(bars)[name]`` holds for that bar when ``bars`` are all the bars fed since creation (or
    the last :meth:`reset`), from the very first bar on (0 inside a pattern's lookback, like
    TA-Lib). ``warm_up_period`` is the number of bars after which every pattern can fire (largest
    lookback + 1); ``is_ready`` says it has been reached.

    How exactness is obtained: TA-Lib compares each candle with trailing averages that it keeps as
    running sums (``total += range(i) - range(i - period)``) from the start of the history, while
    the detector evaluates TA-Lib on the newest ``warm_up_period`` bars only, where those sums are
    recomputed fresh. The two are bit-identical whenever every such sum is exact in float64, and
    the detector proves that bar by bar: all prices in an 11-bar span are multiples of 2^(e-52)
    where 2^e <= their lowest low, so every range and every sum of ranges below 2^(e+1) is exact;
    the detector checks that the sum of the span's high-low ranges stays below that bound. This
    holds on ordinary data (measured: every dataset in ``shared/data`` except spans with extreme
    ranges — Coinbase daily BTC in 2015, monthly BTC, three hours of Bitfinex 2013). When a bar
    breaks it, the detector switches for good to evaluating TA-Lib on the whole history it has
    kept (O(bars) per update, still exact); :attr:`exact_by_window` tells which mode is active.

    Memory: the detector keeps every bar it was fed (40 bytes per bar) so that the fallback is
    possible; the windowed mode only reads the newest ``warm_up_period`` of them.
    Bad input: a NaN, non-positive, inconsistent (high < low, ...) or not-newer bar raises
    :class:`BarError` and leaves the state unchanged.
    """

    def __init__(self, names: Iterable[str] | None = None, *, capacity: int = 4096) -> None:
        self.names = pattern_names(names)
        self._calls = [(name, _FUNCTIONS[name]) for name in self.names]
        self.warm_up_period = max((PATTERN_INFO[n].lookback for n in self.names), default=0) + 1
        self._capacity = max(int(capacity), 2 * self.warm_up_period, _AVERAGE_SPAN)
        self.reset()

    def reset(self) -> None:
        """Forget every bar (as if newly created)."""
        self._prices = np.empty((4, self._capacity))
        self._count = 0
        self._last_time: int | None = None
        self._ranges: deque[float] = deque(maxlen=_AVERAGE_SPAN)
        self._lows: deque[float] = deque(maxlen=_AVERAGE_SPAN)
        self.exact_by_window = True

    @property
    def is_ready(self) -> bool:
        """True once ``warm_up_period`` bars were fed (every pattern can fire)."""
        return self._count >= self.warm_up_period

    @property
    def bars_seen(self) -> int:
        """Number of bars fed since creation or the last reset."""
        return self._count

    def update(self, bar: Bar) -> dict[str, int]:
        """Feed the next closed bar; the value of every pattern on it (see the class docstring)."""
        check_next_bar(bar, self._last_time, "pattern detector")
        self._last_time = bar.time
        n = self._count
        if n == self._prices.shape[1]:
            grown = np.empty((4, 2 * n))
            grown[:, :n] = self._prices
            self._prices = grown
        prices = self._prices
        prices[0, n] = bar.open
        prices[1, n] = bar.high
        prices[2, n] = bar.low
        prices[3, n] = bar.close
        n += 1
        self._count = n
        if self.exact_by_window:
            ranges = self._ranges
            lows = self._lows
            ranges.append(bar.high - bar.low)
            lows.append(bar.low)
            # every price >= 2**e is a multiple of 2**(e - 52): sums of them below 2**(e + 1) are
            # exact. The float sum here may round down by ~1e-15; the margin keeps the test safe.
            if sum(ranges) * 1.000001 >= math.ldexp(1.0, math.frexp(min(lows))[1]):
                self.exact_by_window = False
        start = n - self.warm_up_period if self.exact_by_window and n > self.warm_up_period else 0
        o = prices[0, start:n]
        h = prices[1, start:n]
        lo = prices[2, start:n]
        c = prices[3, start:n]
        return {name: function(o, h, lo, c).item(-1) for name, function in self._calls}
