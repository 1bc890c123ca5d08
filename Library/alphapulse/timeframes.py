"""Higher timeframes: closed-bar resampling and a higher-timeframe confirmation factor.

Resampling (:func:`resample` batch, :class:`Resampler` streaming) groups base bars into buckets of
``interval``:

* ``session=None``: UTC-aligned buckets (``floor(start / interval)``), every bar counts — crypto,
  24/7 markets.
* ``session="us_equity"``: New York regular session, like Lean's own equity hour and daily bars.
  Only bars overlapping 09:30–16:00 New York time count. Intraday buckets are aligned on the New
  York clock (the 09:30 minute belongs to the 09:00 hour bar, which holds 09:30–09:59); a daily
  bucket is the New York trading day, stamped at its local midnight (as Lean's daily files are),
  and holds the 09:30–15:59 bars.

A higher bar is **closed** at its bucket end: ``start + interval`` (UTC), and for the session
``min(start + interval, 16:00 New York)``; the daily bar closes at 16:00 New York. It is emitted
once a base bar whose end (``start + period``) reaches that close has been seen: the bucket's last
sub-bar, or else the first bar after it (bars of a later bucket or outside the session). Batch and
streaming follow the same rule, so a trailing bucket that is not known to be complete is dropped
by :func:`resample`, and gaps (missing sub-bars, whole missing buckets) give exactly the same bars
in both. Early closes (half days) are not known here: such a day's bar is emitted with the next bar.

Open = first sub-bar's open, high/low = extremes, close = last close, volume = the sub-bars'
volumes added one by one in time order (so batch and streaming are bit-identical).

The confirmation factor (:func:`htf_factor`, :class:`HtfConfirmation`) reads, for each base bar,
only the last higher bar closed by that base bar's close (:func:`last_closed_index`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from alphapulse.bars import Bar, Bars
from alphapulse.errors import ConfigError
from alphapulse.intervals import interval_seconds
from alphapulse.patterns import DEFAULT_PATTERNS, PatternDetector, check_next_bar, pattern_direction, scan

NS = 1_000_000_000
DAY = 86_400
SESSIONS = ("us_equity",)
_NEW_YORK = ZoneInfo("America/New_York")
_OPEN_S = 9 * 3600 + 30 * 60
_CLOSE_S = 16 * 3600


def _interval_seconds(interval: str | int) -> int:
    if isinstance(interval, str):
        return interval_seconds(interval)
    seconds = int(interval)
    if seconds <= 0:
        raise ConfigError(f"interval of {interval} s: it must be a positive number of seconds")
    return seconds


def _check_session(session: str | None) -> str | None:
    if session is not None and session not in SESSIONS:
        raise ConfigError(f"unknown session {session!r}: use None (UTC buckets, 24/7 markets) or "
                          + ", ".join(repr(s) for s in SESSIONS))
    return session


def _check_periods(base: int, higher: int, where: str) -> None:
    if base <= 0:
        raise ConfigError(f"{where}: the base bars have no period (bar length); give bars with a "
                          "known period, e.g. Bars(..., period=60)")
    if higher < base or higher % base:
        raise ConfigError(f"{where}: cannot build {higher} s bars from {base} s bars; the interval "
                          "must be a whole multiple of the base bar length")


@lru_cache(maxsize=65536)
def _new_york_offset_ns(utc_hour: int) -> int:
    """New York's UTC offset (ns) during the UTC hour ``utc_hour`` (DST changes on the hour)."""
    moment = datetime.fromtimestamp(utc_hour * 3600, tz=UTC).astimezone(_NEW_YORK)
    offset = moment.utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) * NS


def _offsets(times: np.ndarray) -> np.ndarray:
    hours = times // (3600 * NS)
    unique, inverse = np.unique(hours, return_inverse=True)
    table = np.array([_new_york_offset_ns(int(h)) for h in unique.tolist()], dtype=np.int64)
    return table[inverse.reshape(-1)]


@dataclass(frozen=True, slots=True)
class _Bucket:
    key: int  # bucket number in local (or UTC) time
    start: int  # UTC ns
    close: int  # UTC ns, when the bucket is complete


