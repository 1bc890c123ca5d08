"""Bar intervals ("1m", "5m", "15m", "1h", "4h", "1d") and Lean resolutions."""

from __future__ import annotations

from alphapulse.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

#: intervals every tool accepts, in seconds
SUPPORTED_INTERVALS: dict[str, int] = {
    "1m": 60, "3m": 180, "5m": 300, "15m": 900, "30m": 1800,
    "1h": 3600, "2h": 7200, "4h": 14400, "6h": 21600, "8h": 28800, "12h": 43200,
    "1d": 86400,
}

NS_PER_SECOND = 1_000_000_000


def interval_seconds(interval: str) -> int:
    """Length of ``interval`` (e.g. ``"1h"``) in seconds; a :class:`ConfigError` names the allowed values."""
    seconds = SUPPORTED_INTERVALS.get(interval)
    if seconds is None:
        allowed = ", ".join(SUPPORTED_INTERVALS)
        raise ConfigError(f"unknown interval {interval!r}: use one of {allowed}")
    return seconds


def interval_ns(interval: str) -> int:
    """Length of ``interval`` in nanoseconds."""
    return interval_seconds(interval) * NS_PER_SECOND


def lean_resolution(interval: str) -> str:
    """The Lean resolution whose files hold ``interval`` bars natively: minute, hour or daily.

    Other intervals (5m, 4h, ...) are consolidated from the next finer resolution.
    """
    seconds = interval_seconds(interval)
    if seconds == 86400:
        return "daily"
    if seconds % 3600 == 0:
        return "hour"
    return "minute"


def interval_name(seconds: int) -> str:
    """The interval string for a bar length in seconds (inverse of :func:`interval_seconds`)."""
    for name, value in SUPPORTED_INTERVALS.items():
        if value == seconds:
            return name
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    raise ConfigError(f"bar length of {seconds} s has no interval name")


def warm_up_days(warm_up_bars: int, seconds: int, market: str) -> int:
    """Calendar days of history loaded before a backtest's start so that ``warm_up_bars`` bars of
    ``seconds`` each are available. US equities trade 6.5 hours on about 5 days in 7: their bars are
    counted in sessions (``ceil(23400 / seconds)`` bars a session, one for daily bars) and the
    sessions in calendar days with half again as many days for weekends and holidays. The local
    runner and the Lean algorithms use the same span, so both feed their strategies the same
    history."""
    if market == "usa":
        per_session = 1 if seconds >= 86_400 else -(-23_400 // seconds)
        sessions = -(-(warm_up_bars + 2) // per_session)
        return -(-sessions * 3 // 2) + 7
    return -(-((warm_up_bars + 2) * seconds) // 86_400) + 1
