"""Validation of Lean files: clean real data passes; each defect planted in real data is found,
named by file and row; repair fixes only order and exact duplicates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from alphapulse.errors import NoDataError
from alphapulse.lean_data import read_csv_text, trade_file, write_csv_text
from alphapulse_tools.data.validate import validate_symbol


def _planted(lean_data: Path, tmp_path: Path, edit: Callable[[list[str]], list[str]]) -> Path:
    """A data folder holding Lean's BTCUSDT hour file with ``edit`` applied to its rows."""
    rows = read_csv_text(trade_file(lean_data, "binance", "BTCUSDT", "hour")).split("\n")
    write_csv_text(trade_file(tmp_path, "binance", "BTCUSDT", "hour"), "\n".join(edit(rows)))
    return tmp_path


def _field(row: str, index: int, value: str) -> str:
    fields = row.split(",")
    fields[index] = value
    return ",".join(fields)


def test_real_binance_data_is_clean(lean_data: Path) -> None:
    for symbol, resolution, rows in (("BTCUSDT", "hour", 120), ("BTCBUSD", "minute", 1440)):
        report = validate_symbol(lean_data, "binance", symbol, resolution)
        assert report.usable and report.rows == rows and report.counts == {}


def test_gaps_are_counted_but_do_not_make_data_unusable(lean_data: Path, tmp_path: Path) -> None:
    folder = _planted(lean_data, tmp_path, lambda rows: rows[:10] + rows[13:])
    report = validate_symbol(folder, "binance", "BTCUSDT", "hour")
    assert report.usable and report.counts == {"gap": 1}
    [gap] = report.issues
    assert gap.time == "2018-05-01T13:00:00Z" and gap.detail.startswith("3 bar(s) missing")


@pytest.mark.parametrize(("edit", "check", "row"), [
    (lambda rows: [*rows[:5], rows[6], rows[5], *rows[7:]], "order", 7),
    (lambda rows: [*rows[:5], rows[5], *rows[5:]], "duplicate", 7),
    (lambda rows: [*rows[:5], _field(rows[5], 4, "9000.5"), *rows[5:]], "conflict", 7),
    (lambda rows: [*rows[:8], _field(rows[8], 2, "1"), *rows[9:]], "ohlc", 9),
    (lambda rows: [*rows[:8], _field(rows[8], 3, "0"), *rows[9:]], "price", 9),
    (lambda rows: [*rows[:8], _field(rows[8], 5, "-3"), *rows[9:]], "volume", 9),
    (lambda rows: [*rows[:8], _field(rows[8], 5, "x"), *rows[9:]], "unreadable", None),
])
def test_each_defect_makes_the_data_unusable(lean_data: Path, tmp_path: Path,
                                             edit: Callable[[list[str]], list[str]], check: str,
                                             row: int | None) -> None:
    report = validate_symbol(_planted(lean_data, tmp_path, edit), "binance", "BTCUSDT", "hour")
    assert not report.usable
    found = [i for i in report.issues if i.check == check]
    assert found and found[0].row == row and found[0].file.endswith("btcusdt_trade.zip")


def test_an_outlier_return_is_flagged(lean_data: Path, tmp_path: Path) -> None:
    def spike(rows: list[str]) -> list[str]:
        fields = rows[50].split(",")
        spiked = [fields[0], *(f"{float(x) * 1.3:.2f}" for x in fields[1:5]), fields[5]]
        return [*rows[:50], ",".join(spiked), *rows[51:]]

    report = validate_symbol(_planted(lean_data, tmp_path, spike), "binance", "BTCUSDT", "hour")
    assert report.usable and report.counts == {"outlier": 2}  # the jump up and the fall back
    assert [i.time for i in report.issues] == ["2018-05-03T02:00:00Z", "2018-05-03T03:00:00Z"]


def test_repair_sorts_and_drops_exact_duplicates_only(lean_data: Path, tmp_path: Path) -> None:
    original = read_csv_text(trade_file(lean_data, "binance", "BTCUSDT", "hour"))
    folder = _planted(lean_data, tmp_path, lambda rows: [*rows[:5], rows[6], rows[5], rows[5], *rows[7:]])
    report = validate_symbol(folder, "binance", "BTCUSDT", "hour", repair=True)
    assert report.usable and report.repaired and report.counts == {}
    assert read_csv_text(trade_file(folder, "binance", "BTCUSDT", "hour")) == original


def test_repair_never_picks_between_conflicting_bars_or_fills_gaps(lean_data: Path, tmp_path: Path) -> None:
    folder = _planted(lean_data, tmp_path,
                      lambda rows: [*rows[:5], _field(rows[5], 4, "9000.5"), *rows[5:60], *rows[70:]])
    before = read_csv_text(trade_file(folder, "binance", "BTCUSDT", "hour"))
    report = validate_symbol(folder, "binance", "BTCUSDT", "hour", repair=True)
    assert not report.usable and report.repaired == []
    assert report.counts["conflict"] == 1 and report.counts["gap"] == 1
    assert read_csv_text(trade_file(folder, "binance", "BTCUSDT", "hour")) == before


def test_no_files_is_an_error_naming_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(NoDataError, match=r"no hour files for binance:ETHUSDT .* `alphapulse data download`"):
        validate_symbol(tmp_path, "binance", "ethusdt", "hour")
