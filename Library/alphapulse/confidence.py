"""Confidence in [0, 1] for each detected candlestick pattern, from its context.

For a pattern firing on bar ``i`` with direction ``d`` (+1 bullish, -1 bearish; see below), the
confidence is the weighted sum (weights of :class:`ConfidenceSettings`, summing to 1, added in
this order) of five terms, each in [0, 1]; a term that cannot be computed yet (too little
history) counts as 0.5:

1. **trend** — the move leading into the pattern: ``m = (close[i-1] - close[i-1-N]) / atr[i-1]``
   with ``N = trend_bars``, scaled ``x = m / sqrt(N)``. Reversal patterns want a prior move against
   their direction (``x = -d * m / sqrt(N)``), continuation patterns one with it
   (``x = d * m / sqrt(N)``); the term is ``0.5 + 0.5 * x / (1 + |x|)``.
2. **volume** — the pattern bar's volume against the mean of the ``volume_bars`` bars before it:
   ``r / (1 + r)`` (0.5 at average volume; 1.0 if the average is 0 and the bar traded).
3. **rsi** — RSI extremes over the last ``rsi_bars`` bars: bullish patterns score
   ``(overbought - min rsi) / (overbought - oversold)``, bearish ones
   ``(max rsi - oversold) / (overbought - oversold)``, clipped to [0, 1] (1 at oversold for
   bullish, at overbought for bearish). RSI here is Cutler's: ``100 * gains / (gains + losses)``
   over ``rsi_period`` close-to-close changes (simple sums, not Wilder's smoothing; 50 when flat).
4. **level** — nearness to support/resistance: bullish patterns compare the lowest low of the last
   ``pattern_bars`` bars with the lowest low of the ``level_bars`` bars before them (bearish: the
   highest highs), ``1 / (1 + |distance| / atr[i])``: 1 right at the level.
5. **reliability** — how this pattern, in this direction, worked before on the same bars: of its
   occurrences on the ``reliability_bars`` bars before bar i (fired on bars ``i - reliability_bars``
   .. ``i - 1``) whose outcome was **resolved before bar i**, the share followed by a move of
   ``barrier_atr × atr`` in its direction before the same move against it, within
   ``barrier_bars`` bars (a triple barrier from the occurrence's close; touching both in one bar or
   neither in time counts as a failure). Shrunk by a Beta prior: ``(wins + prior_mean × s) /
   (resolved + s)`` with ``s = prior_strength`` — a pattern seen three times cannot reach 100 %.
   The window (``barrier_bars`` < ``reliability_bars`` <= 65535, so every occurrence in it has
   settled before it leaves) makes the term, like all the others, depend on a bounded stretch of history:
   given :attr:`ConfidenceSettings.lookback` bars before a bar, its confidence is the same whatever
   came earlier — a chart that loaded more history, a backtest that started earlier.

``atr`` is the mean true range over ``atr_bars`` bars (simple mean). Directions: the sign of
TA-Lib's value, or the pattern's fixed bias (gravestone/dragonfly doji). Indecision patterns (Doji,
Spinning Top, ...) have no direction of their own and are read as a possible reversal of the move
into them (``d = -sign(m)``); with no known move, every directional term is 0.5.

Exactness: every window statistic is recomputed from its window in one fixed order of additions
(no running sums, no recursive smoothing), so :func:`confidence` (vectorised) and
:class:`ConfidenceTracker` (one bar at a time) give bit-identical results from the first bar on,
and a result never changes when later bars are added.

Cost (batch): :func:`occurrence_confidence` first finds where each pattern fires, then goes
through the bars block by block: it computes what an occurrence on each bar of the block reads
there (the four context terms summed for each way of reading a pattern, and the bar's barrier
outcome; each block from the bars its windows and barriers reach, so the numbers are those of the
whole history) into tables that stay in the CPU cache, and looks up each pattern's occurrences in
that block. The reliability then comes per pattern from counts of earlier outcomes by rank (no
sorting). :func:`confidence` spreads the same numbers into NaN-filled full-length columns (8 bytes
per bar and pattern), which costs more than the computation itself on long histories — prefer the
sparse form there.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from alphapulse.bars import Bar, Bars
from alphapulse.errors import ConfigError
from alphapulse.patterns import PATTERN_INFO, PatternInfo, check_next_bar, pattern_names

NEUTRAL = 0.5
#: longest reliability window: the batch path counts a window's outcomes in 16-bit fields
MAX_RELIABILITY_BARS = (1 << 16) - 1


@dataclass(frozen=True)
class ConfidenceSettings:
    """Weights and lookbacks of the confidence terms (see the module docstring). Bars are bars of
    the series the patterns are detected on."""

    trend: float = 0.25
    volume: float = 0.15
    rsi: float = 0.15
    level: float = 0.15
    reliability: float = 0.30
    trend_bars: int = 10
    atr_bars: int = 14
    volume_bars: int = 20
    rsi_period: int = 14
    rsi_bars: int = 3
    oversold: float = 30.0
    overbought: float = 70.0
    pattern_bars: int = 3
    level_bars: int = 50
    barrier_atr: float = 1.0
    barrier_bars: int = 20
    prior_mean: float = 0.5
    prior_strength: float = 10.0
    reliability_bars: int = 500

    def __post_init__(self) -> None:
        weights = (self.trend, self.volume, self.rsi, self.level, self.reliability)
        if min(weights) < 0 or not math.isclose(sum(weights), 1.0, abs_tol=1e-9):
            raise ConfigError(f"confidence weights {weights} (trend, volume, rsi, level, reliability): "
                              "each must be >= 0 and together sum to 1")
        for item in fields(self):
            if item.name.endswith(("_bars", "_period")) and getattr(self, item.name) < 1:
                raise ConfigError(f"confidence {item.name}={getattr(self, item.name)}: must be at least 1")
        if not 0 <= self.oversold < self.overbought <= 100:
            raise ConfigError(f"confidence oversold={self.oversold}, overbought={self.overbought}: "
                              "need 0 <= oversold < overbought <= 100")
        if self.reliability_bars > MAX_RELIABILITY_BARS:
            raise ConfigError(f"confidence reliability_bars={self.reliability_bars}: at most {MAX_RELIABILITY_BARS}")
        if self.reliability_bars <= self.barrier_bars:
            raise ConfigError(f"confidence reliability_bars={self.reliability_bars}: must exceed barrier_bars="
                              f"{self.barrier_bars} (every occurrence in the window must settle before it leaves)")
        if not self.barrier_atr > 0:
            raise ConfigError(f"confidence barrier_atr={self.barrier_atr}: must be > 0")
        if not (0 < self.prior_mean < 1 and self.prior_strength > 0):
            raise ConfigError(f"confidence prior_mean={self.prior_mean}, prior_strength="
                              f"{self.prior_strength}: need 0 < prior_mean < 1 and prior_strength > 0")

    @property
    def history(self) -> int:
        """Bars after which no term is neutral for lack of history (reliability aside)."""
        return max(self.trend_bars + 1 + self.atr_bars, self.volume_bars + 1,
                   self.rsi_period + self.rsi_bars, self.pattern_bars + self.level_bars, self.atr_bars)

    @property
    def lookback(self) -> int:
        """Bars before a bar that its confidence depends on: with at least this many, the result is
        the one any longer history gives (the reliability window and the context of its first bar)."""
        return self.reliability_bars + self.history + 1


# -- shared formulas (scalar and vector forms use the same operations in the same order) -----------

def _blocks(width: int) -> list[int]:
    """``width`` as descending powers of two (14 -> [8, 4, 2])."""
    return [1 << bit for bit in range(width.bit_length() - 1, -1, -1) if width >> bit & 1]


def _window_sums(x: np.ndarray, width: int, out: np.ndarray | None = None) -> np.ndarray:
    """Sum of the ``width`` values ending at each index (NaN for the first width-1), always added
    in one fixed order: the window is split into power-of-two blocks (14 = 8 + 4 + 2), each block
    summed pairwise, the block sums added left to right — :func:`_tree_sum` does the same on one
    window, so batch and streaming agree bit for bit. About log2(width) passes over ``x``."""
    n = len(x)
    if out is None:
        out = np.empty(n)
    if n < width:
        out.fill(np.nan)
        return out
    out[: width - 1] = np.nan
    windows = n - width + 1
    levels = {1: x}  # levels[s][i]: pairwise sum of x[i : i + s]
    span = 1
    while 2 * span <= width:
        below = levels[span]
        levels[2 * span] = below[:-span] + below[span:]
        span *= 2
    blocks = _blocks(width)
    total = out[width - 1:]
    total[:] = levels[blocks[0]][:windows]
    offset = blocks[0]
    for size in blocks[1:]:
        np.add(total, levels[size][offset: offset + windows], out=total)
        offset += size
    return out


def _tree_sum(values: list[float]) -> float:
    """One window's sum in the order of :func:`_window_sums`."""
    total = 0.0
    offset = 0
    for size in _blocks(len(values)):
        block = values[offset: offset + size]
        while len(block) > 1:
            block = [block[k] + block[k + 1] for k in range(0, len(block), 2)]
        total = block[0] if offset == 0 else total + block[0]
        offset += size
    return total


