"""Follow mode on real PostgreSQL: lines appended while following, restarts, partial lines."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from alphapulse.bars import Bars
from alphapulse.errors import ConfigError, DataError, StoreError
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.store.follow import FollowSettings, follow
from alphapulse_tools.store.migrations import migrate
from tests.store.lean_results import Backtest, simulate, write_lines

ONCE = FollowSettings(once=True)


@pytest.fixture(scope="module")
def backtest(lean_data: Path) -> Backtest:
    bars: Bars = read_trade_bars(lean_data, "binance", "btcusdt", "hour")
    return simulate(bars)


@pytest.fixture
def store(conn: psycopg.Connection) -> psycopg.Connection:
    migrate(conn)
    return conn


def stored(conn: psycopg.Connection) -> tuple[list[str], int, int]:
    ids = [row[0] for row in conn.execute("SELECT signal_id FROM signals ORDER BY time").fetchall()]
    fills = conn.execute("SELECT count(*) FROM fills").fetchone()
    runs = conn.execute("SELECT count(*) FROM runs").fetchone()
    assert fills is not None and runs is not None
    return ids, fills[0], runs[0]


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()


def test_appended_lines_are_stored_once_across_polls_and_restarts(
        tmp_path: Path, store: psycopg.Connection, schema_url: str, backtest: Backtest) -> None:
    journal = tmp_path / "storage" / "alphapulse" / "PatternTrader"
    journal.mkdir(parents=True)
    signals = [s.to_json() for s in backtest.signals]
    write_lines(journal / "signals.jsonl", signals[:5])
    write_lines(journal / "fills.jsonl", [f.to_json() for f in backtest.fills[:2]])
    follow(store, tmp_path / "storage", ONCE)
    assert stored(store) == ([s.id for s in backtest.signals[:5]], 2, 1)

    append(journal / "signals.jsonl", signals[5] + "\n" + signals[6][:25])  # Lean flushed mid-line
    follow(store, tmp_path / "storage", ONCE)
    assert stored(store)[0] == [s.id for s in backtest.signals[:6]]

    append(journal / "signals.jsonl", signals[6][25:] + "\n")
    with psycopg.connect(schema_url, autocommit=True) as restarted:  # a new process: offsets from the DB
        follow(restarted, tmp_path / "storage", ONCE)
        follow(restarted, tmp_path / "storage", ONCE)
    assert stored(store) == ([s.id for s in backtest.signals[:7]], 2, 1)
    offsets = store.execute("SELECT byte_offset FROM follow_offsets ORDER BY path").fetchall()
    sizes = [((journal / name).stat().st_size,) for name in ("fills.jsonl", "signals.jsonl")]
    assert offsets == sizes


def test_lines_written_while_following_arrive(tmp_path: Path, store: psycopg.Connection, schema_url: str,
                                              backtest: Backtest) -> None:
    journal = tmp_path / "alphapulse" / "LivePatterns"
    journal.mkdir(parents=True)
    (journal / "signals.jsonl").write_text("")
    polls: list[int] = []
    done = threading.Event()

    def run() -> None:
        with psycopg.connect(schema_url, autocommit=True) as conn:
            polls.append(follow(conn, tmp_path / "alphapulse",
                                FollowSettings(poll_seconds=0.05, max_seconds=30),
                                should_stop=done.is_set))

    thread = threading.Thread(target=run)
    thread.start()
    for signal in backtest.signals:
        append(journal / "signals.jsonl", signal.to_json() + "\n")
        time.sleep(0.01)
    deadline = time.monotonic() + 20
    while stored(store)[0] != [s.id for s in backtest.signals] and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(polls) == 1  # it stopped when asked
    assert stored(store)[0] == [s.id for s in backtest.signals]


def test_a_replaced_journal_is_read_again_without_duplicates(tmp_path: Path, store: psycopg.Connection,
                                                            backtest: Backtest) -> None:
    journal = tmp_path / "alphapulse" / "PatternTrader"
    journal.mkdir(parents=True)
    write_lines(journal / "signals.jsonl", [s.to_json() for s in backtest.signals[:8]])
    follow(store, journal, ONCE)
    write_lines(journal / "signals.jsonl", [s.to_json() for s in backtest.signals[6:10]])  # shorter file
    follow(store, journal, ONCE)
    assert stored(store)[0] == [s.id for s in backtest.signals[:10]]


def test_a_bad_line_stops_with_file_and_line(tmp_path: Path, store: psycopg.Connection,
                                             backtest: Backtest) -> None:
    journal = tmp_path / "alphapulse" / "PatternTrader"
    journal.mkdir(parents=True)
    write_lines(journal / "signals.jsonl", [s.to_json() for s in backtest.signals[:3]])
    follow(store, journal, ONCE)
    append(journal / "signals.jsonl", backtest.signals[3].to_json() + "\n" + '{"schema": "other/9"}\n')
    with pytest.raises(StoreError, match=r"signals\.jsonl: line 5: unknown record schema"):
        follow(store, journal, ONCE)
    assert stored(store)[0] == [s.id for s in backtest.signals[:3]]  # the failed poll stored nothing


def test_max_seconds_bounds_following(tmp_path: Path, store: psycopg.Connection) -> None:
    (tmp_path / "alphapulse").mkdir()
    started = time.monotonic()
    polls = follow(store, tmp_path / "alphapulse", FollowSettings(poll_seconds=0.05, max_seconds=0.3))
    assert polls >= 1  # it stopped by itself
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("settings", [{"poll_seconds": 0.0}, {"poll_seconds": 1e6}, {"max_seconds": -1.0}])
def test_bad_follow_settings_are_rejected(settings: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        FollowSettings(**settings)  # type: ignore[arg-type]


def test_following_a_missing_folder_is_an_error(tmp_path: Path, store: psycopg.Connection) -> None:
    with pytest.raises(DataError, match="no such folder"):
        follow(store, tmp_path / "absent", ONCE)


def test_a_journal_rewritten_by_a_restarted_algorithm_is_read_from_the_start(
        tmp_path: Path, store: psycopg.Connection, backtest: Backtest) -> None:
    journal = tmp_path / "alphapulse" / "PatternTrader"
    journal.mkdir(parents=True)
    write_lines(journal / "signals.jsonl", [s.to_json() for s in backtest.signals[:3]])
    follow(store, journal, ONCE)
    write_lines(journal / "signals.jsonl", [s.to_json() for s in backtest.signals[3:12]])  # longer, different
    follow(store, journal, ONCE)
    assert stored(store)[0] == [s.id for s in backtest.signals[:12]]


def test_rollups_are_refreshed_when_following_stops(tmp_path: Path, store: psycopg.Connection,
                                                    backtest: Backtest) -> None:
    journal = tmp_path / "alphapulse" / "PatternTrader"
    journal.mkdir(parents=True)
    write_lines(journal / "signals.jsonl", [s.to_json() for s in backtest.signals])
    follow(store, journal, FollowSettings(poll_seconds=0.05, max_seconds=0.2, refresh_seconds=3600))
    row = store.execute("SELECT sum(signals)::int FROM daily_pattern_signals").fetchone()
    assert row == (sum(len(s.patterns) for s in backtest.signals),)


def test_an_idle_poll_writes_nothing(tmp_path: Path, store: psycopg.Connection, backtest: Backtest) -> None:
    journal = tmp_path / "alphapulse" / "PatternTrader"
    journal.mkdir(parents=True)
    write_lines(journal / "signals.jsonl", [s.to_json() for s in backtest.signals[:4]])
    follow(store, journal, ONCE)
    query = ("SELECT r.exported_at, o.updated_at, pg_sequence_last_value(pg_get_serial_sequence('runs', 'id')) "
             "FROM runs r JOIN follow_offsets o ON o.run_id = r.id")
    before = store.execute(query).fetchall()
    seen: list[object] = []
    follow(store, journal, ONCE, on_poll=seen.append)
    assert store.execute(query).fetchall() == before
    assert seen == []  # no poll result to report
