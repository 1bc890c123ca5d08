"""Loading bars of any interval from a Lean data folder — the one loader of the command line's
scan, backtest and ML commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from alphapulse.bars import Bars
from alphapulse.errors import NoDataError
from alphapulse.intervals import interval_seconds, lean_resolution
from alphapulse.lean_data import RESOLUTION_SECONDS, read_trade_bars
from alphapulse.timeframes import resample


def session_of(market: str) -> str | None:
    """The trading session used to consolidate a market's bars (US equities: New York)."""
    return "us_equity" if market == "usa" else None


def load_bars(data_dir: Path, market: str, symbol: str, interval: str, start: date | None = None,
              end: date | None = None, *, cache: bool = False) -> Bars:
    """Bars of ``interval`` whose start lies between ``start`` and ``end`` (dates inclusive): the
    native Lean resolution when its files exist, else consolidated (closed bars only, session-aligned
    for US equities) from the finest resolution that exists (minute, then hour). ``cache`` keeps parsed
    files in the data folder's parsed-file cache (:mod:`alphapulse.parsed_cache`).

    Raises :class:`NoDataError` naming the files looked for when nothing can build the interval."""
    seconds = interval_seconds(interval)
    native = lean_resolution(interval)
    tried: list[str] = []
    for resolution in dict.fromkeys((native, "minute", "hour")):
        if RESOLUTION_SECONDS[resolution] > seconds or seconds % RESOLUTION_SECONDS[resolution]:
            continue
        try:
            bars = read_trade_bars(data_dir, market, symbol, resolution, start, end, cache=cache)
        except NoDataError as exc:
            tried.append(str(exc))
            continue
        if bars.period != seconds:
            bars = resample(bars, interval, session=session_of(market))
        if len(bars) == 0:
            raise NoDataError(f"{market}:{symbol} has no complete {interval} bar between {start} and {end}")
        return bars
    raise NoDataError(tried[0] if tried else f"no Lean resolution can build {interval} bars")
