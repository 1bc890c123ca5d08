"""``alphapulse backtest``: run a strategy locally with Lean's semantics; write a Lean-shaped result."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from alphapulse.errors import ConfigError


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date: use YYYY-MM-DD, e.g. 2024-01-01") from None


def backtest(
    strategy: Annotated[str, typer.Option(help="pattern-confluence, rsi-mean-reversion or macd-crossover")],
    symbol: Annotated[list[str], typer.Option(help="symbol; repeat for a portfolio (one cash book)")],
    start: Annotated[str, typer.Option(help="first day, YYYY-MM-DD (UTC for crypto)")],
    end: Annotated[str, typer.Option(help="last day, YYYY-MM-DD (inclusive)")],
    interval: Annotated[str, typer.Option(help="bar interval, e.g. 1h, 4h, 1d, 15m")] = "1h",
    market: Annotated[str, typer.Option(help="binance, coinbase or usa")] = "binance",
    data_dir: Annotated[Path, typer.Option(help="Lean data folder")] = Path("data"),
    config: Annotated[Path | None, typer.Option(
        help="per-contract configuration (JSON) [config/contracts.default.json]")] = None,
    cash: Annotated[float, typer.Option(help="starting cash in the quote currency")] = 100_000.0,
    out: Annotated[Path | None, typer.Option(help="result folder [results/<strategy>/<time>]")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="skip report.html")] = False,
) -> None:
    """Backtest a strategy on local Lean data; print the statistics and where the results are."""
    from alphapulse_tools.runner.backtest import BacktestRequest, run_backtest

    request = BacktestRequest(
        strategy=strategy, symbols=tuple(s.strip().upper() for s in symbol), interval=interval,
        start=_date(start, "--start"), end=_date(end, "--end"), market=market.lower(), data_dir=data_dir,
        config=config, cash=cash, out=out, report=not no_report)
    outcome = run_backtest(request)
    width = max(len(k) for k in outcome.statistics)
    for key, value in outcome.statistics.items():
        typer.echo(f"{key:<{width}}  {value}")
    folder = outcome.folder
    typer.echo(f"results: {folder}")
    if folder is not None and (folder / "report.html").exists():
        typer.echo(f"report:  {folder / 'report.html'}")
