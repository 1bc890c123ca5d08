"""Pattern confidence: streaming equals batch, no look-ahead, and each term behaves as documented."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphapulse import confidence as confidence_module
from alphapulse.bars import Bar, Bars
from alphapulse.confidence import (
    ConfidenceSettings,
    ConfidenceTracker,
    confidence,
    occurrence_confidence,
)
from alphapulse.errors import BarError, ConfigError
from alphapulse.patterns import ALL_PATTERNS, DEFAULT_PATTERNS, scan
from tests.core.datasets import DATASET_NAMES, load_dataset

MINUTE = 60_000_000_000
#: only the reliability term: confidence == the shrunk hit rate
RELIABILITY_ONLY = ConfidenceSettings(trend=0.0, volume=0.0, rsi=0.0, level=0.0, reliability=1.0)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_tracker_equals_batch_on_every_bar(shared_data: Path, name: str) -> None:
    """All 61 patterns; equal bit for bit from the first bar on (no separate warm-up)."""
    bars = load_dataset(shared_data, name).bars
    values = scan(bars)
    expected = confidence(bars, values)
    tracker = ConfidenceTracker()
    columns = {pattern: values[pattern].tolist() for pattern in ALL_PATTERNS}
    rows = [tracker.update(bar, {p: columns[p][i] for p in ALL_PATTERNS}) for i, bar in enumerate(bars)]
    for pattern in ALL_PATTERNS:
        got = np.array([row.get(pattern, math.nan) for row in rows])
        assert same(got, expected[pattern]), pattern
        fired = values[pattern] != 0
        assert np.isnan(expected[pattern][~fired]).all()
        assert ((expected[pattern][fired] >= 0) & (expected[pattern][fired] <= 1)).all()


BLOCK_CASES = [  # (context block, settings)
    (257, ConfidenceSettings()),
    (257, ConfidenceSettings(level_bars=300, barrier_bars=150, barrier_atr=3.0)),
    (7, ConfidenceSettings(barrier_bars=2, barrier_atr=0.5)),  # touches on a block's last bar
]


@pytest.mark.parametrize("name", ["lean/coinbase/minute/btcusd", "lean/usa/hour/spy", "freqtrade/XRP_ETH-1m"])
@pytest.mark.parametrize(("block", "s"), BLOCK_CASES)
def test_batch_blocks_join_exactly(shared_data: Path, name: str, block: int, s: ConfidenceSettings,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch computes its context block by block (real histories are shorter than one
    default block): with small blocks, i.e. many joins, it still equals the tracker bit for bit."""
    bars = load_dataset(shared_data, name).bars[:3000]
    monkeypatch.setattr(confidence_module, "_BLOCK", block)
    values = scan(bars)
    expected = occurrence_confidence(bars, values, s)
    tracker = ConfidenceTracker(s)
    columns = {pattern: values[pattern].tolist() for pattern in ALL_PATTERNS}
    rows = [tracker.update(bar, {p: columns[p][i] for p in ALL_PATTERNS}) for i, bar in enumerate(bars)]
    for pattern in ALL_PATTERNS:
        where, score = expected[pattern]
        np.testing.assert_array_equal(where, [i for i, row in enumerate(rows) if pattern in row])
        assert np.array_equal(score, [rows[i][pattern] for i in where]), pattern


