"""``alphapulse scan`` on Lean's real sample data: the table matches TA-Lib and the strategy; bad input exits 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import talib

from alphapulse.config import ContractConfig
from alphapulse.lean_data import read_trade_bars
from alphapulse.patterns import ALL_PATTERNS
from alphapulse.strategies import create_strategy
from alphapulse.timeframes import resample
from alphapulse_tools.cli import main


def _scan(tmp_path, *args: str, fmt: str = "csv") -> tuple[int, object]:
    out = tmp_path / f"scan.{fmt}"
    code = main(["scan", *args, "--format", fmt, "--out", str(out)])
    return code, out


def test_minute_csv_has_every_pattern_and_matches_talib(tmp_path, lean_data, capsys):
    code, out = _scan(tmp_path, "--symbol", "BTCUSD", "--market", "coinbase", "--interval", "1m",
                      "--data-dir", str(lean_data), "--strategy", "rsi-mean-reversion",
                      "--start", "2018-04-04", "--end", "2018-04-05")
    assert code == 0
    table = pd.read_csv(out)
    bars = read_trade_bars(lean_data, "coinbase", "BTCUSD", "minute",
                           pd.Timestamp("2018-04-04").date(), pd.Timestamp("2018-04-05").date())
    assert len(table) == len(bars)
    assert table["time"].iloc[0] == "2018-04-04T00:00:00Z"
    for name in ALL_PATTERNS:
        expected = getattr(talib, name)(bars.open, bars.high, bars.low, bars.close)
        assert np.array_equal(table[name].to_numpy(), expected), name
    assert np.allclose(table["rsi_14"], talib.RSI(bars.close, 14), equal_nan=True, rtol=1e-9)
    assert table["CDLENGULFING_confidence"].notna().sum() == (table["CDLENGULFING"] != 0).sum() > 0
    signals = create_strategy("rsi-mean-reversion", ContractConfig.defaults("BTCUSD")).signals(bars)
    marked = table[table["direction"].notna()]
    assert len(marked) == len(signals) > 0
    assert marked["direction"].tolist() == [s.direction.label for s in signals]
    longs = marked[marked["direction"] == "long"]
    assert (longs["stop"] < longs["entry"]).all() and (longs["target"] > longs["entry"]).all()
    assert f"{len(bars)} bars, {len(signals)} signals" in capsys.readouterr().out


def test_daily_equity_json(tmp_path, lean_data):
    code, out = _scan(tmp_path, "--symbol", "spy", "--market", "usa", "--interval", "1d",
                      "--data-dir", str(lean_data), "--strategy", "macd-crossover", fmt="json")
    assert code == 0
    rows = json.loads(out.read_text())
    bars = read_trade_bars(lean_data, "usa", "SPY", "daily")
    assert len(rows) == len(bars)
    assert rows[0]["close"] == bars.close[0]
    assert {"CDLENGULFING", "macd_histogram", "direction", "entry", "stop", "target", "score"} <= rows[0].keys()
    flagged = [r for r in rows if r["direction"] is not None]
    assert flagged and all(r["direction"] in ("long", "flat") for r in flagged)


def test_interval_without_native_files_is_consolidated(tmp_path, lean_data):
    code, out = _scan(tmp_path, "--symbol", "BTCUSD", "--market", "coinbase", "--interval", "15m",
                      "--data-dir", str(lean_data), "--strategy", "macd-crossover")
    assert code == 0
    table = pd.read_csv(out)
    expected = resample(read_trade_bars(lean_data, "coinbase", "BTCUSD", "minute"), "15m")
    assert len(table) == len(expected)
    assert np.array_equal(table["close"].to_numpy(), expected.close)


def test_default_strategy_reports_pattern_confidence(tmp_path, lean_data):
    from alphapulse.confidence import confidence
    from alphapulse.patterns import scan

    code, out = _scan(tmp_path, "--symbol", "ETHUSD", "--market", "coinbase", "--interval", "1m",
                      "--data-dir", str(lean_data), "--start", "2017-09-03", "--end", "2017-09-03")
    assert code == 0
    table = pd.read_csv(out)
    bars = read_trade_bars(lean_data, "coinbase", "ETHUSD", "minute",
                           pd.Timestamp("2017-09-03").date(), pd.Timestamp("2017-09-03").date())
    expected = confidence(bars, scan(bars))
    for name in ALL_PATTERNS:
        column = table[f"{name}_confidence"].to_numpy()
        assert np.array_equal(np.isnan(column), table[name].to_numpy() == 0), name
        np.testing.assert_allclose(column, expected[name], rtol=1e-9, equal_nan=True)
    signals = create_strategy("pattern-confluence", ContractConfig.defaults("ETHUSD")).signals(bars)
    assert table["direction"].notna().sum() == len(signals)
    assert {"ema_200", "volume_ratio_20", "rsi_14"} <= set(table.columns)


def test_higher_timeframe_shorter_than_the_interval_is_refused(tmp_path, lean_data, capsys):
    config = tmp_path / "contracts.json"
    config.write_text(json.dumps({"BTCUSDT": {"timeframe": "1h", "higher_timeframe": "4h"}}))
    code, _ = _scan(tmp_path, "--symbol", "BTCUSDT", "--interval", "1d", "--data-dir", str(lean_data),
                    "--config", str(config))
    assert code == 2 and "higher_timeframe 4h" in capsys.readouterr().err


def test_contract_from_config_file(tmp_path, lean_data):
    config = tmp_path / "contracts.json"
    config.write_text(json.dumps({"BTCUSDT": {"strategy": "rsi-mean-reversion",
                                              "indicators": {"rsi": {"period": 7}}}}))
    code, out = _scan(tmp_path, "--symbol", "BTCUSDT", "--interval", "1h", "--data-dir", str(lean_data),
                      "--config", str(config))
    assert code == 0
    table = pd.read_csv(out)
    assert "rsi_7" in table.columns and len(table) == 120


@pytest.mark.parametrize(("args", "message"), [
    (["--symbol", "BTCUSDT", "--interval", "1h", "--format", "xml"], "--format 'xml': use csv or json"),
    (["--symbol", "BTCUSDT", "--interval", "7m"], "unknown interval '7m'"),
    (["--symbol", "NOPE", "--interval", "1h"], "NOPE"),
    (["--symbol", "BTCUSDT", "--interval", "1h", "--start", "May 1"], "--start 'May 1' is not a date"),
    (["--symbol", "BTCUSDT", "--interval", "1h", "--start", "2018-05-04", "--end", "2018-05-01"],
     "--start 2018-05-04 is after --end 2018-05-01"),
    (["--symbol", "BTCUSDT", "--interval", "1h", "--strategy", "grid"], "unknown strategy 'grid'"),
    (["--symbol", "BTCUSDT", "--interval", "1h", "--config", "missing.json"],
     "missing.json: no such configuration file"),
    (["--symbol", "BTCUSDT", "--interval", "1h", "--start", "2020-01-01"], "no binance:BTCUSDT hour bars"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, lean_data, capsys, args, message):
    out = tmp_path / "x.csv"
    argv = ["scan", *args, "--data-dir", str(lean_data), "--out", str(out)]
    if "--format" not in args:
        argv += ["--format", "csv"]
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_missing_data_dir_and_output_folder(tmp_path, lean_data, capsys):
    assert main(["scan", "--symbol", "BTCUSDT", "--interval", "1h", "--data-dir", str(tmp_path / "none"),
                 "--out", str(tmp_path / "x.csv")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["scan", "--symbol", "BTCUSDT", "--interval", "1h", "--data-dir", str(lean_data),
                 "--strategy", "macd-crossover", "--out", str(tmp_path / "no" / "x.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
