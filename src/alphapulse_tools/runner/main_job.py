"""The main job (``scripts/main``): get twelve months of BTCUSDT 1h from Binance's public data
(cached), backtest the main strategy with the local runner, write the result folder and the report.

Defaults: ``pattern-confluence`` on Binance ``BTCUSDT`` 1h from 2024-01-01 to 2024-12-31, data in
``data/`` (Lean's format, shared with ``lean backtest``), results in ``results/main/<time>/``, the
per-contract configuration ``config/contracts.default.json`` when present. Data is downloaded only
when missing (from the start minus the strategy's warm-up to the end); the environment variables
``ALPHAPULSE_BINANCE_DATA_URL`` and ``ALPHAPULSE_BINANCE_API_URL`` point the download at a mirror.

Run ``python -m alphapulse_tools.runner.main_job --help`` for the options. Exit codes as the
``alphapulse`` command: 0 done, 2 bad input (one line on stderr), 1 a failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from alphapulse.errors import AlphaPulseError, ConfigError
from alphapulse.intervals import interval_seconds, warm_up_days
from alphapulse_tools.contract_files import config_file, load_configured
from alphapulse_tools.runner.backtest import BacktestOutcome, BacktestRequest, run_backtest


def run_main_job(*, data_dir: Path = Path("data"), out: Path | None = None, symbol: str = "BTCUSDT",
                 interval: str = "1h", start: date = date(2024, 1, 1), end: date = date(2024, 12, 31),
                 strategy: str = "pattern-confluence", config: Path | None = None, cash: float = 100_000.0,
                 echo: Callable[[str], None] = print) -> BacktestOutcome:
    """Ensure the data, run the backtest, write the results; returns the outcome."""
    from alphapulse.strategies import create_strategy
    from alphapulse_tools.data import ensure_binance_data

    config = config_file(config)
    contract = load_configured(config).for_symbol(symbol)
    warm = create_strategy(strategy, contract, symbol=symbol, market="binance").warm_up_period
    # the history the backtest will load (the same span the runner and Lean use)
    first = start - timedelta(days=warm_up_days(warm, interval_seconds(interval), "binance"))

    def progress(label: str, done: int, total: int) -> None:
        echo(f"  downloaded {label} ({done}/{total})")

    echo(f"data: {symbol} {interval} {first} .. {end} in {data_dir} (downloading what is missing)")
    ensure_binance_data(symbol, interval, first, end, data_dir, on_unit=progress)
    if out is None:
        out = Path("results") / "main" / datetime.now(UTC).strftime("%Y-%m-%d_%H-%M-%S")
    echo(f"backtest: {strategy} on {symbol} {interval} {start} .. {end}")
    outcome = run_backtest(BacktestRequest(strategy=strategy, symbols=(symbol,), interval=interval,
                                           start=start, end=end, market="binance", data_dir=data_dir,
                                           config=config, cash=cash, out=out))
    for key in ("Total Orders", "Net Profit", "Compounding Annual Return", "Drawdown", "Sharpe Ratio",
                "Win Rate", "Total Fees", "End Equity"):
        echo(f"  {key}: {outcome.statistics[key]}")
    echo(f"results: {outcome.folder}")
    echo(f"report:  {outcome.folder / 'report.html' if outcome.folder else '-'}")
    return outcome


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{text!r} is not a date: use YYYY-MM-DD") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/main",
        description="The main job: download (cached) a year of BTCUSDT 1h, backtest it, write the report.")
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--interval", default="1h")
    parser.add_argument("--start", default="2024-01-01")
    parser.add_argument("--end", default="2024-12-31")
    parser.add_argument("--strategy", default="pattern-confluence")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--cash", type=float, default=100_000.0)
    args = parser.parse_args(argv)
    try:
        run_main_job(data_dir=args.data_dir, out=args.out, symbol=args.symbol.upper(), interval=args.interval,
                     start=_date(args.start), end=_date(args.end), strategy=args.strategy,
                     config=args.config, cash=args.cash)
    except AlphaPulseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
