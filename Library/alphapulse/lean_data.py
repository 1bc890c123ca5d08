"""Reading and writing Lean's local trade-bar files (the ``data/`` folder of a Lean CLI root).

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

Reading is one pass: Lean's one-file zips are inflated straight from their bytes, and the minute
files of a read are parsed together with one ``pandas.read_csv`` call (numbers parsed exactly);
any file that is not well formed is then parsed alone, which names the bad row.

Parsed-file cache (opt-in, ``read_trade_bars(..., cache=True)``): the parsed rows of each zip are
kept under ``<data_dir>/.cache/bars/`` and used while the zip is unchanged (see
:mod:`alphapulse.parsed_cache`).

Writing is the exact inverse: numbers are written in their shortest decimal form without an
exponent (``8870``, ``0.05655554``; equities as integer deci-cents), minute times as milliseconds
since the file's local midnight, and each zip is replaced atomically (temp file + ``os.replace``),
so a crash never leaves a half-written file.
"""

from __future__ import annotations

import io
import os
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from alphapulse import parsed_cache
from alphapulse.bars import Bars, format_time
from alphapulse.errors import DataError, NoDataError
from alphapulse.lean_zip import single_member
from alphapulse.parsed_cache import CACHE_FOLDER as CACHE_FOLDER

RESOLUTIONS = ("minute", "hour", "daily")
RESOLUTION_SECONDS = {"minute": 60, "hour": 3600, "daily": 86400}
#: the market a security type is traded on when none is given
SECURITY_TYPES = ("crypto", "equity")
EQUITY_MARKET = "usa"
EQUITY_PRICE_SCALE = 10_000
EQUITY_TIME_ZONE = "America/New_York"
_NS_PER_MS = 1_000_000
_NS_PER_DAY = 86_400 * 1_000_000_000


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
        stamp = path.name[:8]
        if len(stamp) == 8 and stamp.isascii() and stamp.isdigit():  # YYYYMMDD, as strptime reads it
            try:
                days.append(date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:])))
            except ValueError:
                continue
    return sorted(days)


def _minute_files(data_dir: str | Path, market: str, symbol: str, days: list[date]) -> list[TradeFile]:
    """``trade_file(data_dir, market, symbol, "minute", day)`` of each day."""
    if not days:
        return []
    folder = trade_file(data_dir, market, symbol, "minute", days[0]).path.parent
    sym, upper = symbol.lower(), symbol.upper()
    files = []
    for day in days:
        stamp = day.strftime("%Y%m%d")
        files.append(TradeFile(folder / f"{stamp}_trade.zip", f"{stamp}_{sym}_minute_trade.csv", market,
                               upper, "minute", day))
    return files


def read_csv_bytes(file: TradeFile) -> bytes:
    """The CSV inside a trade zip as ASCII bytes (a :class:`DataError` names a missing or corrupt
    file). Lean's plain one-file zips are inflated straight from their bytes (size and CRC-32
    checked, :func:`alphapulse.lean_zip.single_member`); any other archive goes through
    :mod:`zipfile`."""
    try:
        with open(file.path, "rb") as handle:
            data = single_member(handle.read())
    except OSError:
        data = None
    if data is None:
        data = _zip_member(file)
    if not data.isascii():
        try:
            data.decode("ascii")
        except UnicodeDecodeError as exc:
            raise DataError(f"{file.path}: corrupt archive ({exc}); delete it and download again") from exc
    return data


def read_csv_text(file: TradeFile) -> str:
    """The CSV text inside a trade zip (a :class:`DataError` names a missing or corrupt file)."""
    return read_csv_bytes(file).decode("ascii")


def _zip_member(file: TradeFile) -> bytes:
    """The CSV member of a trade zip read with :mod:`zipfile` (any valid archive; the errors name
    what is wrong)."""
    if not file.path.exists():
        raise NoDataError(f"{file.path}: no such file; download or convert data for {file.symbol} first "
                          "(alphapulse data download --help)")
    try:
        with zipfile.ZipFile(file.path) as archive:
            names = archive.namelist()
            member = file.member if file.member in names else (names[0] if len(names) == 1 else None)
            if member is None:
                raise DataError(f"{file.path}: expected one CSV ({file.member}), found {names}")
            return archive.read(member)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise DataError(f"{file.path}: corrupt archive ({exc}); delete it and download again") from exc


