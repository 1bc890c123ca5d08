"""Fast reading of Lean trade files: the batched minute parse and the parsed-file cache give the
very arrays that file-by-file :func:`parse_rows` gives (the reference), on the real sample files."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphapulse.errors import DataError
from alphapulse.lean_data import (
    CACHE_FOLDER,
    _hour_times,
    cache_path,
    minute_days,
    parse_minute_files,
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


def _same_error_as_alone(folder: Path, files: list, damaged) -> str:
    """The error of reading ``files`` together, which must be the one of parsing ``damaged`` alone."""
    with pytest.raises(DataError) as batched:
        read_rows(folder, files)
    with pytest.raises(DataError) as alone:
        parse_rows(damaged, read_csv_text(damaged))
    assert str(batched.value) == str(alone.value)
    return str(alone.value)


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
    message = _same_error_as_alone(tmp_path, files, files[2])
    assert "row 6" in message


@pytest.mark.parametrize(("market", "symbol"), MINUTE_SAMPLES)
def test_cache_gives_the_same_bars_cold_and_warm(lean_data: Path, tmp_path: Path, market: str,
                                                 symbol: str, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _copy_days(lean_data, tmp_path, market, symbol, 3)
    plain = read_trade_bars(tmp_path, market, symbol, "minute")
    cold = read_trade_bars(tmp_path, market, symbol, "minute", cache=True)
    _assert_same_bars(cold, plain)
    assert all(cache_path(tmp_path, f).is_file() for f in files)
    assert cache_path(tmp_path, files[0]).is_relative_to(tmp_path / CACHE_FOLDER)

    assert len({cache_path(tmp_path, f) for f in files}) == 1  # one cache file per folder of minute files
    rows_of_second_day = len(read_csv_text(files[1]).splitlines())

    def no_reading(*args, **kwargs):
        raise AssertionError("a warm read must not read or parse the zips")

    monkeypatch.setattr("alphapulse.lean_data.read_csv_bytes", no_reading)
    monkeypatch.setattr("alphapulse.lean_data._parse_file", no_reading)
    monkeypatch.setattr("alphapulse.lean_data._minute_batch", no_reading)
    _assert_same_bars(read_trade_bars(tmp_path, market, symbol, "minute", cache=True), plain)
    middle = minute_days(tmp_path, market, symbol)[1]
    one_day = read_trade_bars(tmp_path, market, symbol, "minute", middle, middle, cache=True)
    first = int(np.searchsorted(plain.time, one_day.time[0]))
    _assert_same_bars(one_day, plain[first:first + len(one_day)])
    assert len(one_day) == rows_of_second_day


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the zips read from now on (the real reader still runs)."""
    import alphapulse.lean_data as lean_data_module

    read: list[str] = []
    real = lean_data_module.read_csv_bytes

    def counted(file):
        read.append(file.path.name)
        return real(file)

    monkeypatch.setattr(lean_data_module, "read_csv_bytes", counted)
    return read


