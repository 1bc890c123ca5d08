"""The main job's path end to end against a loopback Binance mirror (no internet).

The mirror serves monthly kline archives built from real candles: Lean's Bitfinex BTCUSD hour
sample (733 consecutive real hourly candles of October 2013), placed on the hours from
2023-12-20 00:00 UTC on so that they cover the main job's range and its warm-up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from alphapulse.bars import Bars, parse_time
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.runner.main_job import main, run_main_job
from tests.data.binance_double import BTC_RULES, BinanceDouble, kline_csv, serving

FIRST_HOUR = "2023-12-20T00:00:00Z"


@pytest.fixture
def mirror(lean_data: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BinanceDouble]:
    real = read_trade_bars(lean_data, "bitfinex", "BTCUSD", "hour")
    times = parse_time(FIRST_HOUR) + 3_600 * 10**9 * np.arange(len(real))
    bars = Bars(times, real.open, real.high, real.low, real.close, real.volume, period=3600)
    double = BinanceDouble()
    january = parse_time("2024-01-01T00:00:00Z")
    double.add_archive("monthly", "BTCUSDT", "1h", "2023-12", kline_csv(bars.between(None, january), 3600))
    double.add_archive("monthly", "BTCUSDT", "1h", "2024-01", kline_csv(bars.between(january, None), 3600))
    double.exchange["BTCUSDT"] = BTC_RULES
    with serving(double):
        monkeypatch.setenv("ALPHAPULSE_BINANCE_DATA_URL", double.url)
        monkeypatch.setenv("ALPHAPULSE_BINANCE_API_URL", double.url)
        yield double


@pytest.mark.parametrize("strategy", ["pattern-confluence", "macd-crossover"])
def test_main_job_downloads_backtests_and_reports(mirror: BinanceDouble, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch, strategy: str) -> None:
    from alphapulse.strategies import STRATEGIES

    if strategy not in STRATEGIES:
        pytest.skip(f"{strategy} is not in alphapulse.strategies yet")
    monkeypatch.chdir(tmp_path)
    lines: list[str] = []
    outcome = run_main_job(data_dir=tmp_path / "data", out=tmp_path / "out", start=date(2024, 1, 1),
                           end=date(2024, 1, 18), strategy=strategy, echo=lines.append)
    assert outcome.folder == tmp_path / "out"
    assert (tmp_path / "out" / "report.html").is_file()
    assert (tmp_path / "out" / f"{outcome.run_id}.json").is_file()
    assert (tmp_path / "data" / "crypto" / "binance" / "hour" / "btcusdt_trade.zip").is_file()
    assert any(line.startswith("report:") for line in lines)
    archives = mirror.requests_to("/data/spot/monthly/klines/BTCUSDT/1h/")
    # a second run finds the data in place: no archive is fetched again
    run_main_job(data_dir=tmp_path / "data", out=tmp_path / "again", start=date(2024, 1, 1),
                 end=date(2024, 1, 18), strategy=strategy, echo=lines.append)
    assert mirror.requests_to("/data/spot/monthly/klines/BTCUSDT/1h/") == archives
    first = json.loads((tmp_path / "out" / f"{outcome.run_id}.json").read_text())["statistics"]
    assert first["Start Equity"] == "100000"


def test_main_job_bad_date_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--start", "2024-02-30", "--strategy", "macd-crossover"]) == 2
    assert "2024-02-30" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
