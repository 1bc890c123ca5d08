"""Reading Lean's local trade-bar files (the ``data/`` folder of a Lean CLI root).

Layout (security type / market / resolution / symbol, lower case):

* minute: ``crypto/binance/minute/btcusdt/YYYYMMDD_trade.zip`` holding
  ``YYYYMMDD_btcusdt_minute_trade.csv``; equity ``equity/usa/minute/spy/YYYYMMDD_trade.zip`` holding
  ``YYYYMMDD_spy_minute_trade.csv``. The first column is milliseconds since midnight of the file's
  date, in the market's data time zone.
* hour / daily: ``crypto/binance/hour/btcusdt_trade.zip`` holding ``btcusdt.csv``; equity
  ``equity/usa/daily/spy.zip`` holding ``spy.csv``. The first column is ``YYYYMMDD HH:mm``.

No header; columns ``time,open,high,low,close,volume``; the time is the bar **start**. Crypto is in
UTC with plain decimal prices; US equities are in America/New_York with prices in deci-cents
(x10000), converted to dollars here. Times come back as UTC nanoseconds.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from alphapulse.bars import Bars
from alphapulse.errors import DataError, NoDataError

RESOLUTIONS = ("minute", "hour", "daily")
RESOLUTION_SECONDS = {"minute": 60, "hour": 3600, "daily": 86400}
#: the market a security type is traded on when none is given
SECURITY_TYPES = ("crypto", "equity")
EQUITY_MARKET = "usa"
EQUITY_PRICE_SCALE = 10_000
EQUITY_TIME_ZONE = "America/New_York"


def security_type_of(market: str) -> str:
    """``equity`` for the ``usa`` market, ``crypto`` for exchanges (binance, coinbase, ...)."""
    return "equity" if market == EQUITY_MARKET else "crypto"


def data_time_zone(market: str) -> str:
    """The time zone Lean stores the market's bars in."""
    return EQUITY_TIME_ZONE if market == EQUITY_MARKET else "UTC"


@dataclass(frozen=True)
class TradeFile:
    """Where one Lean trade-bar file lives and what it holds."""

    path: Path
    member: str
    market: str
    symbol: str
    resolution: str
    day: date | None = None

    @property
    def security_type(self) -> str:
        return security_type_of(self.market)


def trade_file(data_dir: str | Path, market: str, symbol: str, resolution: str,
               day: date | None = None) -> TradeFile:
    """The :class:`TradeFile` of a symbol (``day`` is required for minute files)."""
    if resolution not in RESOLUTIONS:
        raise DataError(f"unknown resolution {resolution!r}: use one of {', '.join(RESOLUTIONS)}")
    sym = symbol.lower()
    kind = security_type_of(market)
    folder = Path(data_dir) / kind / market.lower() / resolution
    if resolution == "minute":
        if day is None:
            raise DataError("minute files are per day: a day is required")
        stamp = day.strftime("%Y%m%d")
        return TradeFile(folder / sym / f"{stamp}_trade.zip", f"{stamp}_{sym}_minute_trade.csv",
                         market, symbol.upper(), resolution, day)
    name = f"{sym}.zip" if kind == "equity" else f"{sym}_trade.zip"
    return TradeFile(folder / name, f"{sym}.csv", market, symbol.upper(), resolution)


def minute_days(data_dir: str | Path, market: str, symbol: str) -> list[date]:
    """The days for which minute files of a symbol exist, sorted."""
    folder = trade_file(data_dir, market, symbol, "minute", date(2000, 1, 1)).path.parent
    days = []
    for path in folder.glob("*_trade.zip"):
        try:
            days.append(datetime.strptime(path.name[:8], "%Y%m%d").date())
        except ValueError:
            continue
    return sorted(days)


def read_csv_text(file: TradeFile) -> str:
    """The CSV text inside a trade zip (a :class:`DataError` names a missing or corrupt file)."""
    if not file.path.exists():
        raise NoDataError(f"{file.path}: no such file; download or convert data for {file.symbol} first "
                          "(alphapulse data download --help)")
    try:
        with zipfile.ZipFile(file.path) as archive:
            names = archive.namelist()
            member = file.member if file.member in names else (names[0] if len(names) == 1 else None)
            if member is None:
                raise DataError(f"{file.path}: expected one CSV ({file.member}), found {names}")
            return archive.read(member).decode("ascii")
    except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{file.path}: corrupt archive ({exc}); delete it and download again") from exc


