"""The overlay and the strategy give the core's pattern-confluence signals, bar for bar.

The overlay is run with PyneCore on every real dataset (last ``MAX_BARS`` bars) with the inputs of
a contract configuration; its hidden ``signal_*`` plots must equal, exactly, the signals of
:class:`alphapulse.strategies.pattern_confluence.PatternConfluence` for the same configuration on
the same bars (bar, direction, entry, stop, target and score), and its default-set patterns and
indicators must equal TA-Lib's.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import talib

from alphapulse.confidence import ConfidenceSettings
from alphapulse.config import load_contracts
from alphapulse.strategies.pattern_confluence import PatternConfluence
from alphapulse_tools.pine import confidence_input
from tests.core.datasets import DATASET_NAMES, load_dataset
from tests.pine.pine_offline import PINE_DIR, run_pine
from tests.pine.test_pine_patterns import BLOCK, DEFAULT_PATTERNS, mismatches

MAX_BARS = 2000
OVERLAY = PINE_DIR / "alphapulse_overlay.pine"
STRATEGY = PINE_DIR / "alphapulse_strategy.pine"

#: a contract that uses every pattern of the core's default set, shorts, and a lower confidence bar
#: (many signals to compare), and the same configuration as the scripts' inputs
BROAD = {"patterns": list(DEFAULT_PATTERNS), "min_confidence": 0.5, "min_score": 0.5,
         "risk": {"allow_short": True}}
BROAD_INPUTS = {"signalPatterns": ",".join(DEFAULT_PATTERNS), "minConfidence": 0.5, "minScore": 0.5,
                "allowShort": True}
#: a stricter, differently weighted contract with other EMAs, RSI levels and reward
TUNED = {"patterns": ["CDLENGULFING", "CDLHAMMER", "CDLSHOOTINGSTAR", "CDLHARAMI", "CDLMARUBOZU",
                      "CDLBELTHOLD", "CDLDRAGONFLYDOJI", "CDLGRAVESTONEDOJI", "CDLHIKKAKE"],
         "min_confidence": 0.55, "min_score": 0.6,
         "weights": {"pattern": 2.0, "confidence": 1.0, "trend": 0.5, "rsi": 1.0, "volume": 0.0},
         "indicators": {"ema": [10, 30], "rsi": {"period": 9, "oversold": 25, "overbought": 75},
                        "volume": {"period": 10}},
         "risk": {"allow_short": True, "min_risk_reward": 1.5}}
TUNED_INPUTS = {"signalPatterns": ",".join(TUNED["patterns"]), "minConfidence": 0.55, "minScore": 0.6,
                "weightPattern": 2.0, "weightConfidence": 1.0, "weightTrend": 0.5, "weightRsi": 1.0,
                "weightVolume": 0.0, "emaFast": 10, "emaMid": 30, "emaSlow": 0, "rsiPeriod": 9,
                "rsiOversold": 25.0, "rsiOverbought": 75.0, "volumePeriod": 10, "targetR": 1.5,
                "allowShort": True}
#: the broad contract with other confidence settings (every one changed), and the same as inputs
CONFIDENCE = {"trend": 0.2, "volume": 0.1, "rsi": 0.2, "level": 0.2, "reliability": 0.3, "trend_bars": 6,
              "atr_bars": 10, "volume_bars": 12, "rsi_period": 9, "rsi_bars": 2, "oversold": 25.0,
              "overbought": 80.0, "pattern_bars": 2, "level_bars": 30, "barrier_atr": 1.5, "barrier_bars": 8,
              "prior_mean": 0.4, "prior_strength": 4.0, "reliability_bars": 120}
CONFIDENCE_INPUTS = {
    "confWeightTrend": 0.2, "confWeightVolume": 0.1, "confWeightRsi": 0.2, "confWeightLevel": 0.2,
    "confWeightReliability": 0.3, "confTrendBars": 6, "confAtrBars": 10, "confVolumeBars": 12, "confRsiPeriod": 9,
    "confRsiBars": 2, "confOversold": 25.0, "confOverbought": 80.0, "confPatternBars": 2, "confLevelBars": 30,
    "confBarrierAtr": 1.5, "confBarrierBars": 8, "confPriorMean": 0.4, "confPriorStrength": 4.0,
    "confReliabilityBars": 120}

def core_signals(config: dict, bars):
    contract = load_contracts({"BTCUSDT": config})["BTCUSDT"]
    return PatternConfluence(contract, symbol="BTCUSDT").signals(bars)


def signal_differences(plots: dict[str, np.ndarray], bars, signals) -> list:
    """Every bar where the script's signal differs from the core's (empty when they agree)."""
    expected = {int(np.searchsorted(bars.time, s.time)): s for s in signals}
    rows = set(np.flatnonzero(plots["signal_direction"] != 0).tolist())
    differences: list = [("only in Pine", i) for i in sorted(rows - set(expected))]
    differences += [("only in the core", i) for i in sorted(set(expected) - rows)]
    for i in sorted(rows & set(expected)):
        s = expected[i]
        got = tuple(float(plots[k][i]) for k in ("signal_direction", "signal_entry", "signal_stop",
                                                 "signal_target", "signal_score"))
        want = (float(int(s.direction)), s.entry, s.stop, s.target, s.score)
        if got != want:
            differences.append((i, got, want))
    return differences


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


def test_overlay_and_strategy_share_the_signal_code():
    overlay, strategy = OVERLAY.read_text(), STRATEGY.read_text()
    for begin, end in (("// ==== BEGIN TA-Lib indicators", "// ==== END TA-Lib indicators ===="),
                       ("// ==== BEGIN AlphaPulse signal", "// ==== END AlphaPulse signal ====")):
        blocks = [text[text.index(begin):text.index(end)] for text in (overlay, strategy)]
        assert blocks[0] == blocks[1], f"{begin[8:]} differs between the overlay and the strategy"
    assert BLOCK.search(overlay) and BLOCK.search(strategy)


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_overlay_signals_equal_the_core(shared_data, name):
    bars = load_dataset(shared_data, name).bars[-MAX_BARS:]
    run = run_pine(OVERLAY, bars, inputs=BROAD_INPUTS)
    assert signal_differences(run.plots, bars, core_signals(BROAD, bars)) == []
    # the default-set patterns and the factors' indicators, as TA-Lib computes them
    assert mismatches(run.plots, bars, DEFAULT_PATTERNS) == {}
    assert same(run["ind_ema_1"], talib.EMA(bars.close, 20))
    assert same(run["ind_ema_3"], talib.EMA(bars.close, 200))
    assert same(run["ind_rsi"], talib.RSI(bars.close, 14))


@pytest.mark.parametrize("name", ["lean/coinbase/minute/btcusd", "lean/usa/daily/spy",
                                  "freqtrade/ADA_BTC-5m", "backtesting_py/GOOG"])
def test_overlay_signals_equal_the_core_with_another_configuration(shared_data, name):
    bars = load_dataset(shared_data, name).bars[-MAX_BARS:]
    run = run_pine(OVERLAY, bars, inputs=TUNED_INPUTS)
    signals = core_signals(TUNED, bars)
    assert signals, "the configuration should give signals on this dataset"
    assert signal_differences(run.plots, bars, signals) == []


@pytest.mark.parametrize("name", ["lean/coinbase/minute/btcusd", "lean/usa/daily/spy", "freqtrade/ADA_BTC-5m"])
def test_overlay_signals_equal_the_core_with_other_confidence_settings(shared_data, name):
    """The contract's ``confidence`` block, entered in the Confidence inputs, gives the core's
    signals; the default settings would not (so the inputs are what makes them agree)."""
    bars = load_dataset(shared_data, name).bars[-MAX_BARS:]
    run = run_pine(OVERLAY, bars, inputs={**BROAD_INPUTS, **CONFIDENCE_INPUTS})
    signals = core_signals({**BROAD, "confidence": CONFIDENCE}, bars)
    assert signals, "the configuration should give signals on this dataset"
    assert signal_differences(run.plots, bars, signals) == []
    assert signal_differences(run.plots, bars, core_signals(BROAD, bars)) != []


@pytest.mark.parametrize(("inputs", "message"), [
    ({"confWeightTrend": 0.5}, "weights must sum to 1"),
    ({"confOversold": 80.0, "confOverbought": 70.0}, "oversold must be below"),
    ({"confReliabilityBars": 20}, "must exceed the barrier bars"),
    ({"confPriorMean": 1.0}, "prior mean"),
])
def test_overlay_refuses_confidence_settings_the_core_refuses(shared_data, inputs, message):
    bars = load_dataset(shared_data, "lean/coinbase/daily/btcusd").bars[-100:]
    with pytest.raises(Exception, match=message):
        run_pine(OVERLAY, bars, inputs=inputs)


def test_every_confidence_setting_is_an_input():
    keys = [field.name for field in dataclasses.fields(ConfidenceSettings)]
    assert sorted(keys) == sorted(CONFIDENCE)
    for script in (OVERLAY, STRATEGY):
        text = script.read_text()
        for key in keys:
            declared = rf"^{confidence_input(key)} = input\.(int|float)\({getattr(ConfidenceSettings(), key)!r}, "
            assert re.search(declared, text, re.M), (script, key)


def test_overlay_defaults_are_the_core_defaults(shared_data):
    bars = load_dataset(shared_data, "lean/coinbase/daily/btcusd").bars
    run = run_pine(OVERLAY, bars)
    signals = core_signals({}, bars)
    assert signals
    assert signal_differences(run.plots, bars, signals) == []


def test_no_signal_without_qualifying_patterns(shared_data):
    bars = load_dataset(shared_data, "lean/coinbase/daily/btcusd").bars[-MAX_BARS:]
    run = run_pine(OVERLAY, bars, inputs={"signalPatterns": "CDLDOJI,CDLSPINNINGTOP"})
    assert core_signals({"patterns": ["CDLDOJI", "CDLSPINNINGTOP"]}, bars) == []
    assert not run["signal_direction"].any()
    assert np.isnan(run["signal_entry"]).all()