def exact_float_parsing() -> dict[str, Any]:
    """``pandas.read_csv`` options that parse every decimal to the nearest double (pandas 3.1 does
    by default and deprecates the option; earlier versions need ``float_precision="round_trip"``)."""
    import pandas as pd

    major, minor = (int(part) for part in pd.__version__.split(".")[:2])
    return {"float_precision": "round_trip"} if (major, minor) < (3, 1) else {}


#: parsed rows of one file: (UTC ns times, float64 columns open, high, low, close, volume x rows)
_Rows = parsed_cache.Rows


def parse_rows(file: TradeFile, text: str | bytes) -> tuple[np.ndarray, np.ndarray]:
    """Parse CSV text (or its ASCII bytes) into (UTC ns times, float64 OHLCV rows x 5), checking the
    shape of every row."""
    times, columns = _parse_file(file, text)
    return times, columns.T


def _parse_file(file: TradeFile, text: str | bytes) -> _Rows:
    """:func:`parse_rows` with the values as columns (5 x rows)."""
    import pandas as pd

    data = text.encode() if isinstance(text, str) else text
    if not data or data.isspace():
        return np.empty(0, dtype=np.int64), np.empty((5, 0))
    minute = file.resolution == "minute"
    table = _well_formed_table(data, minute) if _first_line_fields(data) == 6 else None
    if table is not None and not minute and _commas(data) != 5 * table[1].shape[1]:
        table = None  # a row with more than six fields (only the first is checked when read)
    if table is not None and minute:
        ms, columns = table
        assert ms is not None
        return _minute_times(file, ms), _scaled(file, columns)
    columns = table[1] if table is not None else None
    if columns is not None:
        local = _hour_times(data, columns.shape[1])
        if local is not None:
            return _utc_times(file.market, local), _scaled(file, columns)
    text = text if isinstance(text, str) else text.decode("ascii", errors="replace")
    if columns is None:  # a malformed row: the slow path below names it
        columns = _checked_values(file, text).T
    frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False, engine="c")
    stamps = frame.iloc[:, 0].astype(str)
    if minute:
        ms = np.asarray(pd.to_numeric(stamps, errors="coerce"), dtype=np.float64)
        bad = ~np.isfinite(ms) | (ms != np.round(ms)) | (ms < 0) | (ms >= 86_400_000)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(f"{file.path}: row {row + 1}: time {stamps.iloc[row]!r} is not milliseconds "
                            "since midnight (0 to 86399999)")
        assert file.day is not None
        midnight = int(np.datetime64(file.day, "ns").astype(np.int64))
        local = midnight + ms.astype(np.int64) * _NS_PER_MS
    else:
        parsed = pd.DatetimeIndex(pd.to_datetime(stamps, format="%Y%m%d %H:%M", errors="coerce"))
        bad = np.asarray(parsed.isna())
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(f"{file.path}: row {row + 1}: time {stamps.iloc[row]!r} is not 'YYYYMMDD HH:mm'")
        outside = np.asarray((parsed.year < 1678) | (parsed.year > 2261))
        if outside.any():
            row = int(np.argmax(outside))
            raise DataError(f"{file.path}: row {row + 1}: time {stamps.iloc[row]!r} is outside the years "
                            "1678 to 2261 that bar times can hold")
        local = parsed.as_unit("ns").asi8
    return _utc_times(file.market, local), _scaled(file, columns)


def _scaled(file: TradeFile, columns: np.ndarray) -> np.ndarray:
    """Equity prices from deci-cents to dollars (in place when the columns are writable)."""
    if file.security_type == "equity":
        if not columns.flags.writeable:
            columns = columns.copy()
        columns[:4] /= EQUITY_PRICE_SCALE
    return columns


def _midnight(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * _NS_PER_DAY


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _minute_times(file: TradeFile, ms: np.ndarray) -> np.ndarray:
    """UTC ns times of a minute file's checked milliseconds since its local midnight."""
    assert file.day is not None
    return _utc_times(file.market, _midnight(file.day) + ms * _NS_PER_MS)


def _commas(data: bytes) -> int:
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == ord(",")))


def _first_line_fields(data: bytes) -> int:
    end = data.find(b"\n")
    return (data[:end] if end >= 0 else data).count(b",") + 1


