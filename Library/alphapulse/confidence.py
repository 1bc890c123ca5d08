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
   past occurrences whose outcome was **resolved before bar i**, the share followed by a move of
   ``barrier_atr × atr`` in its direction before the same move against it, within
   ``barrier_bars`` bars (a triple barrier from the occurrence's close; touching both in one bar or
   neither in time counts as a failure). Shrunk by a Beta prior: ``(wins + prior_mean × s) /
   (resolved + s)`` with ``s = prior_strength`` — a pattern seen three times cannot reach 100 %.

``atr`` is the mean true range over ``atr_bars`` bars (simple mean). Directions: the sign of
TA-Lib's value, or the pattern's fixed bias (gravestone/dragonfly doji). Indecision patterns (Doji,
Spinning Top, ...) have no direction of their own and are read as a possible reversal of the move
into them (``d = -sign(m)``); with no known move, every directional term is 0.5.

Exactness: every window statistic is recomputed from its window in one fixed order of additions
(no running sums, no recursive smoothing), so :func:`confidence` (vectorised) and
:class:`ConfidenceTracker` (one bar at a time) give bit-identical results from the first bar on,
and a result never changes when later bars are added.

Cost (batch): :func:`occurrence_confidence` computes the bar context block by block (each block
from the bars its windows and barriers reach, so the numbers are those of the whole history) and
then works only on the bars where each pattern fires; :func:`confidence` spreads the same numbers
into NaN-filled full-length columns (8 bytes per bar and pattern), which costs more than the
computation itself on long histories — prefer the sparse form there.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from alphapulse.bars import Bar, Bars
from alphapulse.errors import ConfigError
from alphapulse.patterns import PATTERN_INFO, check_next_bar, pattern_names

NEUTRAL = 0.5


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


# -- shared formulas (scalar and vector forms use the same operations in the same order) -----------

def _blocks(width: int) -> list[int]:
    """``width`` as descending powers of two (14 -> [8, 4, 2])."""
    return [1 << bit for bit in range(width.bit_length() - 1, -1, -1) if width >> bit & 1]


def _window_sums(x: np.ndarray, width: int) -> np.ndarray:
    """Sum of the ``width`` values ending at each index (NaN for the first width-1), always added
    in one fixed order: the window is split into power-of-two blocks (14 = 8 + 4 + 2), each block
    summed pairwise, the block sums added left to right — :func:`_tree_sum` does the same on one
    window, so batch and streaming agree bit for bit. About log2(width) passes over ``x``."""
    n = len(x)
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


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    out = np.empty(len(x))
    out[:k] = np.nan
    if k < len(x):
        out[k:] = x[: len(x) - k]
    return out


@dataclass(frozen=True)
class _Context:
    """Bar-level series shared by every pattern (NaN where not computable)."""

    atr: np.ndarray
    move: np.ndarray  # (close[i-1] - close[i-1-N]) / (atr[i-1] * sqrt(N))
    volume_term: np.ndarray
    rsi_low: np.ndarray
    rsi_high: np.ndarray
    low_distance: np.ndarray  # |lowest recent low - support| / atr
    high_distance: np.ndarray
    won_up: np.ndarray  # the upper barrier was touched strictly before the lower one
    won_down: np.ndarray
    resolved_at: np.ndarray  # bar index where the outcome is known (n or more: unresolved)


def _context(h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray, s: ConfidenceSettings) -> _Context:
    """The context of bars given as columns (the first bar has no history)."""
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

    mean_volume = _lag(_window_sums(v, s.volume_bars), 1)
    mean_volume /= s.volume_bars
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = v / mean_volume
        volume_term = ratio / (1.0 + ratio)
    idle = mean_volume == 0
    if idle.any():
        volume_term[idle] = np.where(v[idle] > 0, 1.0, NEUTRAL)

    rsi = np.empty(n)
    rsi[:1] = np.nan
    if n > 1:
        change = c[1:] - c[:-1]
        gains = np.where(change > 0, change, 0.0)
        losses = np.where(change < 0, -change, 0.0)
        gain_sum = _window_sums(gains, s.rsi_period)
        both = _window_sums(losses, s.rsi_period)
        both += gain_sum
        with np.errstate(divide="ignore", invalid="ignore"):
            gain_sum *= 100.0
            gain_sum /= both
        gain_sum[both == 0] = 50.0
        rsi[1:] = gain_sum
    rsi_low = _window_extreme(rsi, s.rsi_bars, np.minimum)
    rsi_high = _window_extreme(rsi, s.rsi_bars, np.maximum)

    with np.errstate(divide="ignore", invalid="ignore"):
        low_distance = _window_extreme(lo, s.pattern_bars, np.minimum)
        low_distance -= _lag(_window_extreme(lo, s.level_bars, np.minimum), s.pattern_bars)
        np.abs(low_distance, out=low_distance)
        low_distance /= atr
        high_distance = _window_extreme(h, s.pattern_bars, np.maximum)
        high_distance -= _lag(_window_extreme(h, s.level_bars, np.maximum), s.pattern_bars)
        np.abs(high_distance, out=high_distance)
        high_distance /= atr

    won_up, won_down, resolved_at = _barriers(h, lo, c, atr, s)
    return _Context(atr, move, volume_term, rsi_low, rsi_high, low_distance, high_distance,
                    won_up, won_down, resolved_at)


