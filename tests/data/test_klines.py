"""Binance kline files: ms and µs times, headers, and every kind of malformed row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from alphapulse.bars import Bars
from alphapulse.errors import DataError
from alphapulse_tools.data.klines import parse_kline_csv, parse_rest_klines, read_kline_archive
from tests.data.binance_double import kline_csv, kline_fields, served_bars, zip_bytes


def test_milliseconds_and_microseconds_read_the_same(btcusdt_hours: Bars) -> None:
    ms = parse_kline_csv(kline_csv(btcusdt_hours, 3600), "ms.csv", 3600)
    us = parse_kline_csv(kline_csv(btcusdt_hours, 3600, micro=True), "us.csv", 3600)
    assert ms == us == btcusdt_hours


def test_a_header_line_is_skipped(unittest_minutes: Bars) -> None:
    bars = unittest_minutes[:50]
    text = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume," \
           "taker_buy_quote_volume,ignore\n" + kline_csv(bars, 60)
    assert parse_kline_csv(text, "x.csv", 60) == served_bars(bars, 60)


def test_rest_pages_read_like_archives(btcbusd_minutes: Bars) -> None:
    assert parse_rest_klines(kline_fields(btcbusd_minutes, 60), "rest", 60) == btcbusd_minutes


def test_archives_and_plain_csv_files(tmp_path: Path, btcusdt_hours: Bars) -> None:
    text = kline_csv(btcusdt_hours, 3600)
    (tmp_path / "a.zip").write_bytes(zip_bytes("a.csv", text))
    (tmp_path / "a.csv").write_text(text)
    assert read_kline_archive(tmp_path / "a.zip", 3600) == read_kline_archive(tmp_path / "a.csv", 3600)


def _rows(bars: Bars) -> list[str]:
    return kline_csv(bars, 3600).splitlines()


def _swap(rows: list[str], i: int, *new: str) -> list[str]:
    """Rows with rows[i] replaced by ``new`` (any number of rows)."""
    return [*rows[:i], *new, *rows[i + 1:]]


@pytest.mark.parametrize(("edit", "message"), [
    (lambda rows: _swap(rows, 3, rows[3].rsplit(",", 1)[0]), r"row 4 has 11 columns, expected 12"),
    (lambda rows: _swap(rows, 5, rows[5] + ",1"), r"row 6 has 13 columns, expected 12"),
    (lambda rows: _swap(rows, 7, rows[7].replace(",", ",abc,", 1).replace(",", "", 1)),
     r"row 8 has a non-numeric field"),
    (lambda rows: [*rows[:9], rows[10], rows[9], *rows[11:]], r"row 11: open time .* is earlier than"),
    (lambda rows: _swap(rows, 9, rows[9], rows[9]), r"row 11: open time .* repeats"),
])
def test_malformed_rows_are_named(btcusdt_hours: Bars, edit: Callable[[list[str]], list[str]],
                                  message: str) -> None:
    text = "\n".join(edit(_rows(btcusdt_hours))) + "\n"
    with pytest.raises(DataError, match=r"^bad\.csv: " + message):
        parse_kline_csv(text, "bad.csv", 3600)


def test_corrupt_and_truncated_archives(tmp_path: Path, btcusdt_hours: Bars) -> None:
    data = zip_bytes("a.csv", kline_csv(btcusdt_hours, 3600))
    (tmp_path / "cut.zip").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.zip").write_bytes(b"not a zip at all")
    for name in ("cut.zip", "junk.zip"):
        with pytest.raises(DataError, match=f"{name}: corrupt or truncated archive"):
            read_kline_archive(tmp_path / name)
    with pytest.raises(DataError, match="no such file"):
        read_kline_archive(tmp_path / "missing.zip")
