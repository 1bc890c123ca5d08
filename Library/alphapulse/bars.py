"""One small OHLCV type used everywhere: :class:`Bars` (columns) and :class:`Bar` (one closed bar).

Times are integers: nanoseconds since the Unix epoch, UTC, of the bar's **start** (Lean's and
Binance's convention). A bar is known once it has closed, at ``time + period``. Prices are float64 in
the quote currency (US equities in dollars, not Lean's deci-cents), volume in base units.

Bars are validated at construction: no NaN, prices > 0, volume >= 0, low <= open, close <= high,
strictly increasing times. Invalid input raises :class:`~alphapulse.errors.BarError` naming the row
and its time, so corrupt data never reaches a signal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from alphapulse.errors import BarError

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("open", "high", "low", "close", "volume")


def format_time(time_ns: int) -> str:
    """ISO-8601 UTC text of a nanosecond timestamp, e.g. ``2024-01-01T00:00:00Z``."""
    seconds, nanos = divmod(int(time_ns), 1_000_000_000)
    text = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += f".{nanos:09d}".rstrip("0")
    return text + "Z"


def parse_time(text: str) -> int:
    """Nanoseconds since the epoch of an ISO-8601 time (``Z`` or an offset; naive means UTC)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return to_ns(value)


def to_ns(value: datetime) -> int:
    """Nanoseconds since the epoch of a datetime (naive datetimes are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def from_ns(time_ns: int) -> datetime:
    """A UTC datetime for a nanosecond timestamp (microsecond precision)."""
    return datetime.fromtimestamp(int(time_ns) // 1_000 / 1_000_000, tz=UTC)


@dataclass(frozen=True, slots=True)
class Bar:
    """One closed OHLCV bar; ``time`` is its start in ns since the epoch (UTC)."""

    time: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    def check(self, where: str = "bar") -> None:
        """Raise :class:`BarError` if the bar is not a valid trade bar."""
        _check_rows(
            np.array([self.time], dtype=np.int64),
            np.array([self.open]), np.array([self.high]), np.array([self.low]),
            np.array([self.close]), np.array([self.volume]), where,
        )


def _check_rows(time: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray,
                v: np.ndarray, where: str) -> None:
    problems = (
        (~(np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c) & np.isfinite(v)),
         "a price or the volume is NaN or infinite"),
        ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0), "a price is zero or negative"),
        (v < 0, "the volume is negative"),
        (h < lo, "high is below low"),
        ((o > h) | (c > h) | (o < lo) | (c < lo), "open or close lies outside the high-low range"),
    )
    for mask, what in problems:
        if mask.any():
            row = int(np.argmax(mask))
            raise BarError(
                f"{where}: row {row} ({format_time(int(time[row]))}): {what} "
                f"(open={o[row]}, high={h[row]}, low={lo[row]}, close={c[row]}, volume={v[row]}); "
                "repair or drop that bar before using the data"
            )
    if len(time) > 1:
        steps = np.diff(time)
        if (steps <= 0).any():
            row = int(np.argmax(steps <= 0)) + 1
            kind = "repeats" if steps[row - 1] == 0 else "is earlier than"
            raise BarError(
                f"{where}: row {row} ({format_time(int(time[row]))}) {kind} the previous bar "
                f"({format_time(int(time[row - 1]))}); bars must be in strictly increasing time order"
            )


class Bars:
    """Immutable OHLCV columns (numpy float64) with int64 start times (ns, UTC).

    ``period`` is the bar length in seconds (0 when unknown), ``symbol`` a label for messages.
    Slicing (``bars[a:b]``) returns views, not copies.
    """

    __slots__ = ("close", "high", "low", "open", "period", "symbol", "time", "volume")

    time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    period: int
    symbol: str

    def __init__(self, time: Any, open: Any, high: Any, low: Any, close: Any, volume: Any, *,
                 period: int = 0, symbol: str = "", validate: bool = True) -> None:
        columns = [np.ascontiguousarray(col, dtype=np.float64) for col in (open, high, low, close, volume)]
        times = np.ascontiguousarray(time, dtype=np.int64)
        lengths = {len(times), *(len(col) for col in columns)}
        if len(lengths) != 1:
            raise BarError(f"{symbol or 'bars'}: columns have different lengths {sorted(lengths)}")
        if validate:
            _check_rows(times, *columns, where=symbol or "bars")
        for col in (times, *columns):
            col.flags.writeable = False
        setter = object.__setattr__
        setter(self, "time", times)
        for name, col in zip(COLUMNS, columns, strict=True):
            setter(self, name, col)
        setter(self, "period", int(period))
        setter(self, "symbol", symbol)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Bars are immutable")

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_bars(cls, bars: list[Bar], *, period: int = 0, symbol: str = "") -> Bars:
        """Columns from a list of :class:`Bar`."""
        if not bars:
            return cls.empty(period=period, symbol=symbol)
        rows = np.array([(b.open, b.high, b.low, b.close, b.volume) for b in bars], dtype=np.float64)
        return cls([b.time for b in bars], *rows.T, period=period, symbol=symbol)

    @classmethod
    def empty(cls, *, period: int = 0, symbol: str = "") -> Bars:
        nothing = np.empty(0)
        return cls(np.empty(0, dtype=np.int64), nothing, nothing, nothing, nothing, nothing,
                   period=period, symbol=symbol)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, period: int = 0, symbol: str = "") -> Bars:
        """Bars from a pandas frame with open/high/low/close/volume columns (any case).

        The time comes from a ``time``/``date``/``timestamp`` column or the index; naive times are
        taken as UTC, aware ones are converted to UTC.
        """
        import pandas as pd

        lower = {str(c).lower(): c for c in frame.columns}
        missing = [name for name in COLUMNS if name not in lower]
        if missing:
            raise BarError(f"{symbol or 'frame'}: missing column(s) {', '.join(missing)}")
        time_col = next((lower[n] for n in ("time", "date", "timestamp", "datetime") if n in lower), None)
        stamps = pd.DatetimeIndex(frame[time_col] if time_col is not None else frame.index)
        stamps = stamps.tz_localize("UTC") if stamps.tz is None else stamps.tz_convert("UTC")
        times = stamps.as_unit("ns").asi8
        return cls(times, *(frame[lower[name]].to_numpy(dtype=np.float64) for name in COLUMNS),
                   period=period, symbol=symbol)

    def to_frame(self) -> pd.DataFrame:
        """A pandas frame indexed by the UTC bar start time."""
        import pandas as pd

        index = pd.DatetimeIndex(self.time.astype("datetime64[ns]")).tz_localize("UTC")
        return pd.DataFrame({name: getattr(self, name) for name in COLUMNS}, index=index)

    # -- access ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.time)

    def __getitem__(self, index: slice) -> Bars:
        if not isinstance(index, slice):
            raise TypeError("index Bars with a slice; use bar(i) for one bar")
        return Bars(self.time[index], self.open[index], self.high[index], self.low[index],
                    self.close[index], self.volume[index], period=self.period, symbol=self.symbol,
                    validate=False)

    def bar(self, i: int) -> Bar:
        """The i-th bar (negative indices count from the end)."""
        return Bar(int(self.time[i]), float(self.open[i]), float(self.high[i]), float(self.low[i]),
                   float(self.close[i]), float(self.volume[i]))

    def __iter__(self) -> Iterator[Bar]:
        for row in zip(self.time.tolist(), self.open.tolist(), self.high.tolist(), self.low.tolist(),
                       self.close.tolist(), self.volume.tolist(), strict=True):
            yield Bar(*row)

    @property
    def end_time(self) -> np.ndarray:
        """When each bar closed: start + period (ns)."""
        return self.time + self.period * 1_000_000_000

    def between(self, start_ns: int | None = None, end_ns: int | None = None) -> Bars:
        """Bars whose start lies in ``[start_ns, end_ns)`` (either bound may be None)."""
        lo = 0 if start_ns is None else int(np.searchsorted(self.time, start_ns, side="left"))
        hi = len(self) if end_ns is None else int(np.searchsorted(self.time, end_ns, side="left"))
        return self[lo:hi]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bars):
            return NotImplemented
        return len(self) == len(other) and all(
            np.array_equal(getattr(self, name), getattr(other, name)) for name in ("time", *COLUMNS)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        span = f"{format_time(int(self.time[0]))} .. {format_time(int(self.time[-1]))}" if len(self) else "empty"
        return f"Bars({self.symbol or '?'}, {len(self)} bars, period={self.period}s, {span})"
