"""Fast reading of Lean trade files: the batched minute parse and the parsed-file cache give the
very arrays that file-by-file :func:`parse_rows` gives (the reference), on the real sample files."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from alphapulse.errors import DataError
from alphapulse.lean_data import (
    CACHE_FOLDER,
    _hour_times,
    cache_path,
    minute_days,
    parse_rows,
    read_csv_text,
    read_rows,
    read_trade_bars,
    trade_file,
    write_csv_text,
)

#: (market, symbol) of the real minute samples (crypto in UTC, an equity in New York time)
MINUTE_SAMPLES = [("coinbase", "BTCUSD"), ("usa", "SPY")]
COLUMNS = ("time", "open", "high", "low", "close", "volume")


def _reference(files):
    return [parse_rows(f, read_csv_text(f)) for f in files]


def _assert_same_rows(got, expected) -> None:
    assert len(got) == len(expected)
    for (times, values), (want_times, want_values) in zip(got, expected, strict=True):
        assert times.dtype == want_times.dtype and values.dtype == want_values.dtype
        assert values.shape == want_values.shape
        assert np.array_equal(times, want_times)
        assert np.array_equal(values.view(np.int64), want_values.view(np.int64))  # bit for bit


def _assert_same_bars(a, b) -> None:
    for column in COLUMNS:
        x, y = getattr(a, column), getattr(b, column)
        assert x.dtype == y.dtype and np.array_equal(x, y), column


@pytest.mark.parametrize(("market", "symbol"), MINUTE_SAMPLES)
def test_batched_minute_parse_equals_file_by_file(lean_data: Path, market: str, symbol: str) -> None:
    files = [trade_file(lean_data, market, symbol, "minute", d) for d in minute_days(lean_data, market, symbol)]
    assert len(files) > 1
    _assert_same_rows(read_rows(lean_data, files), _reference(files))


def _copy_days(lean_data: Path, target: Path, market: str, symbol: str, count: int) -> list:
    days = minute_days(lean_data, market, symbol)[:count]
    for d in days:
        source = trade_file(lean_data, market, symbol, "minute", d)
        copy = trade_file(target, market, symbol, "minute", d)
        copy.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.path, copy.path)
    return [trade_file(target, market, symbol, "minute", d) for d in days]


def test_batched_parse_handles_odd_files_like_parse_rows(lean_data: Path, tmp_path: Path) -> None:
    files = _copy_days(lean_data, tmp_path, "coinbase", "BTCUSD", 3)
    texts = [read_csv_text(f) for f in files]
    write_csv_text(files[0], texts[0].replace("\n", "\r\n"))  # Windows line ends
    write_csv_text(files[1], texts[1].rstrip("\n") + "\n")  # a final newline
    extra = trade_file(tmp_path, "coinbase", "BTCUSD", "minute", date(2030, 1, 1))
    write_csv_text(extra, "")  # an empty file
    files.append(extra)
    _assert_same_rows(read_rows(tmp_path, files), _reference(files))
    # a malformed row: the same error as file by file, naming the file and row
    lines = texts[2].splitlines()
    lines[5] = lines[5].replace(",", ",x", 1)
    write_csv_text(files[2], "\n".join(lines))
    with pytest.raises(DataError) as batched:
        read_rows(tmp_path, files)
    with pytest.raises(DataError) as alone:
        parse_rows(files[2], read_csv_text(files[2]))
    assert str(batched.value) == str(alone.value)
    assert "row 6" in str(alone.value)


@pytest.mark.parametrize(("market", "symbol"), MINUTE_SAMPLES)
def test_cache_gives_the_same_bars_cold_and_warm(lean_data: Path, tmp_path: Path, market: str,
                                                 symbol: str, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _copy_days(lean_data, tmp_path, market, symbol, 3)
    plain = read_trade_bars(tmp_path, market, symbol, "minute")
    cold = read_trade_bars(tmp_path, market, symbol, "minute", cache=True)
    _assert_same_bars(cold, plain)
    assert all(cache_path(tmp_path, f).is_file() for f in files)
    assert cache_path(tmp_path, files[0]).is_relative_to(tmp_path / CACHE_FOLDER)

    def no_parsing(*args, **kwargs):
        raise AssertionError("a warm read must not parse CSV")

    monkeypatch.setattr("alphapulse.lean_data.parse_rows", no_parsing)
    monkeypatch.setattr("alphapulse.lean_data.parse_minute_files", no_parsing)
    _assert_same_bars(read_trade_bars(tmp_path, market, symbol, "minute", cache=True), plain)


def test_cache_is_invalidated_by_a_changed_file(lean_data: Path, tmp_path: Path) -> None:
    files = _copy_days(lean_data, tmp_path, "coinbase", "BTCUSD", 2)
    read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute", cache=True)
    text = read_csv_text(files[1])
    lines = text.splitlines()
    del lines[10:20]  # the same file, fewer rows
    write_csv_text(files[1], "\n".join(lines))
    _assert_same_bars(read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute", cache=True),
                      read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute"))
    assert len(read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute", cache=True)) == \
        len(text.splitlines()) - 10 + len(read_csv_text(files[0]).splitlines())


def test_a_damaged_cache_file_is_ignored_and_rewritten(lean_data: Path, tmp_path: Path) -> None:
    shutil.copytree(lean_data / "crypto" / "binance" / "hour", tmp_path / "crypto" / "binance" / "hour")
    plain = read_trade_bars(tmp_path, "binance", "BTCUSDT", "hour")
    read_trade_bars(tmp_path, "binance", "BTCUSDT", "hour", cache=True)
    where = cache_path(tmp_path, trade_file(tmp_path, "binance", "BTCUSDT", "hour"))
    good = where.read_bytes()
    for damage in (b"", b"not an npy file", good[: len(good) // 2]):
        where.write_bytes(damage)
        _assert_same_bars(read_trade_bars(tmp_path, "binance", "BTCUSDT", "hour", cache=True), plain)
        assert where.read_bytes() == good


def test_a_read_only_data_folder_is_never_written(lean_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(lean_data / "crypto" / "binance" / "hour", data / "crypto" / "binance" / "hour")
    plain = read_trade_bars(data, "binance", "BTCUSDT", "hour")
    data.chmod(0o555)
    try:
        _assert_same_bars(read_trade_bars(data, "binance", "BTCUSDT", "hour", cache=True), plain)
        assert not (data / ".cache").exists()
    finally:
        data.chmod(0o755)


def _hour_and_daily_files(lean_data: Path) -> list:
    found = []
    for path in sorted(lean_data.rglob("*.zip")):
        parts = path.relative_to(lean_data).parts
        if parts[0] in ("crypto", "equity") and parts[2] in ("hour", "daily"):
            symbol = path.name.removesuffix(".zip").removesuffix("_trade")
            found.append(trade_file(lean_data, parts[1], symbol, parts[2]))
    return found


def test_hour_and_daily_times_equal_pandas_parsing(lean_data: Path) -> None:
    import pandas as pd

    files = _hour_and_daily_files(lean_data)
    assert len(files) >= 5
    for file in files:
        text = read_csv_text(file)
        stamps = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False)[0]
        expected = pd.DatetimeIndex(pd.to_datetime(stamps, format="%Y%m%d %H:%M")).as_unit("ns").asi8
        times = parse_rows(file, text)[0]
        local = _hour_times(text, len(stamps))
        assert local is not None and np.array_equal(local, expected), file.path
        assert len(times) == len(expected)


@pytest.mark.parametrize("stamp", ["20200230 00:00", "20201301 00:00", "20200101 24:00", "20200101 00:60",
                                   "2020-01-01 00:00", "20200101 0:00", "20200101T00:00", "00000101 00:00",
                                   "20200229 23:59", " 20200101 01:00"])
def test_odd_hour_stamps_are_read_as_pandas_reads_them(tmp_path: Path, stamp: str) -> None:
    import pandas as pd

    file = trade_file(tmp_path, "binance", "BTCUSDT", "hour")
    text = f"20200101 00:00,1,2,0.5,1.5,10\n{stamp},1,2,0.5,1.5,10\n20200101 02:00,1,2,0.5,1.5,10"
    expected = pd.to_datetime(pd.Series(["20200101 00:00", stamp, "20200101 02:00"]), format="%Y%m%d %H:%M",
                              errors="coerce")
    if stamp.startswith("0000") or expected.isna().any():  # year 0: NaT (pandas 2) or outside (pandas 3)
        with pytest.raises(DataError, match=f"row 2: time '{stamp}'"):
            parse_rows(file, text)
    else:
        assert parse_rows(file, text)[0].tolist() == pd.DatetimeIndex(expected).as_unit("ns").asi8.tolist()
