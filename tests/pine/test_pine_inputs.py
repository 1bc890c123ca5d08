"""A contract's configuration as the TradingView scripts' inputs (``alphapulse pine-inputs``).

The translation is checked where it matters: the overlay, executed with PyneCore on real data with
the inputs :func:`alphapulse_tools.pine.contract_inputs` gives for a contract that changes every
setting the scripts take, gives exactly the core's signals for that contract.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphapulse.config import load_contracts
from alphapulse.errors import ConfigError
from alphapulse_tools.cli import main
from alphapulse_tools.pine import SCRIPTS, contract_inputs, inputs_for_script, script_inputs
from tests.core.datasets import load_dataset
from tests.pine.pine_offline import PINE_DIR, run_pine
from tests.pine.test_pine_signals import (
    BROAD,
    BROAD_INPUTS,
    CONFIDENCE,
    CONFIDENCE_INPUTS,
    MAX_BARS,
    OVERLAY,
    TUNED,
    TUNED_INPUTS,
    core_signals,
    signal_differences,
)

#: a contract changing every setting the scripts take
EVERYTHING = {**TUNED, "confidence": CONFIDENCE,
              "risk": {**TUNED["risk"], "max_bars": 30, "risk_per_trade": 0.01, "max_position": 0.3}}
#: script inputs without a counterpart in a contract (they keep the script's default)
UNMAPPED = {"penetrationStar", "penetrationBaby", "penetrationCloud", "penetrationMatHold", "webhookSecret"}


def contract(config: dict):
    return load_contracts({"BTCUSDT": config})["BTCUSDT"]


@pytest.mark.parametrize("name", ["lean/coinbase/minute/btcusd", "freqtrade/ADA_BTC-5m"])
def test_the_inputs_of_a_contract_give_its_signals_on_the_chart(shared_data: Path, name: str) -> None:
    bars = load_dataset(shared_data, name).bars[-MAX_BARS:]
    inputs = {item.name: value for item, value in inputs_for_script(contract(EVERYTHING), OVERLAY)}
    signals = core_signals(EVERYTHING, bars)
    assert signals, "the configuration should give signals on this dataset"
    assert signal_differences(run_pine(OVERLAY, bars, inputs=inputs).plots, bars, signals) == []


@pytest.mark.parametrize(("config", "written"), [(BROAD, BROAD_INPUTS), (TUNED, TUNED_INPUTS),
                                                 ({**BROAD, "confidence": CONFIDENCE}, CONFIDENCE_INPUTS)])
def test_the_translation_agrees_with_the_inputs_written_by_hand(config: dict, written: dict) -> None:
    translated = contract_inputs(contract(config))
    assert {key: translated[key] for key in written} == written


def test_every_script_input_is_translated_or_left_at_its_default() -> None:
    translated = contract_inputs(contract({}))
    for script in SCRIPTS.values():
        declared = {item.name: item for item in script_inputs(PINE_DIR / script)}
        assert set(declared) - set(translated) <= UNMAPPED, script
        for name, value in translated.items():  # the defaults agree with the core's
            if name in declared:
                assert declared[name].default == value, (script, name)
    strategy = {item.name for item in script_inputs(PINE_DIR / SCRIPTS["strategy"])}
    assert set(translated) <= strategy


@pytest.mark.parametrize(("config", "message"), [
    ({"strategy": "rsi-mean-reversion"}, r"BTCUSDT\.strategy 'rsi-mean-reversion'"),
    ({"timeframe": "1h", "higher_timeframe": "4h"}, r"BTCUSDT\.higher_timeframe '4h'"),
    ({"risk": {"stop": "atr"}}, r"BTCUSDT\.risk\.stop 'atr'"),
    ({"indicators": {"ema": [5, 10, 20, 50]}}, r"BTCUSDT\.indicators\.ema .*at most 3 EMAs"),
    ({"confidence": {"volume_bars": 64}}, r"BTCUSDT\.confidence\.volume_bars 64: .*at most 63"),
])
def test_what_the_scripts_cannot_express_is_refused_by_key(config: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        contract_inputs(contract(config))


def test_a_value_outside_an_input_range_is_refused_by_title() -> None:
    """The core takes a risk per trade down to any positive fraction; the strategy's input stops at
    0.0001 (TradingView would clamp the value, silently changing the contract)."""
    tiny = contract({"risk": {"risk_per_trade": 0.00005}})
    with pytest.raises(ConfigError, match=r"'Risk per trade \(fraction of equity\)' \(riskPerTrade\) = 5e-05 is "
                                          r"outside \[0\.0001, 0\.1\]"):
        inputs_for_script(tiny, PINE_DIR / SCRIPTS["strategy"])
    assert inputs_for_script(tiny, OVERLAY)  # the overlay has no risk inputs


def test_the_command_lists_the_inputs_by_group_and_marks_changes(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "contracts.json"
    config.write_text(json.dumps({"BTCUSDT": EVERYTHING}))
    pine_dir = str(PINE_DIR)
    assert main(["pine-inputs", "--symbol", "btcusdt", "--config", str(config), "--pine-dir", pine_dir]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "Confidence:" in lines and "Risk:" in lines and lines.count("Risk:") == 1
    assert " * Reliability window (bars): 120" in lines
    assert " * Risk per trade (fraction of equity): 0.01" in lines
    assert "   Webhook secret (ALPHAPULSE_WEBHOOK_SECRET): YOUR_WEBHOOK_SECRET" in lines
    assert main(["pine-inputs", "--symbol", "BTCUSDT", "--config", str(config), "--pine-dir", pine_dir,
                 "--script", "overlay", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {item.name: value for item, value in inputs_for_script(contract(EVERYTHING), OVERLAY)}
    assert "riskPerTrade" not in shown and shown["confReliabilityBars"] == 120


@pytest.mark.parametrize(("args", "message"), [
    (["--script", "chart"], "--script 'chart': use overlay or strategy"),
    (["--format", "xml"], "--format 'xml': use text or json"),
    (["--pine-dir", "no-such-folder"], "cannot read the Pine script"),
])
def test_the_command_refuses_bad_options_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      args: list[str], message: str) -> None:
    code = main(["pine-inputs", "--symbol", "BTCUSDT", "--pine-dir", str(PINE_DIR), *args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err


def test_the_command_names_what_a_contract_cannot_express(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "contracts.json"
    config.write_text(json.dumps({"ETHUSDT": {"timeframe": "1h", "higher_timeframe": "4h"}}))
    assert main(["pine-inputs", "--symbol", "ETHUSDT", "--config", str(config), "--pine-dir", str(PINE_DIR)]) == 2
    assert "ETHUSDT.higher_timeframe '4h'" in capsys.readouterr().err
