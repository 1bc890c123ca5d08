"""Signal scoring: the factors behind a signal, their weighted score, and its stop and target.

Every factor is a number in [0, 1] for the signal's direction (1 = fully supports it) or NaN when
it is not available (indicator warm-up, no higher timeframe configured); NaN factors are left out
of the score and out of ``Signal.factors``. The score is the weighted mean of the available factors
with the contract's :class:`~alphapulse.config.FactorWeights` (0 when none is available).

Built-in factors (LONG shown; SHORT mirrors them):

* ``pattern``: strength of the agreeing candlestick patterns, min(1, sum(|value|) / 200): one
  plain pattern (±100) gives 0.5, two patterns or a confirmed one (±200) give 1;
* ``confidence``: the highest confidence among them (:mod:`alphapulse.confidence`);
* ``trend``: the share of the configured EMAs the close is above;
* ``rsi``: (overbought − RSI) / (overbought − oversold), clipped to [0, 1] — 1 at or below
  oversold, 0 at or above overbought;
* ``volume``: min(1, volume ratio / 2) — twice the average volume or more gives 1;
* ``higher_timeframe``: :func:`alphapulse.timeframes.htf_factor` on the higher timeframe;
* any pluggable :class:`SignalFactor` (e.g. the ML model's probability, named ``model``).

Only ``+ - * /``, ``min`` and ``max`` are used, so the vectorised (numpy) and the one-bar (float)
forms below give identical results for identical inputs.

Stops and targets: :func:`pattern_stop` (the extreme of the pattern's candles), :func:`atr_stop`
(``atr_multiple`` ATRs away from the entry) and :func:`target_price` (``target_r`` times the stop
distance beyond the entry).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from alphapulse.bars import Bar, Bars
from alphapulse.config import FactorWeights
from alphapulse.journal import Direction, Signal

#: the built-in factor names, in the order they are reported
BUILT_IN_FACTORS = ("pattern", "confidence", "trend", "rsi", "volume", "higher_timeframe")

#: candles in each TA-Lib pattern (the bars whose extreme gives a pattern stop); unlisted = 1
PATTERN_CANDLES: dict[str, int] = {
    **dict.fromkeys((
        "CDLCOUNTERATTACK", "CDLDARKCLOUDCOVER", "CDLDOJISTAR", "CDLENGULFING", "CDLHARAMI",
        "CDLHARAMICROSS", "CDLHOMINGPIGEON", "CDLINNECK", "CDLKICKING", "CDLKICKINGBYLENGTH",
        "CDLMATCHINGLOW", "CDLONNECK", "CDLPIERCING", "CDLSEPARATINGLINES", "CDLTHRUSTING"), 2),
    **dict.fromkeys((
        "CDL2CROWS", "CDL3BLACKCROWS", "CDL3INSIDE", "CDL3OUTSIDE", "CDL3STARSINSOUTH",
        "CDL3WHITESOLDIERS", "CDLABANDONEDBABY", "CDLADVANCEBLOCK", "CDLEVENINGDOJISTAR",
        "CDLEVENINGSTAR", "CDLGAPSIDESIDEWHITE", "CDLHIKKAKE", "CDLHIKKAKEMOD", "CDLIDENTICAL3CROWS",
        "CDLMORNINGDOJISTAR", "CDLMORNINGSTAR", "CDLSTALLEDPATTERN", "CDLSTICKSANDWICH",
        "CDLTASUKIGAP", "CDLTRISTAR", "CDLUNIQUE3RIVER", "CDLUPSIDEGAP2CROWS", "CDLXSIDEGAP3METHODS"), 3),
    **dict.fromkeys(("CDL3LINESTRIKE", "CDLCONCEALBABYSWALL"), 4),
    **dict.fromkeys(("CDLBREAKAWAY", "CDLLADDERBOTTOM", "CDLMATHOLD", "CDLRISEFALL3METHODS"), 5),
}


# ------------------------------------------------------------------------------------------------
# pluggable factors
# ------------------------------------------------------------------------------------------------
@runtime_checkable
class FactorStream(Protocol):
    """The streaming form of a :class:`SignalFactor`: fed every closed bar, asked about a signal
    decided on the last one."""

    def update(self, bar: Bar) -> bool: ...

    @property
    def is_ready(self) -> bool: ...

    def probability(self, signal: Signal) -> float: ...


@runtime_checkable
class SignalFactor(Protocol):
    """An extra scoring factor, e.g. a model's probability that a signal reaches its target first.

    ``name`` is its key in ``Signal.factors``; ``weight`` its weight in the score (the contract's
    weight of the same name, when positive, takes precedence). ``probabilities(bars, signals, rows)``
    (batch) returns one value in [0, 1] (or NaN) per candidate signal, ``rows`` being each signal's
    bar index in ``bars``; ``stream(period=..., symbol=...)`` the bar-by-bar form. Both must use
    only bars up to the signal's bar, and agree with each other.
    """

    name: str
    weight: float

    def probabilities(self, bars: Bars, signals: Sequence[Signal],
                      rows: Sequence[int] | np.ndarray | None = None) -> np.ndarray: ...

    def stream(self, *, period: int = 0, symbol: str = "") -> FactorStream: ...


def factor_weight(name: str, weights: FactorWeights, factor: SignalFactor | None = None) -> float:
    """The weight of factor ``name``: the contract's when positive, else the plugged factor's own."""
    configured = weights.get(name)
    if configured > 0 or factor is None:
        return configured
    return float(factor.weight)


def weighted_score(factors: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Weighted mean of the finite factors (weights by factor name; a missing weight is 0); 0 when
    no factor with a positive weight is available."""
    total = 0.0
    weight_sum = 0.0
    for name, value in factors.items():
        weight = weights.get(name, 0.0)
        if weight > 0 and not math.isnan(value):
            total += weight * value
            weight_sum += weight
    return total / weight_sum if weight_sum > 0 else 0.0


