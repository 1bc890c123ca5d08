"""Symbol-properties rows and the market-hours entry (checked against Lean's own databases), and
the data-folder catalog (checked against the reader)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from alphapulse.bars import format_time
from alphapulse.errors import DataError
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.data.catalog import scan_data_dir
from alphapulse_tools.data.symbols import (
    MARKET_HOURS_FILE,
    PROPERTIES_FILE,
    default_properties,
    ensure_market_hours,
    ensure_symbol_properties,
    market_hours_entry,
    properties_from_exchange_info,
)
from tests.data.binance_double import BTC_RULES


def test_a_row_from_exchange_rules_matches_leans_row(lean_data: Path) -> None:
    lean_rows = (lean_data / PROPERTIES_FILE).read_text().splitlines()
    assert properties_from_exchange_info(BTC_RULES).row() in lean_rows


def test_the_market_hours_entry_matches_leans(lean_data: Path) -> None:
    entries = json.loads((lean_data / MARKET_HOURS_FILE).read_text())["entries"]
    assert market_hours_entry() == entries["Crypto-binance-[*]"] == entries["Crypto-coinbase-[*]"]


def test_existing_rows_and_entries_are_kept(lean_data: Path, tmp_path: Path) -> None:
    shutil.copytree(lean_data / "symbol-properties", tmp_path / "symbol-properties")
    shutil.copytree(lean_data / "market-hours", tmp_path / "market-hours")
    properties_before = (tmp_path / PROPERTIES_FILE).read_bytes()
    hours_before = (tmp_path / MARKET_HOURS_FILE).read_bytes()
    assert not ensure_symbol_properties(tmp_path, properties_from_exchange_info(BTC_RULES))
    assert not ensure_market_hours(tmp_path)
    assert (tmp_path / PROPERTIES_FILE).read_bytes() == properties_before
    assert (tmp_path / MARKET_HOURS_FILE).read_bytes() == hours_before

    assert ensure_symbol_properties(tmp_path, default_properties("NEWCOINUSDT"))
    after = (tmp_path / PROPERTIES_FILE).read_text()
    assert after.startswith(properties_before.decode())
    assert after.splitlines()[-1] == ("binance,NEWCOINUSDT,crypto,NEWCOINUSDT,USDT,1,0.00000001,0.00000001,"
                                      "NEWCOINUSDT,10")

    document = json.loads(hours_before)
    del document["entries"]["Crypto-binance-[*]"]
    (tmp_path / MARKET_HOURS_FILE).write_text(json.dumps(document))
    assert ensure_market_hours(tmp_path)
    rebuilt = json.loads((tmp_path / MARKET_HOURS_FILE).read_text())["entries"]
    assert rebuilt == json.loads(hours_before)["entries"]


def test_bad_databases_and_unknown_quotes_are_named(tmp_path: Path) -> None:
    (tmp_path / "market-hours").mkdir()
    (tmp_path / MARKET_HOURS_FILE).write_text("{not json")
    with pytest.raises(DataError, match=r"market-hours-database\.json: not valid JSON"):
        ensure_market_hours(tmp_path)
    with pytest.raises(DataError, match="cannot tell the quote currency of WEIRDXYZ"):
        default_properties("WEIRDXYZ")


def test_catalog_agrees_with_the_reader(lean_data: Path) -> None:
    entries = scan_data_dir(lean_data)
    assert len(entries) == 12 and all(e.problem is None for e in entries)
    for entry in entries:
        bars = read_trade_bars(lean_data, entry.market, entry.symbol, entry.resolution)
        assert (entry.rows, entry.first, entry.last) == (
            len(bars), format_time(int(bars.time[0])), format_time(int(bars.time[-1])))
    with pytest.raises(DataError, match="no such data folder"):
        scan_data_dir(lean_data / "nowhere")
