"""The ``alphapulse`` command line as a user meets it: help, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from alphapulse_tools.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "alphapulse_tools.cli", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("data", "scan", "backtest", "webhook", "db", "export", "ml", "pine-inputs"):
        assert command in result.stdout


@pytest.mark.parametrize("args", [["no-such-command"], ["backtest", "--no-such-option"], ["data", "download"]])
def test_bad_usage_exits_2_without_traceback(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_user_error_is_one_line_on_stderr(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "--strategy", "no-such-strategy", "--symbol", "BTCUSDT", "--interval", "1h",
                 "--start", "2024-01-01", "--end", "2024-01-31", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and "no-such-strategy" in err
