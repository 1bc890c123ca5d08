"""``alphapulse data ...`` end to end: exit codes, one-line errors, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphapulse.bars import Bars
from alphapulse.lean_data import read_csv_text, read_trade_bars, trade_file, write_csv_text
from alphapulse_tools.cli import main
from tests.data.binance_double import BTC_RULES, BinanceDouble, kline_csv


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_download_with_flags(binance: BinanceDouble, btcusdt_hours: Bars, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", kline_csv(btcusdt_hours, 3600))
    binance.exchange["BTCUSDT"] = BTC_RULES
    code, out, _ = _run(capsys, "data", "download", "--symbol", "BTCUSDT", "--interval", "1h", "--start",
                        "2018-05-01", "--end", "2018-05-05", "--data-dir", str(tmp_path),
                        "--data-url", binance.url, "--api-url", binance.url)
    assert code == 0 and "120 bars written" in out
    assert read_trade_bars(tmp_path, "binance", "BTCUSDT", "hour") == btcusdt_hours


def test_download_with_environment_and_json(binance: BinanceDouble, btcusdt_hours: Bars, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", kline_csv(btcusdt_hours, 3600))
    monkeypatch.setenv("ALPHAPULSE_BINANCE_DATA_URL", binance.url)
    monkeypatch.setenv("ALPHAPULSE_BINANCE_API_URL", binance.url)
    code, out, _ = _run(capsys, "data", "download", "-s", "btcusdt", "-i", "4h", "--start", "2018-05-01",
                        "--end", "2018-05-05", "--data-dir", str(tmp_path), "--json")
    summary = json.loads(out)
    assert code == 0 and summary["resolution"] == "hour" and summary["bars_written"] == 120


def test_download_checksum_mismatch_is_one_line_and_exit_2(binance: BinanceDouble, btcusdt_hours: Bars,
                                                           tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    binance.add_archive("monthly", "BTCUSDT", "1h", "2018-05", kline_csv(btcusdt_hours, 3600),
                        checksum="f" * 64 + "  BTCUSDT-1h-2018-05.zip\n")
    code, _, err = _run(capsys, "data", "download", "-s", "BTCUSDT", "-i", "1h", "--start", "2018-05-01",
                        "--end", "2018-05-05", "--data-dir", str(tmp_path), "--data-url", binance.url,
                        "--api-url", binance.url)
    line = _one_error_line(err)
    assert code == 2 and f"{binance.url}/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2018-05.zip" in line
    assert "checksum mismatch" in line and not (tmp_path / "crypto").exists()


@pytest.mark.parametrize(("argv", "message"), [
    (["--symbol", "BTCUSDT", "--interval", "7m", "--start", "2018-05-01"], "unknown interval '7m'"),
    (["--symbol", "BTCUSDT", "--interval", "1h", "--start", "2018-13-01"],
     "--start '2018-13-01' is not a date"),
    (["--symbol", "NOSUCHCOIN", "--interval", "1d", "--start", "2018-05-01", "--end", "2018-05-02"],
     "Binance does not know the symbol NOSUCHCOIN"),
])
def test_download_bad_input(binance: BinanceDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            argv: list[str], message: str) -> None:
    code, _, err = _run(capsys, "data", "download", *argv, "--data-dir", str(tmp_path), "--data-url",
                        binance.url, "--api-url", binance.url)
    assert code == 2 and message in _one_error_line(err)


def test_convert_and_its_bad_input(btcusdt_hours: Bars, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "BTCUSDT-1h-2018-05.csv"
    good.write_text(kline_csv(btcusdt_hours, 3600))
    data = tmp_path / "data"
    code, out, _ = _run(capsys, "data", "convert", str(good), "-s", "BTCUSDT", "-i", "1h",
                        "--data-dir", str(data))
    assert code == 0 and "120 bars" in out
    assert read_trade_bars(data, "binance", "BTCUSDT", "hour") == btcusdt_hours

    short = tmp_path / "short.csv"
    short.write_text("1525132800000,9246.01,9248.99,8934.44,8955.01\n")
    code, _, err = _run(capsys, "data", "convert", str(short), "-s", "BTCUSDT", "-i", "1h",
                        "--data-dir", str(tmp_path / "other"))
    assert code == 2 and f"{short}: row 1 has 5 columns, expected 12" in _one_error_line(err)
    assert not (tmp_path / "other").exists()

    code, out, _ = _run(capsys, "data", "convert", "-s", "BTCUSDT", "-i", "1d", "--from-minute",
                        "--data-dir", str(data))
    assert code == 2  # there are no minute files to build from


def test_validate_reports_and_exit_codes(lean_data: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "data", "validate", "-s", "BTCUSDT", "-i", "1h", "--data-dir", str(lean_data),
                        "--json")
    report = json.loads(out)
    assert code == 0 and report["usable"] and report["rows"] == 120

    rows = read_csv_text(trade_file(lean_data, "binance", "BTCUSDT", "hour")).split("\n")
    broken = trade_file(tmp_path, "binance", "BTCUSDT", "hour")
    write_csv_text(broken, "\n".join([*rows[:4], rows[5], rows[4], *rows[6:]]))
    code, out, err = _run(capsys, "data", "validate", "-s", "BTCUSDT", "-i", "1h",
                          "--data-dir", str(tmp_path))
    assert code == 2 and "unusable" in out
    assert f"{broken.path} row 6: order" in _one_error_line(err)
    code, out, _ = _run(capsys, "data", "validate", "-s", "BTCUSDT", "-i", "1h", "--data-dir", str(tmp_path),
                        "--repair")
    assert code == 0 and "repaired" in out
    assert read_csv_text(broken) == "\n".join(rows)


def test_info(lean_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "data", "info", "--data-dir", str(lean_data), "--json")
    listing = json.loads(out)
    assert code == 0 and len(listing["series"]) == 12 and listing["databases"]["market-hours"]
    code, out, _ = _run(capsys, "data", "info", "--data-dir", str(lean_data))
    assert code == 0 and "BTCBUSD" in out and "SPY" in out
    code, _, err = _run(capsys, "data", "info", "--data-dir", str(tmp_path / "missing"))
    assert code == 2 and "no such data folder" in _one_error_line(err)
