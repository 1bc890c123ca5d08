"""Lean trade files: every sample file round-trips to the same CSV text; any valid bar sequence
written and read back is identical; writes are atomic."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphapulse.bars import Bars
from alphapulse.errors import DataError, NoDataError
from alphapulse.lean_data import (
    TradeFile,
    decimal_texts,
    format_rows,
    parse_rows,
    read_csv_bytes,
    read_csv_text,
    read_trade_bars,
    trade_file,
    write_trade_bars,
    write_trade_file,
)
from tests.conftest import SHARED_DATA

SHARED = SHARED_DATA / "lean"


def _sample_files() -> list[str]:
    return sorted(str(p.relative_to(SHARED)) for p in SHARED.rglob("*.zip")) if SHARED.is_dir() else []


def _trade_file_of(root: Path, relative: str) -> TradeFile:
    _, market, resolution, *rest = Path(relative).parts
    if resolution == "minute":
        symbol, name = rest
        return trade_file(root, market, symbol, resolution, datetime.strptime(name[:8], "%Y%m%d").date())
    symbol = rest[0].removesuffix(".zip").removesuffix("_trade")
    return trade_file(root, market, symbol, resolution)


def test_sample_files_are_all_found(lean_data: Path) -> None:
    assert len(list(lean_data.rglob("*.zip"))) == 33


@pytest.mark.parametrize("relative", _sample_files())
def test_every_sample_file_round_trips_to_the_same_text(lean_data: Path, tmp_path: Path,
                                                        relative: str) -> None:
    source = _trade_file_of(lean_data, relative)
    assert source.path == lean_data / relative
    text = read_csv_text(source)
    times, values = parse_rows(source, text)
    line_end = "\r\n" if "\r\n" in text else "\n"
    target = _trade_file_of(tmp_path, relative)
    write_trade_file(target, times, values, line_end=line_end, final_newline=text.endswith("\n"))
    with zipfile.ZipFile(target.path) as archive:
        assert archive.namelist() == [source.member]
        assert archive.read(source.member).decode("ascii") == text


@pytest.mark.parametrize(("market", "symbol", "resolution"), [
    ("binance", "BTCUSDT", "hour"), ("coinbase", "BTCUSD", "daily"), ("coinbase", "ETHUSD", "minute"),
    ("usa", "SPY", "minute"), ("usa", "SPY", "daily"),
])
def test_bars_written_with_write_trade_bars_read_back_equal(lean_data: Path, tmp_path: Path, market: str,
                                                            symbol: str, resolution: str) -> None:
    bars = read_trade_bars(lean_data, market, symbol, resolution)
    written = write_trade_bars(tmp_path, market, symbol, resolution, bars)
    assert read_trade_bars(tmp_path, market, symbol, resolution) == bars
    for file in written:  # Lean's own files (LF, no final newline) are reproduced byte for byte
        original = read_csv_text(_trade_file_of(lean_data, str(file.path.relative_to(tmp_path))))
        if "\r" not in original and not original.endswith("\n"):
            assert read_csv_text(file) == original


def test_equity_minute_files_are_split_by_new_york_day(lean_data: Path, tmp_path: Path) -> None:
    bars = read_trade_bars(lean_data, "usa", "SPY", "minute", date(2013, 10, 7), date(2013, 10, 8))
    written = write_trade_bars(tmp_path, "usa", "SPY", "minute", bars)
    # 19:59 New York is 23:59 UTC the same day in October: two files, not three
    assert [f.day for f in written] == [date(2013, 10, 7), date(2013, 10, 8)]


def test_merge_keeps_existing_rows_and_replaces_equal_times(lean_data: Path, tmp_path: Path) -> None:
    bars = read_trade_bars(lean_data, "binance", "BTCUSDT", "hour")
    write_trade_bars(tmp_path, "binance", "BTCUSDT", "hour", bars[:80])
    write_trade_bars(tmp_path, "binance", "BTCUSDT", "hour", bars[60:])
    assert read_trade_bars(tmp_path, "binance", "BTCUSDT", "hour") == bars
    write_trade_bars(tmp_path, "binance", "BTCUSDT", "hour", bars[:10], merge=False)
    assert read_trade_bars(tmp_path, "binance", "BTCUSDT", "hour") == bars[:10]


def test_numbers_are_written_like_lean() -> None:
    values = np.array([8870.0, 0.05655554, 1e-05, 2.0, 1234567.125, 1e16, 0.1 + 0.2])
    assert decimal_texts(values) == ["8870", "0.05655554", "0.00001", "2", "1234567.125",
                                     "10000000000000000", "0.30000000000000004"]


def test_a_failed_write_leaves_the_old_file_intact(lean_data: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    bars = read_trade_bars(lean_data, "binance", "BTCUSDT", "hour")
    [file] = write_trade_bars(tmp_path, "binance", "BTCUSDT", "hour", bars[:50])
    before = file.path.read_bytes()

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", crash)
    with pytest.raises(OSError, match="disk full"):
        write_trade_bars(tmp_path, "binance", "BTCUSDT", "hour", bars)
    assert file.path.read_bytes() == before
    assert [p.name for p in file.path.parent.iterdir()] == [file.path.name]  # no temporary file left


def test_writer_refuses_bars_it_cannot_hold(tmp_path: Path) -> None:
    file = trade_file(tmp_path, "binance", "BTCUSDT", "minute", date(2024, 1, 1))
    next_day = np.array([np.datetime64("2024-01-02T00:00", "ns").astype(np.int64)])
    with pytest.raises(DataError, match="is not on 2024-01-01"):
        format_rows(file, next_day, np.ones((1, 5)))
    with pytest.raises(DataError, match="NaN or infinite"):
        format_rows(file, next_day - 86_400 * 10**9, np.array([[1, 1, 1, np.nan, 1]]))
    hourly = trade_file(tmp_path, "binance", "BTCUSDT", "hour")
    with pytest.raises(DataError, match="whole minute"):
        format_rows(hourly, np.array([30 * 10**9]), np.ones((1, 5)))
    assert not any(tmp_path.rglob("*.zip"))


# -- property: any valid bar sequence survives a write and a read ------------------------------
_price = st.floats(min_value=1e-8, max_value=1e9, allow_nan=False, allow_infinity=False)
_volume = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)


@st.composite
def _bar_sequences(draw: st.DrawFn, market: str, resolution: str) -> Bars:
    step = {"minute": 60, "hour": 3600, "daily": 86400}[resolution]
    count = draw(st.integers(min_value=1, max_value=40))
    offsets = sorted(draw(st.sets(st.integers(min_value=0, max_value=400), min_size=count,
                                  max_size=count)))
    base = draw(st.integers(min_value=0, max_value=20_000)) * 86400
    rows = []
    for _ in offsets:
        a, b, c, d = (draw(_price) for _ in range(4))
        if market == "usa":  # equity prices are whole deci-cents
            a, b, c, d = (round(x, 4) or 0.0001 for x in (a, b, c, d))
            volume = float(draw(st.integers(min_value=0, max_value=10**9)))
        else:
            volume = draw(_volume)
        low, high = min(a, b, c, d), max(a, b, c, d)
        rows.append((a, high, low, d, volume))
    # equity minutes from 13:30 UTC: in New York's trading day, far from the hour DST repeats
    start = 1_000_000_000 * (base + 48_600 * (market == "usa"))
    times = [start + o * step * 1_000_000_000 for o in offsets]
    columns = np.array(rows).T
    return Bars(times, *columns, period=step)


@pytest.mark.parametrize(("market", "resolution"), [("binance", "minute"), ("binance", "hour"),
                                                    ("binance", "daily"), ("usa", "minute")])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_valid_bars_read_back_identical(tmp_path_factory: pytest.TempPathFactory, market: str,
                                            resolution: str, data: st.DataObject) -> None:
    bars = data.draw(_bar_sequences(market, resolution))
    folder = tmp_path_factory.mktemp("bars")
    write_trade_bars(folder, market, "XYZ", resolution, bars)
    assert read_trade_bars(folder, market, "XYZ", resolution) == bars


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=20))
def test_decimal_texts_are_exact_plain_and_short(values: list[float]) -> None:
    texts = decimal_texts(np.array(values))
    for value, text in zip(values, texts, strict=True):
        assert float(text) == value and "e" not in text and not text.endswith(".0")
        assert len(text.lstrip("-").replace(".", "").strip("0")) <= 17  # no more digits than repr


# -- reading the zips: straight from the bytes for Lean's plain zips, zipfile for anything else ---


@pytest.mark.parametrize("relative", _sample_files())
def test_every_sample_file_reads_the_bytes_zipfile_reads(lean_data: Path, relative: str) -> None:
    file = _trade_file_of(lean_data, relative)
    with zipfile.ZipFile(file.path) as archive:
        assert read_csv_bytes(file) == archive.read(archive.namelist()[0])


def _independent_rows(file: TradeFile, text: str) -> tuple[list[int], list[list[float]]]:
    """Times and values of a Lean CSV read field by field with Python's own parsers (float() is
    correctly rounded), the reference for exact parsing."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York" if file.market == "usa" else "UTC")
    times, values = [], []
    for line in text.splitlines():
        stamp, *numbers = line.split(",")
        if file.day is not None:
            local = datetime(file.day.year, file.day.month, file.day.day) + timedelta(milliseconds=int(stamp))
        else:
            local = datetime.strptime(stamp, "%Y%m%d %H:%M")
        moment = local.replace(tzinfo=zone)
        times.append(int(moment.timestamp()) * 10**9 + moment.microsecond * 1000)
        row = [float(x) for x in numbers]
        if file.market == "usa":
            row[:4] = [x / 10_000 for x in row[:4]]
        values.append(row)
    return times, values


