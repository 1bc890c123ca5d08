"""The Pine scripts flag exactly the bars ``talib.CDL*`` flags, with the same raw value.

Each script is transpiled with pine2pyne and executed bar by bar with PyneCore (see
``pine_offline``); every pattern is read back from its hidden plot titled with the TA-Lib function
name and compared with TA-Lib on the same bars, on every real dataset and on synthetic bars rich in
rare patterns and ties. Long datasets are cut to their last ``MAX_BARS`` bars to keep the suite fast.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import talib
from talib import abstract

from tests.core.datasets import DATASET_NAMES, load_dataset
from tests.pine.pine_offline import PINE_DIR, run_pine, validate
from tests.pine.synthetic_bars import pattern_rich_bars

#: the last bars of each dataset that are run through PyneCore (the Python bar loop is slow)
MAX_BARS = 3000

ALL_PATTERNS = tuple(talib.get_function_groups()["Pattern Recognition"])
DEFAULT_PATTERNS = ("CDLENGULFING", "CDLHAMMER", "CDLINVERTEDHAMMER", "CDLHANGINGMAN",
                    "CDLSHOOTINGSTAR", "CDLDOJI", "CDLMORNINGSTAR", "CDLEVENINGSTAR", "CDLPIERCING",
                    "CDLDARKCLOUDCOVER", "CDLHARAMI", "CDL3WHITESOLDIERS", "CDL3BLACKCROWS")
PATTERNS_SCRIPT = PINE_DIR / "alphapulse_patterns.pine"
SCRIPTS = sorted(PINE_DIR.glob("*.pine"))
BLOCK = re.compile(r"// ==== BEGIN TA-Lib candle rules.*?// ==== END TA-Lib candle rules ====", re.S)


def talib_values(bars, name: str) -> np.ndarray:
    return getattr(talib, name)(bars.open, bars.high, bars.low, bars.close)


def mismatches(plots: dict[str, np.ndarray], bars, names) -> dict[str, list[int]]:
    """Pattern -> bar indexes where the Pine value differs from TA-Lib's (only the differing ones)."""
    found = {}
    for name in names:
        assert name in plots, f"the script has no plot titled {name}"
        wrong = np.flatnonzero(plots[name] != talib_values(bars, name))
        if wrong.size:
            found[name] = wrong[:5].tolist()
    return found


def test_there_are_three_scripts_and_61_patterns():
    assert {p.name for p in SCRIPTS} >= {"alphapulse_overlay.pine", "alphapulse_strategy.pine",
                                         "alphapulse_patterns.pine"}
    assert len(ALL_PATTERNS) == 61


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_passes_pine2pyne_validation(script):
    status, output = validate(script)
    assert status == 0, output


def test_every_script_carries_the_same_candle_rules():
    blocks = {script.name: BLOCK.findall(script.read_text()) for script in SCRIPTS}
    assert all(len(found) == 1 for found in blocks.values()), {k: len(v) for k, v in blocks.items()}
    reference = blocks[PATTERNS_SCRIPT.name][0]
    for name, (block,) in blocks.items():
        assert block == reference, f"{name}: the TA-Lib candle rules block differs from {PATTERNS_SCRIPT.name}"


def test_the_patterns_script_plots_all_61_under_talib_names():
    source = PATTERNS_SCRIPT.read_text()
    titles = set(re.findall(r'plot\(\w+, "(CDL\w+)", display=display\.none\)', source))
    assert titles == set(ALL_PATTERNS)


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_all_61_patterns_match_talib_on_real_data(shared_data, name):
    bars = load_dataset(shared_data, name).bars[-MAX_BARS:]
    run = run_pine(PATTERNS_SCRIPT, bars)
    assert len(run.plots["CDLDOJI"]) == len(bars)
    assert mismatches(run.plots, bars, ALL_PATTERNS) == {}


def test_all_61_patterns_match_talib_on_synthetic_bars():
    bars = pattern_rich_bars()
    run = run_pine(PATTERNS_SCRIPT, bars)
    # the series is built so that every pattern occurs, bullish and bearish where TA-Lib has both
    absent = [name for name in ALL_PATTERNS if not talib_values(bars, name).any()]
    assert absent == []
    assert mismatches(run.plots, bars, ALL_PATTERNS) == {}


def test_values_before_the_lookback_are_zero():
    bars = pattern_rich_bars()[:40]
    run = run_pine(PATTERNS_SCRIPT, bars)
    for name in ALL_PATTERNS:
        lookback = abstract.Function(name).lookback
        assert not run.plots[name][:lookback].any(), name