def _well_formed_table(source: bytes | io.RawIOBase, minute: bool) -> tuple[np.ndarray | None, np.ndarray] | None:
    """The fast path of :func:`parse_rows`: (first column, float64 columns 5 x rows) of CSV bytes
    whose first line has six fields and every other line six fields and five numbers, parsed
    exactly (round-trip precision); the first column is the checked milliseconds (int64) for
    minute files, else None (not read: see :func:`_hour_times`). None when any row is not well
    formed (the slow path then names it). Hour and daily files: fields past the sixth are
    dropped, the caller checks the count of commas."""
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pd.read_csv(io.BytesIO(source) if isinstance(source, bytes) else source, header=None,
                                names=range(6), index_col=False, keep_default_na=False, na_filter=False,
                                usecols=None if minute else range(1, 6), on_bad_lines="error",
                                dtype={0: np.int64 if minute else str, 1: np.float64, 2: np.float64,
                                       3: np.float64, 4: np.float64, 5: np.float64},
                                engine="c", **exact_float_parsing())
        columns = np.empty((5, len(frame)))
        for k in range(5):  # column by column: no interleaving copy of the frame's blocks
            columns[k] = frame[k + 1].to_numpy(dtype=np.float64)
        if np.isnan(columns).any():
            return None
        if not minute:
            return None, columns
        ms = frame.iloc[:, 0].to_numpy(dtype=np.int64)
        if ((ms < 0) | (ms >= 86_400_000)).any():
            return None
        return ms, columns
    except Exception:  # pandas raises several types for malformed rows
        return None


_DIGITS = np.array([0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 13])  # digit places of 'YYYYMMDD HH:mm'
_NS_PER_MINUTE = 60 * 1_000_000_000


def _hour_times(text: str | bytes, rows: int) -> np.ndarray | None:
    """Naive ns times of the ``rows`` lines of an hour/daily file when every line starts with a
    valid ``YYYYMMDD HH:mm`` followed by a comma (read straight from the bytes), else None (the
    caller then parses the column with pandas, which names a bad row)."""
    data = np.frombuffer(text.encode("ascii") if isinstance(text, str) else text, dtype=np.uint8)
    starts = np.concatenate([np.zeros(1, dtype=np.int64), np.flatnonzero(data == ord("\n")) + 1])
    if starts[-1] == len(data):  # a final line end
        starts = starts[:-1]
    if len(starts) != rows or rows == 0 or starts[-1] + 15 > len(data):
        return None
    heads = np.lib.stride_tricks.sliding_window_view(data, 15)[starts]  # the first 15 bytes of each line
    if not ((heads[:, 8] == ord(" ")) & (heads[:, 11] == ord(":")) & (heads[:, 14] == ord(","))).all():
        return None
    digits = heads[:, _DIGITS] - np.uint8(ord("0"))  # a byte that is not a digit wraps to over 9
    if (digits > 9).any():
        return None
    d = digits.astype(np.int32).T
    year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]
    month, day = d[4] * 10 + d[5], d[6] * 10 + d[7]
    hour, minute = d[8] * 10 + d[9], d[10] * 10 + d[11]
    if ((year < _FIRST_YEAR) | (year > _LAST_YEAR) | (month < 1) | (month > 12) | (hour > 23) | (minute > 59)
            | (day < 1)).any():
        return None
    year_index, month_index = year - _FIRST_YEAR, month - 1
    leap_day = _LEAP[year_index] & (month > 2)
    if (day > _MONTH_DAYS[month_index] + (_LEAP[year_index] & (month == 2))).any():
        return None
    days = _YEAR_STARTS[year_index] + (_DAYS_BEFORE_MONTH[month_index] + leap_day + day - 1)
    return days * _NS_PER_DAY + (hour * 60 + minute).astype(np.int64) * _NS_PER_MINUTE


_FIRST_YEAR, _LAST_YEAR = 1678, 2261  # the whole years that ns bar times can hold
#: days since 1970-01-01 of each January 1st from _FIRST_YEAR to _LAST_YEAR + 1, and leap years
_YEAR_STARTS = (np.arange(_FIRST_YEAR, _LAST_YEAR + 2) - 1970).astype("datetime64[Y]").astype(
    "datetime64[D]").astype(np.int64)
_LEAP = np.diff(_YEAR_STARTS) == 366
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
_DAYS_BEFORE_MONTH = np.concatenate([[0], np.cumsum(_MONTH_DAYS)[:-1]]).astype(np.int32)


