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

def _squash(x: np.ndarray) -> np.ndarray:
    return 0.5 + 0.5 * (x / (1.0 + np.abs(x)))


def _blocks(width: int) -> list[int]:
    """``width`` as descending powers of two (14 -> [8, 4, 2])."""
    return [1 << bit for bit in range(width.bit_length() - 1, -1, -1) if width >> bit & 1]


def _window_sums(x: np.ndarray, width: int) -> np.ndarray:
    """Sum of the ``width`` values ending at each index (NaN for the first width-1), always added
    in one fixed order: the window is split into power-of-two blocks (14 = 8 + 4 + 2), each block
    summed pairwise, the block sums added left to right — :func:`_tree_sum` does the same on one
    window, so batch and streaming agree bit for bit. About log2(width) passes over ``x``."""
    n = len(x)
    out = np.full(n, np.nan)
    if n < width:
        return out
    windows = n - width + 1
    levels = {1: x}  # levels[s][i]: pairwise sum of x[i : i + s]
    span = 1
    while 2 * span <= width:
        below = levels[span]
        levels[2 * span] = below[:-span] + below[span:]
        span *= 2
    total: np.ndarray | None = None
    offset = 0
    for size in _blocks(width):
        part = levels[size][offset: offset + windows]
        total = part.copy() if total is None else total + part
        offset += size
    assert total is not None
    out[width - 1:] = total
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
    out = np.full(n, np.nan)
    if n < width:
        return out
    span, level = 1, x
    while 2 * span <= width:
        level = pick(level[span:], level[:-span])  # level[i] covers x[i .. i + 2*span - 1]
        span *= 2
    rest = width - span
    out[width - 1:] = pick(level[rest:], level[: len(level) - rest]) if rest else level
    return out


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
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
    first_up: np.ndarray  # bars until the upper barrier is touched (barrier_bars + 1: never)
    first_down: np.ndarray
    resolved_at: np.ndarray  # bar index where the outcome is known (n or more: unresolved)


def _context(bars: Bars, s: ConfidenceSettings) -> _Context:
    h, lo, c, v = bars.high, bars.low, bars.close, bars.volume
    n = len(c)
    previous_close = _lag(c, 1)
    true_range = h - lo
    if n > 1:
        up_gap = np.abs(h[1:] - previous_close[1:])
        down_gap = np.abs(lo[1:] - previous_close[1:])
        true_range[1:] = np.where(up_gap > true_range[1:], up_gap, true_range[1:])
        true_range[1:] = np.where(down_gap > true_range[1:], down_gap, true_range[1:])
    atr = _window_sums(true_range, s.atr_bars) / s.atr_bars
    root = math.sqrt(s.trend_bars)
    move = (_lag(c, 1) - _lag(c, 1 + s.trend_bars)) / (_lag(atr, 1) * root)

    mean_volume = _lag(_window_sums(v, s.volume_bars), 1) / s.volume_bars
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = v / mean_volume
        volume_term = ratio / (1.0 + ratio)
    volume_term = np.where(mean_volume == 0, np.where(v > 0, 1.0, NEUTRAL), volume_term)

    change = c - previous_close
    gains = np.where(change > 0, change, 0.0)
    losses = np.where(change < 0, -change, 0.0)
    gain_sum = _window_sums(gains[1:], s.rsi_period) if n > 1 else np.empty(0)
    loss_sum = _window_sums(losses[1:], s.rsi_period) if n > 1 else np.empty(0)
    rsi = np.full(n, np.nan)
    if n > 1:
        both = gain_sum + loss_sum
        with np.errstate(divide="ignore", invalid="ignore"):
            rsi[1:] = np.where(both == 0, 50.0, 100.0 * gain_sum / both)
    rsi_low = _window_extreme(rsi, s.rsi_bars, np.minimum)
    rsi_high = _window_extreme(rsi, s.rsi_bars, np.maximum)

    recent_low = _window_extreme(lo, s.pattern_bars, np.minimum)
    recent_high = _window_extreme(h, s.pattern_bars, np.maximum)
    support = _lag(_window_extreme(lo, s.level_bars, np.minimum), s.pattern_bars)
    resistance = _lag(_window_extreme(h, s.level_bars, np.maximum), s.pattern_bars)
    low_distance = np.abs(recent_low - support) / atr
    high_distance = np.abs(recent_high - resistance) / atr

    first_up, first_down, resolved_at = _barriers(h, lo, c, atr, s)
    return _Context(atr, move, volume_term, rsi_low, rsi_high, low_distance, high_distance,
                    first_up, first_down, resolved_at)