@pytest.mark.parametrize("relative", _sample_files())
def test_every_sample_file_parses_to_the_numbers_its_text_says(lean_data: Path, relative: str) -> None:
    file = _trade_file_of(lean_data, relative)
    text = read_csv_text(file)
    times, values = _independent_rows(file, text)
    bars = read_trade_bars(lean_data, file.market, file.symbol, file.resolution, file.day, file.day) \
        if file.day is not None else read_trade_bars(lean_data, file.market, file.symbol, file.resolution)
    assert bars.time.tolist() == times
    got = np.column_stack([bars.open, bars.high, bars.low, bars.close, bars.volume])
    assert got.view(np.int64).tolist() == np.array(values).view(np.int64).tolist()  # bit for bit


def _rewritten(source: Path, target: Path, **options: object) -> None:
    """``source``'s member written again into ``target`` as another kind of zip."""
    with zipfile.ZipFile(source) as archive:
        name = archive.namelist()[0]
        data = archive.read(name)
    compression = options.pop("compression", zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(target, "w", compression=compression) as archive:  # type: ignore[arg-type]
        if options.pop("force_zip64", False):
            with archive.open(name, "w", force_zip64=True) as member:
                member.write(data)
        else:
            archive.writestr(name, data)
        for extra_name, extra in options.pop("members", []):  # type: ignore[attr-defined]
            archive.writestr(extra_name, extra)
        if "comment" in options:
            archive.comment = options.pop("comment")  # type: ignore[assignment]


@pytest.mark.parametrize("kind", ["stored", "commented", "zip64"])
def test_other_valid_zips_read_the_same_bytes(lean_data: Path, tmp_path: Path, kind: str) -> None:
    source = trade_file(lean_data, "binance", "BTCUSDT", "hour")
    target = trade_file(tmp_path, "binance", "BTCUSDT", "hour")
    target.path.parent.mkdir(parents=True)
    options = {"stored": {"compression": zipfile.ZIP_STORED}, "commented": {"comment": b"from Lean"},
               "zip64": {"force_zip64": True}}[kind]
    _rewritten(source.path, target.path, **options)
    assert read_csv_bytes(target) == read_csv_bytes(source)
    assert read_trade_bars(tmp_path, "binance", "BTCUSDT", "hour") == read_trade_bars(lean_data, "binance",
                                                                                        "BTCUSDT", "hour")


def test_a_zip_streamed_with_a_data_descriptor_reads_the_same_bytes(lean_data: Path, tmp_path: Path) -> None:
    import io

    source = trade_file(lean_data, "binance", "BTCUSDT", "hour")

    class Unseekable(io.RawIOBase):  # zipfile then writes sizes and CRC after the data
        def __init__(self) -> None:
            self.chunks: list[bytes] = []

        def writable(self) -> bool:
            return True

        def write(self, data) -> int:  # type: ignore[override]
            self.chunks.append(bytes(data))
            return len(data)

    stream = Unseekable()
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        archive.writestr(source.member, read_csv_bytes(source))
    target = trade_file(tmp_path, "binance", "BTCUSDT", "hour")
    target.path.parent.mkdir(parents=True)
    target.path.write_bytes(b"".join(stream.chunks))
    assert read_csv_bytes(target) == read_csv_bytes(source)


def test_damaged_zips_are_named_as_corrupt(lean_data: Path, tmp_path: Path) -> None:
    source = trade_file(lean_data, "binance", "BTCUSDT", "hour")
    target = trade_file(tmp_path, "binance", "BTCUSDT", "hour")
    target.path.parent.mkdir(parents=True)
    good = source.path.read_bytes()
    middle = len(good) // 2
    flipped = good[:middle] + bytes([good[middle] ^ 0x55]) + good[middle + 1:]  # a bad stream or CRC
    for damage in (flipped, good[:middle], good[: len(good) - 30], b"not a zip at all"):
        target.path.write_bytes(damage)
        with pytest.raises(DataError, match="corrupt archive") as raised:
            read_csv_bytes(target)
        assert str(target.path) in str(raised.value)
    with zipfile.ZipFile(target.path, "w") as archive:
        archive.writestr("a.csv", "1,2,3,4,5,6")
        archive.writestr("b.csv", "1,2,3,4,5,6")
    with pytest.raises(DataError, match=r"expected one CSV \(btcusdt.csv\), found \['a.csv', 'b.csv'\]"):
        read_csv_bytes(target)
    with zipfile.ZipFile(target.path, "w") as archive:
        archive.writestr(source.member, "1,2,3,4,5,\xe9".encode("latin-1"))
    with pytest.raises(DataError, match="corrupt archive"):
        read_csv_bytes(target)
    target.path.unlink()
    with pytest.raises(NoDataError, match="no such file"):
        read_csv_bytes(target)
