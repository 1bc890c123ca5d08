"""Signal scoring: factor formulas (array form == scalar form), the weighted score, stops and targets."""

from __future__ import annotations

import math

import numpy as np
import pytest
import talib
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alphapulse.config import FactorWeights
from alphapulse.journal import Direction, PatternHit, Signal
from alphapulse.patterns import ALL_PATTERNS, PATTERN_INFO
from alphapulse.scoring import (
    PATTERN_CANDLES,
    SignalFactor,
    atr_stop,
    entry_signal,
    exit_signal,
    factor_weight,
    pattern_stop,
    pattern_strength,
    rsi_support,
    target_price,
    trend_support,
    valid_levels,
    volume_support,
    weighted_score,
)
from tests.core.datasets import load_dataset

levels = st.floats(0, 100, allow_nan=False) | st.just(math.nan)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(levels, min_size=1, max_size=50), direction=st.sampled_from([1, -1]),
       oversold=st.floats(5, 45), width=st.floats(5, 50))
def test_rsi_support_array_equals_scalar(values, direction, oversold, width):
    overbought = oversold + width
    array = rsi_support(np.array(values), direction, oversold, overbought)
    scalars = [rsi_support(v, direction, oversold, overbought) for v in values]
    assert np.array_equal(array, np.array(scalars), equal_nan=True)
    finite = array[~np.isnan(array)]
    assert ((finite >= 0) & (finite <= 1)).all()


def test_rsi_support_levels():
    assert rsi_support(30.0, 1, 30, 70) == 1.0
    assert rsi_support(50.0, 1, 30, 70) == 0.5
    assert rsi_support(80.0, 1, 30, 70) == 0.0
    assert rsi_support(80.0, -1, 30, 70) == 1.0


@settings(max_examples=100, deadline=None)
@given(ratios=st.lists(st.floats(0, 10) | st.just(math.nan), min_size=1, max_size=30))
def test_volume_support_array_equals_scalar(ratios):
    array = volume_support(np.array(ratios))
    assert np.array_equal(array, np.array([volume_support(r) for r in ratios]), equal_nan=True)


def test_trend_support_array_equals_scalar_on_real_data(shared_data):
    bars = load_dataset(shared_data, "lean/binance/hour/btcusdt").bars
    emas = [talib.EMA(bars.close, p) for p in (5, 20, 50)]
    for direction in (1, -1):
        array = trend_support(bars.close, emas, direction)
        scalars = [trend_support(float(bars.close[i]), [float(e[i]) for e in emas], direction)
                   for i in range(len(bars))]
        assert np.array_equal(array, np.array(scalars), equal_nan=True)
        assert np.isnan(array[:4]).all() and not np.isnan(array[4:]).any()
    above_all = (bars.close > emas[0]) & (bars.close > emas[1]) & (bars.close > emas[2])
    assert (trend_support(bars.close, emas, 1)[above_all] == 1.0).all()


def test_pattern_strength():
    assert pattern_strength(100) == 0.5
    assert pattern_strength(200) == 1.0
    assert pattern_strength(400) == 1.0


def test_weighted_score_skips_nan_and_zero_weights():
    weights = {"pattern": 1.0, "trend": 3.0, "volume": 0.0}
    assert weighted_score({"pattern": 1.0, "trend": 0.0, "volume": 1.0}, weights) == 0.25
    assert weighted_score({"pattern": 1.0, "trend": math.nan}, weights) == 1.0
    assert weighted_score({"unknown": 1.0}, weights) == 0.0
    assert weighted_score({}, weights) == 0.0


def test_factor_weight_prefers_the_contract():
    class Model:
        name = "model"
        weight = 2.5

        def probabilities(self, bars, signals, rows=None):
            return np.full(len(signals), 0.5)

        def stream(self, *, period=0, symbol=""):
            raise NotImplementedError

    model = Model()
    assert isinstance(model, SignalFactor)
    assert factor_weight("model", FactorWeights(model=0.0), model) == 2.5
    assert factor_weight("model", FactorWeights(model=1.0), model) == 1.0
    assert factor_weight("trend", FactorWeights(trend=0.0)) == 0.0


def test_pattern_candles_cover_real_pattern_names():
    assert set(PATTERN_CANDLES) <= set(ALL_PATTERNS)
    # a pattern's candles always fit in TA-Lib's lookback + the signal bar
    for name, candles in PATTERN_CANDLES.items():
        assert candles <= PATTERN_INFO[name].lookback + 1, name


def test_stops_and_targets():
    assert pattern_stop(1, [10.0, 9.5, 9.8], [11, 11, 11]) == 9.5
    assert pattern_stop(-1, [10.0], [11.0, 12.5]) == 12.5
    assert atr_stop(1, 100.0, 2.0, 1.5) == 97.0
    assert atr_stop(-1, 100.0, 2.0, 1.5) == 103.0
    assert target_price(1, 100.0, 97.0, 2.0) == 106.0
    assert target_price(-1, 100.0, 103.0, 2.0) == 94.0
    assert valid_levels(1, 100.0, 97.0) and not valid_levels(1, 100.0, 100.0)
    assert not valid_levels(1, 100.0, -1.0) and valid_levels(-1, 100.0, 101.0)
    assert not valid_levels(1, 100.0, math.nan)
    assert valid_levels(-1, 100.0, 140.0, 2.0) and not valid_levels(-1, 100.0, 150.0, 2.0)


@settings(max_examples=100, deadline=None)
@given(entry=st.floats(0.001, 1e6), distance=st.floats(0.0001, 0.9), r=st.floats(0.5, 10),
       direction=st.sampled_from([1, -1]))
def test_entry_signal_risk_reward_is_the_r_multiple(entry, distance, r, direction):
    stop = entry * (1 - distance) if direction > 0 else entry * (1 + distance)
    assume(valid_levels(direction, entry, stop, r))
    signal = entry_signal(strategy="s", symbol="X", market="m", interval="1h", time=0,
                          direction=direction, entry=entry, stop=stop, r_multiple=r,
                          factors={"a": 0.5, "b": math.nan}, score=0.5, patterns=(PatternHit("CDLDOJI", 100, 0.7),))
    assert signal.risk_reward == pytest.approx(r, rel=1e-6)
    assert signal.factors == {"a": 0.5}
    assert Signal.from_json(signal.to_json()) == signal


def test_exit_signal_is_flat_without_levels():
    signal = exit_signal(strategy="s", symbol="X", market="m", interval="1h", time=5, reason="why")
    assert signal.direction == Direction.FLAT and signal.entry is None and signal.risk_reward is None