def _barriers(h: np.ndarray, lo: np.ndarray, c: np.ndarray, atr: np.ndarray,
              s: ConfidenceSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, limit = len(c), s.barrier_bars
    width = s.barrier_atr * atr
    upper = c + width
    lower = c - width
    never = limit + 1
    kind = np.int16 if never < 2**15 else np.int64
    first_up = np.full(n, never, dtype=kind)
    first_down = np.full(n, never, dtype=kind)
    # from the farthest bar back to the next one: the nearest touch is written last
    for k in range(min(limit, n - 1), 0, -1):
        np.copyto(first_up[: n - k], k, where=h[k:] >= upper[: n - k], casting="unsafe")
        np.copyto(first_down[: n - k], k, where=lo[k:] <= lower[: n - k], casting="unsafe")
    first = np.minimum(first_up, first_down).astype(np.int64)
    resolved_at = np.arange(n) + np.where(first == never, limit, first)
    return first_up, first_down, resolved_at


def _neutral(x: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(x), NEUTRAL, x)


@dataclass(frozen=True)
class _Partials:
    """Per bar, the weighted sum of the four context terms for each way of reading a pattern:
    ``(((trend + volume) + rsi) + level)``, each term times its weight, added in that order."""

    reversal: dict[int, np.ndarray]  # direction -> partial score
    continuation: dict[int, np.ndarray]
    indecision: np.ndarray  # direction -sign(move), neutral when unknown
    indecision_direction: np.ndarray
    countable: np.ndarray  # occurrence outcome known and usable (atr known, settled in the data)
    won: dict[int, np.ndarray]  # direction -> barrier in that direction touched first


def _partials(ctx: _Context, s: ConfidenceSettings, n: int) -> _Partials:
    span = s.overbought - s.oversold
    volume = _neutral(ctx.volume_term)
    rsi = {1: _neutral(np.clip((s.overbought - ctx.rsi_low) / span, 0.0, 1.0)),
           -1: _neutral(np.clip((ctx.rsi_high - s.oversold) / span, 0.0, 1.0))}
    level = {1: _neutral(1.0 / (1.0 + ctx.low_distance)), -1: _neutral(1.0 / (1.0 + ctx.high_distance))}

    def partial(trend: np.ndarray, d: int) -> np.ndarray:
        score = s.trend * trend
        score = score + s.volume * volume
        score = score + s.rsi * rsi[d]
        return score + s.level * level[d]

    reversal = {d: partial(_neutral(_squash(-d * ctx.move)), d) for d in (1, -1)}
    continuation = {d: partial(_neutral(_squash(d * ctx.move)), d) for d in (1, -1)}
    neutral = s.trend * NEUTRAL
    neutral = neutral + s.volume * volume
    neutral = neutral + s.rsi * NEUTRAL
    neutral = neutral + s.level * NEUTRAL
    direction = -np.sign(np.nan_to_num(ctx.move)).astype(np.int64)
    indecision = np.where(direction > 0, reversal[1], np.where(direction < 0, reversal[-1], neutral))
    countable = ~np.isnan(ctx.atr) & (ctx.resolved_at < n)
    won = {1: ctx.first_up < ctx.first_down, -1: ctx.first_down < ctx.first_up}
    return _Partials(reversal, continuation, indecision, direction, countable, won)


class Occurrences(NamedTuple):
    """Where one pattern fires (bar indices, increasing) and its confidence there."""

    bars: np.ndarray
    confidence: np.ndarray


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
    ctx = _context(bars, s)
    parts = _partials(ctx, s, n)
    out: dict[str, Occurrences] = {}
    for name, column in values.items():
        fired = np.flatnonzero(column)
        if len(fired) == 0:
            out[name] = Occurrences(fired, np.empty(0))
            continue
        info = PATTERN_INFO[name]
        table = parts.continuation if info.kind == "continuation" else parts.reversal
        if info.kind == "indecision":
            d = parts.indecision_direction[fired]
            partial = parts.indecision[fired]
        elif info.bias:
            d = np.full(len(fired), info.bias, dtype=np.int64)
            partial = table[info.bias][fired]
        else:
            bullish = np.asarray(column)[fired] > 0
            d = np.where(bullish, 1, -1)
            partial = np.where(bullish, table[1][fired], table[-1][fired])
        out[name] = Occurrences(fired, partial + s.reliability * _reliability(fired, d, ctx, parts, s))
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


def _reliability(fired: np.ndarray, d: np.ndarray, ctx: _Context, parts: _Partials,
                 s: ConfidenceSettings) -> np.ndarray:
    """Shrunk hit rate of earlier occurrences (same pattern and direction) resolved before each."""
    prior_wins = s.prior_mean * s.prior_strength
    out = np.full(len(fired), (0.0 + prior_wins) / (0.0 + s.prior_strength))
    counted = parts.countable[fired]
    for side in (1, -1):
        mine = d == side
        past = fired[mine & counted]
        if len(past) == 0:
            continue
        settled = ctx.resolved_at[past]
        order = np.argsort(settled, kind="stable")
        wins = np.concatenate(([0], np.cumsum(parts.won[side][past][order])))
        query = fired[mine]
        seen = np.searchsorted(settled[order], query, side="left")  # outcomes settled before bar i
        out[mine] = (wins[seen] + prior_wins) / (seen + s.prior_strength)
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
