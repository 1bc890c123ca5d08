"""Candlestick patterns: batch against TA-Lib, streaming against batch, on every real dataset."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import talib

from alphapulse.bars import Bar, Bars
from alphapulse.errors import BarError, ConfigError
from alphapulse.patterns import (
    ALL_PATTERNS,
    DEFAULT_PATTERNS,
    PATTERN_INFO,
    PatternDetector,
    direction,
    pattern_direction,
    pattern_names,
    scan,
)
from tests.core.datasets import DATASET_NAMES, load_dataset

HOUR = 3_600_000_000_000


def test_every_trade_file_of_the_shared_data_is_a_dataset(shared_data: Path) -> None:
    """tests/core/datasets.py covers every trade-bar file; only non-trade candles are skipped."""
    names = set(DATASET_NAMES)
    lean = sorted((shared_data / "lean").glob("*/*/*/**/*.zip"))
    assert lean
    for path in lean:
        parts = path.relative_to(shared_data / "lean").parts  # kind/market/resolution/...
        symbol = parts[3] if parts[2] == "minute" else path.stem.removesuffix("_trade")
        assert f"lean/{parts[1]}/{parts[2]}/{symbol}" in names, path
    for path in (shared_data / "freqtrade").rglob("*.feather"):
        name = "freqtrade/" + path.relative_to(shared_data / "freqtrade").with_suffix("").as_posix()
        skipped = path.stem.endswith(("-mark", "-funding_rate"))
        assert (name in names) != skipped, path
    for path in (shared_data / "backtesting_py").glob("*.csv"):
        assert f"backtesting_py/{path.stem}" in names
    assert len(names) == 32


def test_all_61_talib_patterns_are_listed() -> None:
    group = talib.get_function_groups()["Pattern Recognition"]
    assert len(ALL_PATTERNS) == 61
    assert set(ALL_PATTERNS) == set(group)
    assert all(name.startswith("CDL") for name in ALL_PATTERNS)
    assert set(DEFAULT_PATTERNS) <= set(ALL_PATTERNS)
    assert len(DEFAULT_PATTERNS) == 13


def test_pattern_info_matches_talib_metadata() -> None:
    for name in ALL_PATTERNS:
        info = PATTERN_INFO[name]
        function = talib.abstract.Function(name)  # type: ignore[attr-defined]
        assert info.name == name
        assert info.label == function.info["display_name"]
        assert info.lookback == function.lookback
        assert info.kind in ("reversal", "continuation", "indecision")
    assert PATTERN_INFO["CDLENGULFING"].kind == "reversal"
    assert PATTERN_INFO["CDLDOJI"].kind == "indecision"
    assert PATTERN_INFO["CDLRISEFALL3METHODS"].kind == "continuation"


def test_unknown_pattern_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="CDLNOPE"):
        pattern_names(["CDLENGULFING", "CDLNOPE"])
    assert pattern_names(["cdlhammer", "CDLHAMMER"]) == ("CDLHAMMER",)
    assert pattern_names("CDLDOJI") == ("CDLDOJI",)


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_scan_is_talib_on_every_dataset(shared_data: Path, name: str) -> None:
    bars = load_dataset(shared_data, name).bars
    values = scan(bars)
    assert list(values) == list(ALL_PATTERNS)
    for pattern, got in values.items():
        expected = getattr(talib, pattern)(bars.open, bars.high, bars.low, bars.close)
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, expected, err_msg=f"{pattern} on {name}")


def test_scan_only_requested_patterns(shared_data: Path) -> None:
    bars = load_dataset(shared_data, DATASET_NAMES[0]).bars
    assert list(scan(bars, ["CDLHAMMER", "CDLDOJI"])) == ["CDLHAMMER", "CDLDOJI"]
    assert scan(Bars.empty(), ["CDLDOJI"])["CDLDOJI"].shape == (0,)


def test_direction_and_conventional_direction() -> None:
    values = np.array([0, 100, -100, 200, -200], dtype=np.int32)
    np.testing.assert_array_equal(direction(values), [0, 1, -1, 1, -1])
    np.testing.assert_array_equal(pattern_direction("CDLGRAVESTONEDOJI", np.array([0, 100])), [0, -1])
    np.testing.assert_array_equal(pattern_direction("CDLDOJI", np.array([0, 100])), [0, 0])
    np.testing.assert_array_equal(pattern_direction("CDLENGULFING", values), [0, 1, -1, 1, -1])


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_detector_equals_scan_on_every_bar(shared_data: Path, name: str) -> None:
    """Every pattern, every bar from the first one (0 inside the lookback, like TA-Lib)."""
    bars = load_dataset(shared_data, name).bars
    expected = scan(bars)
    detector = PatternDetector()
    rows = [detector.update(bar) for bar in bars]
    for pattern in ALL_PATTERNS:
        got = np.fromiter((row[pattern] for row in rows), dtype=np.int32, count=len(rows))
        np.testing.assert_array_equal(got, expected[pattern], err_msg=f"{pattern} on {name}")
    assert detector.is_ready == (len(bars) >= detector.warm_up_period)


def test_detector_falls_back_to_the_whole_history_on_extreme_ranges(shared_data: Path) -> None:
    """Monthly BTC from 2012 has ranges far above its lowest prices: window sums may round, so the
    detector must leave the windowed mode and still equal the batch."""
    bars = load_dataset(shared_data, "backtesting_py/BTCUSD").bars
    detector = PatternDetector(DEFAULT_PATTERNS)
    rows = [detector.update(bar) for bar in bars]
    assert not detector.exact_by_window
    expected = scan(bars, DEFAULT_PATTERNS)
    for pattern in DEFAULT_PATTERNS:
        assert [row[pattern] for row in rows] == expected[pattern].tolist()


def test_detector_stays_windowed_on_ordinary_data(shared_data: Path) -> None:
    bars = load_dataset(shared_data, "lean/usa/hour/spy").bars[:3000]
    detector = PatternDetector(["CDLDOJI"], capacity=16)  # also exercises buffer growth
    for bar in bars:
        detector.update(bar)
    assert detector.exact_by_window
    assert detector.bars_seen == 3000


def test_warm_up_and_reset() -> None:
    detector = PatternDetector(["CDLENGULFING", "CDLMORNINGSTAR"])
    assert detector.warm_up_period == max(PATTERN_INFO["CDLENGULFING"].lookback,
                                          PATTERN_INFO["CDLMORNINGSTAR"].lookback) + 1
    bar = Bar(0, 10.0, 11.0, 9.0, 10.5, 1.0)
    assert detector.update(bar) == {"CDLENGULFING": 0, "CDLMORNINGSTAR": 0}
    assert not detector.is_ready
    detector.reset()
    assert detector.bars_seen == 0
    detector.update(bar)  # the same time is accepted again after a reset


@pytest.mark.parametrize(
    ("bar", "message"),
    [
        (Bar(2 * HOUR, math.nan, 11.0, 9.0, 10.0, 1.0), "NaN"),
        (Bar(2 * HOUR, 10.0, 11.0, 9.0, 10.0, math.inf), "NaN or infinite"),
        (Bar(2 * HOUR, -10.0, 11.0, -11.0, 10.0, 1.0), "negative"),
        (Bar(2 * HOUR, 10.0, 9.0, 11.0, 10.0, 1.0), "high is below low"),
        (Bar(2 * HOUR, 10.0, 11.0, 9.0, 12.0, 1.0), "outside the high-low range"),
        (Bar(2 * HOUR, 10.0, 11.0, 9.0, 10.0, -1.0), "volume is negative"),
        (Bar(HOUR, 10.0, 11.0, 9.0, 10.0, 1.0), "not after the last bar"),
        (Bar(0, 10.0, 11.0, 9.0, 10.0, 1.0), "not after the last bar"),
    ],
)
def test_detector_rejects_bad_bars_and_keeps_its_state(bar: Bar, message: str) -> None:
    detector = PatternDetector(["CDLDOJI"])
    detector.update(Bar(HOUR, 10.0, 11.0, 9.0, 10.0, 1.0))
    with pytest.raises(BarError, match=message):
        detector.update(bar)
    assert detector.bars_seen == 1
    detector.update(Bar(2 * HOUR, 10.0, 11.0, 9.0, 10.0, 1.0))
    assert detector.bars_seen == 2