def _window_extreme(x: np.ndarray, width: int, pick: np.ufunc) -> np.ndarray:
    """Rolling minimum/maximum over ``width`` values ending at each index (NaN before).

    Doubling: extremes over 1, 2, 4, ... values, then two overlapping powers of two cover any
    width — about log2(width) passes, and exact (min/max do not round)."""
    n = len(x)
    out = np.empty(n)
    if n < width:
        out.fill(np.nan)
        return out
    out[: width - 1] = np.nan
    span, level = 1, x
    while 2 * span <= width:
        level = pick(level[span:], level[:-span])  # level[i] covers x[i .. i + 2*span - 1]
        span *= 2
    rest = width - span
    if rest:
        pick(level[rest:], level[: len(level) - rest], out=out[width - 1:])
    else:
        out[width - 1:] = level
    return out


class Occurrences(NamedTuple):
    """Where one pattern fires (bar indices, increasing) and its confidence there."""

    bars: np.ndarray
    confidence: np.ndarray


@dataclass(frozen=True)
class _Tables:
    """Per bar of a block of bars, what an occurrence of a pattern reads there (``size`` bars:
    index 0 is the block's first bar; ``never`` is the number of bars of the whole history).

    ``reversal`` and ``continuation`` (2, size): the weighted sum of the four context terms,
    ``(((trend + volume) + rsi) + level)`` (each term times its weight, added in that order), for a
    bearish (row 0) or bullish (row 1) pattern of that kind. ``indecision`` (size,): the same for an
    indecision pattern, read as a reversal of the move into it (``indecision_bull``: that reading
    is bullish); with no known move its directional terms are neutral.

    ``keys`` (2, size): the bar's barrier outcome for a bearish (row 0) or bullish (row 1) occurrence,
    ``2 * settled + won``: ``settled`` is the bar where the outcome is known, ``never`` (the number
    of bars) when it is never counted (no ATR, or not settled within the data). ``indecision_keys``:
    the same in the indecision reading; ``never + 1`` where there is no reading (no known move).
    """

    reversal: np.ndarray
    continuation: np.ndarray
    indecision: np.ndarray
    indecision_bull: np.ndarray
    keys: np.ndarray
    indecision_keys: np.ndarray
    never: int