class _Joined(io.RawIOBase):
    """Several CSV files read as one stream, a line end added after each one that lacks one."""

    def __init__(self, parts: list[bytes]) -> None:
        super().__init__()
        self._parts = (piece for part in parts for piece in (part, b"" if part.endswith(b"\n") else b"\n"))
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not len(self._pending):
            part = next(self._parts, None)
            if part is None:
                return 0
            self._pending = memoryview(part)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


_SPACE_FIRST = frozenset(b" \t\n\r\x0b\x0c")  # first bytes that send a file to the file-by-file path


def _minute_batch(files: list[TradeFile], datas: list[bytes]) -> tuple[list[int], list[int], _Rows] | None:
    """The minute files among ``files`` whose first line has six fields (no ``\\r``), parsed
    together in one pass: (their indices, their row counts, their rows one after the other). None
    when fewer than two files qualify or the pass finds a malformed row (each file is then parsed
    alone, which names it)."""
    batch: list[int] = []
    counts: list[int] = []
    for k, data in enumerate(datas):
        if not data or data[0] in _SPACE_FIRST or b"\r" in data or _first_line_fields(data) != 6:
            continue
        batch.append(k)
        counts.append(data.count(b"\n") + (data[-1] != ord("\n")))
    if len(batch) < 2:
        return None
    table = _well_formed_table(_Joined([datas[k] for k in batch]), True)
    ms, columns = table if table is not None else (None, None)
    if ms is None or columns is None or len(ms) != sum(counts):
        return None  # e.g. a blank line (skipped by the pass): the counts no longer match
    chosen = [files[k] for k in batch]
    assert all(file.day is not None for file in chosen)
    midnights = np.array([_midnight(file.day) for file in chosen], dtype=np.int64)  # type: ignore[arg-type]
    local = np.repeat(midnights, counts) + ms * _NS_PER_MS
    bounds = np.cumsum([0, *counts]).tolist()
    markets = {file.market for file in chosen}
    if len(markets) == 1:
        times = _utc_times(chosen[0].market, local)
    else:
        times = np.concatenate([_utc_times(file.market, local[a:b])
                                for file, a, b in zip(chosen, bounds, bounds[1:], strict=False)])
    if all(file.security_type == "equity" for file in chosen):
        columns = _scaled(chosen[0], columns)
    else:
        for file, a, b in zip(chosen, bounds, bounds[1:], strict=False):
            if file.security_type == "equity":
                columns[:4, a:b] /= EQUITY_PRICE_SCALE
    return batch, counts, (times, columns)


def _parse_files(files: list[TradeFile], datas: list[bytes]) -> tuple[list[_Rows], _Rows | None]:
    """The parsed rows of each file, and all of them one after the other when one pass gave them
    (else None); minute files are parsed together (:func:`_minute_batch`)."""
    parts: list[_Rows | None] = [None] * len(files)
    whole = None
    batch = _minute_batch(files, datas) if all(file.resolution == "minute" for file in files) else None
    if batch is not None:
        indices, counts, (times, columns) = batch
        begin = 0
        for k, count in zip(indices, counts, strict=True):
            parts[k] = (times[begin:begin + count], columns[:, begin:begin + count])
            begin += count
        if len(indices) == len(files):
            whole = (times, columns)
    done = [part if part is not None else _parse_file(file, data)
            for part, file, data in zip(parts, files, datas, strict=True)]
    return done, whole


