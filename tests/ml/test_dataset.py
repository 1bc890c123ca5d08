"""The data set: entry signals only, warm-up and open trades dropped, pooling in entry-time order."""

from __future__ import annotations

import numpy as np
import pytest

from alphapulse.errors import ConfigError, NoDataError
from alphapulse.features import FeatureSpec, signal_features
from alphapulse.journal import Direction, Signal
from alphapulse_tools.ml.dataset import build_dataset, pool
from alphapulse_tools.ml.labels import triple_barrier
from tests.ml.synthetic import planted

SPEC = FeatureSpec(patterns=("CDLHAMMER",))


def test_a_data_set_keeps_usable_entry_signals_with_their_features_and_labels():
    bars, signals = planted(n_bars=1_000, spacing=10)
    flat = Signal("synthetic", "SYNTH", "test", "1h", int(bars.time[505]), Direction.FLAT)
    early = Signal("synthetic", "SYNTH", "test", "1h", int(bars.time[20]), Direction.LONG,
                   entry=float(bars.close[20]), stop=float(bars.close[20]) * 0.9,
                   target=float(bars.close[20]) * 1.2)
    late = Signal("synthetic", "SYNTH", "test", "1h", int(bars.time[-2]), Direction.LONG,
                  entry=float(bars.close[-2]), stop=float(bars.close[-2]) * 0.5,
                  target=float(bars.close[-2]) * 2.0)
    data = build_dataset(bars, [*signals, flat, early, late], SPEC, horizon=8)
    assert data.dropped == 2  # in the features' warm-up / still open at the end
    assert list(data.signals) == signals
    assert data.exits == ((flat,),)
    rows = data.entry_rows
    np.testing.assert_array_equal(data.x, signal_features(bars, signals, SPEC, rows))
    np.testing.assert_array_equal(data.y, triple_barrier(bars, signals, rows, horizon=8).label)
    np.testing.assert_array_equal(data.entry_time, [s.time for s in signals])
    assert (data.exit_time > data.entry_time).all()


def test_pooled_symbols_are_in_entry_time_order_with_their_own_bars():
    a = build_dataset(*planted(n_bars=1_500, seed=1, symbol="AAA"), SPEC, horizon=8)
    b = build_dataset(*planted(n_bars=1_500, seed=2, symbol="BBB", offset_bars=5), SPEC, horizon=8)
    data = pool([a, b])
    assert len(data) == len(a) + len(b)
    assert (np.diff(data.entry_time) >= 0).all()
    np.testing.assert_array_equal(data.entry_time, [s.time for s in data.signals])
    for k, name in enumerate(("AAA", "BBB")):
        mine = data.source == k
        assert {s.symbol for s, m in zip(data.signals, mine, strict=True) if m} == {name}
        assert data.sources[k].symbol == name
    with pytest.raises(ConfigError, match="pools 2 symbols"):
        _ = data.bars
    other = build_dataset(*planted(n_bars=1_500, seed=3), FeatureSpec(), horizon=8)
    with pytest.raises(ConfigError, match="different feature specifications"):
        pool([a, other])


def test_no_entry_signal_is_a_clear_error():
    bars, _ = planted(n_bars=500)
    with pytest.raises(NoDataError, match="no entry signals"):
        build_dataset(bars, [], SPEC)
