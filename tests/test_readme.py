"""The README works as written: every ``alphapulse`` command it shows exists with the options it
uses, its configuration example loads, its SQL runs, and the quick-start scripts are there."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from alphapulse.config import load_contracts

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S)


def commands() -> list[list[str]]:
    """Every ``alphapulse ...`` command line of the README's bash blocks (continuations joined)."""
    found = []
    for language, body in BLOCKS:
        if language != "bash":
            continue
        for line in body.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("alphapulse "):
                found.append(shlex.split(line)[1:])
    return found


@cache
def help_text(path: tuple[str, ...]) -> str:
    result = subprocess.run([sys.executable, "-m", "alphapulse_tools.cli", *path, "--help"], capture_output=True,
                            text=True, timeout=120, check=False, env={"COLUMNS": "200", "PATH": ""})
    assert result.returncode == 0, f"alphapulse {' '.join(path)} --help failed: {result.stderr}"
    return result.stdout


@pytest.mark.parametrize("argv", commands(), ids=lambda argv: " ".join(argv)[:60])
def test_readme_command_exists_with_its_options(argv: list[str]) -> None:
    path = [a for a in argv[:2] if not a.startswith("-")]
    # the command path is the leading words that are sub-commands (group then command)
    words: list[str] = []
    for word in path:
        if word in help_text(tuple(words)).split():
            words.append(word)
    assert words, f"unknown command in the README: alphapulse {' '.join(argv)}"
    text = help_text(tuple(words))
    for option in (a.split("=")[0] for a in argv if a.startswith("--")):
        assert option in text, f"alphapulse {' '.join(words)} has no option {option} (README: {' '.join(argv)})"


def test_readme_shows_commands() -> None:
    assert len(commands()) >= 10


def test_quick_start_scripts_exist() -> None:
    for script in ("./scripts/main", "./scripts/test"):
        assert script in README
        assert (ROOT / script).stat().st_mode & 0o111, f"{script} is not executable"


def test_readme_configuration_example_loads() -> None:
    examples = [body for language, body in BLOCKS if language == "json"]
    assert examples
    for body in examples:
        contracts = load_contracts(json.loads(body))
        assert contracts["BTCUSDT"].timeframe == "1h"


def test_readme_sql_runs(database_url: str) -> None:
    import psycopg

    from alphapulse_tools.store.migrations import migrate

    queries = [body for language, body in BLOCKS if language == "sql"]
    assert queries
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        for query in queries:
            conn.execute(query, {"run_id": 1}).fetchall()