def parse_minute_files(files: list[TradeFile], texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`parse_rows` of each minute file's text, the same arrays; the texts of well-formed
    files are parsed together in one pass (much faster than file by file), any other file alone."""
    parts, _ = _parse_files(files, [text.encode() for text in texts])
    return [(times, columns.T) for times, columns in parts]


def _checked_values(file: TradeFile, text: str) -> np.ndarray:
    """OHLCV values of CSV text read field by field, naming the first malformed row."""
    import pandas as pd

    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                            engine="c")
    except Exception as exc:  # pandas raises several types for ragged rows
        raise DataError(f"{file.path}: unreadable CSV ({exc}); "
                        "expected time,open,high,low,close,volume") from exc
    if frame.shape[1] != 6:
        raise DataError(f"{file.path}: {frame.shape[1]} columns, "
                        "expected 6 (time,open,high,low,close,volume)")
    values = frame.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    bad = np.isnan(values).any(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{file.path}: row {row + 1} has a non-numeric field: {','.join(frame.iloc[row])}")
    return values


def read_trade_file(file: TradeFile) -> Bars:
    """All bars of one trade file, validated (a :class:`DataError` names the file and row)."""
    times, columns = _parse_file(file, read_csv_bytes(file))
    return Bars(times, *columns, period=RESOLUTION_SECONDS[file.resolution], symbol=str(file.path))


def cache_path(data_dir: str | Path, file: TradeFile) -> Path:
    """The parsed-file cache file that holds the rows of ``file`` (a file of ``data_dir``): one per
    folder of minute files, one per hour or daily file."""
    return parsed_cache.cache_path(data_dir, file.path, per_folder=file.resolution == "minute")


def _read_files(data_dir: Path, files: list[TradeFile], cache: bool) -> tuple[list[_Rows], _Rows | None]:
    """The rows of each file (from the parsed-file cache when ``cache`` and it holds them), and all
    of them one after the other when one cache read or one parse gave them (else None)."""
    found: list[_Rows | None] = [None] * len(files)
    whole: _Rows | None = None
    groups: dict[Path, list[int]] = {}
    keys: list[parsed_cache.ZipKey | None] = [None] * len(files)
    if cache:
        folders: dict[Path, Path] = {}
        for k, file in enumerate(files):
            if file.resolution == "minute":
                if file.path.parent not in folders:
                    folders[file.path.parent] = cache_path(data_dir, file)
                where = folders[file.path.parent]
            else:
                where = cache_path(data_dir, file)
            groups.setdefault(where, []).append(k)
            keys[k] = parsed_cache.zip_key(file.path)
        if (data_dir / CACHE_FOLDER).is_dir():
            for where, members in groups.items():
                hits, together = parsed_cache.load(where, [files[k].path for k in members],
                                                   [keys[k] for k in members])
                for k, rows in zip(members, hits, strict=True):
                    found[k] = rows
                if len(members) == len(files):
                    whole = together
    missing = [k for k, rows in enumerate(found) if rows is None]
    if not missing:
        return [rows for rows in found if rows is not None], whole
    todo = [files[k] for k in missing]
    parsed, parsed_whole = _parse_files(todo, [read_csv_bytes(file) for file in todo])
    for k, rows in zip(missing, parsed, strict=True):
        found[k] = rows
    done = [rows for rows in found if rows is not None]
    if len(missing) < len(files):
        parsed_whole = None
    changed = set(missing)
    for where, members in groups.items():
        if changed.intersection(members):
            parsed_cache.store(data_dir, where, [files[k].path for k in members], [keys[k] for k in members],
                               [done[k] for k in members], parsed_whole if len(members) == len(files) else None)
    return done, parsed_whole


def read_rows(data_dir: str | Path, files: list[TradeFile], *, cache: bool = False,
              ) -> list[tuple[np.ndarray, np.ndarray]]:
    """``parse_rows(file, read_csv_text(file))`` of each file of ``data_dir`` (the same values, bit
    for bit); minute files are parsed together (:func:`parse_minute_files`). With ``cache`` the
    parsed-file cache is read first and kept up to date (see :mod:`alphapulse.parsed_cache`)."""
    parts, _ = _read_files(Path(data_dir), files, cache)
    return [(times, columns.T) for times, columns in parts]


def _local_days(market: str, times: np.ndarray) -> np.ndarray:
    """The day (days since 1970-01-01) in the market's data time zone of each UTC ns time."""
    return _local_times(market, times) // _NS_PER_DAY


def read_trade_bars(data_dir: str | Path, market: str, symbol: str, resolution: str,
                    start: date | None = None, end: date | None = None, *, cache: bool = False) -> Bars:
    """Trade bars of ``symbol`` at ``resolution`` whose start lies in ``[start, end]`` (dates, UTC
    for crypto, exchange dates for equities), from the Lean data folder ``data_dir``.

    ``cache``: read and keep the parsed files in the data folder's parsed-file cache (see
    :mod:`alphapulse.parsed_cache`); the bars are the same either way.
    Raises :class:`NoDataError` when nothing exists for the symbol or range.
    """
    label = f"{market}:{symbol.upper()} {resolution}"
    if resolution == "minute":
        days = [d for d in minute_days(data_dir, market, symbol)
                if (start is None or d >= start) and (end is None or d <= end)]
        if not days:
            raise NoDataError(f"no minute data for {label} in {data_dir} between {start} and {end}; "
                              "run `alphapulse data download` or check --data-dir")
        parts, whole = _read_files(Path(data_dir), _minute_files(data_dir, market, symbol, days), cache)
        if whole is not None:
            times, columns = whole
        elif len(parts) == 1:
            times, columns = parts[0]
        else:
            times = np.concatenate([p[0] for p in parts])
            columns = np.concatenate([p[1] for p in parts], axis=1)
    else:
        file = trade_file(data_dir, market, symbol, resolution)
        times, columns = _read_files(Path(data_dir), [file], cache)[0][0]
        if start is not None or end is not None:
            days = _local_days(market, times)
            keep = np.ones(len(times), dtype=bool)
            if start is not None:
                keep &= days >= start.toordinal() - _EPOCH_ORDINAL
            if end is not None:
                keep &= days <= end.toordinal() - _EPOCH_ORDINAL
            if not keep.all():
                times, columns = times[keep], columns[:, keep]
    if len(times) == 0:
        raise NoDataError(f"no {label} bars in {data_dir} between {start} and {end}")
    return Bars(times, *columns, period=RESOLUTION_SECONDS[resolution], symbol=symbol.upper())


def date_range(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# -- writing ------------------------------------------------------------------------------------


def decimal_texts(column: np.ndarray) -> list[str]:
    """Each value as its shortest round-trip decimal text without exponent or trailing ``.0``.

    ``8870.0`` -> ``8870``, ``0.05655554`` -> ``0.05655554``, ``1e-05`` -> ``0.00001``. Values must be
    finite (the caller checks).
    """
    texts = [t[:-2] if t.endswith(".0") else t for t in map(repr, column.tolist())]
    size = np.abs(column)
    for i in np.flatnonzero((size >= 1e16) | ((size < 1e-4) & (size > 0))).tolist():
        texts[i] = np.format_float_positional(float(column[i]), trim="-")  # repr would use an exponent
    return texts


def _utc_times(market: str, local: np.ndarray) -> np.ndarray:
    """Naive ns times in the market's data time zone as UTC ns times."""
    zone = data_time_zone(market)
    if zone == "UTC":
        return np.asarray(local, dtype=np.int64)
    import pandas as pd

    index = pd.DatetimeIndex(local.astype("datetime64[ns]"))
    aware = index.tz_localize(zone, ambiguous="raise", nonexistent="raise")
    return aware.tz_convert("UTC").as_unit("ns").asi8


def _local_times(market: str, times: np.ndarray) -> np.ndarray:
    """UTC ns times as naive ns times in the market's data time zone."""
    zone = data_time_zone(market)
    if zone == "UTC":
        return times
    import pandas as pd

    index = pd.DatetimeIndex(times.astype("datetime64[ns]")).tz_localize("UTC").tz_convert(zone)
    return index.tz_localize(None).as_unit("ns").asi8


def _time_texts(file: TradeFile, times: np.ndarray) -> list[str]:
    local = _local_times(file.market, times)
    if file.resolution == "minute":
        assert file.day is not None
        midnight = int(np.datetime64(file.day, "ns").astype(np.int64))
        offsets = local - midnight
        outside = (offsets < 0) | (offsets >= _NS_PER_DAY)
        if outside.any():
            row = int(np.argmax(outside))
            raise DataError(f"{file.path}: bar {format_time(int(times[row]))} is not on {file.day} "
                            f"({data_time_zone(file.market)}); minute files hold one day each")
        if (offsets % _NS_PER_MS).any():
            row = int(np.argmax((offsets % _NS_PER_MS) != 0))
            raise DataError(f"{file.path}: bar time {format_time(int(times[row]))} has sub-millisecond "
                            "precision, which Lean's minute format cannot hold")
        return [str(ms) for ms in (offsets // _NS_PER_MS).tolist()]
    if (local % (60 * 1_000_000_000)).any():
        row = int(np.argmax((local % (60 * 1_000_000_000)) != 0))
        raise DataError(f"{file.path}: bar time {format_time(int(times[row]))} is not on a whole minute, "
                        "which Lean's 'YYYYMMDD HH:mm' format cannot hold")
    minutes = local.astype("datetime64[ns]").astype("datetime64[m]")
    text = np.datetime_as_string(minutes, unit="m")  # YYYY-MM-DDTHH:MM
    return [f"{t[0:4]}{t[5:7]}{t[8:10]} {t[11:16]}" for t in text.tolist()]


def format_rows(file: TradeFile, times: np.ndarray, values: np.ndarray, *, line_end: str = "\n",
                final_newline: bool = False) -> str:
    """The CSV text of a trade file: the inverse of :func:`parse_rows`.

    ``times`` are UTC ns bar starts, ``values`` float64 rows x 5 (open, high, low, close, volume;
    equity prices in dollars, written as whole deci-cents). Lean writes ``\\n`` line ends and no
    final newline; some older sample files use ``\\r\\n`` or end with a newline, which
    ``line_end``/``final_newline`` reproduce.
    Raises :class:`DataError` for NaN/infinite values or times the file cannot hold.
    """
    times = np.asarray(times, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64).reshape(-1, 5)
    if len(times) != len(values):
        raise DataError(f"{file.path}: {len(times)} times but {len(values)} rows of values")
    if len(times) == 0:
        return ""
    finite = np.isfinite(values).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise DataError(f"{file.path}: bar {format_time(int(times[row]))} has a NaN or infinite value; "
                        "drop or repair it before writing")
    if file.security_type == "equity":
        values = values.copy()
        values[:, :4] = np.round(values[:, :4] * EQUITY_PRICE_SCALE)  # whole deci-cents, like Lean
    columns = [_time_texts(file, times), *(decimal_texts(values[:, i]) for i in range(5))]
    text = line_end.join(map(",".join, zip(*columns, strict=True)))
    return text + line_end if final_newline else text


def write_csv_text(file: TradeFile, text: str) -> None:
    """Write ``text`` as the single CSV member of ``file``'s zip, atomically.

    The zip is built in a temporary file beside the target and moved over it with
    :func:`os.replace`; on any error the temporary file is removed and the old file stays intact.
    """
    file.path.parent.mkdir(parents=True, exist_ok=True)
    temporary = file.path.with_name(f".{file.path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(file.member, text.encode("ascii"))
        os.replace(temporary, file.path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_trade_file(file: TradeFile, times: np.ndarray, values: np.ndarray, *, line_end: str = "\n",
                     final_newline: bool = False) -> None:
    """Format rows (see :func:`format_rows`) and write them to ``file`` atomically."""
    write_csv_text(file, format_rows(file, times, values, line_end=line_end, final_newline=final_newline))


def _merged(file: TradeFile, times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Existing rows of ``file`` with the new ones laid over them (new rows win on equal times)."""
    if not file.path.exists():
        return times, values
    old_times, old_values = parse_rows(file, read_csv_text(file))
    keep = ~np.isin(old_times, times)
    all_times = np.concatenate([old_times[keep], times])
    all_values = np.concatenate([old_values[keep], values])
    order = np.argsort(all_times, kind="stable")
    return all_times[order], all_values[order]


def write_trade_bars(data_dir: str | Path, market: str, symbol: str, resolution: str, bars: Bars, *,
                     merge: bool = True) -> list[TradeFile]:
    """Write ``bars`` as Lean trade files of ``symbol`` at ``resolution`` under ``data_dir``.

    Minute bars are split into one file per local day. With ``merge`` the rows already on disk are
    kept and bars at the same start time are replaced by the new ones; without it each touched file
    is replaced. Every file is written atomically. Returns the files written, in time order.
    """
    if resolution not in RESOLUTIONS:
        raise DataError(f"unknown resolution {resolution!r}: use one of {', '.join(RESOLUTIONS)}")
    if len(bars) == 0:
        return []
    values = np.column_stack([bars.open, bars.high, bars.low, bars.close, bars.volume])
    times = np.asarray(bars.time, dtype=np.int64)
    if resolution != "minute":
        groups = [(trade_file(data_dir, market, symbol, resolution), times, values)]
    else:
        local_days = _local_times(market, times) // _NS_PER_DAY
        cuts = np.flatnonzero(np.diff(local_days)) + 1
        groups = []
        for chunk in np.split(np.arange(len(times)), cuts):
            day = (np.datetime64(int(local_days[chunk[0]]), "D")).astype(object)
            groups.append((trade_file(data_dir, market, symbol, "minute", day), times[chunk], values[chunk]))
    written = []
    for file, part_times, part_values in groups:
        if merge:
            part_times, part_values = _merged(file, part_times, part_values)
        write_trade_file(file, part_times, part_values)
        written.append(file)
    return written