#: bars per block of the context tables: a block's tables (about 60 bytes per bar) and the work
#: arrays behind them stay in the CPU cache, and are reused from block to block
_BLOCK = 1 << 16


def _block_tables(size: int, n: int) -> _Tables:
    """Empty :class:`_Tables` for blocks of ``size`` bars of a history of ``n`` bars."""
    key_type = np.int32 if n < 1 << 29 else np.int64
    return _Tables(np.empty((2, size)), np.empty((2, size)), np.empty(size), np.empty(size, dtype=bool),
                   np.empty((2, size), dtype=key_type), np.empty(size, dtype=key_type), n)


def _blocks_of(n: int) -> range:
    """The first bar of each block of :data:`_BLOCK` bars."""
    return range(0, n, _BLOCK)


def _fill_tables(bars: Bars, s: ConfidenceSettings, a: int, tables: _Tables) -> None:
    """Fill ``tables`` with the block of bars starting at bar ``a`` (table index 0 is bar ``a``).
    The block's context comes from the bars it needs (``settings.history`` bars before it for the
    windows, ``barrier_bars`` after it for the outcomes), so every number is the one the whole
    history gives."""
    n = len(bars)
    b = min(n, a + _BLOCK)
    first, end = max(0, a - s.history - 1), min(n, b + s.barrier_bars)
    h, lo, c, v = bars.high, bars.low, bars.close, bars.volume
    _fill_block(h[first:end], lo[first:end], c[first:end], v[first:end], s, first,
                slice(a - first, b - first), tables, a)


def _neutral_in_place(x: np.ndarray) -> np.ndarray:
    np.copyto(x, NEUTRAL, where=np.isnan(x))
    return x


