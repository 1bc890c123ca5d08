"""``alphapulse scan``: patterns, confidences, indicators and signals for every bar, as CSV or JSON."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from alphapulse.errors import ConfigError


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date: use YYYY-MM-DD, e.g. 2018-05-01") from None


def scan(
    symbol: Annotated[str, typer.Option(help="symbol, e.g. BTCUSDT (Binance), BTCUSD (Coinbase), SPY")],
    interval: Annotated[str, typer.Option(help="bar interval: 1m, 5m, 15m, 1h, 4h, 1d, ...")],
    out: Annotated[Path, typer.Option(help="output file")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    market: Annotated[str, typer.Option(help="binance, coinbase, ... or usa (US equities)")] = "binance",
    data_dir: Annotated[Path, typer.Option(help="Lean data folder")] = Path("data"),
    config: Annotated[Path | None, typer.Option(
        help="per-contract configuration (JSON) [config/contracts.default.json]")] = None,
    strategy: Annotated[str | None, typer.Option(
        help="pattern-confluence, rsi-mean-reversion or macd-crossover [the contract's]")] = None,
    start: Annotated[str | None, typer.Option(help="first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="last day, YYYY-MM-DD (inclusive)")] = None,
) -> None:
    """Scan bars: one row per bar with the 61 pattern values, their confidence, the indicators and
    the signal columns (direction, entry, stop, target, score)."""
    from alphapulse_tools.scan import FORMATS, ScanRequest, run_scan, write_table

    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: use csv or json")
    if not data_dir.is_dir():
        raise ConfigError(f"--data-dir {data_dir}: no such folder (a Lean data folder, e.g. data/)")
    request = ScanRequest(symbol=symbol.strip().upper(), interval=interval, market=market.strip().lower(),
                          data_dir=data_dir, config=config, strategy=strategy,
                          start=_date(start, "--start"), end=_date(end, "--end"))
    if request.start and request.end and request.start > request.end:
        raise ConfigError(f"--start {request.start} is after --end {request.end}")
    table = run_scan(request)
    write_table(table, out, fmt)
    signals = int(table["direction"].notna().sum())
    typer.echo(f"{len(table)} bars, {signals} signals -> {out}")
