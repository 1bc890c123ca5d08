"""A signal does not depend on where the history starts, once the warm-up is covered.

TradingView computes on whatever history the chart loaded, Lean on its warm-up, the local runner on
the warm-up span before its start date. They agree because every term looks back a bounded number of
bars: for any cut point ``k``, the results computed from ``bars[k:]`` equal the whole history's
results on every bar from ``k + lookback`` (confidence: ``ConfidenceSettings.lookback``;
pattern-confluence: ``warm_up_period``) on — batch and streaming.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from alphapulse.confidence import ConfidenceSettings, ConfidenceTracker, occurrence_confidence
from alphapulse.config import ContractConfig
from alphapulse.errors import ConfigError
from alphapulse.journal import Signal
from alphapulse.patterns import DEFAULT_PATTERNS, scan
from alphapulse.strategies import create_strategy
from tests.core.datasets import load_dataset

DATASETS = ["lean/usa/daily/spy", "lean/coinbase/minute/btcusd", "lean/usa/hour/spy",
            "freqtrade/XRP_ETH-1m", "backtesting_py/EURUSD"]
CUTS = (1, 137, 1_000)


def _occurrences(bars, settings):
    values = scan(bars)
    return {name: dict(zip(where.tolist(), score.tolist(), strict=True))
            for name, (where, score) in occurrence_confidence(bars, values, settings).items()}


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("settings", [ConfidenceSettings(), ConfidenceSettings(reliability_bars=60, barrier_bars=7)],
                         ids=["defaults", "short-window"])
def test_confidence_is_the_same_from_any_start(shared_data: Path, name: str, settings: ConfidenceSettings) -> None:
    bars = load_dataset(shared_data, name).bars[:20_000]
    full = _occurrences(bars, settings)
    compared = 0
    for k in CUTS:
        first = k + settings.lookback
        assert first < len(bars)
        part = _occurrences(bars[k:], settings)
        for pattern, scores in full.items():
            later = {i: v for i, v in scores.items() if i >= first}
            shifted = {i + k: v for i, v in part[pattern].items() if i + k >= first}
            assert shifted == later, pattern  # bit for bit
            compared += len(later)
    assert compared > 1_000


def test_the_reliability_window_matters(shared_data: Path) -> None:
    """Without the window (all history counted) an earlier start changes later confidences: the
    comparison above would fail, so it tests the window."""
    bars = load_dataset(shared_data, "lean/usa/daily/spy").bars
    endless = ConfidenceSettings(reliability_bars=len(bars) + 1)
    full, part = _occurrences(bars, endless), _occurrences(bars[1_000:], endless)
    first = 1_000 + ConfidenceSettings().lookback
    assert any({i + 1_000: v for i, v in part[p].items() if i + 1_000 >= first}
               != {i: v for i, v in full[p].items() if i >= first} for p in full)


@pytest.mark.parametrize("name", DATASETS[:3])
def test_streaming_confidence_is_the_same_from_any_start(shared_data: Path, name: str) -> None:
    bars = load_dataset(shared_data, name).bars[:6_000]
    settings = ConfidenceSettings(reliability_bars=300)
    values = scan(bars, DEFAULT_PATTERNS)
    columns = {p: values[p].tolist() for p in DEFAULT_PATTERNS}

    def run(start: int) -> list[dict[str, float]]:
        tracker = ConfidenceTracker(settings)
        return [tracker.update(bars.bar(i), {p: columns[p][i] for p in DEFAULT_PATTERNS})
                for i in range(start, len(bars))]

    full = run(0)
    for k in (1, 500):
        part = run(k)
        first = k + settings.lookback
        assert part[first - k:] == full[first:]
        assert any(full[first:])


def _signals(strategy, bars, *, stream: bool) -> list[Signal]:
    if not stream:
        return strategy.signals(bars)
    s = strategy.stream()
    return [signal for bar in bars if (signal := s.update(bar)) is not None]


def _same(a: list[Signal], b: list[Signal]) -> None:
    assert [(s.time, s.direction, s.entry, s.stop, s.target) for s in a] == \
           [(s.time, s.direction, s.entry, s.stop, s.target) for s in b]
    for x, y in zip(a, b, strict=True):
        # Wilder's RSI from two starts differs in its last bits after the warm-up
        assert math.isclose(x.score, y.score, rel_tol=1e-12, abs_tol=1e-12)
        assert x.factors.keys() == y.factors.keys()
        for key in x.factors:
            assert math.isclose(x.factors[key], y.factors[key], rel_tol=1e-12, abs_tol=1e-12), key


CONTRACTS = [("lean/usa/hour/spy", "1h", {"higher_timeframe": "1d"}),
             ("lean/coinbase/minute/btcusd", "1m", {"higher_timeframe": "1h"}),
             ("lean/usa/daily/spy", "1d", {}),
             ("freqtrade/XRP_ETH-1m", "1m", {"min_confidence": 0.3, "min_score": 0.3})]


@pytest.mark.parametrize(("name", "interval", "extra"), CONTRACTS, ids=[c[0] for c in CONTRACTS])
@pytest.mark.parametrize("stream", [False, True], ids=["batch", "streaming"])
def test_pattern_confluence_signals_are_the_same_from_any_start(shared_data: Path, name: str, interval: str,
                                                                extra: dict, stream: bool) -> None:
    data = load_dataset(shared_data, name)
    bars = data.bars[:15_000]
    contract = ContractConfig.from_dict("X", {"strategy": "pattern-confluence", "timeframe": interval, **extra})
    strategy = create_strategy("pattern-confluence", contract, symbol="X", market=data.market)
    warm = strategy.warm_up_period
    full = _signals(strategy, bars, stream=stream)
    compared = 0
    for k in (7, 600):
        first = bars.time[k + warm]
        later = [s for s in full if s.time >= first]
        part = [s for s in _signals(strategy, bars[k:], stream=stream) if s.time >= first]
        _same(part, later)
        compared += len(later)
    assert compared >= 10


def test_warm_up_covers_every_term() -> None:
    contract = ContractConfig.from_dict("X", {"timeframe": "1h", "indicators": {"ema": [10, 400]},
                                              "confidence": {"reliability_bars": 900}})
    strategy = create_strategy("pattern-confluence", contract, symbol="X", market="binance")
    assert strategy.warm_up_period >= 3 * 400 and strategy.warm_up_period > 900
    with_htf = create_strategy("pattern-confluence", dataclasses.replace(contract, higher_timeframe="1d"),
                               symbol="X", market="binance")
    assert with_htf.warm_up_period >= 24 * 3 * 20  # the higher bars' EMA in base bars


@pytest.mark.parametrize(("value", "message"), [
    (10, "must exceed barrier_bars=20"),
    (0, "out of range"),
    (200_000, "out of range"),
    (65_536, "out of range"),
    ("many", "not a whole number"),
])
def test_a_bad_reliability_window_names_the_key(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        ContractConfig.from_dict("BTCUSDT", {"confidence": {"reliability_bars": value}})
    assert "confidence" in str(error.value)


def test_the_shortest_reliability_window_is_accepted() -> None:
    contract = ContractConfig.from_dict("BTCUSDT", {"confidence": {"reliability_bars": 21}})
    assert contract.confidence.reliability_bars == 21


def test_the_longest_reliability_window_is_accepted() -> None:
    contract = ContractConfig.from_dict("BTCUSDT", {"confidence": {"reliability_bars": 65_535}})
    assert contract.confidence.reliability_bars == 65_535
    with pytest.raises(ConfigError, match="at most 65535"):
        ConfidenceSettings(reliability_bars=65_536)
