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

Parsed-file cache (opt-in, ``read_trade_bars(..., cache=True)``): the parsed rows of each zip are
kept as a binary file under ``<data_dir>/.cache/bars/`` (the zip's relative path plus ``.npy``).
Each holds a header with the cache format version and the zip's size, modification time (ns) and
inode; a cache file whose header does not match the zip's current ``stat`` (or that
cannot be read) is ignored and rewritten, so replacing or editing a zip invalidates it. Cache files
are written atomically (temp file + ``os.replace``), only when the zip did not change while it was
parsed, and only in a data folder that is writable by its mode bits (a read-only folder is never
written to, even by root); a failed write leaves the read unaffected.

Writing is the exact inverse: numbers are written in their shortest decimal form without an
exponent (``8870``, ``0.05655554``; equities as integer deci-cents), minute times as milliseconds
since the file's local midnight, and each zip is replaced atomically (temp file + ``os.replace``),
so a crash never leaves a half-written file.
"""

from __future__ import annotations

import io
import os
import stat
import warnings
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from alphapulse.bars import Bars, format_time
from alphapulse.errors import DataError, NoDataError

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


def exact_float_parsing() -> dict[str, Any]:
    """``pandas.read_csv`` options that parse every decimal to the nearest double (pandas 3 does
    by default and deprecates the option; pandas 2 needs ``float_precision="round_trip"``)."""
    import pandas as pd

    return {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def parse_rows(file: TradeFile, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse CSV text into (UTC ns times, float64 OHLCV rows x 5), checking the shape of every row."""
    import pandas as pd

    if not text.strip():
        return np.empty(0, dtype=np.int64), np.empty((0, 5))
    minute = file.resolution == "minute"
    table = _well_formed_table(text, minute)
    if table is not None and minute:
        ms, values = table
        assert ms is not None
        return _minute_times(file, ms), _scaled(file, values)
    if table is not None:
        values = table[1]
        local = _hour_times(text, len(values))
        if local is not None:
            return _utc_times(file.market, local), _scaled(file, values)
    else:  # a malformed row: the slow path below names it
        values = _checked_values(file, text)
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
    return _utc_times(file.market, local), _scaled(file, values)


def _scaled(file: TradeFile, values: np.ndarray) -> np.ndarray:
    """Equity prices from deci-cents to dollars (in place)."""
    if file.security_type == "equity":
        values[:, :4] /= EQUITY_PRICE_SCALE
    return values


def _minute_times(file: TradeFile, ms: np.ndarray) -> np.ndarray:
    """UTC ns times of a minute file's checked milliseconds since its local midnight."""
    assert file.day is not None
    midnight = int(np.datetime64(file.day, "ns").astype(np.int64))
    return _utc_times(file.market, midnight + ms * _NS_PER_MS)


def _well_formed_table(text: str, minute: bool) -> tuple[np.ndarray | None, np.ndarray] | None:
    """The fast path of :func:`parse_rows`: (first column, float64 values rows x 5) of CSV text
    whose every row has six fields and five numbers, parsed exactly (round-trip precision); the
    first column is the checked milliseconds (int64) for minute files, else None (not read: see
    :func:`_hour_times`). None when any row is not well formed (the slow path then names it)."""
    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pd.read_csv(io.StringIO(text), header=None, names=range(6), index_col=False,
                                keep_default_na=False, usecols=range(6) if minute else range(1, 6),
                                dtype={0: np.int64 if minute else str, 1: np.float64, 2: np.float64,
                                       3: np.float64, 4: np.float64, 5: np.float64},
                                engine="c", **exact_float_parsing())
        values = frame.loc[:, 1:].to_numpy(dtype=np.float64, copy=True)
        if np.isnan(values).any() or text.count(",") != 5 * len(frame):
            return None
        if not minute:
            return None, values
        ms = frame.iloc[:, 0].to_numpy(dtype=np.int64)
        if ((ms < 0) | (ms >= 86_400_000)).any():
            return None
        return ms, values
    except Exception:  # pandas raises several types for malformed rows
        return None


