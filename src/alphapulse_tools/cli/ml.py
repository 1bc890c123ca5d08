"""``alphapulse ml ...``: train the meta-labelling model and evaluate it out of sample.

TensorFlow is imported only when one of these commands runs (the ``ml`` extra).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from alphapulse.errors import ConfigError

app = typer.Typer(help="Meta-labelling: a model of whether a signal reaches its target before its stop.",
                  no_args_is_help=True)

Strategy = Annotated[str, typer.Option("--strategy", help="pattern-confluence, rsi-mean-reversion or "
                                       "macd-crossover.")]
Symbol = Annotated[list[str], typer.Option(
    "--symbol", "-s", help="Symbol, e.g. BTCUSDT; repeat it to pool several symbols into one model.")]
Interval = Annotated[str, typer.Option("--interval", "-i", help="Bar interval: 1m, 5m, 15m, 1h, 4h, 1d, ...")]
Start = Annotated[str | None, typer.Option("--start", help="First day, YYYY-MM-DD (default: all data).")]
End = Annotated[str | None, typer.Option("--end", help="Last day, YYYY-MM-DD (default: all data).")]
DataDir = Annotated[Path, typer.Option("--data-dir", help="Lean data folder.")]
Market = Annotated[str, typer.Option("--market", help="binance, coinbase or usa.")]
Config = Annotated[Path | None, typer.Option("--config", help="Per-contract configuration JSON.")]
Horizon = Annotated[int, typer.Option("--horizon", help="Time barrier in bars for signals without max_bars.")]
Threshold = Annotated[float | None, typer.Option(
    "--threshold", help="Probability needed to take a signal (default: break-even from training signals).")]
Epochs = Annotated[int, typer.Option("--epochs", help="Training epochs.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed (training is deterministic for a seed).")]


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{option} {value!r} is not a date: use YYYY-MM-DD") from None


def _request(strategy: str, symbol: list[str], interval: str, start: str | None, end: str | None, data_dir: Path,
             market: str, config: Path | None, horizon: int, threshold: float | None, epochs: int, seed: int,
             **extra: object):
    from alphapulse_tools.ml.model import TrainingSettings
    from alphapulse_tools.ml.workflow import MlRequest

    if epochs < 1:
        raise ConfigError(f"--epochs {epochs} must be at least 1")
    return MlRequest(strategy=strategy, symbols=tuple(s.upper() for s in symbol), interval=interval, market=market,
                     data_dir=data_dir, start=_date(start, "--start"), end=_date(end, "--end"), config=config,
                     horizon=horizon, threshold=threshold,
                     settings=TrainingSettings(epochs=epochs, seed=seed),
                     **extra)  # type: ignore[arg-type]


@app.command("train")
def train_command(
    strategy: Strategy, symbol: Symbol, interval: Interval,
    out: Annotated[Path, typer.Option("--out", help="Model folder to write (model.keras + model.json).")],
    start: Start = None, end: End = None, data_dir: DataDir = Path("data"), market: Market = "binance",
    config: Config = None, horizon: Horizon = 48, threshold: Threshold = None, epochs: Epochs = 40,
    seed: Seed = 7,
) -> None:
    """Train on every signal of the range and save the model for the core's model factor / Lean."""
    from alphapulse_tools.ml.workflow import train_model

    request = _request(strategy, symbol, interval, start, end, data_dir, market, config, horizon, threshold,
                       epochs, seed)
    model, prepared = train_model(request, out)
    meta = model.metadata
    typer.echo(f"trained on {len(prepared.dataset)} signals ({meta.training.get('first_signal')} .. "
               f"{meta.training.get('last_signal')}), positive rate {meta.training.get('positive_rate')}, "
               f"calibration {meta.calibration.method}, threshold {meta.threshold:.3f}")
    typer.echo(f"model written to {out}")


@app.command("evaluate")
def evaluate_command(
    strategy: Strategy, symbol: Symbol, interval: Interval,
    start: Start = None, end: End = None, data_dir: DataDir = Path("data"), market: Market = "binance",
    config: Config = None, horizon: Horizon = 48, threshold: Threshold = None, epochs: Epochs = 40,
    seed: Seed = 7,
    folds: Annotated[int, typer.Option("--folds", help="Walk-forward test folds.")] = 4,
    embargo: Annotated[int | None, typer.Option(
        "--embargo", help="Bars kept out of training around each test fold (default: feature warm-up)."
    )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Purged walk-forward evaluation: out-of-sample AUC, Brier, precision, reliability, and the
    runner's backtest with the model as a filter against the same backtest without it."""
    from alphapulse_tools.ml.workflow import evaluate_model

    request = _request(strategy, symbol, interval, start, end, data_dir, market, config, horizon, threshold,
                       epochs, seed, folds=folds, embargo=embargo)
    report = evaluate_model(request)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, allow_nan=True))
    else:
        typer.echo(report.table())