#: bars per block of the barrier search (its work arrays stay in the CPU cache)
_BARRIER_BLOCK = 1 << 17


def _barriers(h: np.ndarray, lo: np.ndarray, c: np.ndarray, atr: np.ndarray,
              s: ConfidenceSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triple-barrier outcome of every bar: which barrier was touched first (``won_up`` /
    ``won_down``; neither when both are touched in one bar or none in time) and the bar where
    that is known (``resolved_at``). Each block of bars is compared with the bars 1, 2, ...
    ``barrier_bars`` ahead; a bar's outcome is fixed at its first touch."""
    n, limit = len(c), s.barrier_bars
    width = s.barrier_atr * atr
    upper = c + width
    lower = c - width
    pending = ~np.isnan(atr)  # a NaN barrier is never touched
    # per bar: 0 while untouched, else 4 * steps + 1 + (up touched) - (down touched)
    kind = np.int16 if 4 * limit + 2 < 2**15 else np.int64
    outcome = np.zeros(n, dtype=kind)
    size = max(1, min(n, _BARRIER_BLOCK))
    up = np.empty(size, dtype=bool)
    down = np.empty(size, dtype=bool)
    hit = np.empty(size, dtype=bool)
    code = np.empty(size, dtype=kind)
    for a in range(0, n, size):
        b = min(n, a + size)
        for k in range(1, limit + 1):
            m = min(b, n - k) - a  # bars of the block with a bar k steps ahead
            if m <= 0:
                break
            u, dn, touched, open_, now = up[:m], down[:m], hit[:m], pending[a: a + m], code[:m]
            np.greater_equal(h[a + k: a + k + m], upper[a: a + m], out=u)
            np.less_equal(lo[a + k: a + k + m], lower[a: a + m], out=dn)
            np.logical_or(u, dn, out=touched)
            touched &= open_
            np.subtract(u, dn, out=now, dtype=kind)
            now += 4 * k + 1
            np.copyto(outcome[a: a + m], now, where=touched)
            open_ ^= touched
    untouched = outcome == 0
    steps = outcome >> 2
    steps[untouched] = limit
    resolved_at = np.arange(n, dtype=np.int64)
    resolved_at += steps
    outcome &= 3
    won_down = outcome == 0
    won_down &= ~untouched
    return outcome == 2, won_down, resolved_at


@dataclass(frozen=True)
class _Partials:
    """Per bar, the weighted sum of the four context terms for each way of reading a pattern:
    ``(((trend + volume) + rsi) + level)``, each term times its weight, added in that order.
    ``reversal`` and ``continuation`` hold two columns per bar, ``[:, 0]`` for a bearish and
    ``[:, 1]`` for a bullish pattern (so ``table.ravel()[2 * i + bullish]`` picks one)."""

    reversal: np.ndarray
    continuation: np.ndarray
    weighted_volume: np.ndarray  # volume term times its weight (the neutral reading needs it)
    indecision_direction: np.ndarray  # -sign(move): +1, -1, or 0 when the move is unknown
    outcome_keys: np.ndarray  # sort key of each bar's outcome, columns like ``reversal``


def _neutral_in_place(x: np.ndarray) -> np.ndarray:
    x[np.isnan(x)] = NEUTRAL
    return x


def _partials(ctx: _Context, s: ConfidenceSettings, first: int, total: int) -> _Partials:
    """The partial scores of the bars of ``ctx``, which are bars ``first ...`` of ``total``."""
    n = len(ctx.atr)
    span = s.overbought - s.oversold
    with np.errstate(invalid="ignore"):
        weighted_volume = _neutral_in_place(ctx.volume_term.copy())
        weighted_volume *= s.volume
        weighted_rsi = {}
        for d, x in ((1, s.overbought - ctx.rsi_low), (-1, ctx.rsi_high - s.oversold)):
            x /= span
            np.clip(x, 0.0, 1.0, out=x)
            weighted_rsi[d] = _neutral_in_place(x) * s.rsi
        weighted_level = {}
        for d, distance in ((1, ctx.low_distance), (-1, ctx.high_distance)):
            x = distance + 1.0
            np.divide(1.0, x, out=x)
            weighted_level[d] = _neutral_in_place(x) * s.level
        # trend term for x = +move and x = -move: 0.5 + 0.5 * (x / (1 + |x|)), neutral when NaN
        half = np.abs(ctx.move)
        half += 1.0
        np.divide(ctx.move, half, out=half)
        half *= 0.5
        with_move = _neutral_in_place(half + 0.5) * s.trend
        np.subtract(0.5, half, out=half)
        against_move = _neutral_in_place(half) * s.trend

    reversal = np.empty((n, 2))
    continuation = np.empty((n, 2))
    # reversal: bullish wants a prior fall (x = -move), continuation: a prior rise (x = +move)
    for table, bullish_trend, bearish_trend in ((reversal, against_move, with_move),
                                                (continuation, with_move, against_move)):
        for column, d, weighted_trend in ((1, 1, bullish_trend), (0, -1, bearish_trend)):
            score = table[:, column]
            np.add(weighted_trend, weighted_volume, out=score)
            score += weighted_rsi[d]
            score += weighted_level[d]
    direction = np.zeros(n, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        direction[ctx.move > 0] = -1
        direction[ctx.move < 0] = 1
    return _Partials(reversal, continuation, weighted_volume, direction,
                     _outcome_keys(ctx, first, total, s.barrier_bars))


class Occurrences(NamedTuple):
    """Where one pattern fires (bar indices, increasing) and its confidence there."""

    bars: np.ndarray
    confidence: np.ndarray


#: bars per block of the context computation (its work arrays stay in the CPU cache)
_BLOCK = 1 << 16


def _all_partials(bars: Bars, s: ConfidenceSettings) -> _Partials:
    """:func:`_partials` of every bar, computed block by block: each block's context comes from
    the bars it needs (``settings.history`` bars before it for the windows, ``barrier_bars``
    after it for the outcomes), so every number is the one the whole history gives."""
    n = len(bars)
    h, lo, c, v = bars.high, bars.low, bars.close, bars.volume
    reversal = np.empty((n, 2))
    continuation = np.empty((n, 2))
    weighted_volume = np.empty(n)
    direction = np.empty(n, dtype=np.int8)
    keys = np.empty((n, 2), dtype=np.int64)
    before, after = s.history + 1, s.barrier_bars
    for a in range(0, n, _BLOCK):
        b = min(n, a + _BLOCK)
        first, end = max(0, a - before), min(n, b + after)
        block = _partials(_context(h[first:end], lo[first:end], c[first:end], v[first:end], s),
                          s, first, n)
        keep = slice(a - first, b - first)
        reversal[a:b] = block.reversal[keep]
        continuation[a:b] = block.continuation[keep]
        weighted_volume[a:b] = block.weighted_volume[keep]
        direction[a:b] = block.indecision_direction[keep]
        keys[a:b] = block.outcome_keys[keep]
    return _Partials(reversal, continuation, weighted_volume, direction, keys)


def occurrence_confidence(bars: Bars, values: dict[str, np.ndarray],
                          settings: ConfidenceSettings | None = None) -> dict[str, Occurrences]:
    """The sparse form of :func:`confidence`: for each pattern, the bars where it fires and the
    confidence there — the same numbers without the NaN-filled full-length arrays."""
    s = settings or ConfidenceSettings()
    n = len(bars)
    for name, column in values.items():
        pattern_names([name])
        if len(column) != n:
            raise ConfigError(f"confidence: {name} has {len(column)} values for {n} bars")
    parts = _all_partials(bars, s)
    out: dict[str, Occurrences] = {}
    for name, column in values.items():
        column = np.asarray(column)
        fired = np.flatnonzero(column != 0)
        if len(fired) == 0:
            out[name] = Occurrences(fired, np.empty(0))
            continue
        info = PATTERN_INFO[name]
        table = parts.continuation if info.kind == "continuation" else parts.reversal
        sides: list[tuple[int, np.ndarray | None]]
        if info.bias:
            side = 1 if info.bias > 0 else 0
            partial = table[:, side][fired]
            keys = parts.outcome_keys[:, side][fired]
            sides = [(info.bias, None)]
        else:
            if info.kind == "indecision":
                sign = parts.indecision_direction[fired]
                bullish = sign > 0
                bearish = sign < 0
            else:
                bullish = column[fired] > 0
                bearish = ~bullish
            pick = fired * 2
            pick += bullish
            partial = table.ravel()[pick]
            keys = parts.outcome_keys.ravel()[pick]
            if info.kind == "indecision":
                undirected = ~(bullish | bearish)
                if undirected.any():  # no known move: the directional terms are neutral
                    neutral = s.trend * NEUTRAL
                    neutral = neutral + parts.weighted_volume[fired[undirected]]
                    neutral += s.rsi * NEUTRAL
                    neutral += s.level * NEUTRAL
                    partial[undirected] = neutral
            sides = [(1, bullish), (-1, bearish)]
        reliability = _reliability(fired, keys, sides, s)
        reliability *= s.reliability
        partial += reliability
        out[name] = Occurrences(fired, partial)
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


def _outcome_keys(ctx: _Context, first: int, total: int, limit: int) -> np.ndarray:
    """Per bar and direction (columns ``[:, 0]`` down, ``[:, 1]`` up), the sort key of that bar's
    barrier outcome: ``4 * resolved_at + 1``, plus 1 when the barrier in that direction was
    touched first (``resolved_at`` counted from the first of all ``total`` bars). Outcomes that
    cannot be counted (no ATR, not settled within the data) get a key above every bar's query
    key ``4 * i``."""
    settled = ctx.resolved_at + first
    countable = settled < total
    countable &= ~np.isnan(ctx.atr)
    settled *= 4
    settled += 1
    keys = np.empty((len(settled), 2), dtype=np.int64)
    np.add(settled, ctx.won_down, out=keys[:, 0])
    np.add(settled, ctx.won_up, out=keys[:, 1])
    keys[~countable] = 4 * (total + limit + 1) + 1
    return keys


def _reliability(fired: np.ndarray, keys: np.ndarray, sides: list[tuple[int, np.ndarray | None]],
                 s: ConfidenceSettings) -> np.ndarray:
    """Shrunk hit rate of earlier occurrences (same pattern and direction) resolved before each.

    ``keys`` are the occurrences' outcome keys (:func:`_outcome_keys`, in the direction each is
    read in); ``sides`` pairs each direction with the mask of the occurrences read in it (None:
    all). Per direction, the outcome keys and the query keys ``4 * i`` are sorted together:
    before a query come exactly the outcomes known before bar ``i``; their count is the query's
    position minus the queries before it, and the running sum of ``key & 3`` (1 per loss, 2 per
    win) there is that count plus the wins."""
    prior_wins = s.prior_mean * s.prior_strength
    out = np.full(len(fired), (0.0 + prior_wins) / (0.0 + s.prior_strength))
    for _, mine in sides:
        query = fired if mine is None else fired[mine]
        if len(query) == 0:
            continue
        merged = np.concatenate((keys if mine is None else keys[mine], query * 4))
        merged.sort(kind="stable")
        merged &= 3
        position = np.flatnonzero(merged == 0)
        seen = position - np.arange(len(position))
        np.cumsum(merged, out=merged)
        wins = merged[position] - seen  # the running sum includes the query's own 0
        shrunk = (wins + prior_wins) / (seen + s.prior_strength)
        if mine is None:
            return shrunk
        out[mine] = shrunk
    return out


# -- streaming ---------------------------------------------------------------------------------------

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
            if info.kind == "indecision":
                d = 0 if math.isnan(move) or move == 0 else (-1 if move > 0 else 1)
            elif info.bias:
                d = info.bias
            else:
                d = 1 if value > 0 else -1
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
            for name, d in occurrences:
                won = (up and not down) if d > 0 else (down and not up)
                stats = self._stats.setdefault((name, d), [0, 0])
                stats[0] += int(won)
                stats[1] += 1
        for j in done:
            del self._pending[j]

    def _remember(self, i: int, bar: Bar, atr: float, values: dict[str, int], move: float) -> None:
        if math.isnan(atr):
            return
        occurrences = []
        for name, value in values.items():
            if not value:
                continue
            info = PATTERN_INFO[name]
            if info.kind == "indecision":
                d = 0 if math.isnan(move) or move == 0 else (-1 if move > 0 else 1)
            else:
                d = info.bias or (1 if value > 0 else -1)
            if d:
                occurrences.append((name, d))
        if occurrences:
            width = self.settings.barrier_atr * atr
            self._pending[i] = (bar.close + width, bar.close - width, occurrences)
