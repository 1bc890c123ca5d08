"""Converting kline files to Lean files and aggregating minute bars into hours and days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from alphapulse.bars import Bars
from alphapulse.errors import ConfigError, DataError
from alphapulse.lean_data import read_trade_bars, write_trade_bars
from alphapulse_tools.data.convert import aggregate_from_finer, convert_klines
from alphapulse_tools.data.symbols import PROPERTIES_FILE
from tests.data.binance_double import kline_csv, served_bars, zip_bytes


def test_archives_and_csv_files_convert_to_lean_minute_files(tmp_path: Path, unittest_minutes: Bars) -> None:
    first, second = unittest_minutes[:3000], unittest_minutes[3000:6000]
    (tmp_path / "a.zip").write_bytes(zip_bytes("a.csv", kline_csv(first, 60, micro=True)))
    (tmp_path / "b.csv").write_text(kline_csv(second, 60))
    summary = convert_klines([tmp_path / "a.zip", tmp_path / "b.csv"], "UNITTESTBTC", "1m", tmp_path / "data")
    expected = served_bars(unittest_minutes[:6000], 60)
    assert read_trade_bars(tmp_path / "data", "binance", "UNITTESTBTC", "minute") == expected
    days = set((expected.time // 86_400_000_000_000).tolist())
    assert summary.bars_written == 6000 and summary.files_written == len(days)
    assert (tmp_path / "data" / PROPERTIES_FILE).exists()


def test_a_bad_file_among_good_ones_writes_nothing(tmp_path: Path, btcusdt_hours: Bars) -> None:
    good = tmp_path / "good.csv"
    good.write_text(kline_csv(btcusdt_hours, 3600))
    bad = tmp_path / "bad.csv"
    rows = kline_csv(btcusdt_hours, 3600).splitlines()
    rows[17] = rows[17].replace(rows[17].split(",")[2], "12x4", 1)
    bad.write_text("\n".join(rows))
    with pytest.raises(DataError, match=r"bad\.csv: row 18 has a non-numeric field"):
        convert_klines([good, bad], "BTCUSDT", "1h", tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_the_interval_must_match_the_file(tmp_path: Path, btcusdt_hours: Bars) -> None:
    path = tmp_path / "hours.csv"
    path.write_text(kline_csv(btcusdt_hours, 3600))
    with pytest.raises(ConfigError, match="cannot store 5m bars in Lean files"):
        convert_klines([path], "BTCUSDT", "5m", tmp_path / "data")
    with pytest.raises(DataError, match=r"hours\.csv: row 2: open time 2018-05-01T01:00:00Z is not on"):
        convert_klines([path], "BTCUSDT", "1d", tmp_path / "data")
    with pytest.raises(ConfigError, match="unknown interval"):
        convert_klines([path], "BTCUSDT", "2m", tmp_path / "data")
    assert not (tmp_path / "data").exists()


def _pandas_resample(bars: Bars, rule: str) -> Bars:
    frame = bars.to_frame().resample(rule, label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    frame = frame[bars.to_frame()["open"].resample(rule).count() > 0]
    return Bars.from_frame(frame)


@pytest.mark.parametrize(("interval", "rule"), [("1h", "1h"), ("1d", "1D")])
def test_aggregation_from_minute_matches_pandas_resample(tmp_path: Path, lean_data: Path, interval: str,
                                                         rule: str) -> None:
    minutes = read_trade_bars(lean_data, "coinbase", "BTCUSD", "minute")
    write_trade_bars(tmp_path, "binance", "BTCUSD", "minute", minutes)
    summary = aggregate_from_finer("BTCUSD", interval, tmp_path)
    built = read_trade_bars(tmp_path, "binance", "BTCUSD", summary.resolution)
    expected = _pandas_resample(minutes, rule)
    assert np.array_equal(built.time, expected.time)
    for column in ("open", "high", "low", "close"):
        assert np.array_equal(getattr(built, column), getattr(expected, column))
    assert np.allclose(built.volume, expected.volume, rtol=1e-12)


def test_daily_bars_built_from_minutes_match_leans_daily_file_where_both_exist(lean_data: Path,
                                                                              tmp_path: Path) -> None:
    # SPY 2013-10-07: Lean's daily bar is the aggregate of the regular-session minute bars
    minutes = read_trade_bars(lean_data, "usa", "SPY", "minute", date(2013, 10, 7), date(2013, 10, 7))
    frame = minutes.to_frame().tz_convert("America/New_York").between_time("09:30", "15:59")
    daily = read_trade_bars(lean_data, "usa", "SPY", "daily", date(2013, 10, 7), date(2013, 10, 7))
    assert daily.open[0] == frame["open"].iloc[0] and daily.close[0] == frame["close"].iloc[-1]
    assert daily.high[0] == frame["high"].max() and daily.low[0] == frame["low"].min()
    with pytest.raises(ConfigError, match="24/7 crypto markets"):
        aggregate_from_finer("SPY", "1d", lean_data, market="usa")
