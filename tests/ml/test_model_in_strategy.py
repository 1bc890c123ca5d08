"""The model factor plugged into pattern-confluence: batch equals streaming, and the ``model`` factor
of each signal is the model's probability for that signal."""

from __future__ import annotations

import numpy as np
import pytest

from alphapulse.config import ContractConfig
from alphapulse.lean_data import read_trade_bars
from alphapulse.model_factor import ModelFactor
from alphapulse.strategies import create_strategy
from alphapulse.strategies.pattern_confluence import PatternConfluence

pytestmark = [pytest.mark.usefixtures("keras_ready"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]


@pytest.fixture(scope="module")
def factor(planted_model_folder):
    return ModelFactor.load(planted_model_folder, weight=2.0)


def test_pattern_confluence_with_the_model_factor_batch_equals_streaming(lean_data, factor):
    bars = read_trade_bars(lean_data, "usa", "SPY", "hour")[20_000:24_000]
    contract = ContractConfig.defaults("SPY")
    strategy = PatternConfluence(contract, symbol="SPY", market="usa", factors=(factor,))
    batch = strategy.signals(bars)
    stream = strategy.stream()
    streamed = [s for s in (stream.update(bar) for bar in bars) if s is not None]
    # the strategy's own factors agree to the last bits (its documented tolerance); the model's exactly
    assert [(s.time, s.direction, s.entry, s.stop, s.target) for s in batch] == \
        [(s.time, s.direction, s.entry, s.stop, s.target) for s in streamed]
    assert [s.factors.get("model") for s in batch] == [s.factors.get("model") for s in streamed]
    for one, other in zip(batch, streamed, strict=True):
        assert one.score == pytest.approx(other.score, abs=1e-12)
    entries = [s for s in batch if s.stop is not None]
    assert entries, "no pattern-confluence entry on this slice"
    with_model = [s for s in entries if "model" in s.factors]
    assert with_model
    np.testing.assert_allclose([s.factors["model"] for s in with_model],
                               factor.probabilities(bars, with_model), rtol=0, atol=1e-12)
    plain = create_strategy("pattern-confluence", contract, symbol="SPY", market="usa").signals(bars)
    assert all("model" not in s.factors for s in plain)
