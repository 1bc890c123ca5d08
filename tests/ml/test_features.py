"""Features at a signal's bar: no look-ahead, batch = streaming, clear errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import talib

from alphapulse.errors import BarError, ConfigError
from alphapulse.features import FeatureSpec, FeatureStream, signal_features
from alphapulse.journal import Direction, PatternHit, Signal
from tests.core.datasets import load_dataset

REAL = ["lean/binance/hour/BTCUSDT", "lean/coinbase/daily/BTCUSD", "freqtrade/ETH_BTC-5m",
        "lean/usa/hour/spy"]
SPEC = FeatureSpec(patterns=("CDLHAMMER", "CDLENGULFING"), higher_timeframe=2)
#: a short history, so that windows slide and the streaming buffer compacts on the real data
SHORT = FeatureSpec(patterns=("CDLHAMMER", "CDLENGULFING"), higher_timeframe=2, history=150)


def _signals(bars, rows, rng):
    out = []
    for row in rows:
        close = float(bars.close[row])
        long = bool(rng.random() < 0.5)
        stop, target = (close * 0.98, close * 1.05) if long else (close * 1.02, close * 0.95)
        hits = (PatternHit("CDLENGULFING", 100, float(rng.random())),) if rng.random() < 0.5 else ()
        out.append(Signal("test", "X", "test", "1h", int(bars.time[row]),
                          Direction.LONG if long else Direction.SHORT, entry=close, stop=stop, target=target,
                          patterns=hits))
    return out


def _real(shared_data, name):
    from tests.core.datasets import dataset_names

    names = [n for n in dataset_names(shared_data) if n.lower() == name.lower()]
    if not names:
        pytest.skip(f"dataset {name} not in shared data")
    return load_dataset(shared_data, names[0]).bars


@pytest.mark.parametrize("spec", [SPEC, SHORT], ids=["history-2000", "history-150"])
@pytest.mark.parametrize("name", REAL)
def test_features_on_bars_up_to_the_signal_equal_those_on_the_full_history(shared_data, name, spec):
    bars = _real(shared_data, name)
    rng = np.random.default_rng(5)
    rows = np.sort(rng.choice(np.arange(len(bars)), size=min(25, len(bars)), replace=False))
    signals = _signals(bars, rows, rng)
    full = signal_features(bars, signals, spec, rows)
    assert np.isfinite(full[rows >= spec.warm_up_period - 1]).all()
    for k, row in enumerate(rows.tolist()):
        prefix = signal_features(bars[: row + 1], [signals[k]], spec, [row])
        np.testing.assert_array_equal(prefix[0], full[k])


def test_later_bars_changed_at_will_never_change_a_past_signal_s_features(shared_data):
    bars = _real(shared_data, REAL[0])
    rng = np.random.default_rng(2)
    row = 90
    signal = _signals(bars, [row], rng)
    before = signal_features(bars, signal, SPEC, [row])
    from alphapulse.bars import Bars

    scale = np.r_[np.ones(row + 1), rng.uniform(0.5, 2.0, len(bars) - row - 1)]
    changed = Bars(bars.time, bars.open * scale, bars.high * scale, bars.low * scale, bars.close * scale,
                   bars.volume * scale, period=bars.period)
    np.testing.assert_array_equal(signal_features(changed, signal, SPEC, [row]), before)


@pytest.mark.parametrize("spec", [SPEC, SHORT], ids=["history-2000", "history-150"])
@pytest.mark.parametrize("name", REAL[:2])
def test_streaming_features_equal_batch(shared_data, name, spec):
    bars = _real(shared_data, name)
    rng = np.random.default_rng(9)
    rows = set(range(spec.warm_up_period - 3, len(bars), 7))
    stream = FeatureStream(spec, period=bars.period)
    for i, bar in enumerate(bars):
        ready = stream.update(bar)
        assert ready == (i + 1 >= spec.warm_up_period)
        if i in rows:
            signal = _signals(bars, [i], rng)
            batch = signal_features(bars, signal, spec, [i])[0]
            np.testing.assert_array_equal(stream.features(signal[0]), batch)


def test_a_long_history_changes_features_only_below_float_precision(shared_data):
    bars = _real(shared_data, "lean/usa/hour/spy")[:6000]
    rng = np.random.default_rng(3)
    rows = np.arange(5000, 6000, 37)
    signals = _signals(bars, rows, rng)
    windowed = signal_features(bars, signals, SPEC, rows)  # the last 2000 bars
    everything = signal_features(bars, signals, dataclasses.replace(SPEC, history=6000), rows)
    np.testing.assert_allclose(windowed, everything, rtol=1e-9, atol=1e-12)


def test_feature_values_match_their_definitions(shared_data):
    bars = _real(shared_data, REAL[1])
    row = 400
    signal = Signal("t", "X", "m", "1d", int(bars.time[row]), Direction.LONG, entry=float(bars.close[row]),
                    stop=float(bars.close[row]) * 0.9, target=float(bars.close[row]) * 1.3,
                    patterns=(PatternHit("CDLHAMMER", 100, 0.7),))
    values = dict(zip(SPEC.names(), signal_features(bars, [signal], SPEC)[0], strict=True))
    atr = talib.ATR(bars.high, bars.low, bars.close, 14)[row]
    close = bars.close[row]
    assert values["direction"] == 1.0
    assert values["pattern:CDLHAMMER"] == 1.0 and values["pattern:CDLENGULFING"] == 0.0
    assert values["pattern_confidence"] == 0.7
    assert values["rsi"] == pytest.approx(talib.RSI(bars.close, 14)[row] / 100)
    assert values["atr_close"] == pytest.approx(atr / close)
    assert values["stop_atr"] == pytest.approx(0.1 * close / atr)
    assert values["reward_risk"] == pytest.approx(3.0)
    mean_volume = bars.volume[row - 19: row + 1].mean()
    assert values["volume_ratio"] == pytest.approx(np.log1p(bars.volume[row] / mean_volume))
    assert values["return_1"] == pytest.approx(np.log(close / bars.close[row - 1]) / (atr / close))
    oldest = np.log(bars.close[row - 15] / bars.close[row - 16])
    assert values["return_16"] == pytest.approx(oldest / (atr / close))
    upper, _, lower = talib.BBANDS(bars.close, 20, 2.0, 2.0)
    assert values["bollinger_b"] == pytest.approx((close - lower[row]) / (upper[row] - lower[row]))
    assert values["volatility"] == pytest.approx(np.std(np.diff(np.log(bars.close[row - 20: row + 1]))))


def test_warm_up_rows_are_nan_and_later_rows_finite(shared_data):
    bars = _real(shared_data, REAL[0])
    rng = np.random.default_rng(1)
    rows = [0, SPEC.warm_up_period - 2, SPEC.warm_up_period - 1]
    x = signal_features(bars, _signals(bars, rows, rng), SPEC, rows)
    assert np.isnan(x[0]).all() and np.isnan(x[1]).all() and np.isfinite(x[2]).all()


def test_bad_specifications_and_inputs_are_named():
    with pytest.raises(ConfigError, match=r"features\.window"):
        FeatureSpec(window=0)
    with pytest.raises(ConfigError, match="duplicate"):
        FeatureSpec(patterns=("CDLDOJI", "cdldoji"))
    with pytest.raises(ConfigError, match=r"features\.history"):
        FeatureSpec(history=50)
    with pytest.raises(ConfigError, match="unknown key"):
        FeatureSpec.from_dict({"windows": 3})
    assert FeatureSpec.from_dict(SPEC.to_dict()) == SPEC


def test_a_signal_not_on_the_bars_is_refused_and_old_bars_too(shared_data):
    bars = _real(shared_data, REAL[0])
    signal = Signal("t", "X", "m", "1h", int(bars.time[5]) + 1, Direction.LONG,
                    entry=1.0, stop=0.5, target=2.0)
    with pytest.raises(ConfigError, match="is not a bar"):
        signal_features(bars, [signal], SPEC)
    stream = FeatureStream(SPEC)
    stream.update(bars.bar(3))
    with pytest.raises(BarError, match="not newer"):
        stream.update(bars.bar(2))
