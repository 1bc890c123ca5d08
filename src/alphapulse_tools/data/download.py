"""Ensure a symbol's Binance klines for a date range are in the Lean data folder.

Resolution: ``1m`` -> Lean minute files, ``1h`` -> hour, ``1d`` -> daily. Other intervals are
stored at the Lean-native resolution below them (``3m``/``5m``/``15m``/``30m`` as minute bars,
``2h``/``4h``/``6h``/``8h``/``12h`` as hour bars); the runner consolidates them.

Source order, per calendar month of the range: the monthly archive for a month that has ended; if
it does not exist (HTTP 404: not published yet), the daily archives of its days; a day whose daily
archive does not exist yet (today, or yesterday shortly after midnight UTC) comes from the REST
klines endpoint. Each unit (a month, a day) is converted and written as soon as it is fetched, so
a failure leaves earlier units written and nothing of the failed one. Raw archives are cached under
``<data-dir>/.cache/binance/`` (the URL path), so a complete month is never downloaded twice.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from alphapulse.bars import Bars, format_time, to_ns
from alphapulse.errors import ConfigError, DownloadError, NoDataError
from alphapulse.intervals import interval_seconds, lean_resolution
from alphapulse.lean_data import minute_days, parse_rows, read_csv_text, trade_file, write_trade_bars
from alphapulse_tools.data.binance import BinanceClient, BinanceSettings
from alphapulse_tools.data.klines import read_kline_archive
from alphapulse_tools.data.series import concat_bars
from alphapulse_tools.data.symbols import (
    default_properties,
    ensure_market_hours,
    ensure_symbol_properties,
    has_symbol_properties,
    properties_from_exchange_info,
)

MARKET = "binance"
#: the Binance interval fetched for each Lean resolution
SOURCE_INTERVAL = {"minute": "1m", "hour": "1h", "daily": "1d"}
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9]{2,20}$")
CACHE_FOLDER = Path(".cache") / "binance"


@dataclass
class EnsureSummary:
    """What :func:`ensure_binance_data` did."""

    symbol: str
    interval: str
    resolution: str
    start: date
    end: date
    bars_written: int = 0
    files_written: int = 0
    days_present: int = 0
    archives_downloaded: int = 0
    archives_cached: int = 0
    rest_pages: int = 0
    first: str | None = None
    last: str | None = None
    properties_added: bool = False
    market_hours_added: bool = False
    sources: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        out = dict(self.__dict__)
        out["start"], out["end"] = self.start.isoformat(), self.end.isoformat()
        return out


def check_symbol(symbol: str) -> str:
    """The upper-case Binance symbol, or a :class:`ConfigError` for one that cannot exist."""
    upper = symbol.strip().upper()
    if not SYMBOL_PATTERN.match(upper):
        raise ConfigError(f"symbol {symbol!r} is not a Binance spot symbol "
                          "(2-20 letters and digits, e.g. BTCUSDT)")
    return upper


def storage_resolution(interval: str) -> str:
    """The Lean resolution an interval is stored at (see the module docstring)."""
    interval_seconds(interval)  # raises ConfigError naming the allowed intervals
    return lean_resolution(interval)


def _months(start: date, end: date) -> list[tuple[date, date]]:
    """(first, last) day of each calendar month overlapping [start, end], clipped to it."""
    out = []
    first = start.replace(day=1)
    while first <= end:
        following = (first + timedelta(days=32)).replace(day=1)
        out.append((max(first, start), min(following - timedelta(days=1), end)))
        first = following
    return out


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _complete_days(data_dir: Path, symbol: str, resolution: str, start: date, end: date) -> set[date]:
    """Days in [start, end] whose Lean data already holds the day's last bar (so a day stored
    while it was still running is fetched again)."""
    day_ns = 86_400 * 10**9
    period_ns = interval_seconds(SOURCE_INTERVAL[resolution]) * 10**9
    if resolution == "minute":
        files = [trade_file(data_dir, MARKET, symbol, "minute", d)
                 for d in minute_days(data_dir, MARKET, symbol) if start <= d <= end]
    else:
        single = trade_file(data_dir, MARKET, symbol, resolution)
        files = [single] if single.path.exists() else []
    last_bars: set[int] = set()
    for file in files:
        times, _ = parse_rows(file, read_csv_text(file))
        last_bars.update((times[(times % day_ns) == day_ns - period_ns] // day_ns).tolist())
    complete = {date(1970, 1, 1) + timedelta(days=n) for n in last_bars}
    return {d for d in complete if start <= d <= end}


def ensure_binance_data(symbol: str, interval: str, start: date, end: date, data_dir: str | Path, *,
                        settings: BinanceSettings | None = None, cache_dir: str | Path | None = None,
                        today: date | None = None, refresh: bool = False,
                        on_unit: Callable[[str, int, int], None] | None = None) -> EnsureSummary:
    """Download what is missing of ``symbol``'s klines from ``start`` to ``end`` (UTC dates,
    inclusive), convert it to Lean files under ``data_dir`` and add the symbol's database entries.

    Days already present in the Lean files are skipped (``refresh`` fetches them again); today is
    always fetched again, from REST, since it is incomplete. ``on_unit(label, done, total)`` is
    called after each unit (for progress output). Raises :class:`ConfigError` for a bad symbol,
    interval or range, :class:`DownloadError` naming the URL for a failed download, and
    :class:`NoDataError` when Binance has no klines at all for the range.
    """
    symbol = check_symbol(symbol)
    resolution = storage_resolution(interval)
    source = SOURCE_INTERVAL[resolution]
    period = interval_seconds(source)
    today = today or datetime.now(UTC).date()
    if start > end:
        raise ConfigError(f"start {start} is after end {end}")
    if start > today:
        raise ConfigError(f"start {start} is in the future (today is {today} UTC)")
    end = min(end, today)
    data_dir = Path(data_dir)
    settings = settings or BinanceSettings.from_env()
    summary = EnsureSummary(symbol, interval, resolution, start, end)
    present = set() if refresh else _complete_days(data_dir, symbol, resolution, start, end) - {today}
    units: list[tuple[str, list[date]]] = []  # ("monthly", days) or ("days", days)
    for first, last in _months(start, end):
        missing = [d for d in _days(first, last) if d not in present]
        summary.days_present += (last - first).days + 1 - len(missing)
        if not missing:
            continue
        month_over = (first.replace(day=1) + timedelta(days=32)).replace(day=1) <= today
        units.append(("monthly" if month_over else "days", missing))
    cache = Path(cache_dir) if cache_dir is not None else data_dir / CACHE_FOLDER
    with BinanceClient(settings, cache) as client:
        for done, (kind, days) in enumerate(units, start=1):
            label = f"{symbol} {source} {days[0]:%Y-%m}"
            bars = _fetch_unit(client, kind, symbol, source, period, days, today, summary)
            _write_unit(data_dir, symbol, resolution, bars, days, summary)
            if on_unit is not None:
                on_unit(label, done, len(units))
        if summary.bars_written == 0 and summary.days_present == 0:
            if not client.symbol_exists(symbol):
                raise DownloadError(f"{settings.api_url}/api/v3/klines: Binance does not know the symbol "
                                    f"{symbol}; check its spelling (e.g. BTCUSDT)")
            raise NoDataError(f"Binance has no {source} klines for {symbol} between {start} and {end}; "
                              "check the dates (was the symbol listed then?)")
        known = has_symbol_properties(data_dir, MARKET, symbol)
        info = None if known else client.exchange_info(symbol)
        summary.archives_downloaded = client.counts.downloaded
        summary.archives_cached = client.counts.cached
        summary.rest_pages = client.counts.rest_pages
    if not known:
        properties = properties_from_exchange_info(info) if info else default_properties(symbol)
        summary.properties_added = ensure_symbol_properties(data_dir, properties)
    summary.market_hours_added = ensure_market_hours(data_dir, MARKET)
    return summary


def _fetch_unit(client: BinanceClient, kind: str, symbol: str, source: str, period: int, days: list[date],
                today: date, summary: EnsureSummary) -> Bars:
    """The klines of ``days`` (all in one month), from the best source available."""
    parts: list[Bars] = []
    if kind == "monthly":
        path = client.archive("monthly", symbol, source, f"{days[0]:%Y-%m}")
        if path is not None:
            summary.sources.append(f"monthly {days[0]:%Y-%m}")
            return read_kline_archive(path, period)
    rest_from: date | None = None
    for day in days:
        path = None if day >= today else client.archive("daily", symbol, source, f"{day:%Y-%m-%d}")
        if path is None:
            rest_from = day
            break
        parts.append(read_kline_archive(path, period))
    if rest_from is not None:  # daily archives stop at some day: the rest comes from REST
        start_ms = to_ns(datetime.combine(rest_from, datetime.min.time())) // 1_000_000
        end_ms = to_ns(datetime.combine(days[-1] + timedelta(days=1), datetime.min.time())) // 1_000_000
        recent = client.rest_klines(symbol, source, start_ms, end_ms, period)
        # the kline still running has not closed: it is not a bar yet
        closed = min(time.time_ns(), to_ns(datetime.combine(today + timedelta(days=1), datetime.min.time())))
        parts.append(recent.between(None, closed - period * 1_000_000_000 + 1))
        summary.sources.append(f"rest {rest_from}..{days[-1]}")
    archived = len(parts) - (rest_from is not None)
    if archived:
        summary.sources.append(f"daily {days[0]}..{days[archived - 1]}")
    return concat_bars(parts, period=period, symbol=symbol)


def _write_unit(data_dir: Path, symbol: str, resolution: str, bars: Bars, days: list[date],
                summary: EnsureSummary) -> None:
    """Write the bars of the unit's days (and nothing outside them)."""
    wanted = {d.toordinal() for d in days}
    epoch_ordinal = date(1970, 1, 1).toordinal()
    day_of_bar = bars.time // 86_400_000_000_000 + epoch_ordinal
    keep = np.isin(day_of_bar, list(wanted))
    if not keep.any():
        return
    index = np.flatnonzero(keep)
    chosen = Bars(bars.time[index], bars.open[index], bars.high[index], bars.low[index], bars.close[index],
                  bars.volume[index], period=bars.period, symbol=symbol)
    files = write_trade_bars(data_dir, MARKET, symbol, resolution, chosen)
    summary.bars_written += len(chosen)
    summary.files_written += len(files)
    first, last = format_time(int(chosen.time[0])), format_time(int(chosen.time[-1]))
    summary.first = min(summary.first, first) if summary.first else first
    summary.last = max(summary.last, last) if summary.last else last