def test_blocks_without_occurrences_are_skipped_exactly(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rare pattern on small blocks: the blocks where it does not fire are not computed, and the
    blocks after them still give the tracker's numbers."""
    bars = load_dataset(shared_data, "lean/usa/hour/spy").bars[:3000]
    monkeypatch.setattr(confidence_module, "_BLOCK", 20)
    values = {name: scan(bars, [name])[name] for name in ("CDLMORNINGSTAR", "CDLEVENINGSTAR")}
    fired = np.flatnonzero(values["CDLMORNINGSTAR"] | values["CDLEVENINGSTAR"])
    assert len(set(range(0, len(bars), 20)) - set(fired // 20 * 20)) > 10  # skipped blocks
    expected = occurrence_confidence(bars, values)
    tracker = ConfidenceTracker()
    columns = {pattern: column.tolist() for pattern, column in values.items()}
    rows = [tracker.update(bar, {p: columns[p][i] for p in columns}) for i, bar in enumerate(bars)]
    for pattern in columns:
        where, score = expected[pattern]
        assert len(where) and np.array_equal(score, [rows[i][pattern] for i in where]), pattern


@pytest.mark.parametrize("name", ["lean/usa/minute/spy", "lean/coinbase/minute/btcusd"])
@pytest.mark.parametrize("dense_fires", [0.0, math.inf])
def test_both_ways_of_ranking_outcomes_give_the_tracker_numbers(shared_data: Path, name: str,
                                                                dense_fires: float,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch ranks each outcome among a pattern's fires by a running count over all bars
    (patterns firing often) or by a binary search (the others): either way for every pattern
    gives the tracker's numbers bit for bit, also for indecision patterns after a flat move
    (no reading: nothing seen)."""
    bars = load_dataset(shared_data, name).bars[:3000]
    monkeypatch.setattr(confidence_module, "_DENSE_FIRES", dense_fires)
    values = scan(bars)
    close = bars.close
    flat = np.zeros(len(bars), dtype=bool)
    flat[11:] = close[10:-1] == close[:-11]  # no move into the bar over the default 10 bars
    assert (flat & (values["CDLDOJI"] != 0)).any()
    expected = occurrence_confidence(bars, values)
    tracker = ConfidenceTracker()
    columns = {pattern: values[pattern].tolist() for pattern in ALL_PATTERNS}
    rows = [tracker.update(bar, {p: columns[p][i] for p in ALL_PATTERNS}) for i, bar in enumerate(bars)]
    for pattern in ALL_PATTERNS:
        where, score = expected[pattern]
        np.testing.assert_array_equal(where, [i for i, row in enumerate(rows) if pattern in row])
        assert np.array_equal(score, [rows[i][pattern] for i in where]), pattern


@pytest.mark.parametrize("name", DATASET_NAMES)
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fraction=st.floats(0.0, 1.0))
def test_results_up_to_a_cut_do_not_depend_on_later_bars(shared_data: Path, name: str,
                                                          fraction: float) -> None:
    bars = load_dataset(shared_data, name).bars[:6000]
    cut = int(fraction * len(bars))
    full = confidence(bars, scan(bars))
    part = confidence(bars[:cut], scan(bars[:cut]))
    for pattern in ALL_PATTERNS:
        assert same(part[pattern], full[pattern][:cut]), pattern


def test_sparse_form_holds_the_same_numbers(shared_data: Path) -> None:
    bars = load_dataset(shared_data, "lean/usa/hour/spy").bars[:5000]
    values = scan(bars, DEFAULT_PATTERNS)
    dense = confidence(bars, values)
    sparse = occurrence_confidence(bars, values)
    for pattern in DEFAULT_PATTERNS:
        where, score = sparse[pattern]
        np.testing.assert_array_equal(where, np.flatnonzero(values[pattern]))
        np.testing.assert_array_equal(score, dense[pattern][where])


def staircase(n: int, step: float) -> Bars:
    close = 100.0 + step * np.arange(n)
    return Bars(np.arange(n) * MINUTE, close, close + 0.2, close - 0.2, close, np.ones(n), period=60)


def reference_reliability(bars: Bars, fired: list[int], direction: int, s: ConfidenceSettings) -> list[float]:
    """A plain loop: for each occurrence, the shrunk share of earlier occurrences that reached
    +barrier before -barrier (in their direction) and were settled before it."""
    h, lo, c = bars.high, bars.low, bars.close
    tr = [h[0] - lo[0]] + [max(h[i] - lo[i], abs(h[i] - c[i - 1]), abs(lo[i] - c[i - 1]))
                           for i in range(1, len(c))]
    outcomes = []  # (settled at, won)
    for j in fired:
        if j + 1 < s.atr_bars:
            continue
        atr = sum(tr[j - s.atr_bars + 1: j + 1]) / s.atr_bars
        up, down = c[j] + s.barrier_atr * atr, c[j] - s.barrier_atr * atr
        for k in range(j + 1, min(j + s.barrier_bars, len(c) - 1) + 1):
            hit_up, hit_down = h[k] >= up, lo[k] <= down
            if hit_up or hit_down or k == j + s.barrier_bars:
                won = (hit_up and not hit_down) if direction > 0 else (hit_down and not hit_up)
                outcomes.append((k, won))
                break
    prior = s.prior_mean * s.prior_strength
    result = []
    for i in fired:
        known = [won for when, won in outcomes if when < i]
        result.append((sum(known) + prior) / (len(known) + s.prior_strength))
    return result


@pytest.mark.parametrize("direction", [1, -1])
def test_reliability_is_a_shrunk_hit_rate_of_settled_outcomes(direction: int) -> None:
    bars = staircase(200, 0.5)  # a steady rise: bullish occurrences win, bearish ones lose
    fired = [20, 21, 40, 41, 60, 90, 150, 197]
    values = np.zeros(200, dtype=np.int32)
    values[fired] = 100 * direction
    got = confidence(bars, {"CDLENGULFING": values}, RELIABILITY_ONLY)["CDLENGULFING"]
    expected = reference_reliability(bars, fired, direction, RELIABILITY_ONLY)
    np.testing.assert_allclose(got[fired], expected, rtol=1e-12)
    # nothing settled before the first two occurrences: the prior mean
    assert got[20] == got[21] == pytest.approx(0.5)
    # three wins seen: well above the prior, far from certainty
    if direction > 0:
        assert 0.5 < got[60] < 0.7
    else:
        assert 0.3 < got[60] < 0.5


def test_an_occurrence_never_counts_before_it_is_settled() -> None:
    """Outcomes settle at the barrier touch: the next occurrence one bar later must not see it."""
    bars = staircase(100, 0.5)
    values = np.zeros(100, dtype=np.int32)
    values[[30, 31, 60]] = 100
    got = confidence(bars, {"CDLHAMMER": values}, RELIABILITY_ONLY)["CDLHAMMER"]
    assert got[31] == pytest.approx(0.5)  # bar 30's outcome settles on bar 31 at the earliest
    assert got[60] == pytest.approx((2 + 5) / (2 + 10))


def test_trend_term_favours_reversals_after_a_move_against_them() -> None:
    only_trend = replace(RELIABILITY_ONLY, trend=1.0, reliability=0.0)
    falling = staircase(60, -0.5)
    rising = staircase(60, 0.5)
    bull = np.zeros(60, dtype=np.int32)
    bull[50] = 100
    after_fall = confidence(falling, {"CDLENGULFING": bull}, only_trend)["CDLENGULFING"][50]
    after_rise = confidence(rising, {"CDLENGULFING": bull}, only_trend)["CDLENGULFING"][50]
    assert after_fall > 0.7 and after_rise < 0.3
    # a continuation pattern wants the move in its own direction
    with_trend = confidence(rising, {"CDLRISEFALL3METHODS": bull}, only_trend)["CDLRISEFALL3METHODS"][50]
    assert with_trend > 0.7
    # indecision: read as a reversal of the move into it, so high either way
    doji = confidence(rising, {"CDLDOJI": bull}, only_trend)["CDLDOJI"][50]
    assert doji == pytest.approx(after_fall)


def test_volume_rsi_and_level_terms() -> None:
    n = 80
    bars = staircase(n, -0.5)  # steady fall: oversold, every bar a new low
    volume = np.ones(n)
    volume[70] = 3.0
    bars = Bars(bars.time, bars.open, bars.high, bars.low, bars.close, volume, period=60)
    bull = np.zeros(n, dtype=np.int32)
    bull[[60, 70]] = 100
    zero = {"trend": 0.0, "volume": 0.0, "rsi": 0.0, "level": 0.0, "reliability": 0.0}
    vol = confidence(bars, {"CDLHAMMER": bull}, ConfidenceSettings(**{**zero, "volume": 1.0}))["CDLHAMMER"]
    assert vol[60] == pytest.approx(0.5) and vol[70] == pytest.approx(0.75)
    rsi = confidence(bars, {"CDLHAMMER": bull}, ConfidenceSettings(**{**zero, "rsi": 1.0}))["CDLHAMMER"]
    assert rsi[60] == 1.0  # RSI 0 after only falling closes
    level = confidence(bars, {"CDLHAMMER": bull}, ConfidenceSettings(**{**zero, "level": 1.0}))["CDLHAMMER"]
    assert level[60] < 0.5  # the lows ran far below the old support: no longer near it
    bear = -bull
    rsi_bear = confidence(bars, {"CDLENGULFING": bear}, ConfidenceSettings(**{**zero, "rsi": 1.0}))
    assert rsi_bear["CDLENGULFING"][60] == 0.0


def test_early_bars_use_neutral_terms() -> None:
    bars = staircase(5, 0.5)
    values = np.array([0, 100, 0, -100, 0], dtype=np.int32)
    got = confidence(bars, {"CDLENGULFING": values})["CDLENGULFING"]
    assert np.isnan(got[[0, 2, 4]]).all()
    assert got[1] == got[3] == pytest.approx(0.5)


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="sum to 1"):
        ConfidenceSettings(trend=0.9)
    with pytest.raises(ConfigError, match="atr_bars"):
        ConfidenceSettings(atr_bars=0)
    with pytest.raises(ConfigError, match="oversold"):
        ConfidenceSettings(oversold=80)
    with pytest.raises(ConfigError, match="prior"):
        ConfidenceSettings(prior_mean=1.0)
    with pytest.raises(ConfigError, match="barrier_atr"):
        ConfidenceSettings(barrier_atr=0)
    bars = staircase(5, 0.5)
    with pytest.raises(ConfigError, match="CDLNOPE"):
        confidence(bars, {"CDLNOPE": np.zeros(5, dtype=np.int32)})
    with pytest.raises(ConfigError, match="4 values for 5 bars"):
        confidence(bars, {"CDLDOJI": np.zeros(4, dtype=np.int32)})


@pytest.mark.parametrize(
    "bar",
    [Bar(2 * MINUTE, math.nan, 11.0, 9.0, 10.0, 1.0), Bar(2 * MINUTE, 10.0, 9.0, 11.0, 10.0, 1.0),
     Bar(2 * MINUTE, 10.0, 11.0, 9.0, 10.0, -5.0), Bar(MINUTE, 10.0, 11.0, 9.0, 10.0, 1.0)],
)
def test_tracker_rejects_bad_bars_and_keeps_its_state(bar: Bar) -> None:
    tracker = ConfidenceTracker()
    tracker.update(Bar(MINUTE, 10.0, 11.0, 9.0, 10.0, 1.0), {"CDLDOJI": 100})
    with pytest.raises(BarError):
        tracker.update(bar, {"CDLDOJI": 100})
    assert tracker.bars_seen == 1
    tracker.reset()
    assert tracker.bars_seen == 0 and not tracker.is_ready
