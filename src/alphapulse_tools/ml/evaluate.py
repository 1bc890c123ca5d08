"""Out-of-sample evaluation: purged walk-forward predictions, metrics and the filter backtest.

For each walk-forward fold a fresh model is trained (and calibrated) on that fold's purged training
samples only, then predicts the fold's test signals. Over all test folds together the report gives:

* ``auc``: area under the ROC curve (Mann-Whitney, ties counted half);
* ``brier``: mean squared error of the probabilities, beside ``brier_baseline``, the Brier score of
  always predicting the training base rate (a useful model scores lower);
* ``precision``: share of target-first outcomes among signals with probability >= threshold, beside
  ``base_rate`` (the precision of taking every signal) and ``taken`` (how many passed);
* a reliability curve: mean predicted probability vs observed frequency per probability bin;
* a backtest by the local runner's engine on the same out-of-sample period, without the model
  (every entry signal) and with it as a filter (only entry signals with probability >= threshold):
  trades, win rate, total and mean R (gross), net return after fees and the maximum drawdown,
  sized and charged as the runner does (:class:`Execution`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from alphapulse.bars import format_time
from alphapulse.errors import ConfigError
from alphapulse.journal import Direction, Signal
from alphapulse.model_factor import ModelMetadata
from alphapulse_tools.ml.dataset import Dataset
from alphapulse_tools.ml.labels import fee_in_r
from alphapulse_tools.ml.model import TrainingSettings, train
from alphapulse_tools.ml.walkforward import purged_walk_forward
from alphapulse_tools.runner.engine import simulate
from alphapulse_tools.runner.fees import FeeModel, PercentOfValueFee
from alphapulse_tools.runner.trades import Instrument, Sizer, SizingContext


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (NaN when only one class is present)."""
    y = np.asarray(y).astype(bool)
    score = np.asarray(score, dtype=np.float64)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    sorted_scores = score[order]
    # average ranks over ties
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(score)]
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        ranks[order[a:b]] = (a + b + 1) / 2.0
    return float((ranks[y].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared difference between probabilities and outcomes."""
    return float(np.mean((np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)) ** 2))


def reliability(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Reliability curve: per equal-width probability bin, count, mean probability, observed rate."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    curve = []
    for k in range(bins):
        mask = which == k
        if mask.any():
            curve.append({"low": float(edges[k]), "high": float(edges[k + 1]), "count": int(mask.sum()),
                          "predicted": float(p[mask].mean()), "observed": float(np.mean(y[mask]))})
    return curve


@dataclass(frozen=True)
class BacktestSummary:
    """The local runner's result on a set of signals: closed trades, R multiples (gross of fees),
    net return on the starting cash (after fees) and the maximum drawdown of the equity curve."""

    trades: int
    win_rate: float
    total_r: float
    mean_r: float
    total_return: float
    max_drawdown: float
    fees: float


@dataclass(frozen=True)
class SymbolRules:
    """One symbol's trading rules in the runner (see :class:`alphapulse_tools.runner.trades.Instrument`)."""

    lot_size: float = 1e-8
    tick_size: float = 0.0
    min_order_size: float = 0.0
    min_order_value: float = 0.0
    allow_short: bool = False


@dataclass(frozen=True)
class Execution:
    """How the backtests trade: the runner's fee model, position sizer and symbols' rules.

    The default sizer risks ``risk_per_trade`` of equity per trade (|entry - stop| x units), capped by
    the cash (no leverage). Symbols share one cash book of ``cash``.
    """

    fee_model: FeeModel
    sizer: Sizer | None = None
    market: str = ""
    risk_per_trade: float = 0.01
    cash: float = 100_000.0
    rules: Mapping[str, SymbolRules] = field(default_factory=dict)

    def position_sizer(self) -> Sizer:
        if self.sizer is not None:
            return self.sizer
        risk_per_trade = self.risk_per_trade

        def size(signal: Signal, price: float, account: SizingContext) -> float:
            risk = abs(price - signal.stop) if signal.stop is not None else 0.0
            if risk <= 0:
                return 0.0
            return max(0.0, min(account.equity * risk_per_trade / risk, account.cash * 0.99 / price))

        return size


def backtest(dataset: Dataset, entries: np.ndarray, execution: Execution,
             period: tuple[int, int] | None = None) -> BacktestSummary:
    """Run the local runner's engine on the entry signals ``entries`` (dataset indices) plus the
    strategy's FLAT exits inside ``period`` (bar start times, ns, inclusive; default: from the first
    entry to the last label exit): market entry at the signal's close, stop, target, time and FLAT
    exits as the runner executes them, one position per symbol, all symbols on one cash book."""
    entries = np.sort(np.asarray(entries, dtype=np.int64))
    if period is None and len(entries):
        period = (int(dataset.entry_time[entries].min()), int(dataset.exit_time[entries].max()))
    instruments = []
    for k, bars in enumerate(dataset.sources):
        chosen = [dataset.signals[i] for i in entries[dataset.source[entries] == k].tolist()]
        if period is not None and k < len(dataset.exits):
            flats = [s for s in dataset.exits[k] if period[0] <= s.time <= period[1]]
            chosen = sorted(chosen + flats, key=lambda s: (s.time, s.direction != Direction.FLAT))
        symbol = dataset.signals[int(np.argmax(dataset.source == k))].symbol if (dataset.source == k).any() \
            else bars.symbol
        rules = execution.rules.get(symbol, SymbolRules())
        instruments.append(Instrument(
            symbol=symbol, market=execution.market, bars=bars, signals=chosen, fee_model=execution.fee_model,
            lot_size=rules.lot_size, min_order_size=rules.min_order_size, min_order_value=rules.min_order_value,
            tick_size=rules.tick_size, allow_short=rules.allow_short))
    cash = execution.cash
    result = simulate(instruments, cash=cash, sizer=execution.position_sizer())
    closed = [t for t in result.trades if t.is_closed]
    r = np.array([t.r_multiple for t in closed if t.r_multiple is not None])
    equity = np.r_[cash, result.equity]
    drawdown = float((1.0 - equity / np.maximum.accumulate(equity)).max())
    return BacktestSummary(
        trades=len(closed),
        win_rate=float(np.mean([t.profit > 0 for t in closed])) if closed else float("nan"),
        total_r=float(r.sum()), mean_r=float(r.mean()) if len(r) else float("nan"),
        total_return=result.end_equity / cash - 1.0, max_drawdown=drawdown, fees=result.total_fees,
    )


@dataclass(frozen=True)
class FoldResult:
    number: int
    train_samples: int
    test_samples: int
    test_start: str
    test_end: str
    auc: float
    brier: float
    base_rate: float
    threshold: float


@dataclass(frozen=True)
class Report:
    """The honest out-of-sample table (see the module docstring)."""

    context: dict[str, Any]
    folds: list[FoldResult]
    samples: int
    base_rate: float
    auc: float
    brier: float
    brier_baseline: float
    precision: float
    taken: int
    reliability: list[dict[str, float]]
    without_model: BacktestSummary
    with_model: BacktestSummary
    probabilities: np.ndarray = field(repr=False)
    outcomes: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "context": self.context, "samples": self.samples, "base_rate": self.base_rate, "auc": self.auc,
            "brier": self.brier, "brier_baseline": self.brier_baseline, "precision": self.precision,
            "taken": self.taken, "folds": [asdict(f) for f in self.folds], "reliability": self.reliability,
            "backtest": {"without_model": asdict(self.without_model), "with_model": asdict(self.with_model)},
        }

    def table(self) -> str:
        """A plain-text table for the terminal."""
        c = self.context
        lines = [
            f"out-of-sample meta-labelling: {c.get('strategy', '?')} {c.get('symbol', '?')} "
            f"{c.get('interval', '?')} ({self.samples} signals in {len(self.folds)} folds, "
            f"purge + embargo {c.get('embargo', 0)} bars)",
            "fold  train  test  period                                      AUC    Brier  base  threshold",
        ]
        for f in self.folds:
            lines.append(f"{f.number:>4} {f.train_samples:>6} {f.test_samples:>5}  "
                         f"{f.test_start} .. {f.test_end}  {_fmt(f.auc)}  {_fmt(f.brier)}  "
                         f"{f.base_rate:.2f}  {f.threshold:.3f}")
        lines += [
            f"all   AUC {_fmt(self.auc)}   Brier {_fmt(self.brier)} "
            f"(base-rate forecast {_fmt(self.brier_baseline)})",
            f"      precision at threshold {_fmt(self.precision)} on {self.taken} signals "
            f"(base rate {self.base_rate:.3f} on {self.samples})",
            "reliability  bin          n   predicted  observed",
        ]
        lines += [f"             {b['low']:.1f}-{b['high']:.1f}  {b['count']:>5}   {b['predicted']:.3f}      "
                  f"{b['observed']:.3f}" for b in self.reliability]
        lines.append("backtest (runner, same OOS period)  "
                     "trades  win rate  total R  mean R   return   max DD")
        for name, s in (("without model", self.without_model), ("with model filter", self.with_model)):
            lines.append(f"  {name:<32} {s.trades:>6}  {_fmt(s.win_rate)}  {s.total_r:>8.2f}  "
                         f"{_fmt(s.mean_r)}  {s.total_return:>+7.1%}  {s.max_drawdown:>6.1%}")
        return "\n".join(lines)


def _fmt(value: float) -> str:
    return "  nan" if not np.isfinite(value) else f"{value:.3f}"


def break_even_threshold(dataset: Dataset, rows: np.ndarray, fee_rate: float) -> float:
    """Probability above which a signal has positive expected R: (1 + fees) / (1 + reward:risk),
    with the median reward:risk and fees of the given (training) rows."""
    if not len(rows):
        return 0.5
    signals = [dataset.signals[i] for i in rows]
    reward_risk = np.array([s.risk_reward or 1.0 for s in signals])
    fees = fee_in_r(signals, np.array([s.entry or 0.0 for s in signals]), fee_rate)
    value = (1.0 + float(np.median(fees))) / (1.0 + float(np.median(reward_risk)))
    return float(min(max(value, 0.01), 0.99))


def walk_forward_evaluation(dataset: Dataset, metadata: ModelMetadata, *, folds: int = 4, embargo: int = 0,
                            settings: TrainingSettings | None = None, threshold: float | None = None,
                            fee_rate: float = 0.001, execution: Execution | None = None,
                            min_train: int = 50) -> Report:
    """Train per fold on purged past samples, predict the fold, and report out of sample.

    ``threshold`` None chooses each fold's threshold from its training signals only
    (:func:`break_even_threshold`, with ``fee_rate`` per side). The backtests trade by
    ``execution`` (default: ``fee_rate`` of the traded value, 1 % of equity at risk per trade).
    """
    execution = execution or Execution(PercentOfValueFee(fee_rate))
    if len(dataset) < 2 * min_train:
        raise ConfigError(f"evaluate: {len(dataset)} usable signals are too few for a walk-forward "
                          f"evaluation (need at least {2 * min_train}); use a longer history")
    entry_time, exit_time = dataset.entry_time, dataset.exit_time
    splits = purged_walk_forward(entry_time, exit_time, folds=folds, embargo=embargo * dataset.bar_period_ns(),
                                 min_train=min_train)
    chosen_parts, probability_parts, take_parts, fold_results = [], [], [], []
    base_rates = []
    for fold in splits:
        model = train(dataset.x[fold.train], dataset.y[fold.train], entry_time[fold.train],
                      exit_time[fold.train], metadata, settings)
        p = model.predict(dataset.x[fold.test])
        y = dataset.y[fold.test]
        cut = break_even_threshold(dataset, fold.train, fee_rate) if threshold is None else threshold
        base_rates.append((float(dataset.y[fold.train].mean()), len(fold.test)))
        fold_results.append(FoldResult(
            fold.number, len(fold.train), len(fold.test), format_time(fold.test_start),
            format_time(fold.test_end), roc_auc(y, p), brier(y, p), float(y.mean()), cut))
        chosen_parts.append(fold.test)
        probability_parts.append(p)
        take_parts.append(p >= cut)
    chosen = np.concatenate(chosen_parts)
    p = np.concatenate(probability_parts)
    take = np.concatenate(take_parts)
    y = dataset.y[chosen]
    period = (splits[0].test_start, max(f.test_end for f in splits))
    climatology = np.concatenate([np.full(n, rate) for rate, n in base_rates])
    return Report(
        context={"strategy": metadata.strategy, "symbol": metadata.symbol, "market": metadata.market,
                 "interval": metadata.interval, "horizon": metadata.horizon, "embargo": embargo,
                 "fee_rate": fee_rate, "dropped_signals": dataset.dropped},
        folds=fold_results, samples=len(chosen), base_rate=float(y.mean()), auc=roc_auc(y, p),
        brier=brier(y, p),
        brier_baseline=brier(y, climatology),
        precision=float(y[take].mean()) if take.any() else float("nan"), taken=int(take.sum()),
        reliability=reliability(y, p),
        without_model=backtest(dataset, chosen, execution, period),
        with_model=backtest(dataset, chosen[take], execution, period),
        probabilities=p, outcomes=y,
    )
