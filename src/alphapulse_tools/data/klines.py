"""Binance kline rows (archive CSV files and REST pages) as :class:`~alphapulse.bars.Bars`.

A kline row has 12 fields: open_time, open, high, low, close, volume, close_time, quote_volume,
trades, taker_base, taker_quote, ignore. Times are the bar start in milliseconds since the epoch;
archives published since 2025 use microseconds instead — each row's unit is told apart by its
magnitude (a millisecond stamp stays below 10^14 until the year 5138). Some archives begin with
a header line (``open_time,...``), which is skipped.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from alphapulse.bars import Bars, format_time
from alphapulse.errors import DataError
from alphapulse.lean_data import exact_float_parsing

KLINE_COLUMNS = ("open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                 "trades", "taker_base", "taker_quote", "ignore")
#: stamps at or above this are microseconds, below it milliseconds
MICROSECOND_THRESHOLD = 10**14


def stamps_to_ns(stamps: np.ndarray) -> np.ndarray:
    """Epoch stamps in ms or µs (told apart per value by magnitude) as ns."""
    stamps = np.asarray(stamps, dtype=np.int64)
    return np.where(stamps >= MICROSECOND_THRESHOLD, stamps * 1_000, stamps * 1_000_000)


def _bars_from_columns(source: str, first_row: int, open_time: np.ndarray, values: np.ndarray,
                       period: int) -> Bars:
    times = stamps_to_ns(open_time)
    if len(times) > 1:
        steps = np.diff(times)
        if (steps <= 0).any():
            i = int(np.argmax(steps <= 0)) + 1
            what = "repeats" if steps[i - 1] == 0 else "is earlier than"
            raise DataError(f"{source}: row {first_row + i}: open time {format_time(int(times[i]))} {what} "
                            f"the previous row's; klines must be in strictly increasing time order "
                            "(re-download the file)")
    return Bars(times, *values.T, period=period, symbol=source)


def parse_kline_csv(text: str, source: str, period: int = 0) -> Bars:
    """Bars from the text of a Binance kline CSV (``source`` names the file in errors).

    Raises :class:`DataError` naming the file and 1-based row for a wrong number of columns, a
    non-numeric field or times out of order.
    """
    import pandas as pd

    first_line = text.split("\n", 1)[0]
    header = first_line.split(",", 1)[0].strip().lower() == "open_time"
    first_row = 2 if header else 1
    body = text[len(first_line) + 1:] if header else text
    if not body.strip():
        return Bars.empty(period=period, symbol=source)
    try:  # fast path: well-formed rows, numbers parsed exactly
        fast = pd.read_csv(io.StringIO(body), header=None, usecols=range(6), **exact_float_parsing(),
                           dtype={0: np.int64, 1: np.float64, 2: np.float64, 3: np.float64, 4: np.float64,
                                  5: np.float64})
        values = fast.iloc[:, 1:6].to_numpy(dtype=np.float64)
        if body.count(",") != (len(KLINE_COLUMNS) - 1) * len(fast) or not np.isfinite(values).all():
            raise ValueError("a missing, extra or NaN field")
        open_time = fast.iloc[:, 0].to_numpy(dtype=np.int64)
        if (open_time >= 0).all():
            return _bars_from_columns(source, first_row, open_time, values, period)
    except Exception:  # a malformed row: the checks below name it
        pass
    rows = [line for line in body.splitlines() if line.strip()]
    body = "\n".join(rows)
    counts = [line.count(",") + 1 for line in rows]
    wrong = next((i for i, n in enumerate(counts) if n != len(KLINE_COLUMNS)), None)
    if wrong is not None:
        raise DataError(f"{source}: row {first_row + wrong} has {counts[wrong]} columns, expected "
                        f"{len(KLINE_COLUMNS)} ({','.join(KLINE_COLUMNS)}); is this a Binance kline file?")
    try:
        frame = pd.read_csv(io.StringIO(body), header=None, dtype=str, keep_default_na=False)
    except Exception as exc:  # pandas raises several types for malformed text
        raise DataError(f"{source}: unreadable kline CSV ({exc}); expected {len(KLINE_COLUMNS)} columns "
                        f"({','.join(KLINE_COLUMNS)})") from exc
    numbers = frame.iloc[:, :6].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(numbers).all(axis=1)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{source}: row {first_row + row} has a non-numeric field: {rows[row][:120]!r}; "
                        "delete the file and download it again")
    open_time = numbers[:, 0]
    if (open_time != np.round(open_time)).any() or (open_time < 0).any():
        row = int(np.argmax((open_time != np.round(open_time)) | (open_time < 0)))
        raise DataError(f"{source}: row {first_row + row}: open time {rows[row].split(',')[0]!r} is not "
                        "an epoch time in ms or µs")
    return _bars_from_columns(source, first_row, open_time.astype(np.int64), numbers[:, 1:6], period)


def parse_rest_klines(rows: Any, source: str, period: int = 0) -> Bars:
    """Bars from a ``/api/v3/klines`` JSON answer (a list of 12-field lists; prices as strings)."""
    if not isinstance(rows, list):
        raise DataError(f"{source}: expected a JSON list of klines, got {type(rows).__name__}")
    if not rows:
        return Bars.empty(period=period, symbol=source)
    try:
        open_time = np.array([int(row[0]) for row in rows], dtype=np.int64)
        values = np.array([[float(x) for x in row[1:6]] for row in rows], dtype=np.float64)
    except (TypeError, ValueError, IndexError) as exc:
        raise DataError(f"{source}: malformed kline in the answer ({exc}); expected "
                        f"[{', '.join(KLINE_COLUMNS)}]") from exc
    return _bars_from_columns(source, 1, open_time, values, period)


def read_kline_archive(path: str | Path, period: int = 0) -> Bars:
    """Bars from a Binance kline archive (a zip holding one CSV) or a plain kline CSV file."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
                if len(names) != 1:
                    raise DataError(f"{path}: expected one CSV in the archive, found {names}")
                text = archive.read(names[0]).decode("ascii")
        except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError, zipfile.LargeZipFile) as exc:
            raise DataError(f"{path}: corrupt or truncated archive ({exc}); delete it and download "
                            "it again") from exc
    else:
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: unreadable ({exc}); expected a Binance kline CSV") from exc
    return parse_kline_csv(text, str(path), period)
