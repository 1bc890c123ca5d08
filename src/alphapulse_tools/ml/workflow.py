"""What ``alphapulse ml train`` and ``alphapulse ml evaluate`` do: load bars, run the strategy,
build the data set, then train a model for use or evaluate one out of sample.

Data and execution are the local runner's: bars from a Lean data folder (consolidated when the
interval is not a Lean resolution), the contract's configuration, the market's fee model, the
symbol's trading rules and the contract's risk sizing. The first bars of the range are warm-up
(the strategy's and the features'); their signals are not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from alphapulse.bars import Bars, format_time
from alphapulse.config import STRATEGY_NAMES, ContractConfig, load_contracts
from alphapulse.errors import ConfigError, StrategyError
from alphapulse.features import FeatureSpec
from alphapulse.intervals import interval_seconds
from alphapulse.journal import Signal
from alphapulse.model_factor import ModelMetadata
from alphapulse_tools.ml.dataset import Dataset, build_dataset, pool
from alphapulse_tools.ml.evaluate import (
    Execution,
    Report,
    SymbolRules,
    break_even_threshold,
    walk_forward_evaluation,
)
from alphapulse_tools.ml.model import TrainedModel, TrainingSettings, train

MARKETS = ("binance", "coinbase", "usa")


@dataclass(frozen=True)
class MlRequest:
    """One ``alphapulse ml`` run over one or several symbols (pooled: one model for all, trained and
    tested in entry-time order across them). ``threshold`` None = break-even probability from
    training signals; ``embargo`` None = the features' warm-up in bars."""

    strategy: str
    symbols: tuple[str, ...]
    interval: str
    market: str = "binance"
    data_dir: Path = Path("data")
    start: date | None = None
    end: date | None = None
    config: Path | None = None
    horizon: int = 48
    folds: int = 4
    embargo: int | None = None
    threshold: float | None = None
    settings: TrainingSettings = field(default_factory=TrainingSettings)
    cash: float = 100_000.0

    def check(self) -> None:
        """Reject bad options before touching data (messages name the option)."""
        if self.strategy not in STRATEGY_NAMES:
            raise StrategyError(f"--strategy {self.strategy!r} is unknown: use one of "
                                f"{', '.join(STRATEGY_NAMES)}")
        if self.market not in MARKETS:
            raise ConfigError(f"--market {self.market!r} is not supported: use one of {', '.join(MARKETS)}")
        interval_seconds(self.interval)
        if not self.symbols:
            raise ConfigError("no --symbol given: name at least one, e.g. --symbol BTCUSDT")
        if len(set(self.symbols)) != len(self.symbols):
            raise ConfigError(f"--symbol repeats a symbol: {', '.join(self.symbols)}")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ConfigError(f"--start {self.start} is after --end {self.end}")
        if not Path(self.data_dir).is_dir():
            raise ConfigError(f"--data-dir {self.data_dir} does not exist; download data first "
                              "(`alphapulse data download ...`) or point --data-dir at a Lean data folder")
        if self.horizon < 1:
            raise ConfigError(f"--horizon {self.horizon} must be at least 1 bar")
        if not 1 <= self.folds <= 20:
            raise ConfigError(f"--folds {self.folds} must be between 1 and 20")
        if self.embargo is not None and self.embargo < 0:
            raise ConfigError(f"--embargo {self.embargo} must not be negative")
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise ConfigError(f"--threshold {self.threshold} must be a probability in (0, 1)")


@dataclass(frozen=True)
class Prepared:
    """The data set of a request, with the metadata and execution rules that go with it."""

    dataset: Dataset
    metadata: ModelMetadata
    execution: Execution


