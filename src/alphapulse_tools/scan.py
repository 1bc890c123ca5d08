"""The pattern/indicator/signal scan behind ``alphapulse scan``: load bars, compute, tabulate.

One row per bar: ``time`` (bar start, ISO-8601 UTC), OHLCV, the 61 raw TA-Lib pattern values
(columns named by the TA-Lib function, e.g. ``CDLENGULFING``), the confidence of each pattern where
it fires (``CDLENGULFING_confidence``, empty elsewhere), the indicators the strategy reads (named
like ``rsi_14``, ``ema_200``, ``macd_histogram``) and the signal columns ``direction`` (long,
short, flat or empty), ``entry``, ``stop``, ``target``, ``score``, ``risk_reward`` and ``reason``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from alphapulse.bars import Bars
from alphapulse.confidence import confidence
from alphapulse.config import ContractConfig
from alphapulse.errors import ConfigError
from alphapulse.intervals import interval_seconds
from alphapulse.patterns import ALL_PATTERNS, scan
from alphapulse.strategies import create_strategy
from alphapulse_tools.contract_files import config_file, load_configured
from alphapulse_tools.data.loading import load_bars

FORMATS = ("csv", "json")
SIGNAL_COLUMNS = ("direction", "entry", "stop", "target", "score", "risk_reward", "reason")


@dataclass(frozen=True)
class ScanRequest:
    """What to scan; ``config`` None means ``config/contracts.default.json`` when present, else the
    built-in defaults; ``strategy`` None means the contract's."""

    symbol: str
    interval: str
    market: str = "binance"
    data_dir: Path = Path("data")
    config: Path | None = None
    strategy: str | None = None
    start: date | None = None
    end: date | None = None


def contract_for(request: ScanRequest) -> ContractConfig:
    """The symbol's contract from the configuration, its timeframe set to the requested interval."""
    path = config_file(request.config)
    contract = load_configured(path).for_symbol(request.symbol)
    higher = contract.higher_timeframe
    if higher is not None:
        base, top = interval_seconds(request.interval), interval_seconds(higher)
        if top <= base or top % base:
            raise ConfigError(f"{request.symbol}.higher_timeframe {higher} (from {path}) is not a longer "
                              f"multiple of --interval {request.interval}; pick a shorter interval or "
                              "change the configuration")
    return dataclasses.replace(contract, timeframe=request.interval,
                               strategy=request.strategy or contract.strategy)


def scan_table(bars: Bars, contract: ContractConfig, *, market: str, strategy: str | None = None,
               ) -> pd.DataFrame:
    """The scan table of ``bars`` (see the module docstring)."""
    chosen = create_strategy(strategy or contract.strategy, contract, symbol=contract.symbol, market=market)
    index = pd.DatetimeIndex(bars.time.astype("datetime64[ns]")).tz_localize("UTC")
    columns: dict[str, object] = {
        "time": index.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close, "volume": bars.volume,
    }
    values = scan(bars, ALL_PATTERNS)
    columns.update(values)
    for name, column in confidence(bars, values, contract.confidence).items():
        columns[f"{name}_confidence"] = column
    columns.update(chosen.columns(bars))  # type: ignore[attr-defined]
    table = pd.DataFrame(columns)
    signal_columns: dict[str, list[object]] = {name: [None] * len(bars) for name in SIGNAL_COLUMNS}
    rows = {int(t): i for i, t in enumerate(bars.time.tolist())}
    for signal in chosen.signals(bars):
        i = rows[signal.time]
        for name, value in (("direction", signal.direction.label), ("entry", signal.entry),
                            ("stop", signal.stop), ("target", signal.target), ("score", signal.score),
                            ("risk_reward", signal.risk_reward), ("reason", signal.reason)):
            signal_columns[name][i] = value
    for name in SIGNAL_COLUMNS:
        dtype = object if name in ("direction", "reason") else np.float64
        table[name] = pd.Series(signal_columns[name], dtype=dtype)
    return table


def write_table(table: pd.DataFrame, out: Path, fmt: str) -> None:
    """Write the table as CSV (empty cells for missing values) or a JSON array of row objects (null)."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: use csv or json")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {out}: the folder {out.parent} does not exist")
    try:
        if fmt == "csv":
            table.to_csv(out, index=False, float_format="%.10g")
        else:
            table.to_json(out, orient="records", double_precision=15)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot write ({exc.strerror})") from None


def run_scan(request: ScanRequest) -> pd.DataFrame:
    """Load the bars, build the contract and the table."""
    contract = contract_for(request)
    bars = load_bars(request.data_dir, request.market, request.symbol, request.interval,
                     request.start, request.end)
    return scan_table(bars, contract, market=request.market, strategy=request.strategy)
