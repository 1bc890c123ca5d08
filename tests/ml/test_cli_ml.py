"""``alphapulse ml train`` / ``evaluate`` on real data (Lean's SPY hour bars), and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from alphapulse.model_factor import ModelFactor
from alphapulse_tools.cli import main

pytestmark = [pytest.mark.usefixtures("keras_ready"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]


def _args(lean_data, *extra):
    return ["--strategy", "rsi-mean-reversion", "--symbol", "SPY", "--interval", "1h", "--market", "usa",
            "--data-dir", str(lean_data), "--start", "2012-01-01", "--epochs", "5", *extra]


def test_train_writes_a_model_the_core_loads(lean_data, tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["ml", "train", *_args(lean_data, "--out", str(out))]) == 0
    assert "model written to" in capsys.readouterr().out
    factor = ModelFactor.load(out)
    meta = factor.metadata
    assert (meta.strategy, meta.symbol, meta.market, meta.interval) == \
        ("rsi-mean-reversion", "SPY", "usa", "1h")
    assert meta.training["bars_start"].startswith("2012-01-03")
    assert meta.training["samples"] >= 30 and 0 < meta.threshold < 1
    from alphapulse.config import ContractConfig
    from alphapulse.lean_data import read_trade_bars
    from alphapulse.strategies import create_strategy

    bars = read_trade_bars(lean_data, "usa", "SPY", "hour")
    bars = bars.between(int(np.datetime64("2012-01-01", "ns").astype(np.int64)))
    signals = [s for s in create_strategy("rsi-mean-reversion", ContractConfig.defaults("SPY"), symbol="SPY",
                                          market="usa").signals(bars) if s.stop is not None]
    p = factor.probabilities(bars, signals)
    usable = p[np.isfinite(p)]
    assert len(usable) >= 30 and ((usable >= 0) & (usable <= 1)).all()


def test_evaluate_prints_the_out_of_sample_report_as_json(lean_data, capsys):
    assert main(["ml", "evaluate", *_args(lean_data, "--folds", "2", "--json")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["folds"]) == 2
    assert report["samples"] == sum(f["test_samples"] for f in report["folds"])
    assert 0 <= report["auc"] <= 1 and 0 <= report["brier"] <= 1
    assert set(report["backtest"]) == {"without_model", "with_model"}
    assert report["backtest"]["with_model"]["trades"] <= report["backtest"]["without_model"]["trades"] + \
        report["taken"]
    assert report["context"]["embargo"] > 0


def test_evaluate_table(lean_data, capsys):
    assert main(["ml", "evaluate", *_args(lean_data, "--folds", "2", "--embargo", "10")]) == 0
    text = capsys.readouterr().out
    assert "out-of-sample meta-labelling: rsi-mean-reversion SPY 1h" in text
    assert "without model" in text and "with model filter" in text


@pytest.mark.parametrize(("extra", "message"), [
    (["--strategy", "moon"], "--strategy 'moon' is unknown"),
    (["--start", "2012-13-01"], "--start '2012-13-01' is not a date"),
    (["--threshold", "1.5"], "--threshold 1.5"),
    (["--market", "nasdaq"], "--market 'nasdaq'"),
    (["--interval", "7m"], "unknown interval '7m'"),
    (["--folds", "0"], "--folds 0"),
    (["--epochs", "0"], "--epochs 0"),
])
def test_bad_options_exit_2_with_one_line(lean_data, capsys, extra, message):
    assert main(["ml", "evaluate", *_args(lean_data), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_missing_data_and_bad_config_exit_2(lean_data, tmp_path, capsys):
    assert main(["ml", "evaluate", *_args(lean_data), "--data-dir", str(tmp_path / "nowhere")]) == 2
    assert "--data-dir" in capsys.readouterr().err
    assert main(["ml", "evaluate", *_args(lean_data), "--symbol", "QQQ"]) == 2
    assert "no such file" in capsys.readouterr().err
    config = tmp_path / "contracts.json"
    config.write_text('{"SPY": {"risk": {"risk_per_trade": 5}}}')
    assert main(["ml", "evaluate", *_args(lean_data), "--config", str(config)]) == 2
    assert "risk_per_trade" in capsys.readouterr().err


def test_too_few_signals_is_a_clear_error(lean_data, tmp_path, capsys):
    code = main(["ml", "train", *_args(lean_data, "--out", str(tmp_path / "m")), "--start", "2021-03-01"])
    assert code == 2
    assert "usable signals" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_evaluate_pools_several_symbols(lean_data, capsys):
    args = ["ml", "evaluate", "--strategy", "macd-crossover", "--symbol", "BTCUSD", "--symbol", "ETHUSD",
            "--interval", "1m", "--market", "coinbase", "--data-dir", str(lean_data), "--epochs", "3",
            "--folds", "2", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["context"]["symbol"] == "BTCUSD,ETHUSD"
    assert report["samples"] == sum(f["test_samples"] for f in report["folds"])
    assert main([*args[:-1], "--symbol", "btcusd"]) == 2
    assert "repeats a symbol" in capsys.readouterr().err
