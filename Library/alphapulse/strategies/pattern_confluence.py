"""Pattern confluence, the main AlphaPulse strategy: candlestick patterns confirmed by context.

Rules (per bar, on its close; everything from the contract):

1. **Patterns**: the contract's ``patterns`` are detected on the bar (TA-Lib values); a pattern
   *qualifies* when its confidence (:mod:`alphapulse.confidence`) is at least ``min_confidence``
   and it has a direction (:func:`alphapulse.patterns.pattern_direction`; indecision patterns such
   as the Doji have none and never qualify). Bullish and bearish qualifying patterns on the same
   bar cancel out (no signal). SHORT only when ``risk.allow_short``.
2. **RSI not against**: no LONG at or above ``rsi.overbought``, no SHORT at or below ``oversold``.
3. **Score** (:mod:`alphapulse.scoring`): the weighted mean of ``pattern``, ``confidence``,
   ``trend`` (EMAs), ``rsi``, ``volume`` and, when configured, ``higher_timeframe``
   (:func:`alphapulse.timeframes.htf_factor` on ``higher_timeframe`` bars; left out when it is
   null) and plugged factors (e.g. ``model``); a signal needs ``score >= min_score``.
4. **Levels**: entry = the close; stop = ``risk.stop``: ``pattern`` — the lowest low (LONG) /
   highest high (SHORT) of the qualifying patterns' candles
   (:data:`alphapulse.scoring.PATTERN_CANDLES`), or ``atr`` — ``atr_multiple`` ATRs away; no
   signal when the stop is not strictly on the losing side; target = ``risk.target_multiple`` R;
   time exit ``risk.max_bars``.

No FLAT signals: positions end at the stop, the target or the time exit. Warm-up: the largest of
the patterns' TA-Lib lookback + 1, RSI period + 1, ATR period + 1 and the volume period (EMAs not
yet defined are left out of the trend factor).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np

from alphapulse.bars import Bar, Bars
from alphapulse.confidence import ConfidenceTracker, confidence
from alphapulse.config import ContractConfig
from alphapulse.errors import StrategyError
from alphapulse.indicators import Atr, Ema, Rsi, VolumeRatio, atr, ema, rsi, volume_ratio
from alphapulse.intervals import interval_seconds
from alphapulse.journal import Direction, PatternHit, Signal
from alphapulse.patterns import PATTERN_INFO, PatternDetector, check_next_bar, pattern_direction, scan
from alphapulse.scoring import (
    PATTERN_CANDLES,
    SignalFactor,
    atr_stop,
    entry_signal,
    factor_weight,
    pattern_stop,
    pattern_strength,
    rsi_support,
    trend_support,
    valid_levels,
    volume_support,
    weighted_score,
)
from alphapulse.strategies.base import Strategy, StrategyStream
from alphapulse.timeframes import HtfConfirmation, HtfSettings, htf_factor

_DIRECTION_WORD = {1: "bullish", -1: "bearish"}
#: warm-up of a recursive indicator (EMA, Wilder's RSI and ATR) in multiples of its period
EMA_WARM_UP = 3


class PatternConfluence(Strategy):
    """The ``pattern-confluence`` strategy for one contract; ``factors`` are extra pluggable
    scoring factors (e.g. :class:`alphapulse.model_factor.ModelFactor`)."""

    name = "pattern-confluence"

    def __init__(self, contract: ContractConfig, *, symbol: str | None = None, market: str = "",
                 factors: Sequence[SignalFactor] = ()) -> None:
        self.contract = contract
        self.symbol = symbol or contract.symbol
        self.market = market
        self.factors = tuple(factors)
        self.confidence_settings = contract.confidence
        self.session = "us_equity" if market == "usa" else None
        ind = contract.indicators
        self.ema_periods = ind.ema
        self.rsi_settings = ind.rsi
        self.atr_period = ind.atr.period
        self.volume_period = ind.volume.period
        self.candles = max((PATTERN_CANDLES.get(n, 1) for n in contract.patterns), default=1)
        self.weights = {name: contract.weights.get(name)
                        for name in ("pattern", "confidence", "trend", "rsi", "volume", "higher_timeframe")}
        if contract.higher_timeframe is None:
            self.weights["higher_timeframe"] = 0.0
        for factor in self.factors:
            self.weights[factor.name] = factor_weight(factor.name, contract.weights, factor)

    @property
    def warm_up_period(self) -> int:
        """Bars of history a signal depends on: with at least this many before a bar, its signal is
        the one any longer history gives (the same on a chart that loaded more bars, or in a backtest
        that started earlier). Window terms count exactly (patterns, confidence with its reliability
        window, volume); the recursive EMA, RSI and ATR get ``EMA_WARM_UP`` times their period, after
        which what an earlier start changes has decayed by ``exp(-2 x EMA_WARM_UP)`` or more and no
        decision of the test datasets changes; the higher timeframe gets its EMA's warm-up in higher
        bars."""
        lookback = max(PATTERN_INFO[n].lookback for n in self.contract.patterns)
        recursive = max(*self.ema_periods, self.rsi_settings.period, self.atr_period)
        bars = max(lookback + 1, self.volume_period, self.confidence_settings.lookback,
                   EMA_WARM_UP * recursive + 1)
        if self.contract.higher_timeframe is not None:
            ratio = -(-interval_seconds(self.contract.higher_timeframe) // self.contract.interval_seconds)
            bars = max(bars, (EMA_WARM_UP * HtfSettings().ema_period + 1) * ratio)
        return bars

    # -- batch ------------------------------------------------------------------------------------
    def columns(self, bars: Bars) -> dict[str, np.ndarray]:
        """The indicators the rules read, one value per bar."""
        out = {f"ema_{p}": ema(bars.close, p) for p in self.ema_periods}
        out[f"rsi_{self.rsi_settings.period}"] = rsi(bars.close, self.rsi_settings.period)
        out[f"volume_ratio_{self.volume_period}"] = volume_ratio(bars.volume, self.volume_period)
        out[f"atr_{self.atr_period}"] = atr(bars.high, bars.low, bars.close, self.atr_period)
        if self.contract.higher_timeframe is not None:
            if bars.period and bars.period != self.contract.interval_seconds:
                raise StrategyError(
                    f"{self.name} {self.symbol}: bars of {bars.period} s given to a contract whose "
                    f"timeframe is {self.contract.timeframe}; the higher-timeframe factor needs bars "
                    "of the contract's timeframe (consolidate them, or set the timeframe)")
            long, short = htf_factor(bars, self.contract.higher_timeframe, session=self.session)
            out["htf_long"], out["htf_short"] = long, short
        return out

    def pattern_confidence(self, bars: Bars, values: dict[str, np.ndarray] | None = None,
                           ) -> dict[str, np.ndarray]:
        """Confidence of each pattern where it fires (NaN elsewhere), for ``values`` (default: the
        contract's patterns scanned on ``bars``)."""
        values = scan(bars, self.contract.patterns) if values is None else values
        return confidence(bars, values, self.confidence_settings)

    def signals(self, bars: Bars) -> list[Signal]:
        names = self.contract.patterns
        values = scan(bars, names)
        confidences = confidence(bars, values, self.confidence_settings)
        columns = self.columns(bars)
        minimum = self.contract.min_confidence
        # a pattern "hits" a bar when it fires with a direction and enough confidence
        hit = {}
        directions = {}
        for n in names:
            directions[n] = pattern_direction(n, values[n])
            hit[n] = (directions[n] != 0) & (confidences[n] >= minimum)
        bullish = np.zeros(len(bars), dtype=bool)
        bearish = np.zeros(len(bars), dtype=bool)
        for n in names:
            bullish |= hit[n] & (directions[n] > 0)
            bearish |= hit[n] & (directions[n] < 0)
        rsi_values = columns[f"rsi_{self.rsi_settings.period}"]
        ratios = columns[f"volume_ratio_{self.volume_period}"]
        # rules 1 and 2 of candidate(): one direction, RSI not against, data ready
        qualifying = bullish & ~bearish & (rsi_values < self.rsi_settings.overbought)
        if self.contract.risk.allow_short:
            qualifying |= bearish & ~bullish & (rsi_values > self.rsi_settings.oversold)
        qualifying &= ~np.isnan(ratios)
        rows = np.flatnonzero(qualifying)
        return self._batch_signals(bars, rows, bullish[rows], names, values, confidences, hit, columns)

    def _batch_signals(self, bars: Bars, rows: np.ndarray, long: np.ndarray, names: Sequence[str],
                       values: dict[str, np.ndarray], confidences: dict[str, np.ndarray],
                       hit: dict[str, np.ndarray], columns: dict[str, np.ndarray]) -> list[Signal]:
        """The rules of :meth:`candidate` and :meth:`finish` on all qualifying ``rows`` at once
        (``long``: their direction is LONG, else SHORT), with the same arithmetic element by
        element, so the signals equal the streaming path's."""
        risk = self.contract.risk
        levels = self.rsi_settings
        hits = np.stack([hit[n][rows] for n in names]) if len(names) else np.zeros((0, len(rows)), bool)
        close = bars.close[rows]
        sign = np.where(long, 1, -1)
        # levels: entry, stop, target
        if risk.stop == "atr":
            ranges = columns[f"atr_{self.atr_period}"][rows]
            stop = np.where(long, close - risk.atr_multiple * ranges, close + risk.atr_multiple * ranges)
        else:
            spans = np.array([PATTERN_CANDLES.get(n, 1) for n in names], dtype=np.int64)
            span = np.max(np.where(hits, spans[:, None], 1), axis=0, initial=1)
            stop = np.where(long, bars.low[rows], bars.high[rows])
            for back in range(1, int(span.max(initial=1))):
                earlier = rows - back
                inside = (span > back) & (earlier >= 0)
                at = np.maximum(earlier, 0)
                stop = np.where(inside & long, np.minimum(stop, bars.low[at]), stop)
                stop = np.where(inside & ~long, np.maximum(stop, bars.high[at]), stop)
        r = risk.target_multiple
        target = np.where(long, close + r * (close - stop), close - r * (stop - close))
        with np.errstate(invalid="ignore"):
            valid = (np.isfinite(stop) & (stop > 0) & np.where(long, stop < close, stop > close)
                     & (target > 0))
        keep = np.flatnonzero(valid)
        rows, long, hits, close, stop, target, sign = (
            rows[keep], long[keep], hits[:, keep], close[keep], stop[keep], target[keep], sign[keep])
        # factors (see alphapulse.scoring), in the order candidate() reports them
        total = np.zeros(len(rows))
        best = np.full(len(rows), -np.inf)
        for k, n in enumerate(names):
            total += np.where(hits[k], np.abs(values[n][rows]), 0).astype(np.float64)
            best = np.where(hits[k], np.fmax(best, confidences[n][rows]), best)
        emas = [columns[f"ema_{p}"][rows] for p in self.ema_periods]
        rsi_at = columns[f"rsi_{levels.period}"][rows]
        factors: dict[str, np.ndarray] = {
            "pattern": np.minimum(1.0, total / 200.0),
            "confidence": best,
            "trend": np.where(long, trend_support(close, emas, 1), trend_support(close, emas, -1)),
            "rsi": np.where(long, rsi_support(rsi_at, 1, levels.oversold, levels.overbought),
                            rsi_support(rsi_at, -1, levels.oversold, levels.overbought)),
            "volume": np.asarray(volume_support(columns[f"volume_ratio_{self.volume_period}"][rows])),
        }
        if self.contract.higher_timeframe is not None:
            factors["higher_timeframe"] = np.where(long, columns["htf_long"][rows], columns["htf_short"][rows])
        score = _weighted_scores(factors, self.weights)
        # without a plugged factor the score is final: apply min_score now
        keep = np.flatnonzero(score >= self.contract.min_score) if not self.factors else np.arange(len(rows))
        owner, pattern = np.nonzero(hits[:, keep].T)  # (signal, pattern), pattern order per signal
        ends = np.cumsum(np.bincount(owner, minlength=len(keep))).tolist()
        found_names = [names[p] for p in pattern.tolist()]
        times = bars.time[rows[keep]].tolist()
        columns_out = {name: column[keep].tolist() for name, column in factors.items()}
        hit_values = {n: values[n][rows[keep]].tolist() for n in names}
        hit_levels = {n: confidences[n][rows[keep]].tolist() for n in names}
        scores = score[keep].tolist()
        entries, stops, targets = close[keep].tolist(), stop[keep].tolist(), target[keep].tolist()
        directions = sign[keep].tolist()
        # without plugged factors the candidate's score is final: finish()'s reason suffix now
        suffixes = [f", score {v:.2f}" for v in scores] if not self.factors else [""] * len(scores)
        made: list[Signal] = []
        begin = 0
        for j, end in enumerate(ends):
            found = found_names[begin:end]
            begin = end
            direction = directions[j]
            made.append(Signal(
                self.name, self.symbol, self.market, self.contract.timeframe, int(times[j]),
                Direction(direction), entries[j], stops[j], targets[j], scores[j],
                {name: column[j] for name, column in columns_out.items() if not math.isnan(column[j])},
                tuple(PatternHit(n, int(hit_values[n][j]), float(hit_levels[n][j])) for n in found),
                f"{'+'.join(found)} {_DIRECTION_WORD[direction]}{suffixes[j]}", risk.max_bars))
        if not self.factors:
            return made
        at = rows[keep].tolist()
        extra = {f.name: np.asarray(f.probabilities(bars, made, at), dtype=np.float64)
                 for f in self.factors} if made else {}
        out = []
        for k, candidate in enumerate(made):
            signal = self.finish(candidate, {name: float(p[k]) for name, p in extra.items()})
            if signal is not None:
                out.append(signal)
        return out

    # -- the rules on one bar (shared by batch and streaming) -------------------------------------------
    def candidate(self, time: int, close: float, lows: list[float], highs: list[float],
                  hits: list[tuple[str, int, float, int]], emas: list[float], rsi_value: float,
                  ratio: float, atr_value: float, htf_long: float, htf_short: float) -> Signal | None:
        """The signal the bar's qualifying pattern ``hits`` (name, value, confidence, direction)
        would give before the score threshold, or None when a rule rules it out.

        ``lows``/``highs`` are those of the last ``self.candles`` bars, oldest first.
        """
        directions = {d for _, _, _, d in hits}
        if len(directions) != 1 or math.isnan(rsi_value) or math.isnan(ratio):
            return None
        direction = directions.pop()
        risk = self.contract.risk
        levels = self.rsi_settings
        if direction < 0 and not risk.allow_short:
            return None
        if (direction > 0 and rsi_value >= levels.overbought) or (direction < 0 and rsi_value <= levels.oversold):
            return None
        if risk.stop == "atr":
            if math.isnan(atr_value):
                return None
            stop = atr_stop(direction, close, atr_value, risk.atr_multiple)
        else:
            span = max(PATTERN_CANDLES.get(name, 1) for name, _, _, _ in hits)
            stop = pattern_stop(direction, lows[-span:], highs[-span:])
        if not valid_levels(direction, close, stop, risk.target_multiple):
            return None
        factors = {
            "pattern": pattern_strength(float(sum(abs(v) for _, v, _, _ in hits))),
            "confidence": max(c for _, _, c, _ in hits),
            "trend": float(trend_support(close, emas, direction)),
            "rsi": float(rsi_support(rsi_value, direction, levels.oversold, levels.overbought)),
            "volume": float(volume_support(ratio)),
        }
        if self.contract.higher_timeframe is not None:
            factors["higher_timeframe"] = htf_long if direction > 0 else htf_short
        names = "+".join(name for name, _, _, _ in hits)
        return entry_signal(
            strategy=self.name, symbol=self.symbol, market=self.market, interval=self.contract.timeframe,
            time=time, direction=direction, entry=close, stop=stop, r_multiple=risk.target_multiple,
            factors=factors, score=weighted_score(factors, self.weights),
            patterns=tuple(PatternHit(n, v, c) for n, v, c, _ in hits),
            reason=f"{names} {_DIRECTION_WORD[direction]}", max_bars=risk.max_bars)

    def finish(self, candidate: Signal, extra: dict[str, float]) -> Signal | None:
        """Add the plugged factors' values, score, and apply ``min_score``."""
        factors = dict(candidate.factors)
        factors.update({k: v for k, v in extra.items() if not math.isnan(v)})
        score = weighted_score(factors, self.weights)
        if score < self.contract.min_score:
            return None
        return Signal(candidate.strategy, candidate.symbol, candidate.market, candidate.interval,
                      candidate.time, candidate.direction, candidate.entry, candidate.stop,
                      candidate.target, score, factors, candidate.patterns,
                      f"{candidate.reason}, score {score:.2f}", candidate.max_bars)

    def stream(self) -> StrategyStream:
        return _ConfluenceStream(self)


def _weighted_scores(factors: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """:func:`alphapulse.scoring.weighted_score` element by element: the same sums in the same
    order (NaN factors left out; 0 where no factor with a positive weight is available)."""
    size = len(next(iter(factors.values())))
    total = np.zeros(size)
    weight_sum = np.zeros(size)
    for name, value in factors.items():
        weight = weights.get(name, 0.0)
        if weight > 0:
            ok = ~np.isnan(value)
            total = np.where(ok, total + weight * value, total)
            weight_sum = np.where(ok, weight_sum + weight, weight_sum)
    positive = weight_sum > 0
    return np.where(positive, total / np.where(positive, weight_sum, 1.0), 0.0)


class _ConfluenceStream(StrategyStream):
    def __init__(self, strategy: PatternConfluence) -> None:
        contract = strategy.contract
        self.strategy = strategy
        self._patterns = PatternDetector(contract.patterns)
        self._confidence = ConfidenceTracker(strategy.confidence_settings)
        self._emas = [Ema(p) for p in strategy.ema_periods]
        self._rsi = Rsi(strategy.rsi_settings.period)
        self._volume = VolumeRatio(strategy.volume_period)
        self._atr = Atr(strategy.atr_period)
        self._htf = (HtfConfirmation(contract.higher_timeframe, period=contract.interval_seconds,
                                     session=strategy.session)
                     if contract.higher_timeframe is not None else None)
        self._factors = [(f.name, f.stream(period=contract.interval_seconds, symbol=strategy.symbol))
                         for f in strategy.factors]
        # per pattern: None (indecision: no direction), its fixed bias, or 0 (the sign of the value),
        # the rule of alphapulse.patterns.pattern_direction that the batch path applies
        self._bias = [(n, None if PATTERN_INFO[n].kind == "indecision" else PATTERN_INFO[n].bias)
                      for n in contract.patterns]
        self._lows: deque[float] = deque(maxlen=strategy.candles)
        self._highs: deque[float] = deque(maxlen=strategy.candles)
        self._time: int | None = None
        self._samples = 0

    @property
    def is_ready(self) -> bool:
        return self._samples >= self.strategy.warm_up_period

    def update(self, bar: Bar) -> Signal | None:
        strategy = self.strategy
        check_next_bar(bar, self._time, f"{strategy.name} {strategy.symbol}")
        self._time = bar.time
        self._samples += 1
        values = self._patterns.update(bar)
        confidences = self._confidence.update(bar, values)
        for indicator in (*self._emas, self._rsi, self._volume, self._atr):
            indicator.update(bar)
        htf = self._htf.update(bar) if self._htf is not None else (math.nan, math.nan)
        for _, stream in self._factors:
            stream.update(bar)
        self._lows.append(bar.low)
        self._highs.append(bar.high)
        minimum = strategy.contract.min_confidence
        hits = []
        for name, bias in self._bias:
            value = values[name]
            if value == 0 or bias is None:
                continue
            direction = bias or (1 if value > 0 else -1)
            level = confidences.get(name, math.nan)
            if level >= minimum:
                hits.append((name, int(value), float(level), direction))
        if not hits:
            return None
        candidate = strategy.candidate(
            bar.time, bar.close, list(self._lows), list(self._highs), hits,
            [float(e.value) for e in self._emas], float(self._rsi.value),  # type: ignore[arg-type]
            float(self._volume.value), float(self._atr.value), htf[0], htf[1])  # type: ignore[arg-type]
        if candidate is None:
            return None
        extra = {name: float(stream.probability(candidate)) for name, stream in self._factors}
        return strategy.finish(candidate, extra)
