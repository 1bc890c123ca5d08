"""Reading Lean result folders, local-runner folders and ObjectStore journals (no database)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from alphapulse.bars import Bars, parse_time
from alphapulse.errors import DataError
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.store.readers import (
    discover,
    read_journal_chunk,
    read_journal_folder,
    read_result_folder,
    read_source,
    tail_digest,
)
from tests.store.lean_results import Backtest, simulate, write_journal, write_lines, write_result_folder


@pytest.fixture(scope="module")
def bars(lean_data: Path) -> Bars:
    return read_trade_bars(lean_data, "binance", "btcusdt", "hour")


@pytest.fixture(scope="module")
def backtest(bars: Bars) -> Backtest:
    result = simulate(bars)
    assert len(result.signals) > 10 and len(result.trades) > 3  # the real data has patterns to trade
    return result


def test_lean_folder_gives_every_event_trade_and_equity_point(tmp_path: Path, backtest: Backtest) -> None:
    folder = write_result_folder(tmp_path / "lean", backtest)
    source = read_source(folder)
    assert source.kind == "backtest" and source.algorithm == "PatternTrader"
    assert source.parameters == {"hold-bars": "3"}
    assert source.statistics["Total Orders"] == str(len(backtest.orders))
    assert len(source.order_events) == len(backtest.events)
    assert {e.status for e in source.order_events} == {"submitted", "filled", "canceled"}
    assert [(t.profit_loss, t.fees) for t in source.trades] == [
        (t["profitLoss"], t["totalFees"]) for t in backtest.trades]
    assert [t.exit_time for t in source.trades] == [parse_time(t["exitTime"]) for t in backtest.trades]
    assert source.equity == [(int(p[0]) * 1_000_000_000, p[-1]) for p in backtest.equity]
    assert {t.symbol for t in source.trades} == {"BTCUSDT"} and {t.signal_id for t in source.trades} == {""}
    assert source.signals == []  # Lean writes signals to the ObjectStore, not the result folder
    # fills come from the filled events; Lean's events carry no market, the rest is the same
    assert source.fills == [replace(f, market="") for f in backtest.fills]
    assert source.start_time == source.equity[0][0] and source.end_time == source.equity[-1][0]


def test_local_runner_folder_reads_its_journal_files(tmp_path: Path, backtest: Backtest) -> None:
    folder = write_result_folder(tmp_path / "runner", backtest, local_runner=True)
    source = read_result_folder(folder)
    assert source.signals == backtest.signals
    assert source.fills == backtest.fills
    assert len(source.order_events) == len(backtest.events)
    assert [(t.symbol, t.signal_id) for t in source.trades] == [
        ("BTCUSDT", t["signalId"]) for t in backtest.trades]


def test_run_key_is_stable_and_follows_content(tmp_path: Path, backtest: Backtest) -> None:
    first = read_source(write_result_folder(tmp_path / "a", backtest))
    moved = read_source(write_result_folder(tmp_path / "b", backtest))
    assert first.run_key == moved.run_key  # the same result moved elsewhere is the same run
    other = simulate_shorter(backtest)
    assert read_source(write_result_folder(tmp_path / "c", other)).run_key != first.run_key


def simulate_shorter(backtest: Backtest) -> Backtest:
    return Backtest(backtest.signals[:3], backtest.fills[:2], backtest.events[:4], backtest.trades[:1],
                    backtest.equity[:10], dict(list(backtest.orders.items())[:2]))


def test_journal_folder_is_a_live_run_named_by_its_folder(tmp_path: Path, backtest: Backtest) -> None:
    folder = write_journal(tmp_path / "storage", backtest, algorithm="LivePatterns")
    source = read_journal_folder(folder)
    assert source.kind == "live" and source.algorithm == "LivePatterns"
    assert source.signals == backtest.signals and source.fills == backtest.fills
    assert source.run_key == read_journal_folder(folder).run_key


def test_discover_finds_result_and_journal_folders_below_a_root(tmp_path: Path, backtest: Backtest) -> None:
    write_result_folder(tmp_path / "algorithms" / "x" / "backtests" / "2024-01-01_00-00-00", backtest)
    write_result_folder(tmp_path / "algorithms" / "x" / "backtests" / "2024-01-02_00-00-00", backtest)
    journal = write_journal(tmp_path / "storage", backtest)
    found = discover(tmp_path)
    assert len(found) == 3 and journal in found
    assert discover(journal) == [journal]


def test_discover_rejects_missing_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        discover(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no Lean result folder"):
        discover(tmp_path / "empty")


def test_a_bad_journal_line_names_file_and_line(tmp_path: Path, backtest: Backtest) -> None:
    folder = write_result_folder(tmp_path / "runner", backtest, local_runner=True)
    lines = (folder / "signals.jsonl").read_text().splitlines()
    lines[4] = lines[4].replace('"direction":"', '"direction":"sideways-')
    write_lines(folder / "signals.jsonl", lines)
    with pytest.raises(DataError, match=r"signals\.jsonl: line 5: direction"):
        read_source(folder)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda events: events.__setitem__(3, {**events[3], "time": "yesterday"}), r"event 3: malformed"),
    (lambda events: events[5].pop("orderId"), r"event 5: misses the field 'orderId'"),
    (lambda events: events.__setitem__(1, [1, 2]), r"event 1: expected a JSON object"),
])
def test_bad_order_events_name_file_and_event(tmp_path: Path, backtest: Backtest, mutate, message) -> None:
    folder = write_result_folder(tmp_path / "lean", backtest)
    path = folder / "1234567890-order-events.json"
    events = json.loads(path.read_text())
    mutate(events)
    path.write_text(json.dumps(events))
    with pytest.raises(DataError, match=rf"1234567890-order-events\.json: {message}"):
        read_source(folder)


def test_truncated_result_json_is_rejected_with_its_position(tmp_path: Path, backtest: Backtest) -> None:
    folder = write_result_folder(tmp_path / "lean", backtest)
    main = folder / "1234567890.json"
    main.write_text(main.read_text()[:500])
    with pytest.raises(DataError, match=r"1234567890\.json: not valid JSON .* line 1"):
        read_source(folder)


def test_bad_closed_trade_names_its_index(tmp_path: Path, backtest: Backtest) -> None:
    broken = Backtest(backtest.signals, backtest.fills, backtest.events,
                      [*backtest.trades[:2], {**backtest.trades[2], "exitTime": "not a time"}],
                      backtest.equity, backtest.orders)
    folder = write_result_folder(tmp_path / "lean", broken)
    with pytest.raises(DataError, match=r"closedTrades\[2\]: malformed"):
        read_source(folder)


def test_journal_chunk_leaves_a_partly_written_line_for_later(tmp_path: Path, backtest: Backtest) -> None:
    path = tmp_path / "signals.jsonl"
    lines = [s.to_json() for s in backtest.signals[:4]]
    path.write_text(lines[0] + "\n" + lines[1] + "\n" + lines[2][:30])
    first = read_journal_chunk(path)
    assert first.signals == backtest.signals[:2]
    assert first.end == len(lines[0]) + len(lines[1]) + 2
    path.write_text(lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n" + lines[3])
    second = read_journal_chunk(path, first.end)
    # the whole last object without a newline is complete: taken
    assert second.signals == backtest.signals[2:4]
    assert second.end == path.stat().st_size
    assert read_journal_chunk(path, second.end).signals == []


def test_journal_chunk_rereads_a_replaced_shorter_file(tmp_path: Path, backtest: Backtest) -> None:
    path = tmp_path / "signals.jsonl"
    write_lines(path, [s.to_json() for s in backtest.signals[:6]])
    offset = path.stat().st_size
    write_lines(path, [s.to_json() for s in backtest.signals[:2]])
    chunk = read_journal_chunk(path, offset)
    assert chunk.start == 0 and chunk.signals == backtest.signals[:2]


def test_journal_chunk_error_counts_lines_of_the_whole_file(tmp_path: Path, backtest: Backtest) -> None:
    path = tmp_path / "fills.jsonl"
    write_lines(path, [f.to_json() for f in backtest.fills[:3]])
    offset = path.stat().st_size
    with path.open("a") as handle:
        handle.write(backtest.fills[3].to_json() + "\n" + '{"schema": "alphapulse.fill/1"}\n')
    with pytest.raises(DataError, match=r"fills\.jsonl: line 5: fill record misses the field"):
        read_journal_chunk(path, offset)


def test_journal_chunk_rereads_a_file_replaced_by_a_longer_one(tmp_path: Path, backtest: Backtest) -> None:
    path = tmp_path / "signals.jsonl"
    write_lines(path, [s.to_json() for s in backtest.signals[:3]])
    first = read_journal_chunk(path)
    assert first.digest == tail_digest(path, first.end)
    write_lines(path, [s.to_json() for s in backtest.signals[5:12]])  # a restarted algorithm's new file
    assert path.stat().st_size > first.end
    again = read_journal_chunk(path, first.end, first.digest)
    assert again.start == 0 and again.signals == backtest.signals[5:12]
    with path.open("a") as handle:  # appended to: continues after the offset
        handle.write(backtest.signals[12].to_json() + "\n")
    more = read_journal_chunk(path, again.end, again.digest)
    assert more.start == again.end and more.signals == [backtest.signals[12]]
    assert more.digest == tail_digest(path, more.end)


def test_a_result_folder_without_order_events_is_read_by_its_summary(tmp_path: Path,
                                                                    backtest: Backtest) -> None:
    folder = write_result_folder(tmp_path / "lean", backtest)
    (folder / "1234567890-order-events.json").unlink()
    assert discover(tmp_path) == [folder]
    source = read_source(folder)
    assert source.order_events == [] and source.fills == []
    assert len(source.trades) == len(backtest.trades) and len(source.equity) == len(backtest.equity)
