"""Strategies: batch == streaming on every dataset, no look-ahead, rules checked against TA-Lib."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from alphapulse.bars import Bar
from alphapulse.config import ContractConfig, load_contracts
from alphapulse.errors import BarError, StrategyError
from alphapulse.journal import Direction, Signal
from alphapulse.strategies import STRATEGIES, create_strategy
from tests.core.datasets import DATASET_NAMES, load_dataset

#: the documented tolerance on price levels and scores (indicator recursions, see alphapulse.indicators)
TOLERANCE = 1e-9
CONFIG = Path(__file__).resolve().parents[2] / "config" / "contracts.example.json"


def _contract(name: str, **risk) -> ContractConfig:
    contract = ContractConfig.defaults("TEST")
    contract = dataclasses.replace(contract, strategy=name, min_confidence=0.3, min_score=0.3)
    if risk:
        contract = dataclasses.replace(contract, risk=dataclasses.replace(contract.risk, **risk))
    return contract


def _streamed(strategy, bars) -> list[Signal]:
    stream = strategy.stream()
    return [signal for bar in bars if (signal := stream.update(bar)) is not None]


def assert_same_signals(batch: list[Signal], streamed: list[Signal]) -> None:
    """Bars, directions and everything else identical; levels, score and factors to the tolerance."""
    assert [(s.time, s.direction) for s in batch] == [(s.time, s.direction) for s in streamed]
    for a, b in zip(batch, streamed, strict=True):
        assert (a.strategy, a.symbol, a.market, a.interval, a.reason, a.max_bars) == \
               (b.strategy, b.symbol, b.market, b.interval, b.reason, b.max_bars)
        assert [(p.name, p.value) for p in a.patterns] == [(p.name, p.value) for p in b.patterns]
        for p, q in zip(a.patterns, b.patterns, strict=True):
            assert math.isclose(p.confidence, q.confidence, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
        for field in ("entry", "stop", "target"):
            x, y = getattr(a, field), getattr(b, field)
            assert (x is None) == (y is None)
            if x is not None:
                assert math.isclose(x, y, rel_tol=TOLERANCE), (field, a, b)
        assert math.isclose(a.score, b.score, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
        assert a.factors.keys() == b.factors.keys()
        for key in a.factors:
            assert math.isclose(a.factors[key], b.factors[key], rel_tol=TOLERANCE, abs_tol=TOLERANCE)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("dataset", DATASET_NAMES)
def test_batch_equals_streaming_on_real_data(shared_data, dataset, name):
    data = load_dataset(shared_data, dataset)
    strategy = create_strategy(name, _contract(name), symbol="TEST", market=data.market)
    batch = strategy.signals(data.bars)
    assert_same_signals(batch, _streamed(strategy, data.bars))
    for signal in batch:
        if signal.direction != Direction.FLAT:
            assert signal.entry is not None and signal.stop is not None
            assert signal.stop < signal.entry < signal.target  # type: ignore[operator]
            assert signal.risk_reward == pytest.approx(strategy.contract.risk.target_multiple)  # type: ignore[attr-defined]
            assert 0.0 <= signal.score <= 1.0


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("dataset", DATASET_NAMES)
def test_no_look_ahead_at_many_cuts(shared_data, dataset, name):
    bars = load_dataset(shared_data, dataset).bars
    strategy = create_strategy(name, _contract(name), symbol="TEST")
    full = strategy.signals(bars)
    for cut in np.linspace(1, len(bars), 7).astype(int).tolist():
        cut_time = int(bars.time[cut - 1]) + 1
        assert strategy.signals(bars[:cut]) == [s for s in full if s.time < cut_time], cut


@settings(max_examples=20, deadline=None)
@given(cut=st.integers(1, 4_000), name=st.sampled_from(sorted(STRATEGIES)))
def test_no_look_ahead_property_minute_data(shared_data, cut, name):
    bars = load_dataset(shared_data, "lean/coinbase/minute/btcusd").bars
    strategy = create_strategy(name, _contract(name), symbol="TEST")
    full = strategy.signals(bars)
    cut_time = int(bars.time[cut - 1]) + 1
    assert strategy.signals(bars[:cut]) == [s for s in full if s.time < cut_time]
    assert_same_signals(_streamed(strategy, bars[:cut]), [s for s in full if s.time < cut_time])


def _crosses_up(values: np.ndarray, level: float) -> np.ndarray:
    previous = np.concatenate(([np.nan], values[:-1]))
    line = level - 1e-9  # the documented slack
    return (previous < line) & (values >= line)


@pytest.mark.parametrize("dataset", ["lean/binance/minute/btcbusd", "lean/usa/daily/spy",
                                     "freqtrade/UNITTEST_BTC-5m"])
def test_rsi_rules_against_talib(shared_data, dataset):
    bars = load_dataset(shared_data, dataset).bars
    contract = _contract("rsi-mean-reversion", atr_multiple=1.5, target_r=3.0, max_bars=20)
    signals = create_strategy("rsi-mean-reversion", contract).signals(bars)
    rsi = talib.RSI(bars.close, 14)
    atr = talib.ATR(bars.high, bars.low, bars.close, 14)
    entries = _crosses_up(rsi, 30) & (rsi < 70 - 1e-9) & ~np.isnan(atr)
    exits = _crosses_up(rsi, 70)
    assert [s.time for s in signals if s.direction == Direction.LONG] == bars.time[entries].tolist()
    assert [s.time for s in signals if s.direction == Direction.FLAT] == bars.time[exits].tolist()
    index = {int(t): i for i, t in enumerate(bars.time)}
    for signal in signals:
        if signal.direction == Direction.LONG:
            i = index[signal.time]
            assert signal.entry == bars.close[i]
            assert signal.stop == bars.close[i] - 1.5 * atr[i]
            assert signal.target == pytest.approx(bars.close[i] + 3.0 * 1.5 * atr[i], rel=1e-12)
            assert signal.max_bars == 20


def test_rsi_levels_come_from_the_contract(shared_data):
    bars = load_dataset(shared_data, "lean/coinbase/minute/btcusd").bars
    contracts = load_contracts(CONFIG)
    rsi = talib.RSI(bars.close, 14)
    for symbol, oversold, exit_level in (("BTCUSDT", 30, 70), ("ETHUSDT", 25, 50)):
        strategy = create_strategy("rsi-mean-reversion", contracts[symbol])
        signals = strategy.signals(bars)
        longs = [s.time for s in signals if s.direction == Direction.LONG]
        expected = _crosses_up(rsi, oversold) & (rsi < exit_level - 1e-9)
        assert longs == bars.time[expected].tolist()
        assert all(s.symbol == symbol for s in signals)


@pytest.mark.parametrize("dataset", ["lean/binance/minute/btcbusd", "lean/usa/daily/spy"])
def test_macd_rules_against_talib(shared_data, dataset):
    bars = load_dataset(shared_data, dataset).bars
    contract = _contract("macd-crossover")
    signals = create_strategy("macd-crossover", contract).signals(bars)
    _, _, hist = talib.MACD(bars.close, 12, 26, 9)
    band = 1e-9 * bars.close
    previous = np.concatenate(([np.nan], hist[:-1]))
    up = (previous <= band) & (hist > band)
    down = (previous >= -band) & (hist < -band)
    atr = talib.ATR(bars.high, bars.low, bars.close, 14)
    longs = [s.time for s in signals if s.direction == Direction.LONG]
    assert longs == bars.time[up & ~np.isnan(atr)].tolist()
    assert [s.time for s in signals if s.direction == Direction.FLAT] == bars.time[down].tolist()
    assert up.sum() > 5


def test_macd_trend_filter_keeps_only_crosses_above_the_long_ema(shared_data):
    bars = load_dataset(shared_data, "lean/usa/daily/spy").bars
    base = _contract("macd-crossover")
    filtered = dataclasses.replace(base, indicators=dataclasses.replace(
        base.indicators, macd=dataclasses.replace(base.indicators.macd, trend_filter=True)))
    all_longs = {s.time for s in create_strategy("macd-crossover", base).signals(bars)
                 if s.direction == Direction.LONG}
    kept = [s for s in create_strategy("macd-crossover", filtered).signals(bars)
            if s.direction == Direction.LONG]
    ema200 = talib.EMA(bars.close, 200)
    index = {int(t): i for i, t in enumerate(bars.time)}
    assert kept and {s.time for s in kept} < all_longs
    assert all(bars.close[index[s.time]] > ema200[index[s.time]] for s in kept)


def test_unknown_strategy_lists_the_names():
    with pytest.raises(StrategyError, match=r"unknown strategy 'rsi'.*use one of .*macd-crossover"):
        create_strategy("rsi", ContractConfig.defaults())


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_streams_refuse_bad_and_stale_bars(name):
    stream = create_strategy(name, _contract(name)).stream()
    stream.update(Bar(2_000, 10, 11, 9, 10, 1))
    with pytest.raises(BarError, match="not after the last bar"):
        stream.update(Bar(1_000, 10, 11, 9, 10, 1))
    with pytest.raises(BarError, match="high is below low"):
        stream.update(Bar(3_000, 10, 9, 11, 10, 1))
    with pytest.raises(BarError, match="NaN"):
        stream.update(Bar(4_000, 10, 11, 9, math.nan, 1))


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_streams_become_ready_after_the_warm_up(shared_data, name):
    bars = load_dataset(shared_data, "lean/binance/hour/btcusdt").bars
    strategy = create_strategy(name, _contract(name))
    stream = strategy.stream()
    for i, bar in enumerate(bars):
        stream.update(bar)
        assert stream.is_ready == (i + 1 >= strategy.warm_up_period)


# -- pattern confluence ------------------------------------------------------------------------------
CONFLUENCE_DATASETS = ["lean/binance/hour/btcusdt", "lean/coinbase/minute/btcusd", "lean/usa/daily/spy",
                       "freqtrade/UNITTEST_BTC-5m", "lean/bitfinex/hour/btcusd"]


def _confluence(interval: str = "1h", **changes) -> ContractConfig:
    contract = dataclasses.replace(ContractConfig.defaults("TEST"), timeframe=interval, min_confidence=0.5,
                                   min_score=0.4, patterns=("CDLENGULFING", "CDLHAMMER", "CDLSHOOTINGSTAR",
                                                            "CDLHARAMI", "CDLDOJI", "CDL3OUTSIDE"))
    risk = {k: changes.pop(k) for k in list(changes) if hasattr(contract.risk, k)}
    contract = dataclasses.replace(contract, **changes)
    return dataclasses.replace(contract, risk=dataclasses.replace(contract.risk, **risk))


@pytest.mark.parametrize("dataset", CONFLUENCE_DATASETS)
@pytest.mark.parametrize("stop", ["pattern", "atr"])
def test_confluence_shorts_and_atr_stops_batch_equals_streaming(shared_data, dataset, stop):
    bars = load_dataset(shared_data, dataset).bars
    strategy = create_strategy("pattern-confluence", _confluence(allow_short=True, stop=stop))
    batch = strategy.signals(bars)
    assert any(s.direction == Direction.SHORT for s in batch)
    assert_same_signals(batch, _streamed(strategy, bars))
    for s in batch:
        assert s.risk_reward == pytest.approx(2.0)
        assert (s.stop < s.entry < s.target) if s.direction == Direction.LONG else (s.target < s.entry < s.stop)


@pytest.mark.parametrize(("dataset", "interval", "higher"), [
    ("lean/bitfinex/hour/btcusd", "1h", "4h"), ("lean/coinbase/minute/btcusd", "1m", "15m"),
    ("lean/usa/hour/spy", "1h", "1d")])
def test_confluence_with_higher_timeframe_batch_equals_streaming(shared_data, dataset, interval, higher):
    data = load_dataset(shared_data, dataset)
    bars = data.bars[:6000]
    strategy = create_strategy("pattern-confluence", _confluence(interval, higher_timeframe=higher),
                               market=data.market)
    batch = strategy.signals(bars)
    assert batch and any("higher_timeframe" in s.factors for s in batch)
    assert_same_signals(batch, _streamed(strategy, bars))
    cut = len(bars) // 2
    assert strategy.signals(bars[:cut]) == [s for s in batch if s.time <= bars.time[cut - 1]]


def test_confluence_higher_timeframe_needs_bars_of_the_contract_timeframe(shared_data):
    bars = load_dataset(shared_data, "lean/coinbase/minute/btcusd").bars
    strategy = create_strategy("pattern-confluence", _confluence("1h", higher_timeframe="4h"))
    with pytest.raises(StrategyError, match="bars of 60 s given to a contract whose timeframe is 1h"):
        strategy.signals(bars)


@pytest.mark.parametrize("dataset", CONFLUENCE_DATASETS)
def test_confluence_rules_against_talib(shared_data, dataset):
    """Every signal satisfies the documented rules, recomputed here from TA-Lib and the confidence."""
    from alphapulse.confidence import confidence
    from alphapulse.patterns import pattern_direction, scan
    from alphapulse.scoring import PATTERN_CANDLES

    bars = load_dataset(shared_data, dataset).bars
    contract = _confluence()
    signals = create_strategy("pattern-confluence", contract).signals(bars)
    values = {n: getattr(talib, n)(bars.open, bars.high, bars.low, bars.close) for n in contract.patterns}
    assert all(np.array_equal(values[n], v) for n, v in scan(bars, contract.patterns).items())
    conf = confidence(bars, scan(bars, contract.patterns))
    rsi = talib.RSI(bars.close, 14)
    index = {int(t): i for i, t in enumerate(bars.time)}
    weights = dataclasses.asdict(contract.weights)
    for s in signals:
        i = index[s.time]
        assert s.direction == Direction.LONG and s.entry == bars.close[i]
        assert s.patterns
        for hit in s.patterns:
            assert values[hit.name][i] == hit.value and pattern_direction(hit.name, values[hit.name])[i] == 1
            assert hit.confidence == conf[hit.name][i] >= contract.min_confidence
        assert rsi[i] < 70
        span = max(PATTERN_CANDLES.get(h.name, 1) for h in s.patterns)
        assert s.stop == bars.low[max(0, i - span + 1):i + 1].min()
        assert s.target == pytest.approx(s.entry + 2.0 * (s.entry - s.stop), rel=1e-12)
        expected = sum(weights[k] * v for k, v in s.factors.items()) / sum(weights[k] for k in s.factors)
        assert s.score == pytest.approx(expected, rel=1e-12) and s.score >= contract.min_score
        assert s.factors["pattern"] == min(1.0, sum(abs(h.value) for h in s.patterns) / 200)


def test_confluence_thresholds_only_remove_signals(shared_data):
    bars = load_dataset(shared_data, "lean/coinbase/minute/btcusd").bars
    loose = create_strategy("pattern-confluence", _confluence(min_score=0.0)).signals(bars)
    strict = create_strategy("pattern-confluence", _confluence(min_score=0.6)).signals(bars)
    assert strict and len(strict) < len(loose)
    assert {s.time for s in strict} <= {s.time for s in loose}


class _ParityModel:
    """A pluggable factor whose value depends only on the signal and the bars up to it."""

    name = "model"
    weight = 1.0

    def probabilities(self, bars, signals, rows=None):
        return np.array([(bars.close[r] - bars.low[max(0, r - 9):r + 1].min()) /
                         (bars.high[max(0, r - 9):r + 1].max() - bars.low[max(0, r - 9):r + 1].min())
                         for r in rows])

    def stream(self, *, period=0, symbol=""):
        return _ParityModelStream()


class _ParityModelStream:
    def __init__(self):
        self.bars: list[Bar] = []

    def update(self, bar):
        self.bars = [*self.bars[-9:], bar]
        return True

    @property
    def is_ready(self):
        return True

    def probability(self, signal):
        low = min(b.low for b in self.bars)
        return (self.bars[-1].close - low) / (max(b.high for b in self.bars) - low)


def test_confluence_plugged_model_factor(shared_data):
    from alphapulse.strategies import PatternConfluence

    bars = load_dataset(shared_data, "lean/coinbase/minute/btcusd").bars
    contract = _confluence(min_score=0.0)
    plain = PatternConfluence(contract).signals(bars)
    strategy = PatternConfluence(contract, factors=[_ParityModel()])
    batch = strategy.signals(bars)
    assert [s.time for s in batch] == [s.time for s in plain]
    assert all("model" in s.factors for s in batch)
    assert any(a.score != b.score for a, b in zip(batch, plain, strict=True))
    assert_same_signals(batch, _streamed(strategy, bars))


def test_registry_matches_the_configurable_names():
    from alphapulse.config import STRATEGY_NAMES

    assert set(STRATEGIES) == set(STRATEGY_NAMES)


def test_plugged_factors_only_for_pattern_confluence():
    with pytest.raises(StrategyError, match="does not score signals with plugged factors"):
        create_strategy("rsi-mean-reversion", ContractConfig.defaults(), factors=[_ParityModel()])
    strategy = create_strategy("pattern-confluence", ContractConfig.defaults(), factors=[_ParityModel()])
    assert strategy.factors and strategy.weights["model"] == 1.0  # type: ignore[attr-defined]


def test_configured_model_is_loaded_or_named_when_missing(tmp_path):
    from alphapulse.errors import ConfigError

    contract = load_contracts({"X": {"model": {"path": str(tmp_path / "none"), "weight": 2}}})["X"]
    with pytest.raises(ConfigError, match="none"):
        create_strategy("pattern-confluence", contract)
    # an explicit (empty) factor list wins over the configured model
    assert create_strategy("pattern-confluence", contract, factors=[]).factors == ()  # type: ignore[attr-defined]
