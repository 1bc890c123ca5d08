"""Downloading from a loopback Binance double serving real candles in Binance's formats."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from alphapulse.bars import Bars
from alphapulse.errors import ConfigError, DownloadError
from alphapulse.lean_data import read_csv_text, read_trade_bars, trade_file, write_trade_bars
from alphapulse_tools.data.binance import BinanceClient, BinanceSettings
from alphapulse_tools.data.download import ensure_binance_data
from alphapulse_tools.data.symbols import MARKET_HOURS_FILE, PROPERTIES_FILE
from tests.data.binance_double import (
    BTC_RULES,
    BinanceDouble,
    kline_csv,
    kline_fields,
    served_bars,
    zip_bytes,
)


def _days(bars: Bars, first: str, last: str) -> Bars:
    start = np.datetime64(first, "ns").astype(np.int64)
    end = (np.datetime64(last, "D") + np.timedelta64(1, "D")).astype("datetime64[ns]").astype(np.int64)
    return bars.between(int(start), int(end))


def test_monthly_archive_in_microseconds_becomes_the_same_lean_file(
        binance: BinanceDouble, settings: BinanceSettings, btcusdt_hours: Bars, lean_data: Path,
        tmp_path: Path) -> None:
    binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", kline_csv(btcusdt_hours, 3600, micro=True))
    binance.exchange["BTCUSDT"] = BTC_RULES
    summary = ensure_binance_data("btcusdt", "1h", date(2018, 5, 1), date(2018, 5, 5), tmp_path,
                                  settings=settings, today=date(2018, 6, 10))
    assert summary.bars_written == 120 and summary.archives_downloaded == 1
    # the Lean file built from Binance's format is Lean's own sample file, byte for byte
    ours = read_csv_text(trade_file(tmp_path, "binance", "BTCUSDT", "hour"))
    assert ours == read_csv_text(trade_file(lean_data, "binance", "BTCUSDT", "hour"))
    rows = (tmp_path / PROPERTIES_FILE).read_text().splitlines()
    assert rows[-1] == "binance,BTCUSDT,crypto,BTCUSDT,USDT,1,0.01,0.00001,BTCUSDT,5"
    hours = json.loads((tmp_path / MARKET_HOURS_FILE).read_text())["entries"]["Crypto-binance-[*]"]
    assert hours["dataTimeZone"] == "UTC" and hours["saturday"][0]["end"] == "1.00:00:00"


def test_a_downloaded_month_is_never_fetched_again(binance: BinanceDouble, settings: BinanceSettings,
                                                   btcusdt_hours: Bars, tmp_path: Path) -> None:
    path = binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", kline_csv(btcusdt_hours, 3600))
    args = ("BTCUSDT", "1h", date(2018, 5, 1), date(2018, 5, 5), tmp_path)
    ensure_binance_data(*args, settings=settings, today=date(2018, 6, 10))
    again = ensure_binance_data(*args, settings=settings, today=date(2018, 6, 10))
    assert again.days_present == 5 and again.bars_written == 0
    refreshed = ensure_binance_data(*args, settings=settings, today=date(2018, 6, 10), refresh=True)
    assert refreshed.archives_cached == 1 and refreshed.archives_downloaded == 0
    assert len(binance.requests_to(path + ".CHECKSUM")) == 1
    assert len([p for p in binance.log if p == path]) == 1
    assert len(binance.requests_to("/api/v3/exchangeInfo")) == 1  # not asked again once the row exists
    assert read_trade_bars(tmp_path, "binance", "BTCUSDT", "hour") == btcusdt_hours


def test_daily_archives_then_rest_for_days_not_archived(binance: BinanceDouble, settings: BinanceSettings,
                                                        unittest_minutes: Bars, tmp_path: Path) -> None:
    symbol = "UNITTESTBTC"
    for day in range(5, 13):  # 2017-11-05 .. 12 archived (ms); 13 and 14 only on the REST API
        stamp = f"2017-11-{day:02d}"
        one_day = kline_csv(_days(unittest_minutes, stamp, stamp), 60)
        binance.add_archive("daily", symbol, "1m", stamp, one_day)
    binance.klines[(symbol, "1m")] = kline_fields(unittest_minutes, 60)
    summary = ensure_binance_data(symbol, "5m", date(2017, 11, 5), date(2017, 11, 14), tmp_path,
                                  settings=settings, today=date(2017, 12, 1))
    expected = served_bars(_days(unittest_minutes, "2017-11-05", "2017-11-14"), 60)
    assert read_trade_bars(tmp_path, "binance", symbol, "minute") == expected
    assert summary.resolution == "minute" and summary.bars_written == len(expected)
    assert binance.requests_to("/data/spot/monthly/")  # tried the month first: 404, not published yet
    pages = binance.requests_to("/api/v3/klines")
    assert len(pages) == 3  # 2 days of ~1440 bars: 1000 + 1000 + the rest
    assert summary.sources == ["rest 2017-11-13..2017-11-14", "daily 2017-11-05..2017-11-12"]
    assert summary.archives_downloaded == 8
    # the symbol is not on exchangeInfo: the documented defaults (quote from the suffix) are used
    assert (tmp_path / PROPERTIES_FILE).read_text().splitlines()[-1] == (
        "binance,UNITTESTBTC,crypto,UNITTESTBTC,BTC,1,0.00000001,0.00000001,UNITTESTBTC,10")


def test_rest_paging_returns_every_bar_once(binance: BinanceDouble, settings: BinanceSettings,
                                            btcbusd_minutes: Bars, tmp_path: Path) -> None:
    binance.klines[("BTCBUSD", "1m")] = kline_fields(btcbusd_minutes, 60, micro=False)
    with BinanceClient(settings, tmp_path) as client:
        start = int(btcbusd_minutes.time[0]) // 1_000_000
        bars = client.rest_klines("BTCBUSD", "1m", start, start + 86_400_000, 60)
        assert client.counts.rest_pages == 2
    assert bars == btcbusd_minutes


@pytest.mark.parametrize("status", [429, 418])
def test_too_many_requests_is_retried_after_retry_after(binance: BinanceDouble, settings: BinanceSettings,
                                                        btcusdt_hours: Bars, tmp_path: Path, status: int) -> None:
    path = binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", kline_csv(btcusdt_hours, 3600))
    binance.throttle[path] = 2
    binance.throttle_status = status
    sleeps: list[float] = []
    with BinanceClient(settings, tmp_path, sleep=sleeps.append) as client:
        assert client.archive("monthly", "BTCUSDT", "1h", "2018-05") is not None
        assert client.counts.retries == 2
    assert sleeps == [0.0, 0.0]  # Retry-After: 0 honoured
    assert len([p for p in binance.log if p == path]) == 3


def test_persistent_server_errors_give_up_with_the_url(binance: BinanceDouble, settings: BinanceSettings,
                                                       tmp_path: Path) -> None:
    path = binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", "")
    binance.broken[path + ".CHECKSUM"] = 503
    sleeps: list[float] = []
    with BinanceClient(settings, tmp_path, sleep=sleeps.append) as client, \
            pytest.raises(DownloadError, match=r"CHECKSUM: gave up after 4 attempts \(HTTP 503"):
        client.archive("monthly", "BTCUSDT", "1h", "2018-05")
    assert sleeps == [0.001, 0.002, 0.004]  # bounded exponential backoff


def test_checksum_mismatch_writes_nothing(binance: BinanceDouble, settings: BinanceSettings,
                                         btcusdt_hours: Bars, tmp_path: Path) -> None:
    binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", kline_csv(btcusdt_hours, 3600),
                        checksum="0" * 64 + "  BTCUSDT-1h-2018-05.zip\n")
    with pytest.raises(DownloadError, match=r"BTCUSDT-1h-2018-05\.zip: checksum mismatch"):
        ensure_binance_data("BTCUSDT", "1h", date(2018, 5, 1), date(2018, 5, 5), tmp_path, settings=settings,
                            today=date(2018, 6, 10))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_truncated_archive_is_rejected(binance: BinanceDouble, settings: BinanceSettings,
                                       btcusdt_hours: Bars, tmp_path: Path) -> None:
    whole = zip_bytes("BTCUSDT-1h-2018-05.csv", kline_csv(btcusdt_hours, 3600))
    binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", "", data=whole[: len(whole) // 2])
    with pytest.raises(DownloadError, match="corrupt archive"):
        ensure_binance_data("BTCUSDT", "1h", date(2018, 5, 1), date(2018, 5, 5), tmp_path, settings=settings,
                            today=date(2018, 6, 10))
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("fetched", [1000, None])  # part of the file; all of it (the server answers 416)
def test_an_interrupted_download_resumes_with_a_range_request(binance: BinanceDouble,
                                                              settings: BinanceSettings,
                                                              btcusdt_hours: Bars, tmp_path: Path,
                                                              fetched: int | None) -> None:
    path = binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", kline_csv(btcusdt_hours, 3600))
    part = tmp_path / path.lstrip("/")
    part = part.with_name(part.name + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(binance.files[path][:fetched])
    with BinanceClient(settings, tmp_path) as client:
        done = client.archive("monthly", "BTCUSDT", "1h", "2018-05")
    assert binance.range_requests == [path]
    assert done is not None and done.read_bytes() == binance.files[path] and not part.exists()


def test_unknown_symbol_is_named(binance: BinanceDouble, settings: BinanceSettings, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="does not know the symbol NOSUCHCOIN"):
        ensure_binance_data("NOSUCHCOIN", "1d", date(2024, 1, 1), date(2024, 1, 3), tmp_path,
                            settings=settings, today=date(2024, 1, 3))
    assert not (tmp_path / "crypto").exists()


@pytest.mark.parametrize(("symbol", "interval", "start", "end", "message"), [
    ("BTC-USDT", "1h", date(2024, 1, 1), date(2024, 1, 2), "not a Binance spot symbol"),
    ("BTCUSDT", "7m", date(2024, 1, 1), date(2024, 1, 2), "unknown interval '7m'"),
    ("BTCUSDT", "1h", date(2024, 1, 3), date(2024, 1, 2), "start 2024-01-03 is after end"),
    ("BTCUSDT", "1h", date(2030, 1, 1), date(2030, 1, 2), "is in the future"),
])
def test_bad_requests_fail_before_any_download(binance: BinanceDouble, settings: BinanceSettings,
                                               tmp_path: Path, symbol: str, interval: str, start: date,
                                               end: date, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ensure_binance_data(symbol, interval, start, end, tmp_path, settings=settings, today=date(2024, 6, 1))
    assert binance.log == []


def test_base_urls_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPHAPULSE_BINANCE_DATA_URL", "http://127.0.0.1:9/mirror/")
    monkeypatch.setenv("ALPHAPULSE_BINANCE_API_URL", "http://127.0.0.1:9")
    settings = BinanceSettings.from_env()
    assert (settings.data_url, settings.api_url) == ("http://127.0.0.1:9/mirror", "http://127.0.0.1:9")
    assert BinanceSettings.from_env(data_url="http://127.0.0.1:8").data_url == "http://127.0.0.1:8"
    with pytest.raises(ConfigError, match="not an http"):
        BinanceSettings(data_url="ftp://example")


def test_todays_running_kline_is_not_stored(binance: BinanceDouble, settings: BinanceSettings,
                                            btcbusd_minutes: Bars, tmp_path: Path) -> None:
    import time
    from datetime import UTC, datetime

    today = datetime.now(UTC).date()
    shift = int(np.datetime64(today, "ns").astype(np.int64)) - int(btcbusd_minutes.time[0])
    moved = Bars(btcbusd_minutes.time + shift, btcbusd_minutes.open, btcbusd_minutes.high, btcbusd_minutes.low,
                 btcbusd_minutes.close, btcbusd_minutes.volume, period=60)
    binance.klines[("BTCBUSD", "1m")] = kline_fields(moved, 60)  # the whole day, as if already known
    if time.time_ns() - int(moved.time[0]) < 180 * 10**9:
        pytest.skip("within 3 minutes of midnight UTC no bar of today has surely closed yet")
    ensure_binance_data("BTCBUSD", "1m", today, today, tmp_path, settings=settings)
    stored = read_trade_bars(tmp_path, "binance", "BTCBUSD", "minute")
    now = time.time_ns()
    assert int(stored.time[-1]) + 60 * 10**9 <= now  # every stored bar has closed
    assert stored == moved.between(None, int(stored.time[-1]) + 1)


def test_a_day_stored_before_it_ended_is_fetched_again(binance: BinanceDouble, settings: BinanceSettings,
                                                       btcusdt_hours: Bars, tmp_path: Path) -> None:
    write_trade_bars(tmp_path, "binance", "BTCUSDT", "hour", btcusdt_hours[:-3])  # 2018-05-05 stops at 20:00
    binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", kline_csv(btcusdt_hours, 3600))
    summary = ensure_binance_data("BTCUSDT", "1h", date(2018, 5, 1), date(2018, 5, 5), tmp_path,
                                  settings=settings, today=date(2018, 6, 10))
    assert summary.days_present == 4 and summary.bars_written == 24
    assert read_trade_bars(tmp_path, "binance", "BTCUSDT", "hour") == btcusdt_hours
