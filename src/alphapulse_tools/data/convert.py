"""Converting Binance kline files (archives or CSV) into Lean trade files, and building coarser
Lean resolutions from finer ones already in the data folder (e.g. hour bars from minute bars).

Every input file is read and checked before anything is written, so a bad file leaves the data
folder as it was. Conversion stores Lean-native resolutions only (1m, 1h, 1d klines): Lean's minute
files cannot hold 5-minute bars; download 1m klines and let the runner consolidate them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from alphapulse.bars import Bars, format_time
from alphapulse.errors import ConfigError, DataError
from alphapulse.intervals import interval_name, interval_seconds, lean_resolution
from alphapulse.lean_data import RESOLUTION_SECONDS, read_trade_bars, security_type_of, write_trade_bars
from alphapulse_tools.data.download import MARKET, check_symbol
from alphapulse_tools.data.klines import read_kline_archive
from alphapulse_tools.data.series import aggregate_bars, concat_bars
from alphapulse_tools.data.symbols import (
    SymbolProperties,
    default_properties,
    ensure_market_hours,
    ensure_symbol_properties,
)

NATIVE_INTERVALS = {"1m": "minute", "1h": "hour", "1d": "daily"}


@dataclass
class ConvertSummary:
    """What a conversion wrote."""

    symbol: str
    resolution: str
    inputs: list[str] = field(default_factory=list)
    bars_written: int = 0
    files_written: int = 0
    first: str | None = None
    last: str | None = None
    properties_added: bool = False
    market_hours_added: bool = False

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def native_resolution(interval: str) -> str:
    """The Lean resolution of a 1m/1h/1d interval; a :class:`ConfigError` for any other."""
    interval_seconds(interval)
    if interval not in NATIVE_INTERVALS:
        raise ConfigError(f"cannot store {interval} bars in Lean files: convert 1m, 1h or 1d klines "
                          f"({interval} bars are consolidated from {lean_resolution(interval)} data by "
                          "the runner)")
    return NATIVE_INTERVALS[interval]


def _checked_klines(path: Path, period: int) -> Bars:
    bars = read_kline_archive(path, period)
    period_ns = period * 10**9
    off_grid = np.flatnonzero(bars.time % period_ns)
    if len(off_grid):
        row = int(off_grid[0])
        raise DataError(f"{path}: row {row + 1}: open time {format_time(int(bars.time[row]))} is not on the "
                        f"{interval_name(period)} grid; is --interval right?")
    return bars


def _finish(summary: ConvertSummary, data_dir: Path, market: str, bars: Bars, resolution: str,
            properties: SymbolProperties | None) -> ConvertSummary:
    files = write_trade_bars(data_dir, market, summary.symbol, resolution, bars)
    summary.files_written = len(files)
    summary.bars_written = len(bars)
    if len(bars):
        summary.first, summary.last = format_time(int(bars.time[0])), format_time(int(bars.time[-1]))
    if properties is not None:
        summary.properties_added = ensure_symbol_properties(data_dir, properties)
        summary.market_hours_added = ensure_market_hours(data_dir, market)
    return summary


def convert_klines(paths: list[str | Path], symbol: str, interval: str, data_dir: str | Path, *,
                   market: str = MARKET, properties: SymbolProperties | None = None) -> ConvertSummary:
    """Write the klines of ``paths`` (Binance archives or CSV files, ms or µs times) as Lean files
    of ``symbol`` at the resolution of ``interval`` (1m, 1h or 1d) under ``data_dir``.

    Bars already on disk at other times are kept; where files overlap, later files win. For a
    crypto market the symbol-properties row (``properties``, else :func:`default_properties`) and
    the market-hours entry are added when missing. Raises :class:`DataError` naming the file and
    row of the first bad input, before anything is written.
    """
    symbol = check_symbol(symbol)
    resolution = native_resolution(interval)
    if not paths:
        raise ConfigError("no input files: name Binance kline archives (.zip) or CSV files to convert")
    properties = properties or default_properties(symbol, market)
    period = RESOLUTION_SECONDS[resolution]
    parts = [_checked_klines(Path(p), period) for p in paths]
    bars = concat_bars(parts, period=period, symbol=symbol)
    summary = ConvertSummary(symbol, resolution, inputs=[str(p) for p in paths])
    return _finish(summary, Path(data_dir), market, bars, resolution, properties)


def aggregate_from_finer(symbol: str, interval: str, data_dir: str | Path, *, market: str = MARKET,
                         source: str = "minute", start: date | None = None,
                         end: date | None = None) -> ConvertSummary:
    """Build ``interval`` (1h or 1d) Lean bars of ``symbol`` from its ``source`` (minute or hour)
    Lean files in ``[start, end]``: first open, highest high, lowest low, last close, summed
    volume per UTC hour/day. A bucket without any finer bar produces no bar."""
    resolution = native_resolution(interval)
    if RESOLUTION_SECONDS[source] >= RESOLUTION_SECONDS[resolution]:
        raise ConfigError(f"cannot build {resolution} bars from {source} bars: the source must be finer")
    if security_type_of(market) != "crypto":
        raise ConfigError(f"aggregation works on UTC days for 24/7 crypto markets, not {market!r}")
    finer = read_trade_bars(data_dir, market, symbol, source, start, end)
    bars = aggregate_bars(finer, RESOLUTION_SECONDS[resolution])
    summary = ConvertSummary(symbol.upper(), resolution, inputs=[f"{market}:{symbol.upper()} {source}"])
    return _finish(summary, Path(data_dir), market, bars, resolution, None)