def _fill_block(h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray, s: ConfidenceSettings,
                first: int, keep: slice, tables: _Tables, origin: int) -> None:
    """Compute the context of the bars given as columns (bars ``first ...`` of all; the first
    has no history) and write the tables of bars ``keep`` of them (bar ``first + keep.start`` at
    table index ``first + keep.start - origin``)."""
    n = len(c)
    true_range = h - lo
    if n > 1:
        tail = true_range[1:]
        gap = h[1:] - c[:-1]
        np.maximum(tail, np.abs(gap, out=gap), out=tail)
        np.subtract(lo[1:], c[:-1], out=gap)
        np.maximum(tail, np.abs(gap, out=gap), out=tail)
    atr = _window_sums(true_range, s.atr_bars)
    atr /= s.atr_bars
    root = math.sqrt(s.trend_bars)
    move = np.empty(n)
    lead = min(n, s.trend_bars + 1)
    move[:lead] = np.nan
    if n > lead:
        scale = atr[s.trend_bars: n - 1] * root
        np.subtract(c[s.trend_bars: n - 1], c[: n - 1 - s.trend_bars], out=move[lead:])
        with np.errstate(divide="ignore", invalid="ignore"):  # a flat ATR: +-inf or NaN (neutral)
            np.divide(move[lead:], scale, out=move[lead:])

    with np.errstate(divide="ignore", invalid="ignore"):
        # volume against the mean of the bars before
        mean_volume = _window_sums(v, s.volume_bars)
        mean_volume /= s.volume_bars
        volume_term = np.empty(n)
        volume_term[:1] = np.nan
        np.divide(v[1:], mean_volume[:-1], out=volume_term[1:])
        ratio = volume_term + 1.0
        np.divide(volume_term, ratio, out=volume_term)
        idle = mean_volume[:-1] == 0
        if idle.any():
            idle_at = np.flatnonzero(idle) + 1
            volume_term[idle_at] = np.where(v[idle_at] > 0, 1.0, NEUTRAL)
        weighted_volume = _neutral_in_place(volume_term)
        weighted_volume *= s.volume

        # RSI extremes
        rsi = np.empty(n)
        rsi[:1] = np.nan
        if n > 1:
            change = c[1:] - c[:-1]
            gains = np.maximum(change, 0.0)
            losses = np.subtract(gains, change, out=change)  # -change where it fell, else 0
            gain_sum = _window_sums(gains, s.rsi_period, out=rsi[1:])
            both = _window_sums(losses, s.rsi_period)
            both += gain_sum
            gain_sum *= 100.0
            gain_sum /= both
            np.copyto(gain_sum, 50.0, where=both == 0)
        span = s.overbought - s.oversold
        rsi_bull = np.subtract(s.overbought, _window_extreme(rsi, s.rsi_bars, np.minimum))
        rsi_bear = _window_extreme(rsi, s.rsi_bars, np.maximum)
        rsi_bear -= s.oversold
        for x in (rsi_bull, rsi_bear):
            x /= span
            np.clip(x, 0.0, 1.0, out=x)
            _neutral_in_place(x)
            x *= s.rsi

        # nearness to support (bullish) / resistance (bearish)
        level = {}
        for d, prices, pick in ((1, lo, np.minimum), (-1, h, np.maximum)):
            x = _window_extreme(prices, s.pattern_bars, pick)
            reach = min(n, s.pattern_bars)
            x[:reach] = np.nan
            x[reach:] -= _window_extreme(prices, s.level_bars, pick)[: n - reach]
            np.abs(x, out=x)
            x /= atr
            x += 1.0
            np.divide(1.0, x, out=x)
            level[d] = _neutral_in_place(x)
            x *= s.level

        # trend term for x = +move and x = -move: 0.5 + 0.5 * (x / (1 + |x|)), neutral when NaN
        half = np.abs(move)
        half += 1.0
        np.divide(move, half, out=half)
        half *= 0.5
        with_move = _neutral_in_place(half + 0.5)
        with_move *= s.trend
        against_move = _neutral_in_place(np.subtract(0.5, half, out=half))
        against_move *= s.trend

    at = slice(first + keep.start - origin, first + keep.stop - origin)
    # reversal: bullish wants a prior fall (against the move), continuation: a prior rise
    for table, bullish_trend, bearish_trend in ((tables.reversal, against_move, with_move),
                                                (tables.continuation, with_move, against_move)):
        for row, d, weighted_trend in ((1, 1, bullish_trend), (0, -1, bearish_trend)):
            score = table[row, at]
            np.add(weighted_trend[keep], weighted_volume[keep], out=score)
            score += (rsi_bull if d > 0 else rsi_bear)[keep]
            score += level[d][keep]
    # an indecision pattern is read as a reversal of the move into it (neutral with no known
    # move); the reading is selected by products, exact here (x * 1 = x, x * 0 + y = y for these
    # finite, non-negative scores)
    move = move[keep]
    bull = np.less(move, 0.0, out=tables.indecision_bull[at])
    bear = move > 0.0
    undirected = ~(bull | bear)
    neutral = s.trend * NEUTRAL + weighted_volume[keep]
    neutral += s.rsi * NEUTRAL
    neutral += s.level * NEUTRAL
    neutral *= undirected
    reading = np.multiply(tables.reversal[0, at], bear, out=tables.indecision[at])
    reading += neutral
    reading += np.multiply(tables.reversal[1, at], bull, out=neutral)

    steps, won_up, won_down = _barriers(h, lo, c, atr, s)
    never = tables.never
    settled = np.arange(first + keep.start, first + keep.stop, dtype=tables.keys.dtype)
    settled += steps[keep]
    np.minimum(settled, never, out=settled)
    settled[np.isnan(atr[keep])] = never
    settled += settled
    down = np.add(settled, won_down[keep], out=tables.keys[0, at])
    up = np.add(settled, won_up[keep], out=tables.keys[1, at])
    keys = np.multiply(down, bear, out=tables.indecision_keys[at])
    keys += up * bull
    keys += undirected * (2 * (never + 1))


