"""``alphapulse data ...``: download, convert, validate and list market data.

Every command takes ``--data-dir`` (default ``data``, the Lean data folder of the project root).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from alphapulse.errors import ConfigError, DataError
from alphapulse.lean_data import RESOLUTIONS

app = typer.Typer(help="Get Binance market data into Lean's format, validate it, list it.",
                  no_args_is_help=True)

DataDir = Annotated[Path, typer.Option("--data-dir", help="Lean data folder.")]
Symbol = Annotated[str, typer.Option("--symbol", "-s", help="Binance symbol, e.g. BTCUSDT.")]
Interval = Annotated[str, typer.Option("--interval", "-i", help="Bar interval: 1m, 5m, 15m, 1h, 4h, 1d, ...")]
Market = Annotated[str, typer.Option("--market", help="Lean market folder (binance, coinbase, usa, ...).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON report instead of a table.")]


def _console() -> Console:
    return Console(stderr=True)


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"{option} {value!r} is not a date: use YYYY-MM-DD") from exc


@app.command()
def download(
    symbol: Symbol,
    interval: Interval,
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD (UTC).")],
    end: Annotated[str | None, typer.Option(
        "--end", help="Last day, YYYY-MM-DD (UTC); default today.")] = None,
    data_dir: DataDir = Path("data"),
    data_url: Annotated[str | None, typer.Option(
        "--data-url", help="Archive base URL (env ALPHAPULSE_BINANCE_DATA_URL; default "
        "https://data.binance.vision).")] = None,
    api_url: Annotated[str | None, typer.Option(
        "--api-url", help="REST base URL (env ALPHAPULSE_BINANCE_API_URL; default "
        "https://api.binance.com).")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Fetch days already present again.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Download Binance klines (monthly/daily archives, REST for recent days) into Lean files.

    1m, 1h and 1d are stored as Lean minute, hour and daily files; other intervals are stored at
    the Lean resolution below them (5m/15m as minute bars, 4h as hour bars) for the runner to
    consolidate. Verified raw archives are cached in <data-dir>/.cache/binance.
    """
    from alphapulse_tools.data.binance import BinanceSettings
    from alphapulse_tools.data.download import ensure_binance_data

    first = _date(start, "--start")
    last = _date(end, "--end") if end else datetime.now(UTC).date()
    settings = BinanceSettings.from_env(data_url, api_url)
    console = _console()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task(f"{symbol.upper()} {interval}", total=None)

        def advance(label: str, done: int, total: int) -> None:
            progress.update(task, description=label, completed=done, total=total)

        summary = ensure_binance_data(symbol, interval, first, last, data_dir, settings=settings,
                                      refresh=refresh, on_unit=advance)
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), indent=2))
        return
    typer.echo(f"{summary.symbol} {summary.interval} -> {summary.resolution} files in {data_dir}: "
               f"{summary.bars_written} bars written in {summary.files_written} file(s) "
               f"({summary.first or '-'} .. {summary.last or '-'}), {summary.days_present} day(s) already "
               f"present; archives: {summary.archives_downloaded} downloaded, {summary.archives_cached} "
               f"from cache; REST pages: {summary.rest_pages}")