_DIGITS = np.array([0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 13])  # digit places of 'YYYYMMDD HH:mm'
_NS_PER_MINUTE = 60 * 1_000_000_000


def _hour_times(text: str, rows: int) -> np.ndarray | None:
    """Naive ns times of the ``rows`` lines of an hour/daily file when every line starts with a
    valid ``YYYYMMDD HH:mm`` followed by a comma (read straight from the bytes), else None (the
    caller then parses the column with pandas, which names a bad row)."""
    data = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    starts = np.flatnonzero(data == ord("\n")) + 1
    starts = np.concatenate([np.zeros(1, dtype=np.int64), starts[starts < len(data)]])
    if len(starts) != rows or rows == 0 or starts[-1] + 15 > len(data):
        return None
    if not ((data[starts + 8] == ord(" ")) & (data[starts + 11] == ord(":"))
            & (data[starts + 14] == ord(","))).all():
        return None
    d = [data[starts + place].astype(np.int64) - ord("0") for place in _DIGITS.tolist()]
    if any(((x < 0) | (x > 9)).any() for x in d):
        return None
    year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]
    month, day = d[4] * 10 + d[5], d[6] * 10 + d[7]
    hour, minute = d[8] * 10 + d[9], d[10] * 10 + d[11]
    if ((year < 1678) | (year > 2261) | (month < 1) | (month > 12) | (hour > 23) | (minute > 59)
            | (day < 1)).any():
        return None
    first = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    first_day = first.astype("datetime64[D]").astype(np.int64)
    if (day > (first + 1).astype("datetime64[D]").astype(np.int64) - first_day).any():
        return None
    return (first_day + day - 1) * _NS_PER_DAY + (hour * 60 + minute) * _NS_PER_MINUTE