# ------------------------------------------------------------------------------------------------
# built-in factors: the same formulas on numpy arrays and on floats
# ------------------------------------------------------------------------------------------------
def pattern_strength(total_abs_value: float) -> float:
    """``pattern`` factor from the sum of the agreeing patterns' |value|."""
    return min(1.0, total_abs_value / 200.0)


def rsi_support(rsi: np.ndarray | float, direction: int, oversold: float, overbought: float,
                ) -> np.ndarray | float:
    """``rsi`` factor: for LONG (overbought − rsi) / (overbought − oversold) clipped to [0, 1]; for
    SHORT (rsi − oversold) / (overbought − oversold). NaN stays NaN."""
    span = overbought - oversold
    raw = (overbought - rsi) / span if direction > 0 else (rsi - oversold) / span
    if isinstance(raw, np.ndarray):
        return np.minimum(1.0, np.maximum(0.0, raw))
    return raw if math.isnan(raw) else min(1.0, max(0.0, raw))


def volume_support(ratio: np.ndarray | float) -> np.ndarray | float:
    """``volume`` factor: min(1, volume ratio / 2). NaN stays NaN."""
    if isinstance(ratio, np.ndarray):
        return np.minimum(1.0, ratio / 2.0)
    return ratio if math.isnan(ratio) else min(1.0, ratio / 2.0)


def trend_support(close: np.ndarray | float, emas: Sequence[np.ndarray | float], direction: int,
                  ) -> np.ndarray | float:
    """``trend`` factor: the share of the EMAs (those defined) the close is above (LONG) or below
    (SHORT); NaN when none is defined yet."""
    if isinstance(close, np.ndarray):
        hits = np.zeros(len(close))
        defined = np.zeros(len(close))
        for ema in emas:
            ok = ~np.isnan(ema)
            defined += ok
            hits += ok & ((close > ema) if direction > 0 else (close < ema))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(defined > 0, hits / np.maximum(defined, 1.0), np.nan)
    count = 0.0
    hit = 0.0
    for ema in emas:
        value = float(ema)
        if not math.isnan(value):
            count += 1.0
            hit += 1.0 if ((close > value) if direction > 0 else (close < value)) else 0.0
    return hit / count if count > 0 else math.nan


# ------------------------------------------------------------------------------------------------
# stops and targets
# ------------------------------------------------------------------------------------------------
def pattern_stop(direction: int, lows: Sequence[float], highs: Sequence[float]) -> float:
    """The pattern extreme: the lowest low of the pattern's candles for LONG, the highest high for
    SHORT (pass the lows and highs of those candles)."""
    return min(lows) if direction > 0 else max(highs)


def atr_stop(direction: int, entry: float, atr: float, multiple: float) -> float:
    """``multiple`` ATRs below (LONG) or above (SHORT) the entry."""
    return entry - multiple * atr if direction > 0 else entry + multiple * atr


def target_price(direction: int, entry: float, stop: float, r_multiple: float) -> float:
    """``r_multiple`` stop distances beyond the entry."""
    return entry + r_multiple * (entry - stop) if direction > 0 else entry - r_multiple * (stop - entry)


def valid_levels(direction: int, entry: float, stop: float, r_multiple: float = 0.0) -> bool:
    """True when the stop is a positive price strictly on the losing side of the entry and the
    target ``r_multiple`` R away is a positive price too (a SHORT's target can fall below zero)."""
    if not (math.isfinite(stop) and stop > 0):
        return False
    if not (stop < entry if direction > 0 else stop > entry):
        return False
    return target_price(direction, entry, stop, r_multiple) > 0


def entry_signal(*, strategy: str, symbol: str, market: str, interval: str, time: int,
                 direction: int, entry: float, stop: float, r_multiple: float,
                 factors: Mapping[str, float], score: float, patterns: tuple = (), reason: str = "",
                 max_bars: int | None = None) -> Signal:
    """A LONG/SHORT :class:`Signal` with its target, keeping only the finite factors."""
    return Signal(
        strategy=strategy, symbol=symbol, market=market, interval=interval, time=int(time),
        direction=Direction(int(direction)), entry=float(entry), stop=float(stop),
        target=float(target_price(direction, entry, stop, r_multiple)), score=float(score),
        factors={k: float(v) for k, v in factors.items() if not math.isnan(v)},
        patterns=patterns, reason=reason, max_bars=max_bars,
    )


def exit_signal(*, strategy: str, symbol: str, market: str, interval: str, time: int,
                reason: str = "") -> Signal:
    """A FLAT :class:`Signal` (close the open position at this bar's close)."""
    return Signal(strategy=strategy, symbol=symbol, market=market, interval=interval, time=int(time),
                  direction=Direction.FLAT, reason=reason)