@app.command()
def convert(
    files: Annotated[list[Path] | None, typer.Argument(
        help="Binance kline archives (.zip) or CSV files.")] = None,
    symbol: Symbol = "",
    interval: Interval = "1m",
    data_dir: DataDir = Path("data"),
    market: Market = "binance",
    from_minute: Annotated[bool, typer.Option(
        "--from-minute",
        help="Build --interval (1h or 1d) bars from the symbol's Lean minute files.")] = False,
    start: Annotated[str | None, typer.Option("--start", help="With --from-minute: first day.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="With --from-minute: last day.")] = None,
) -> None:
    """Convert kline files to Lean files, or aggregate finer Lean bars (--from-minute)."""
    from alphapulse_tools.data.convert import aggregate_from_finer, convert_klines

    if not symbol:
        raise ConfigError("--symbol is required, e.g. --symbol BTCUSDT")
    if from_minute:
        if files:
            raise ConfigError("--from-minute reads the data folder: do not name input files")
        summary = aggregate_from_finer(symbol, interval, data_dir, market=market,
                                       start=_date(start, "--start") if start else None,
                                       end=_date(end, "--end") if end else None)
    else:
        summary = convert_klines(list(files or []), symbol, interval, data_dir, market=market)
    typer.echo(f"{summary.symbol} -> {summary.resolution} files in {data_dir}: {summary.bars_written} bars "
               f"in {summary.files_written} file(s) ({summary.first or '-'} .. {summary.last or '-'})")


@app.command()
def validate(
    symbol: Symbol,
    interval: Interval = "1m",
    data_dir: DataDir = Path("data"),
    market: Market = "binance",
    start: Annotated[str | None, typer.Option("--start", help="First day of minute files to check.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day of minute files to check.")] = None,
    repair: Annotated[bool, typer.Option(
        "--repair", help="Sort rows and drop exact duplicates (never fills gaps).")] = False,
    as_json: AsJson = False,
) -> None:
    """Check OHLC consistency, duplicates, order, gaps, prices, volumes and outlier returns.

    Exits with 2 when the data is unusable (any error-level finding); warnings only report.
    """
    from alphapulse.intervals import interval_seconds, lean_resolution
    from alphapulse_tools.data.validate import CHECKS, validate_symbol

    if interval not in RESOLUTIONS:
        interval_seconds(interval)  # a ConfigError names the allowed intervals
    resolution = interval if interval in RESOLUTIONS else lean_resolution(interval)
    report = validate_symbol(data_dir, market, symbol, resolution, repair=repair,
                             start=_date(start, "--start") if start else None,
                             end=_date(end, "--end") if end else None)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        console = Console()
        console.print(f"{market}:{report.symbol} {report.resolution}: {report.files} file(s), "
                      f"{report.rows} rows, {report.first or '-'} .. {report.last or '-'}")
        table = Table("check", "severity", "count", "first example")
        for check, severity in CHECKS.items():
            count = report.counts.get(check, 0)
            example = next((i for i in report.issues if i.check == check), None)
            text = "" if example is None else (
                f"{example.time or ''} row {example.row or '-'}: {example.detail}")
            style = "red" if count and severity == "error" else ("yellow" if count else "green")
            table.add_row(check, severity, f"[{style}]{count}[/{style}]", text[:100])
        console.print(table)
        for path in report.repaired:
            console.print(f"repaired {path}")
        console.print("[green]usable[/green]" if report.usable else "[red]unusable[/red]")
    if not report.usable:
        worst = next(i for i in report.issues if i.severity == "error")
        where = f"{worst.file} row {worst.row}" if worst.row else worst.file
        raise DataError(f"{market}:{report.symbol} {report.resolution} data is unusable: {where}: "
                        f"{worst.check}: {worst.detail} (see the report; --repair fixes order and exact "
                        "duplicates only)")


@app.command()
def info(data_dir: DataDir = Path("data"), as_json: AsJson = False) -> None:
    """List what the data folder holds: markets, symbols, resolutions, ranges, rows."""
    from alphapulse_tools.data.catalog import databases_present, scan_data_dir

    entries = scan_data_dir(data_dir)
    databases = databases_present(data_dir)
    if as_json:
        typer.echo(json.dumps({"data_dir": str(data_dir), "series": [e.as_dict() for e in entries],
                               "databases": databases}, indent=2))
        return
    console = Console()
    table = Table("type", "market", "symbol", "resolution", "files", "rows", "first", "last",
                  title=str(data_dir))
    for e in entries:
        table.add_row(e.security_type, e.market, e.symbol, e.resolution, str(e.files), str(e.rows),
                      e.first or "-", e.last or "-")
    console.print(table)
    for name, present in databases.items():
        console.print(f"{name}: {'present' if present else '[yellow]missing[/yellow]'}")
    for e in entries:
        if e.problem:
            console.print(f"[red]problem[/red] {e.problem}")