def _barriers(h: np.ndarray, lo: np.ndarray, c: np.ndarray, atr: np.ndarray,
              s: ConfidenceSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triple-barrier outcome of every bar: the number of bars until it is known (``steps``:
    the first touch of a barrier, else ``barrier_bars``) and which barrier was touched first
    (``won_up`` / ``won_down``; neither when both are touched in one bar or none in time).

    Per barrier, the first touch is 1 + the number of steps 1, 2, ... before it (steps at which
    the bars ahead so far all stayed short of the barrier) over the bars given (one block of the
    history, with ``barrier_bars`` bars after it: see :func:`_fill_tables`). A bar with
    fewer than ``barrier_bars`` bars after it and no touch gets a count that reaches past the
    data, like ``barrier_bars`` itself; a bar without ATR (NaN barriers) gets 1 for both barriers
    and no win (it is never counted)."""
    n, limit = len(c), s.barrier_bars
    width = s.barrier_atr * atr
    upper = c + width
    lower = c - width
    kind = np.uint8 if limit < 255 else np.int32
    up_step = np.ones(n, dtype=kind)
    down_step = np.ones(n, dtype=kind)
    short = np.empty(n, dtype=bool)
    below_up = np.ones(n, dtype=bool)  # no touch of the upper barrier so far
    above_down = np.ones(n, dtype=bool)
    for k in range(1, min(limit, n - 1) + 1):
        m = n - k  # bars with a bar k steps ahead
        for first, untouched, ahead, barrier, short_of in (
                (up_step, below_up, h, upper, np.less), (down_step, above_down, lo, lower, np.greater)):
            short_of(ahead[k:], barrier[:m], out=short[:m])
            np.logical_and(untouched[:m], short[:m], out=untouched[:m])
            np.add(first[:m], untouched[:m].view(np.uint8), out=first[:m])
    won_up = up_step < down_step
    won_down = down_step < up_step
    steps = np.minimum(up_step, down_step)
    np.minimum(steps, limit, out=steps)
    return steps, won_up, won_down


def occurrence_confidence(bars: Bars, values: dict[str, np.ndarray],
                          settings: ConfidenceSettings | None = None) -> dict[str, Occurrences]:
    """The sparse form of :func:`confidence`: for each pattern, the bars where it fires and the
    confidence there — the same numbers without the NaN-filled full-length arrays."""
    s = settings or ConfidenceSettings()
    n = len(bars)
    columns = {}
    for name, column in values.items():
        pattern_names([name])
        columns[name] = column = np.asarray(column)
        if len(column) != n:
            raise ConfigError(f"confidence: {name} has {len(column)} values for {n} bars")
    if n == 0:
        return {name: Occurrences(np.empty(0, dtype=np.intp), np.empty(0)) for name in columns}
    firsts = _blocks_of(n)
    bounds = np.append(np.asarray(firsts, dtype=np.intp), n)
    tables = _block_tables(min(n, _BLOCK), n)
    scratch = _Scratch(n + s.reliability_bars + 3)
    found = []
    for name, column in columns.items():
        fired = np.flatnonzero(np.not_equal(column, 0, out=scratch("fires", n, bool)))
        found.append(_Found(name, PATTERN_INFO[name], column, fired, np.searchsorted(fired, bounds),
                            np.empty(len(fired)), np.empty(len(fired), dtype=tables.keys.dtype),
                            None if PATTERN_INFO[name].bias else np.empty(len(fired), dtype=bool)))
    # what each occurrence reads on its bar, block by block
    for block, a in enumerate(firsts):
        if all(item.edges[block] == item.edges[block + 1] for item in found):
            continue  # no occurrence on these bars: nothing to look up
        _fill_tables(bars, s, a, tables)
        for item in found:
            _read_block(item, item.edges[block], item.edges[block + 1], a, tables, scratch)
    out: dict[str, Occurrences] = {}
    for item in found:
        if len(item.bars):
            reliability = _reliability(item, s, scratch)
            reliability *= s.reliability
            np.add(item.confidence, reliability, out=item.confidence)
        out[item.name] = Occurrences(item.bars, item.confidence)
    return out


def confidence(bars: Bars, values: dict[str, np.ndarray],
               settings: ConfidenceSettings | None = None) -> dict[str, np.ndarray]:
    """Confidence (float64 in [0, 1]) of each pattern in ``values`` on every bar; NaN where the
    pattern does not fire (value 0). ``values`` are :func:`alphapulse.patterns.scan` results for
    these ``bars``. Only information up to each bar is used (see the module docstring)."""
    out: dict[str, np.ndarray] = {}
    for name, (where, score) in occurrence_confidence(bars, values, settings).items():
        dense = np.full(len(bars), np.nan)
        dense[where] = score
        out[name] = dense
    return out


class _Found(NamedTuple):
    """One pattern's occurrences while their confidence is computed: the bars (increasing), the
    first occurrence in each block (``edges``), the four context terms (``confidence``, then the
    whole confidence), the barrier outcome keys in the direction each is read in (:class:`_Tables`)
    and which are read as bullish (``bull``; None: the pattern has one direction)."""

    name: str
    info: PatternInfo
    column: np.ndarray
    bars: np.ndarray
    edges: np.ndarray
    confidence: np.ndarray
    keys: np.ndarray
    bull: np.ndarray | None


def _read_block(found: _Found, start: int, stop: int, a: int, tables: _Tables, scratch: _Scratch) -> None:
    """Look up the occurrences ``start:stop`` of ``found`` (those on the block of bars from bar
    ``a`` that ``tables`` holds): their context terms and outcome keys in the reading of the
    pattern's kind and direction."""
    if start == stop:
        return
    at = np.subtract(found.bars[start:stop], a, out=scratch("at", stop - start, np.intp))
    score, keys, kind = found.confidence[start:stop], found.keys[start:stop], found.info.kind
    if kind == "indecision":
        np.take(tables.indecision, at, out=score, mode="clip")
        np.take(tables.indecision_keys, at, out=keys, mode="clip")
        assert found.bull is not None
        np.take(tables.indecision_bull, at, out=found.bull[start:stop], mode="clip")
        return
    table = tables.continuation if kind == "continuation" else tables.reversal
    if found.info.bias:
        row = 1 if found.info.bias > 0 else 0
        np.take(table[row], at, out=score, mode="clip")
        np.take(tables.keys[row], at, out=keys, mode="clip")
        return
    assert found.bull is not None
    bull = np.greater(found.column[found.bars[start:stop]], 0, out=found.bull[start:stop])
    at += np.multiply(bull, table.shape[1], out=scratch("row", stop - start, np.intp))
    np.take(table.ravel(), at, out=score, mode="clip")
    np.take(tables.keys.ravel(), at, out=keys, mode="clip")


#: fires per bar above which a pattern's fire counts are taken from a running count over all
#: bars rather than searched
_DENSE_FIRES = 1 / 32
#: 16-bit fields of a packed outcome count: bearish outcomes, bearish wins, bullish outcomes,
#: bullish wins (a window holds at most ``reliability_bars`` < 2**16 occurrences)
_FIELD = np.uint64(0xFFFF)


class _Scratch:
    """Work arrays reused from pattern to pattern: fresh memory costs a page fault per page, so
    each array is allocated once, ``capacity`` long (pages never written cost nothing)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._arrays: dict[str, np.ndarray] = {}

    def __call__(self, name: str, size: int, dtype: DTypeLike) -> np.ndarray:
        array = self._arrays.get(name)
        if array is None or len(array) < size or array.dtype != dtype:
            array = self._arrays[name] = np.empty(max(size, self.capacity), dtype=dtype)
        return array[:size]


def _reliability(found: _Found, s: ConfidenceSettings, scratch: _Scratch) -> np.ndarray:
    """Shrunk hit rate of the earlier occurrences of ``found`` (same pattern and direction) in the
    reliability window, resolved before each.

    Counting by rank: an outcome settled on bar ``r`` is known to exactly the occurrences after
    the ``rank`` first, ``rank`` the number of fires on bars up to ``r``; one leaves the window of
    the occurrences after the ``left`` first, ``left`` the number of fires on bars up to
    ``fired - reliability_bars - 1`` (all of those settled, as ``reliability_bars`` >
    ``barrier_bars``). Each outcome is packed into 16-bit fields by direction (:data:`_FIELD`):
    outcomes summed by rank up to an occurrence, less those of the occurrences before its ``left``,
    are the window's counts in each field (exact in wrapping 64-bit arithmetic, as no field of a
    window's sum overflows)."""
    fired, keys, bull = found.bars, found.keys, found.bull
    n, m, window = len(found.column), len(fired), s.reliability_bars
    index_type = keys.dtype
    settled = np.right_shift(keys, 1, out=scratch("settled", m, index_type))
    if m > _DENSE_FIRES * n:
        # running[window + 1 + t]: fires on bars up to t; 0 before, m after the last bar (the
        # ``never`` keys n, n + 1)
        running = scratch("running", window + 3 + n, index_type)
        running[: window + 1] = 0
        fires = np.not_equal(found.column, 0, out=scratch("fires", n, bool))
        np.cumsum(fires.view(np.int8), dtype=index_type, out=running[window + 1: window + 1 + n])
        running[window + 1 + n:] = m
        rank = np.take(running[window + 1:], settled, out=scratch("rank", m, index_type), mode="clip")
        left = np.take(running, fired, out=scratch("left", m, index_type), mode="clip")
    else:
        rank = np.searchsorted(fired, settled, side="right")
        left = np.searchsorted(fired, fired - (window + 1), side="right")
    # the packed outcome of each occurrence: 1 + won * 2**16, shifted 32 bits when bullish; 0 when
    # it is never counted (rank m)
    packed = np.bitwise_and(keys, 1, out=scratch("packed", m, np.uint64), casting="unsafe")
    packed <<= np.uint64(16)
    packed += np.uint64(1)
    shift = None if bull is None else np.left_shift(bull.view(np.uint8), 5, out=scratch("shift", m, np.uint8))
    if shift is not None:
        packed <<= shift
    packed *= np.less(rank, m, out=scratch("counted", m, bool))
    seen = scratch("seen", m + 1, np.uint64)
    seen.fill(0)
    np.add.at(seen, rank, packed)
    seen = np.cumsum(seen[:m], out=seen[:m])
    gone = scratch("gone", m + 1, np.uint64)
    gone[0] = 0
    np.cumsum(packed, out=gone[1:])
    seen -= np.take(gone, left, out=packed, mode="clip")
    if shift is not None:
        seen >>= shift
    wins = np.right_shift(seen, np.uint64(16), out=packed)
    wins &= _FIELD
    seen &= _FIELD
    prior_wins = s.prior_mean * s.prior_strength
    shrunk = np.add(wins, prior_wins, out=scratch("shrunk", m, np.float64))
    shrunk /= np.add(seen, s.prior_strength, out=scratch("total", m, np.float64))
    undirected = np.equal(settled, n + 1, out=scratch("undirected", m, bool))
    if undirected.any():
        shrunk[undirected] = (0.0 + prior_wins) / (0.0 + s.prior_strength)
    return shrunk


# -- streaming ---------------------------------------------------------------------------------------

def _reading(name: str, value: int, move: float) -> int:
    """The direction an occurrence is read in: the sign of TA-Lib's value or the pattern's bias; an
    indecision pattern as a reversal of the move into it (0: no known move, no reading)."""
    info = PATTERN_INFO[name]
    if info.kind == "indecision":
        return 0 if math.isnan(move) or move == 0 else (-1 if move > 0 else 1)
    return info.bias or (1 if value > 0 else -1)


class ConfidenceTracker:
    """Streaming :func:`confidence`: ``update(bar, values_for_bar) -> {name: confidence}``.

    ``values_for_bar`` are the pattern values on this bar (e.g. from
    :class:`alphapulse.patterns.PatternDetector`); the result holds a confidence for every
    pattern with a non-zero value, equal bit for bit to the batch result on the same bars from
    the first bar on. Feed every bar (also bars without patterns) and always the same pattern
    names. Invalid or out-of-order bars raise :class:`~alphapulse.errors.BarError` and leave the
    state unchanged.
    """

    def __init__(self, settings: ConfidenceSettings | None = None) -> None:
        self.settings = settings or ConfidenceSettings()
        self.reset()

    def reset(self) -> None:
        """Forget every bar (as if newly created)."""
        s = self.settings
        self._last_time: int | None = None
        self._count = 0
        self._closes: deque[float] = deque(maxlen=s.trend_bars + 2)
        self._ranges: deque[float] = deque(maxlen=s.atr_bars)
        self._atrs: deque[float] = deque(maxlen=2)
        self._volumes: deque[float] = deque(maxlen=s.volume_bars + 1)
        self._gains: deque[float] = deque(maxlen=s.rsi_period)
        self._losses: deque[float] = deque(maxlen=s.rsi_period)
        self._rsis: deque[float] = deque(maxlen=s.rsi_bars)
        self._lows: deque[float] = deque(maxlen=s.level_bars + s.pattern_bars)
        self._highs: deque[float] = deque(maxlen=s.level_bars + s.pattern_bars)
        # bar index -> (upper, lower, [(name, direction), ...]) awaiting their barrier outcome
        self._pending: dict[int, tuple[float, float, list[tuple[str, int]]]] = {}
        self._stats: dict[tuple[str, int], list[int]] = {}
        # bar index -> settled outcomes [(name, direction, won), ...] of the occurrences fired there,
        # taken out of the counts when the bar leaves the reliability window
        self._settled: dict[int, list[tuple[str, int, bool]]] = {}

    @property
    def bars_seen(self) -> int:
        """Number of bars fed since creation or the last reset."""
        return self._count

    @property
    def is_ready(self) -> bool:
        """True once every context term has enough history (reliability keeps learning)."""
        return self._count >= self.settings.history

    def update(self, bar: Bar, values: dict[str, int]) -> dict[str, float]:
        """Feed the next closed bar and its pattern values; the confidence of each firing pattern."""
        check_next_bar(bar, self._last_time, "confidence tracker")
        for name in values:
            if name not in PATTERN_INFO:
                pattern_names([name])
        s = self.settings
        self._last_time = bar.time
        i = self._count
        self._count = i + 1
        for name, d, won in self._settled.pop(i - s.reliability_bars - 1, ()):  # left the window
            stats = self._stats[(name, d)]
            stats[0] -= int(won)
            stats[1] -= 1
        closes = self._closes
        previous_close = closes[-1] if closes else math.nan
        # true range and its mean
        true_range = bar.high - bar.low
        if closes:
            up_gap = abs(bar.high - previous_close)
            down_gap = abs(bar.low - previous_close)
            if up_gap > true_range:
                true_range = up_gap
            if down_gap > true_range:
                true_range = down_gap
        self._ranges.append(true_range)
        atr = _tree_sum(list(self._ranges)) / s.atr_bars if len(self._ranges) == s.atr_bars else math.nan
        previous_atr = self._atrs[-1] if self._atrs else math.nan
        self._atrs.append(atr)
        closes.append(bar.close)
        # trend into the bar
        if len(closes) == s.trend_bars + 2:
            move = (closes[-2] - closes[0]) / (previous_atr * math.sqrt(s.trend_bars))
        else:
            move = math.nan
        # volume against the mean before the bar
        volumes = self._volumes
        volumes.append(bar.volume)
        if len(volumes) == s.volume_bars + 1:
            mean_volume = _tree_sum(list(volumes)[: s.volume_bars]) / s.volume_bars
            if mean_volume == 0:
                volume_term = 1.0 if bar.volume > 0 else NEUTRAL
            else:
                ratio = bar.volume / mean_volume
                volume_term = ratio / (1.0 + ratio)
        else:
            volume_term = NEUTRAL
        # RSI
        if not math.isnan(previous_close):
            change = bar.close - previous_close
            self._gains.append(change if change > 0 else 0.0)
            self._losses.append(-change if change < 0 else 0.0)
        if len(self._gains) == s.rsi_period:
            gain_sum = _tree_sum(list(self._gains))
            both = gain_sum + _tree_sum(list(self._losses))
            rsi = 50.0 if both == 0 else 100.0 * gain_sum / both
        else:
            rsi = math.nan
        self._rsis.append(rsi)
        rsi_ready = len(self._rsis) == s.rsi_bars and not any(math.isnan(r) for r in self._rsis)
        # levels
        self._lows.append(bar.low)
        self._highs.append(bar.high)
        level_ready = len(self._lows) == s.level_bars + s.pattern_bars and not math.isnan(atr)

        result = {}
        for name, value in values.items():
            if not value:
                continue
            info = PATTERN_INFO[name]
            d = _reading(name, value, move)
            if d == 0:
                trend = rsi_term = level = NEUTRAL
            else:
                if math.isnan(move):
                    trend = NEUTRAL
                else:
                    x = d * move if info.kind == "continuation" else -d * move
                    trend = 0.5 + 0.5 * (x / (1.0 + abs(x)))
                span = s.overbought - s.oversold
                if not rsi_ready:
                    rsi_term = NEUTRAL
                else:
                    raw = ((s.overbought - min(self._rsis)) / span if d > 0
                           else (max(self._rsis) - s.oversold) / span)
                    rsi_term = 0.0 if raw < 0.0 else 1.0 if raw > 1.0 else raw
                level = 1.0 / (1.0 + self._distance(d, atr)) if level_ready else NEUTRAL
            reliability = self._reliability(name, d)
            score = s.trend * trend
            score = score + s.volume * volume_term
            score = score + s.rsi * rsi_term
            score = score + s.level * level
            score = score + s.reliability * reliability
            result[name] = score
        self._resolve(i, bar)
        self._remember(i, bar, atr, values, move)
        return result

    def _distance(self, d: int, atr: float) -> float:
        s = self.settings
        if d > 0:
            lows = list(self._lows)
            return abs(min(lows[-s.pattern_bars:]) - min(lows[: s.level_bars])) / atr
        highs = list(self._highs)
        return abs(max(highs[-s.pattern_bars:]) - max(highs[: s.level_bars])) / atr

    def _reliability(self, name: str, d: int) -> float:
        s = self.settings
        prior_wins = s.prior_mean * s.prior_strength
        stats = self._stats.get((name, d)) if d else None
        if stats is None:
            return (0.0 + prior_wins) / (0.0 + s.prior_strength)
        wins, seen = stats
        return (wins + prior_wins) / (seen + s.prior_strength)

    def _resolve(self, i: int, bar: Bar) -> None:
        """Settle pending occurrences whose barrier or time limit is reached on bar ``i``."""
        limit = self.settings.barrier_bars
        done = []
        for j, (upper, lower, occurrences) in self._pending.items():
            up = bar.high >= upper
            down = bar.low <= lower
            if not (up or down or i - j >= limit):
                continue
            done.append(j)
            outcomes = self._settled.setdefault(j, [])
            for name, d in occurrences:
                won = (up and not down) if d > 0 else (down and not up)
                stats = self._stats.setdefault((name, d), [0, 0])
                stats[0] += int(won)
                stats[1] += 1
                outcomes.append((name, d, won))
        for j in done:
            del self._pending[j]

    def _remember(self, i: int, bar: Bar, atr: float, values: dict[str, int], move: float) -> None:
        if math.isnan(atr):
            return
        occurrences = []
        for name, value in values.items():
            if not value:
                continue
            d = _reading(name, value, move)
            if d:
                occurrences.append((name, d))
        if occurrences:
            width = self.settings.barrier_atr * atr
            self._pending[i] = (bar.close + width, bar.close - width, occurrences)