def parse_minute_files(files: list[TradeFile], texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`parse_rows` of each minute file's text, the same arrays; the texts of well-formed
    files are parsed together in one pass (much faster than file by file), any other file alone."""
    batch: list[int] = []
    counts: list[int] = []
    for k, text in enumerate(texts):
        if "\r" in text or "\n\n" in text or not text.strip() or text[0] in "\n ":
            continue
        rows = text.count("\n") + (0 if text.endswith("\n") else 1)
        if text.count(",") == 5 * rows:
            batch.append(k)
            counts.append(rows)
    out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(files)
    if len(batch) > 1:
        joined = "".join(texts[k] if texts[k].endswith("\n") else texts[k] + "\n" for k in batch)
        all_ms, all_values = _well_formed_table(joined, True) or (None, None)
        if all_ms is not None and all_values is not None and len(all_ms) == sum(counts):
            ends = np.cumsum(counts).tolist()
            begin = 0
            for k, end in zip(batch, ends, strict=True):
                ms, values = all_ms[begin:end], all_values[begin:end]
                own = values.copy() if files[k].security_type == "equity" else values
                out[k] = (_minute_times(files[k], ms), _scaled(files[k], own))
                begin = end
    return [done if done is not None else parse_rows(file, text)
            for done, file, text in zip(out, files, texts, strict=True)]


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
    times, values = parse_rows(file, read_csv_text(file))
    return Bars(times, *values.T, period=RESOLUTION_SECONDS[file.resolution], symbol=str(file.path))


#: layout version of the parsed-file cache; a change makes every existing cache file a miss
CACHE_VERSION = 2
#: the cache folder inside a data folder
CACHE_FOLDER = Path(".cache") / "bars"
_CACHE_MAGIC = 0x5352414241504C41  # "ALPABARS" as little-endian bytes


def cache_path(data_dir: str | Path, file: TradeFile) -> Path:
    """Where the parsed rows of ``file`` (a file of ``data_dir``) are cached."""
    relative = file.path.relative_to(data_dir)
    return Path(data_dir) / CACHE_FOLDER / relative.parent / f"{relative.name}.npy"


def _cache_key(info: os.stat_result) -> list[int]:
    return [_CACHE_MAGIC, CACHE_VERSION, info.st_size, info.st_mtime_ns, info.st_ino]


def _cache_writable(data_dir: Path) -> bool:
    try:
        mode = os.stat(data_dir).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IWUSR) and os.access(data_dir, os.W_OK)


def _cache_load(data_dir: Path, file: TradeFile) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        key = _cache_key(os.stat(file.path))
        with open(cache_path(data_dir, file), "rb") as cached:
            header = np.load(cached, allow_pickle=False)
            if header.dtype != np.int64 or header.shape != (6,) or header[:5].tolist() != key:
                return None
            times = np.load(cached, allow_pickle=False)
            values = np.load(cached, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    rows = int(header[5])
    if times.dtype != np.int64 or times.shape != (rows,) or values.dtype != np.float64 \
            or values.shape != (rows, 5):
        return None
    return times, values


def _cache_store(data_dir: Path, file: TradeFile, key: list[int], times: np.ndarray,
                 values: np.ndarray) -> None:
    """Keep parsed rows when the zip still has the ``key`` it had before it was read. The cache
    file holds three ``.npy`` arrays one after the other: the header (the key and the row count),
    the times and the values."""
    try:
        if _cache_key(os.stat(file.path)) != key or not _cache_writable(data_dir):
            return
    except OSError:
        return
    where = cache_path(data_dir, file)
    temporary = where.with_name(f".{where.name}.{os.getpid()}.tmp")
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as out:
            np.save(out, np.array([*key, len(times)], dtype=np.int64), allow_pickle=False)
            np.save(out, np.asarray(times, dtype=np.int64), allow_pickle=False)
            np.save(out, np.asarray(values, dtype=np.float64), allow_pickle=False)
        os.replace(temporary, where)
    except OSError:
        temporary.unlink(missing_ok=True)


def read_rows(data_dir: str | Path, files: list[TradeFile], *, cache: bool = False,
              ) -> list[tuple[np.ndarray, np.ndarray]]:
    """``parse_rows(file, read_csv_text(file))`` of each file of ``data_dir`` (the same arrays, bit
    for bit); minute files are parsed together (:func:`parse_minute_files`). With ``cache`` the
    parsed-file cache is read first and kept up to date (see the module's documentation)."""
    data_dir = Path(data_dir)
    out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(files)
    if cache:
        out = [_cache_load(data_dir, file) for file in files]
    missing = [k for k, done in enumerate(out) if done is None]
    keys: list[list[int] | None] = []
    texts: list[str] = []
    for k in missing:
        try:
            keys.append(_cache_key(os.stat(files[k].path)) if cache else None)
        except OSError:
            keys.append(None)
        texts.append(read_csv_text(files[k]))
    todo = [files[k] for k in missing]
    if todo and all(file.resolution == "minute" for file in todo):
        parsed = parse_minute_files(todo, texts)
    else:
        parsed = [parse_rows(file, text) for file, text in zip(todo, texts, strict=True)]
    for k, key, (times, values) in zip(missing, keys, parsed, strict=True):
        out[k] = (times, values)
        if key is not None:
            _cache_store(data_dir, files[k], key, times, values)
    return [done for done in out if done is not None]


def read_trade_bars(data_dir: str | Path, market: str, symbol: str, resolution: str,
                    start: date | None = None, end: date | None = None, *, cache: bool = False) -> Bars:
    """Trade bars of ``symbol`` at ``resolution`` whose start lies in ``[start, end]`` (dates, UTC
    for crypto, exchange dates for equities), from the Lean data folder ``data_dir``.

    ``cache``: read and keep the parsed files in the data folder's parsed-file cache (see the
    module's documentation); the bars are the same either way.
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
        parts = read_rows(data_dir, [trade_file(data_dir, market, symbol, "minute", d) for d in days],
                          cache=cache)
        times = np.concatenate([p[0] for p in parts])
        values = np.concatenate([p[1] for p in parts])
    else:
        file = trade_file(data_dir, market, symbol, resolution)
        times, values = read_rows(data_dir, [file], cache=cache)[0]
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