def parse_rows(file: TradeFile, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse CSV text into (UTC ns times, float64 OHLCV rows x 5), checking the shape of every row."""
    import pandas as pd

    if not text.strip():
        return np.empty(0, dtype=np.int64), np.empty((0, 5))
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                            engine="c")
    except Exception as exc:  # pandas raises several types for ragged rows
        raise DataError(f"{file.path}: unreadable CSV ({exc}); expected time,open,high,low,close,volume") from exc
    if frame.shape[1] != 6:
        raise DataError(f"{file.path}: {frame.shape[1]} columns, expected 6 (time,open,high,low,close,volume)")
    values = frame.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    bad = np.isnan(values).any(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{file.path}: row {row + 1} has a non-numeric field: {','.join(frame.iloc[row])}")
    stamps = frame.iloc[:, 0]
    zone = data_time_zone(file.market)
    if file.resolution == "minute":
        ms = pd.to_numeric(stamps, errors="coerce")
        if ms.isna().any():
            row = int(np.argmax(ms.isna().to_numpy()))
            raise DataError(f"{file.path}: row {row + 1}: time {stamps.iloc[row]!r} is not milliseconds")
        assert file.day is not None
        local = pd.Timestamp(file.day) + pd.to_timedelta(ms.to_numpy(dtype=np.int64), unit="ms")
    else:
        local = pd.to_datetime(stamps, format="%Y%m%d %H:%M", errors="coerce")
        if local.isna().any():
            row = int(np.argmax(local.isna().to_numpy()))
            raise DataError(f"{file.path}: row {row + 1}: time {stamps.iloc[row]!r} is not 'YYYYMMDD HH:mm'")
    index = pd.DatetimeIndex(local)
    if zone != "UTC":
        index = index.tz_localize(zone, ambiguous="raise", nonexistent="raise")
    else:
        index = index.tz_localize("UTC")
    times = index.tz_convert("UTC").as_unit("ns").asi8
    if file.security_type == "equity":
        values[:, :4] /= EQUITY_PRICE_SCALE
    return times, values


def read_trade_file(file: TradeFile) -> Bars:
    """All bars of one trade file, validated (a :class:`DataError` names the file and row)."""
    times, values = parse_rows(file, read_csv_text(file))
    return Bars(times, *values.T, period=RESOLUTION_SECONDS[file.resolution], symbol=str(file.path))


def read_trade_bars(data_dir: str | Path, market: str, symbol: str, resolution: str,
                    start: date | None = None, end: date | None = None) -> Bars:
    """Trade bars of ``symbol`` at ``resolution`` whose start lies in ``[start, end]`` (dates, UTC
    for crypto, exchange dates for equities), from the Lean data folder ``data_dir``.

    Raises :class:`NoDataError` when nothing exists for the symbol or range.
    """
    import pandas as pd

    label = f"{market}:{symbol.upper()} {resolution}"
    if resolution == "minute":
        days = [d for d in minute_days(data_dir, market, symbol)
                if (start is None or d >= start) and (end is None or d <= end)]
        if not days:
            raise NoDataError(f"no minute data for {label} in {data_dir} between {start} and {end}; "
                              "run `alphapulse data download` or check --data-dir")
        parts = [parse_rows(f, read_csv_text(f))
                 for f in (trade_file(data_dir, market, symbol, "minute", d) for d in days)]
        times = np.concatenate([p[0] for p in parts])
        values = np.concatenate([p[1] for p in parts])
    else:
        file = trade_file(data_dir, market, symbol, resolution)
        times, values = parse_rows(file, read_csv_text(file))
        zone = data_time_zone(market)
        if start is not None or end is not None:
            local = pd.DatetimeIndex(times.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(zone)
            local_days = local.normalize().tz_localize(None)
            keep = np.ones(len(times), dtype=bool)
            if start is not None:
                keep &= local_days >= pd.Timestamp(start)
            if end is not None:
                keep &= local_days <= pd.Timestamp(end)
            times, values = times[keep], values[keep]
    if len(times) == 0:
        raise NoDataError(f"no {label} bars in {data_dir} between {start} and {end}")
    return Bars(times, *values.T, period=RESOLUTION_SECONDS[resolution], symbol=symbol.upper())


def date_range(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
