"""The whole backtest path: a Lean-shaped result folder, readable like a Lean result; bad input."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from alphapulse.journal import Fill, Signal, read_record
from alphapulse.lean_data import read_trade_bars
from alphapulse_tools.cli import main
from alphapulse_tools.runner.backtest import BacktestRequest, run_backtest

LEAN_STATISTICS = ["Total Orders", "Average Win", "Average Loss", "Compounding Annual Return", "Drawdown",
                   "Expectancy", "Start Equity", "End Equity", "Net Profit", "Sharpe Ratio", "Sortino Ratio",
                   "Probabilistic Sharpe Ratio", "Loss Rate", "Win Rate", "Profit-Loss Ratio", "Alpha",
                   "Beta", "Annual Standard Deviation", "Annual Variance", "Information Ratio",
                   "Tracking Error", "Treynor Ratio", "Total Fees", "Estimated Strategy Capacity",
                   "Lowest Capacity Asset", "Portfolio Turnover"]
ORDER_EVENT_FIELDS = {"id", "algorithmId", "orderId", "orderEventId", "symbol", "symbolValue",
                      "symbolPermtick", "time", "status", "direction", "message", "fillPrice",
                      "fillPriceCurrency", "fillQuantity", "quantity", "isAssignment"}


def _request(lean_data: Path, out: Path, **changes) -> BacktestRequest:
    fields = {"strategy": "pattern-confluence", "symbols": ("BTCUSDT",), "interval": "1h",
              "start": date(2018, 5, 1), "end": date(2018, 5, 5), "market": "binance",
              "data_dir": lean_data, "cash": 100_000.0, "out": out}
    fields.update(changes)
    return BacktestRequest(**fields)


@pytest.mark.usefixtures("probe_strategy")
def test_result_folder_has_leans_shape(lean_data: Path, tmp_path: Path) -> None:
    outcome = run_backtest(_request(lean_data, tmp_path / "run"))
    folder = tmp_path / "run"
    rid = outcome.run_id
    for name in (f"{rid}.json", f"{rid}-summary.json", f"{rid}-order-events.json", f"{rid}-log.txt",
                 "log.txt", "signals.jsonl", "fills.jsonl", "report.html"):
        assert (folder / name).is_file(), name
    result = json.loads((folder / f"{rid}.json").read_text())
    assert {"rollingWindow", "totalPerformance", "charts", "orders", "profitLoss", "statistics",
            "runtimeStatistics", "state", "algorithmConfiguration"} <= set(result)
    assert list(result["statistics"]) == LEAN_STATISTICS
    assert {"tradeStatistics", "portfolioStatistics", "closedTrades"} <= set(result["totalPerformance"])
    equity = result["charts"]["Strategy Equity"]["series"]["Equity"]["values"]
    assert equity and all(len(point) == 5 for point in equity)
    assert result["statistics"]["Start Equity"] == "100000"
    assert result["statistics"]["Total Orders"] == str(len(result["orders"])) != "0"
    for order in result["orders"].values():
        assert order["type"] in (0, 1, 2) and order["status"] in (1, 3, 5) and order["direction"] in (0, 1)
    events = json.loads((folder / f"{rid}-order-events.json").read_text())
    assert events and all(set(e) >= ORDER_EVENT_FIELDS for e in events)
    assert {e["status"] for e in events} <= {"submitted", "filled", "canceled"}
    assert all(isinstance(e["time"], float) for e in events)
    signals = [Signal.from_json(line) for line in (folder / "signals.jsonl").read_text().splitlines()]
    assert signals == outcome.signals
    fills = [read_record(line) for line in (folder / "fills.jsonl").read_text().splitlines()]
    assert fills and all(isinstance(f, Fill) for f in fills)
    assert len(fills) == sum(1 for e in events if e["status"] == "filled")
    # fees add up across the files
    assert round(sum(f.fee for f in fills), 2) == float(result["statistics"]["Total Fees"].lstrip("$"))
    summary = json.loads((folder / f"{rid}-summary.json").read_text())
    assert summary["statistics"] == result["statistics"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


@pytest.mark.usefixtures("probe_strategy")
def test_cli_backtest_prints_statistics_and_folder(lean_data: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "--strategy", "macd-crossover", "--symbol", "BTCUSDT", "--interval", "1h",
                 "--start", "2018-05-01", "--end", "2018-05-05", "--data-dir", str(lean_data),
                 "--out", str(tmp_path / "cli")])
    out = capsys.readouterr().out
    assert code == 0
    assert "Sharpe Ratio" in out and str(tmp_path / "cli") in out
    assert (tmp_path / "cli" / "report.html").is_file()


def _fails(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], *needles: str) -> None:
    code = main([*args, "--out", str(tmp_path / "never")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1
    for needle in needles:
        assert needle in err
    assert not (tmp_path / "never").exists()
    assert not list(tmp_path.glob(".never*"))


BASE = ["backtest", "--symbol", "BTCUSDT", "--interval", "1h"]


def test_unknown_strategy(lean_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails([*BASE, "--strategy", "moonshot", "--start", "2018-05-01", "--end", "2018-05-05",
                   "--data-dir", str(lean_data)], tmp_path, capsys, "moonshot", "pattern-confluence")


@pytest.mark.usefixtures("probe_strategy")
def test_no_data_for_the_range(lean_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails([*BASE, "--strategy", "macd-crossover", "--start", "2020-01-01", "--end", "2020-02-01",
                   "--data-dir", str(lean_data)], tmp_path, capsys, "BTCUSDT", "download")


@pytest.mark.usefixtures("probe_strategy")
def test_unknown_symbol_has_no_data(lean_data: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    _fails(["backtest", "--symbol", "DOGEUSDT", "--strategy", "macd-crossover", "--start", "2018-05-01",
            "--end", "2018-05-05", "--data-dir", str(lean_data)], tmp_path, capsys, "DOGEUSDT")


@pytest.mark.usefixtures("probe_strategy")
def test_config_error(lean_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "contracts.json"
    config.write_text(json.dumps({"BTCUSDT": {"risk": {"risk_per_trade": 1.5}}}))
    _fails([*BASE, "--strategy", "macd-crossover", "--start", "2018-05-01", "--end", "2018-05-05",
                   "--data-dir", str(lean_data), "--config", str(config)], tmp_path, capsys,
           "risk_per_trade")


@pytest.mark.usefixtures("probe_strategy")
def test_malformed_config(lean_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "contracts.json"
    config.write_text("{not json")
    _fails([*BASE, "--strategy", "macd-crossover", "--start", "2018-05-01", "--end", "2018-05-05",
                   "--data-dir", str(lean_data), "--config", str(config)], tmp_path, capsys, "contracts.json")


def test_insufficient_warm_up(lean_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    from alphapulse_tools.runner import backtest
    from tests.runner.replay import CrossoverProbe

    monkeypatch.setattr(backtest, "_strategy_for", lambda name, contract, symbol, market: CrossoverProbe(100))
    _fails([*BASE, "--strategy", "macd-crossover", "--start", "2018-05-01", "--end", "2018-05-05",
                   "--data-dir", str(lean_data)], tmp_path, capsys, "warm-up", "201")


@pytest.mark.parametrize(("option", "value", "needle"), [
    ("--start", "2018-13-01", "--start"), ("--cash", "-5", "--cash"), ("--market", "kraken", "kraken"),
    ("--interval", "7m", "7m")])
@pytest.mark.usefixtures("probe_strategy")
def test_bad_options(lean_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str,
                     value: str, needle: str) -> None:
    args = {"--strategy": "macd-crossover", "--start": "2018-05-01", "--end": "2018-05-05",
            "--data-dir": str(lean_data), option: value}
    flat = [x for pair in args.items() for x in pair]
    _fails(["backtest", "--symbol", "BTCUSDT", *flat], tmp_path, capsys, needle)


@pytest.mark.usefixtures("probe_strategy")
def test_existing_output_folder_is_refused(lean_data: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "never").mkdir()
    (tmp_path / "never" / "keep.txt").write_text("mine")
    code = main([*BASE, "--strategy", "macd-crossover", "--start", "2018-05-01", "--end", "2018-05-05",
                        "--data-dir", str(lean_data), "--out", str(tmp_path / "never")])
    assert code == 2 and "already exists" in capsys.readouterr().err
    assert (tmp_path / "never" / "keep.txt").read_text() == "mine"


@pytest.mark.usefixtures("probe_strategy")
def test_failure_while_writing_leaves_no_folder(lean_data: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from alphapulse_tools.runner import report

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "write_report", broken)
    with pytest.raises(RuntimeError):
        run_backtest(_request(lean_data, tmp_path / "run"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("probe_strategy")
def test_interval_that_is_not_a_lean_resolution_is_consolidated(lean_data: Path, tmp_path: Path) -> None:
    from alphapulse.timeframes import resample

    outcome = run_backtest(_request(lean_data, None, interval="4h", report=False))
    hourly = read_trade_bars(lean_data, "binance", "BTCUSDT", "hour")
    expected = resample(hourly, "4h")
    assert outcome.bars["BTCUSDT"] == expected
    assert outcome.bars["BTCUSDT"].period == 4 * 3600
    assert outcome.folder is None


def test_real_strategy_on_real_data(lean_data: Path, tmp_path: Path) -> None:
    """No stand-in: the registry's macd-crossover on Coinbase's daily BTCUSD, Coinbase fees."""
    outcome = run_backtest(_request(lean_data, tmp_path / "real", strategy="macd-crossover", symbols=("BTCUSD",),
                                    interval="1d", market="coinbase", start=date(2016, 1, 1),
                                    end=date(2018, 8, 1)))
    trades = outcome.result.trades
    assert len(trades) >= 5
    # 2016-2018 Coinbase taker fee (Lean's schedule): 0.3 % of the value for market and stop orders
    first = trades[0]
    assert first.entry_fee == pytest.approx(first.quantity * first.entry_price * 0.003)
    assert outcome.statistics["Start Equity"] == "100000"


@pytest.mark.usefixtures("probe_strategy")
def test_cli_portfolio_of_two_symbols(lean_data: Path, tmp_path: Path) -> None:
    code = main(["backtest", "--strategy", "rsi-mean-reversion", "--symbol", "BTCUSD", "--symbol", "ETHUSD",
                 "--market", "coinbase", "--interval", "5m", "--start", "2018-04-04", "--end", "2018-04-05",
                 "--data-dir", str(lean_data), "--out", str(tmp_path / "two"), "--no-report"])
    assert code == 0
    (result_file,) = [p for p in (tmp_path / "two").glob("*.json")
                      if not p.name.endswith(("-summary.json", "-order-events.json"))]
    orders = json.loads(result_file.read_text())["orders"].values()
    assert {o["symbol"]["value"] for o in orders} == {"BTCUSD", "ETHUSD"}
    assert not (tmp_path / "two" / "report.html").exists()
