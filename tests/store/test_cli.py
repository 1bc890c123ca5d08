"""``alphapulse db init`` and ``alphapulse export`` end to end against real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.cli import main
from tests.store.lean_results import Backtest, simulate, write_journal, write_lines, write_result_folder


@pytest.fixture(scope="module")
def backtest(lean_data: Path) -> Backtest:
    return simulate(read_trade_bars(lean_data, "binance", "btcusdt", "hour"))


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return row[0]


def test_db_init_prints_the_mode(schema_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "init", "--database-url", schema_url]) == 0
    assert "plain mode, schema version 3 (applied 1, 2, 3)" in capsys.readouterr().out
    assert main(["db", "init", "--database-url", schema_url]) == 0
    assert "already up to date" in capsys.readouterr().out


def test_db_init_reads_the_url_from_the_environment(schema_url: str, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ALPHAPULSE_DATABASE_URL", schema_url)
    assert main(["db", "init"]) == 0
    assert "plain mode" in capsys.readouterr().out


def test_export_twice_stores_each_row_once(tmp_path: Path, schema_url: str, backtest: Backtest,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_result_folder(tmp_path / "run", backtest, local_runner=True)
    journal = write_journal(tmp_path / "storage", backtest)
    assert main(["export", str(folder), str(journal), "--database-url", schema_url]) == 0
    out = capsys.readouterr().out
    assert f"{len(backtest.signals)}/{len(backtest.signals)} signals" in out
    assert main(["export", str(folder), str(journal), "--database-url", schema_url, "--no-copy"]) == 0
    assert f"0/{len(backtest.signals)} signals" in capsys.readouterr().out
    assert count(schema_url, "signals") == 2 * len(backtest.signals)  # two runs, once each
    assert count(schema_url, "runs") == 2


def test_export_with_a_bad_folder_stores_the_others_and_exits_1(
        tmp_path: Path, schema_url: str, backtest: Backtest, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_result_folder(tmp_path / "good", backtest, local_runner=True)
    bad = write_result_folder(tmp_path / "bad", backtest, result_id="7", local_runner=True)
    lines = (bad / "signals.jsonl").read_text().splitlines()
    lines[2] = "{not json"
    write_lines(bad / "signals.jsonl", lines)
    assert main(["export", str(bad), str(good), "--database-url", schema_url]) == 1
    err = capsys.readouterr().err
    assert "signals.jsonl: line 3: not valid JSON" in err
    assert "error: 1 of 2 run(s) failed" in err
    assert count(schema_url, "runs") == 1


def test_export_follow_once(tmp_path: Path, schema_url: str, backtest: Backtest,
                            capsys: pytest.CaptureFixture[str]) -> None:
    write_journal(tmp_path / "storage", backtest)
    args = ["export", "--follow", "--once", str(tmp_path / "storage"), "--database-url", schema_url]
    assert main(args) == 0
    assert "followed" in capsys.readouterr().out
    assert main(args) == 0
    assert count(schema_url, "signals") == len(backtest.signals)
    assert count(schema_url, "fills") == len(backtest.fills)


@pytest.mark.parametrize("args", [
    ["export", "{tmp}/absent", "--database-url", "{url}"],
    ["export", "{tmp}", "--database-url", "{url}"],
    ["db", "init", "--database-url", "{url}", "--mode", "sideways"],
    ["db", "init", "--database-url", "not-a-url"],
    ["export", "{tmp}/absent", "--database-url", "postgresql://x@127.0.0.1:1/unreachable"],
    ["export", "--follow", "{tmp}", "{tmp}", "--database-url", "{url}"],
    ["export", "--follow", "--poll-seconds", "0", "--once", "{tmp}", "--database-url", "{url}"],
])
def test_bad_input_exits_2_with_one_line(tmp_path: Path, schema_url: str, args: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{url}", schema_url) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


def test_missing_database_url_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("ALPHAPULSE_DATABASE_URL", raising=False)
    assert main(["export", str(tmp_path)]) == 2
    assert "--database-url" in capsys.readouterr().err


def test_unreachable_database_exits_1_without_the_password(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://someone:secret@127.0.0.1:1/nowhere"
    assert main(["db", "init", "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert "cannot connect" in err and "secret" not in err and "someone:***@" in err