def feature_spec(contract: ContractConfig, interval: str) -> FeatureSpec:
    """Features for a contract: its pattern set; higher-timeframe context from its ``higher_timeframe``
    (bars per higher bar), else 4 bars."""
    multiple = 4
    if contract.higher_timeframe:
        multiple = max(1, interval_seconds(contract.higher_timeframe) // interval_seconds(interval))
    return FeatureSpec(patterns=tuple(contract.patterns), higher_timeframe=multiple)


def strategy_signals(request: MlRequest, contract: ContractConfig, symbol: str, bars: Bars) -> list[Signal]:
    try:
        from alphapulse.strategies import create_strategy  # type: ignore[attr-defined]
    except ImportError:
        raise StrategyError("the strategies are not available in this installation "
                            "(alphapulse.strategies.create_strategy is missing)") from None
    strategy = create_strategy(request.strategy, contract, symbol=symbol, market=request.market)
    return list(strategy.signals(bars))


def prepare(request: MlRequest) -> Prepared:
    """Load the bars, run the strategy and build the (pooled) data set; the features follow the first
    symbol's contract (its pattern set and higher timeframe)."""
    from alphapulse_tools.runner.backtest import load_bars, risk_sizer, symbol_rules
    from alphapulse_tools.runner.fees import fee_model_for

    request.check()
    contracts = load_contracts(request.config) if request.config is not None else None
    symbols = [s.upper() for s in request.symbols]
    configs = {s: contracts.for_symbol(s) if contracts is not None else ContractConfig.defaults(s)
               for s in symbols}
    first = request.start or date(1970, 1, 1)
    last = request.end or date(2100, 1, 1)
    spec = feature_spec(configs[symbols[0]], request.interval)
    parts = []
    rules = {}
    for symbol in symbols:
        bars = load_bars(Path(request.data_dir), request.market, symbol, request.interval, first, last)
        signals = strategy_signals(request, configs[symbol], symbol, bars)
        parts.append(build_dataset(bars, signals, spec, horizon=request.horizon))
        found = symbol_rules(Path(request.data_dir), request.market, symbol)
        rules[symbol] = SymbolRules(found.lot_size, found.tick_size, found.min_order_size, found.min_order_value,
                                    configs[symbol].risk.allow_short)
    dataset = parts[0] if len(parts) == 1 else pool(parts)
    account = configs[symbols[0]].risk
    execution = Execution(
        fee_model=fee_model_for(request.market), market=request.market, cash=request.cash,
        sizer=risk_sizer(account, {s: c.risk for s, c in configs.items()}), rules=rules)
    metadata = ModelMetadata(
        spec, threshold=request.threshold or 0.5, strategy=request.strategy, symbol=",".join(symbols),
        market=request.market, interval=request.interval, horizon=request.horizon,
        training=_training_ranges(dataset))
    return Prepared(dataset, metadata, execution)


def _training_ranges(dataset: Dataset) -> dict[str, Any]:
    starts = [int(b.time[0]) for b in dataset.sources]
    ends = [int(b.time[-1]) for b in dataset.sources]
    ranges: dict[str, Any] = {"bars_start": format_time(min(starts)), "bars_end": format_time(max(ends)),
                              "bars": sum(len(b) for b in dataset.sources)}
    if len(dataset):
        ranges.update(first_signal=format_time(int(dataset.entry_time.min())),
                      last_signal=format_time(int(dataset.entry_time.max())),
                      last_label_bar=format_time(int(dataset.exit_time.max())))
    return ranges


def fee_rate_of(market: str) -> float:
    """Fee per side as a fraction of value for the break-even threshold (taker rates; US equities ~0)."""
    return {"binance": 0.001, "coinbase": 0.003}.get(market, 0.0)


def train_model(request: MlRequest, out: Path) -> tuple[TrainedModel, Prepared]:
    """Train on every usable signal of the range and save the model to ``out``."""
    prepared = prepare(request)
    data = prepared.dataset
    if len(data) < 30:
        raise ConfigError(f"{','.join(request.symbols)} {request.interval}: only {len(data)} usable signals; a model "
                          "needs at least 30 - use a longer range (--start/--end) or another strategy")
    metadata = prepared.metadata
    if request.threshold is None:
        import numpy as np

        cut = break_even_threshold(data, np.arange(len(data)), fee_rate_of(request.market))
        metadata = ModelMetadata(metadata.features, threshold=cut, strategy=metadata.strategy,
                                 symbol=metadata.symbol, market=metadata.market, interval=metadata.interval,
                                 horizon=metadata.horizon, training=metadata.training)
    model = train(data.x, data.y, data.entry_time, data.exit_time, metadata, request.settings)
    model.save(out)
    return model, prepared


def evaluate_model(request: MlRequest) -> Report:
    """Purged walk-forward evaluation of the request (see :mod:`alphapulse_tools.ml.evaluate`)."""
    prepared = prepare(request)
    embargo = prepared.metadata.features.warm_up_period if request.embargo is None else request.embargo
    min_train = max(20, min(50, len(prepared.dataset) // (request.folds + 1) * 3 // 4))
    return walk_forward_evaluation(
        prepared.dataset, prepared.metadata, folds=request.folds, embargo=embargo, settings=request.settings,
        threshold=request.threshold, fee_rate=fee_rate_of(request.market), execution=prepared.execution,
        min_train=min_train)