def _bucket_of(time: int, period_ns: int, interval_ns: int, session: str | None,
               offset: int) -> _Bucket | None:
    """The bucket a bar starting at ``time`` belongs to (None: outside the session)."""
    if session is None:
        key = time // interval_ns
        start = key * interval_ns
        return _Bucket(key, start, start + interval_ns)
    local = time + offset
    day = local // (DAY * NS) * (DAY * NS)
    tod = local - day
    if not (tod < _CLOSE_S * NS and tod + period_ns > _OPEN_S * NS):
        return None
    session_close = day + _CLOSE_S * NS
    if interval_ns >= DAY * NS:
        return _Bucket(day // (DAY * NS), day - offset, session_close - offset)
    key = local // interval_ns
    start_local = key * interval_ns
    return _Bucket(key, start_local - offset, min(start_local + interval_ns, session_close) - offset)


def _buckets(bars: Bars, period_ns: int, interval_ns: int, session: str | None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per bar: included?, bucket key, bucket start (UTC ns), bucket close (UTC ns)."""
    t = bars.time
    if session is None:
        key = t // interval_ns
        start = key * interval_ns
        return np.ones(len(t), dtype=bool), key, start, start + interval_ns
    offset = _offsets(t)
    local = t + offset
    day = local // (DAY * NS) * (DAY * NS)
    tod = local - day
    included = (tod < _CLOSE_S * NS) & (tod + period_ns > _OPEN_S * NS)
    session_close = day + _CLOSE_S * NS
    if interval_ns >= DAY * NS:
        return included, day // (DAY * NS), day - offset, session_close - offset
    key = local // interval_ns
    start_local = key * interval_ns
    return included, key, start_local - offset, np.minimum(start_local + interval_ns, session_close) - offset


@dataclass(frozen=True)
class HigherBars:
    """Resampled bars with the time each one closed (UTC ns); see :func:`resample_closed`."""

    bars: Bars
    close_time: np.ndarray


def resample_closed(bars: Bars, interval: str | int, *, session: str | None = None) -> HigherBars:
    """Like :func:`resample`, also returning each higher bar's close time (UTC ns)."""
    session = _check_session(session)
    interval_s = _interval_seconds(interval)
    _check_periods(bars.period, interval_s, f"resampling {bars.symbol or 'bars'} to {interval}")
    period_ns, interval_ns = bars.period * NS, interval_s * NS
    empty = HigherBars(Bars.empty(period=interval_s, symbol=bars.symbol), np.empty(0, dtype=np.int64))
    if len(bars) == 0:
        return empty
    included, key, start, close = _buckets(bars, period_ns, interval_ns, session)
    rows = np.flatnonzero(included)
    if len(rows) == 0:
        return empty
    keys = key[rows]
    first_of_group = np.concatenate(([True], keys[1:] != keys[:-1]))
    firsts = rows[first_of_group]
    group_of_row = np.cumsum(first_of_group) - 1
    # a bucket's last member: the last included row before the next bucket's first row
    lasts = rows[np.concatenate((np.flatnonzero(first_of_group)[1:] - 1, [len(rows) - 1]))]
    # complete once a bar (included or not) ending at or after the bucket close was seen
    known = close[firsts] <= bars.time[-1] + period_ns
    n = int(known.sum())
    if n == 0:
        return empty
    firsts, lasts = firsts[:n], lasts[:n]
    take = group_of_row < n
    sub_rows = rows[take]
    starts = np.flatnonzero(first_of_group[take])
    high = np.maximum.reduceat(bars.high[sub_rows], starts)
    low = np.minimum.reduceat(bars.low[sub_rows], starts)
    volume = _sequential_sums(bars.volume[sub_rows], starts)
    higher = Bars(start[firsts], bars.open[firsts], high, low, bars.close[lasts], volume,
                  period=interval_s, symbol=bars.symbol, validate=False)
    return HigherBars(higher, close[firsts])


def _sequential_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group, ``((v0 + v1) + v2) + ...`` in order — the streaming accumulation, vectorised over
    groups one position at a time."""
    sizes = np.diff(np.append(starts, len(values)))
    total = values[starts].copy()
    for k in range(1, int(sizes.max())):
        members = np.flatnonzero(sizes > k)
        total[members] += values[starts[members] + k]
    return total


def resample(bars: Bars, interval: str | int, *, session: str | None = None) -> Bars:
    """Closed higher-timeframe bars of ``interval`` ("5m", "1h", "1d" ... or seconds) from ``bars``.

    ``bars.period`` must be known and divide the interval. Only buckets known to be complete are
    returned (see the module docstring); the result's ``time`` is each bucket's start (UTC ns) and
    its ``period`` the interval. ``session``: None (UTC buckets) or ``"us_equity"``.
    Raises :class:`ConfigError` for an unknown interval or session or mismatched periods.
    """
    return resample_closed(bars, interval, session=session).bars


def last_closed_index(base_close_time: np.ndarray, higher_close_time: np.ndarray) -> np.ndarray:
    """For each base bar, the index of the last higher bar closed by the base bar's close, -1 if
    none. ``base_close_time`` is ``bars.end_time``; ``higher_close_time`` from
    :func:`resample_closed`. Uses no later information: a higher bar closing exactly at the base
    bar's close counts (it is complete then)."""
    return np.searchsorted(higher_close_time, base_close_time, side="right").astype(np.int64) - 1


class Resampler:
    """Streaming :func:`resample`: feed base bars of ``period`` seconds, get closed higher bars.

    ``update(bar)`` returns the higher bars that this bar completes, oldest first: usually none or
    one; two when the bar both proves the pending bucket complete and is itself the only and last
    sub-bar of its own bucket (sparse data). A bucket is emitted as soon as a bar ending at or
    after its close arrives — its last sub-bar, or the first bar after it — which is the earliest
    moment the bars alone prove it complete. Equal to :func:`resample` on the same bars, including
    gaps. ``last_close_time`` is the close time of the last emitted bar. Invalid or out-of-order
    bars raise :class:`~alphapulse.errors.BarError` and leave the state unchanged.
    """

    def __init__(self, interval: str | int, *, period: int, session: str | None = None) -> None:
        self.session = _check_session(session)
        self.interval = _interval_seconds(interval)
        _check_periods(int(period), self.interval, f"resampler to {interval}")
        self.period = int(period)
        self._period_ns = self.period * NS
        self._interval_ns = self.interval * NS
        self.reset()

    def reset(self) -> None:
        """Forget every bar (as if newly created)."""
        self._last_time: int | None = None
        self._bucket: _Bucket | None = None
        self._ohlcv = [0.0, 0.0, 0.0, 0.0, 0.0]
        self.last_close_time: int | None = None

    def _emit(self, bucket: _Bucket) -> Bar:
        o, h, lo, c, v = self._ohlcv
        self._bucket = None
        self.last_close_time = bucket.close
        return Bar(bucket.start, o, h, lo, c, v)

    def update(self, bar: Bar) -> tuple[Bar, ...]:
        """Feed the next closed base bar; the higher bars it completes (see the class docstring)."""
        check_next_bar(bar, self._last_time, "resampler")
        self._last_time = bar.time
        end = bar.time + self._period_ns
        done: list[Bar] = []
        offset = _new_york_offset_ns(bar.time // (3600 * NS)) if self.session else 0
        bucket = _bucket_of(bar.time, self._period_ns, self._interval_ns, self.session, offset)
        pending = self._bucket
        if pending is not None and bucket is not None and pending.key == bucket.key:
            ohlcv = self._ohlcv
            if bar.high > ohlcv[1]:
                ohlcv[1] = bar.high
            if bar.low < ohlcv[2]:
                ohlcv[2] = bar.low
            ohlcv[3] = bar.close
            ohlcv[4] += bar.volume
        else:
            if pending is not None and end >= pending.close:
                done.append(self._emit(pending))
            if bucket is not None:
                self._bucket = bucket
                self._ohlcv = [bar.open, bar.high, bar.low, bar.close, bar.volume]
        if bucket is not None and end >= bucket.close:
            done.append(self._emit(bucket))
        return tuple(done)


# -- higher-timeframe confirmation -------------------------------------------------------------------

@dataclass(frozen=True)
class HtfSettings:
    """How the higher-timeframe confirmation is scored.

    On the last closed higher bar: ``position`` weight for its close above (long) / below (short)
    its EMA of ``ema_period`` higher bars; ``slope`` weight for that EMA rising (long) / falling
    (short) since the previous higher bar; ``pattern`` weight for a bullish (long) / bearish
    (short) net direction of ``patterns`` firing on it (conventional directions,
    :func:`alphapulse.patterns.pattern_direction`). Weights are >= 0 and sum to 1.
    """

    ema_period: int = 20
    position: float = 0.4
    slope: float = 0.4
    pattern: float = 0.2
    patterns: tuple[str, ...] = DEFAULT_PATTERNS

    def __post_init__(self) -> None:
        if self.ema_period < 1:
            raise ConfigError(f"htf ema_period={self.ema_period}: must be at least 1")
        weights = (self.position, self.slope, self.pattern)
        if min(weights) < 0 or not math.isclose(sum(weights), 1.0, abs_tol=1e-9):
            raise ConfigError(f"htf weights position={self.position}, slope={self.slope}, "
                              f"pattern={self.pattern}: must be >= 0 and sum to 1")


class _Ema:
    """EMA of TA-Lib's definition (mean of the first ``period`` values, then
    ``prev + (x - prev) * 2 / (period + 1)``), in plain float64 steps so that batch and
    streaming share one code path (TA-Lib builds that fuse multiply-adds can differ in the last
    bit)."""

    __slots__ = ("count", "k", "period", "total", "value")

    def __init__(self, period: int) -> None:
        self.period = period
        self.k = 2.0 / (period + 1)
        self.count = 0
        self.total = 0.0
        self.value = math.nan

    def push(self, x: float) -> float:
        self.count += 1
        if self.count < self.period:
            self.total += x
        elif self.count == self.period:
            self.total += x
            self.value = self.total / self.period
        else:
            self.value = ((x - self.value) * self.k) + self.value
        return self.value


def _ema(values: np.ndarray, period: int) -> np.ndarray:
    average = _Ema(period)
    return np.array([average.push(x) for x in values.tolist()], dtype=np.float64)


def _net_direction(values: dict[str, np.ndarray]) -> np.ndarray:
    net = np.zeros(len(next(iter(values.values()))) if values else 0, dtype=np.int64)
    for name, column in values.items():
        net += pattern_direction(name, column)
    return net


def htf_factor(bars: Bars, higher_interval: str | int, *, session: str | None = None,
               settings: HtfSettings | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Higher-timeframe confirmation for each base bar: ``(long_factor, short_factor)`` in [0, 1].

    Uses only the last higher bar closed by the base bar's close (no look-ahead), scored as
    :class:`HtfSettings` says. NaN until that higher bar has an EMA and a previous EMA, i.e. until
    ``ema_period + 1`` higher bars have closed.
    """
    settings = settings or HtfSettings()
    higher = resample_closed(bars, higher_interval, session=session)
    h = higher.bars
    long = np.full(len(bars), np.nan)
    short = np.full(len(bars), np.nan)
    if len(h) == 0:
        return long, short
    ema_now = _ema(h.close, settings.ema_period)
    ema_before = np.concatenate(([np.nan], ema_now[:-1]))
    net = _net_direction(scan(h, settings.patterns))
    h_long = np.full(len(h), np.nan)
    h_short = np.full(len(h), np.nan)
    ready = ~np.isnan(ema_before)
    close = h.close
    if ready.any():
        pos = np.where(close > ema_now, 1.0, 0.0), np.where(close < ema_now, 1.0, 0.0)
        slope = np.where(ema_now > ema_before, 1.0, 0.0), np.where(ema_now < ema_before, 1.0, 0.0)
        pat = np.where(net > 0, 1.0, 0.0), np.where(net < 0, 1.0, 0.0)
        for out, side in ((h_long, 0), (h_short, 1)):
            # the same additions, in the same order, as the streaming scorer
            value = (0.0 + settings.position * pos[side]) + settings.slope * slope[side]
            value = value + settings.pattern * pat[side]
            out[ready] = value[ready]
    index = last_closed_index(bars.end_time, higher.close_time)
    seen = index >= 0
    long[seen] = h_long[index[seen]]
    short[seen] = h_short[index[seen]]
    return long, short


class HtfConfirmation:
    """Streaming :func:`htf_factor`: ``update(base_bar) -> (long_factor, short_factor)``.

    Equal to the batch arrays bar for bar (NaN until ``ema_period + 1`` higher bars closed).
    ``period`` is the base bar length in seconds.
    """

    def __init__(self, higher_interval: str | int, *, period: int, session: str | None = None,
                 settings: HtfSettings | None = None) -> None:
        self.settings = settings or HtfSettings()
        self._resampler = Resampler(higher_interval, period=period, session=session)
        self.reset()

    def reset(self) -> None:
        """Forget every bar (as if newly created)."""
        self._resampler.reset()
        self._ema = _Ema(self.settings.ema_period)
        self._patterns = PatternDetector(self.settings.patterns)
        self._ema_before = math.nan
        self._value: tuple[float, float] = (math.nan, math.nan)

    @property
    def is_ready(self) -> bool:
        """True once the factor is known (``ema_period + 1`` higher bars closed)."""
        return not math.isnan(self._value[0])

    def update(self, bar: Bar) -> tuple[float, float]:
        """Feed the next closed base bar; the factors for it (see :func:`htf_factor`)."""
        for higher in self._resampler.update(bar):
            self._on_higher(higher)
        return self._value

    def _on_higher(self, higher: Bar) -> None:
        values = self._patterns.update(higher)
        ema_now = self._ema.push(higher.close)
        ema_before, self._ema_before = self._ema_before, ema_now
        if math.isnan(ema_before) or math.isnan(ema_now):
            return
        net = 0
        for name, value in values.items():
            net += int(pattern_direction(name, np.array([value]))[0])
        pos = (1.0 if higher.close > ema_now else 0.0, 1.0 if higher.close < ema_now else 0.0)
        slope = (1.0 if ema_now > ema_before else 0.0, 1.0 if ema_now < ema_before else 0.0)
        pat = (1.0 if net > 0 else 0.0, 1.0 if net < 0 else 0.0)
        s = self.settings
        long, short = (((0.0 + s.position * pos[side]) + s.slope * slope[side]) + s.pattern * pat[side]
                       for side in (0, 1))
        self._value = (long, short)
