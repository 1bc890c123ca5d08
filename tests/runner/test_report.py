"""The HTML report opens offline in headless Chromium, draws its charts and logs no errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from alphapulse_tools.runner.backtest import BacktestRequest, run_backtest
from alphapulse_tools.runner.report import pattern_table
from tests.conftest import ROOT, missing

ARTIFACTS = ROOT / "test-artifacts"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    missing("headless Chromium is not installed (apt-get install -y chromium)")
    raise AssertionError("unreachable")


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"]
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(profile)}, check=False)


@pytest.mark.usefixtures("probe_strategy")
def test_report_renders_in_chromium(lean_data: Path, tmp_path: Path) -> None:
    browser = _chromium()
    outcome = run_backtest(BacktestRequest(
        strategy="macd-crossover", symbols=("SPY",), interval="1h", start=date(2020, 1, 1),
        end=date(2020, 12, 31), market="usa", data_dir=lean_data, out=tmp_path / "run"))
    report = tmp_path / "run" / "report.html"
    text = report.read_text()
    # self-contained: no external resource of any kind
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "fetch(" not in text
    dom = _run(browser, tmp_path / "profile", "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout)
    assert body is not None and 'data-rendered="1"' in body.group(0), body
    assert "data-error" not in body.group(0)
    for chart in ("price", "overview", "equity", "drawdown"):
        assert re.search(rf'<canvas id="{chart}"[^>]*data-drawn="1"', dom.stdout), chart
    console_errors = [line for line in dom.stderr.splitlines()
                      if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]
    assert console_errors == []
    assert len(outcome.result.trades) > 10
    ARTIFACTS.mkdir(exist_ok=True)
    shot = _run(browser, tmp_path / "profile2", f"--screenshot={ARTIFACTS / 'report.png'}",
                "--window-size=1400,1000", report.as_uri())
    assert shot.returncode == 0 and (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_pattern_table_counts_by_hand() -> None:
    from alphapulse.bars import parse_time
    from alphapulse.journal import Direction, PatternHit, Signal
    from alphapulse_tools.runner.trades import Trade

    def trade(exit_price: float, confidence: float) -> Trade:
        signal = Signal("s", "X", "binance", "1h", parse_time("2024-01-01T00:00:00Z"), Direction.LONG,
                        entry=100.0, stop=90.0, target=120.0,
                        patterns=(PatternHit("CDLHAMMER", 100, confidence),))
        return Trade("X", "binance", Direction.LONG, 1.0, 0, 0, 100.0, 0.0, 90.0, 120.0, 1, 1, exit_price,
                     0.0, "target" if exit_price > 100 else "stop", signal)

    rows = pattern_table([trade(120.0, 0.95), trade(90.0, 0.55), trade(120.0, 0.58)])
    assert len(rows) == 1
    row = rows[0]
    assert (row["pattern"], row["trades"], row["wins"]) == ("CDLHAMMER", 3, 2)
    assert row["average_r"] == pytest.approx((2 - 1 + 2) / 3)
    # buckets 0-0.5, 0.5-0.6, 0.6-0.7, 0.7-0.8, 0.8-0.9, 0.9-1.0: [trades, wins]
    assert row["buckets"] == [[0, 0], [2, 1], [0, 0], [0, 0], [0, 0], [1, 1]]


def test_report_without_trades_still_renders_text(lean_data: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from alphapulse_tools.runner import backtest

    class Silent:
        warm_up_period = 5

        def signals(self, bars):
            return []

    monkeypatch.setattr(backtest, "_strategy_for", lambda name, contract, symbol, market: Silent())
    outcome = run_backtest(BacktestRequest(strategy="macd-crossover", symbols=("BTCUSDT",), interval="1h",
                                           start=date(2018, 5, 1), end=date(2018, 5, 5), data_dir=lean_data,
                                           out=tmp_path / "quiet"))
    assert outcome.result.trades == []
    text = (tmp_path / "quiet" / "report.html").read_text()
    assert "no trade entered on a candlestick pattern" in text and "Trades (0)" in text
    assert outcome.statistics["Total Orders"] == "0" and outcome.statistics["Net Profit"] == "0%"