def test_the_cache_of_a_folder_keeps_the_days_of_other_reads(lean_data: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    files = _copy_days(lean_data, tmp_path, "coinbase", "BTCUSD", 4)
    days = [f.day for f in files]
    read = _counting_reads(monkeypatch)
    read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute", days[0], days[1], cache=True)
    read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute", days[3], days[3], cache=True)
    assert read == [f.path.name for f in (files[0], files[1], files[3])]
    read.clear()
    every = read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute", cache=True)
    assert read == [files[2].path.name]  # only the day no read has cached yet
    _assert_same_bars(every, read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute"))
    lines = read_csv_text(files[1]).splitlines()
    write_csv_text(files[1], "\n".join(lines[:-5]))  # a replaced day: only it is parsed again
    read.clear()
    again = read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute", cache=True)
    assert read == [files[1].path.name]
    assert len(again) == len(every) - 5
    _assert_same_bars(again, read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute"))
    files[3].path.unlink()  # a deleted day is dropped from the cache when it is next written
    write_csv_text(files[0], read_csv_text(files[0]))
    read.clear()
    read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute", cache=True)
    assert read == [files[0].path.name]
    read.clear()
    shutil.copyfile(lean_data / files[3].path.relative_to(tmp_path), files[3].path)  # the day is back
    cached = read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute", cache=True)
    assert read == [files[3].path.name]
    _assert_same_bars(cached, read_trade_bars(tmp_path, "coinbase", "BTCUSD", "minute"))


def test_a_damaged_minute_cache_file_is_ignored_and_rewritten(lean_data: Path, tmp_path: Path) -> None:
    files = _copy_days(lean_data, tmp_path, "usa", "SPY", 3)
    plain = read_trade_bars(tmp_path, "usa", "SPY", "minute")
    read_trade_bars(tmp_path, "usa", "SPY", "minute", cache=True)
    where = cache_path(tmp_path, files[0])
    good = where.read_bytes()
    huge_count = good[:16] + (2**40).to_bytes(8, "little") + good[24:]
    for damage in (b"", good[:40], good[:-8], good[:-1], good[:48] + b"\xff" * (len(good) - 48), huge_count):
        where.write_bytes(damage)
        _assert_same_bars(read_trade_bars(tmp_path, "usa", "SPY", "minute", cache=True), plain)
        assert where.read_bytes() == good


def test_files_of_several_markets_parse_together_like_file_by_file(lean_data: Path) -> None:
    files = [trade_file(lean_data, market, symbol, "minute", d) for market, symbol in MINUTE_SAMPLES
             for d in minute_days(lean_data, market, symbol)[:3]]
    texts = [read_csv_text(f) for f in files]
    _assert_same_rows(parse_minute_files(files, texts), _reference(files))


@pytest.mark.parametrize("damage", ["a seventh field", "a trailing comma", "a first line of seven fields",
                                    "a missing field", "an empty field"])
def test_a_malformed_row_in_a_batch_is_named_like_file_by_file(lean_data: Path, tmp_path: Path,
                                                                 damage: str) -> None:
    files = _copy_days(lean_data, tmp_path, "coinbase", "BTCUSD", 3)
    lines = read_csv_text(files[1]).splitlines()
    row = 0 if damage.startswith("a first") else 7
    lines[row] = {"a seventh field": lines[row] + ",1", "a trailing comma": lines[row] + ",",
                  "a first line of seven fields": lines[row] + ",1",
                  "a missing field": lines[row].rsplit(",", 1)[0],
                  "an empty field": lines[row].replace(",", ",,", 1).rsplit(",", 1)[0]}[damage]
    write_csv_text(files[1], "\n".join(lines))
    message = _same_error_as_alone(tmp_path, files, files[1])
    assert str(files[1].path) in message


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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1678, 2261), st.integers(0, 13), st.integers(0, 32), st.integers(0, 25),
                          st.integers(0, 61)), min_size=1, max_size=30))
def test_hour_stamps_read_from_bytes_equal_pandas(stamps: list[tuple[int, int, int, int, int]]) -> None:
    import pandas as pd

    texts = [f"{y:04d}{mo:02d}{d:02d} {h:02d}:{mi:02d}" for y, mo, d, h, mi in stamps]
    text = "\n".join(f"{t},1,2,0.5,1.5,10" for t in texts)
    expected = pd.DatetimeIndex(pd.to_datetime(pd.Series(texts), format="%Y%m%d %H:%M", errors="coerce"))
    got = _hour_times(text.encode(), len(texts))
    if expected.isna().any():
        assert got is None
    else:
        assert got is not None and got.tolist() == expected.as_unit("ns").asi8.tolist()


def test_files_of_the_previous_cache_layout_are_removed(lean_data: Path, tmp_path: Path) -> None:
    """A cache written by the previous layout (one ``<zip>.npy`` per zip) is replaced, not left behind."""
    from alphapulse.parsed_cache import CACHE_FOLDER

    files = _copy_days(lean_data, tmp_path, "usa", "SPY", 3)
    old = [tmp_path / CACHE_FOLDER / f.path.parent.relative_to(tmp_path) / f"{f.path.name}.npy" for f in files]
    for path in old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"old")
    read_trade_bars(tmp_path, "usa", "SPY", "minute", cache=True)
    assert len(old) == 3 and not any(path.exists() for path in old)
