"""Per-contract configuration: the example files load, defaults merge, bad input names its key path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphapulse.config import (
    PATTERN_NAMES,
    ContractConfig,
    RiskSettings,
    load_contracts,
)
from alphapulse.errors import ConfigError
from alphapulse.patterns import ALL_PATTERNS

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def test_pattern_names_are_the_61_talib_patterns():
    assert len(PATTERN_NAMES) == 61 and set(PATTERN_NAMES) == set(ALL_PATTERNS)


@pytest.mark.parametrize("name", ["contracts.example.json", "contracts.default.json"])
def test_shipped_files_load(name):
    contracts = load_contracts(CONFIG_DIR / name)
    assert "BTCUSDT" in contracts and "ETHUSDT" in contracts
    for symbol, contract in contracts.items():
        assert contract.symbol == symbol


def test_example_file_sets_per_contract_rsi_levels():
    contracts = load_contracts(CONFIG_DIR / "contracts.example.json")
    btc, eth = contracts["BTCUSDT"].indicators.rsi, contracts["ETHUSDT"].indicators.rsi
    assert (btc.period, btc.oversold, btc.overbought) == (14, 30, 70)
    assert (eth.period, eth.oversold, eth.overbought, eth.exit_level) == (14, 25, 75, 50)
    assert contracts["ETHUSDT"].strategy == "rsi-mean-reversion"
    assert contracts["BTCUSDT"].higher_timeframe == "4h"


def test_pine_entry_switches_off_what_pine_cannot_compute():
    pine = load_contracts(CONFIG_DIR / "contracts.example.json")["PINE"]
    assert pine.higher_timeframe is None and pine.weights.model == 0 and pine.weights.higher_timeframe == 0
    assert pine.confidence.reliability == 0 and pine.strategy == "pattern-confluence"


def test_confidence_settings_are_validated_with_their_path():
    contract = load_contracts({"X": {"confidence": {"reliability": 0, "trend": 0.55}}})["X"]
    assert contract.confidence.reliability == 0 and contract.confidence.trend == 0.55
    with pytest.raises(ConfigError, match=r"X\.confidence: confidence weights .* sum to 1"):
        load_contracts({"X": {"confidence": {"reliability": 0}}})
    with pytest.raises(ConfigError, match=r"X\.confidence\.barrier_bars: 0 is out of range \[1, 1000\]"):
        load_contracts({"X": {"confidence": {"barrier_bars": 0}}})


def test_product_example_is_valid_as_written():
    # the JSON shown in PRODUCT.md
    data = {"BTCUSDT": {"timeframe": "1h",
            "indicators": {"ema": [20, 50, 200], "rsi": {"period": 14, "oversold": 30, "overbought": 70},
                           "macd": {"fast": 12, "slow": 26, "signal": 9}},
            "patterns": ["CDLENGULFING", "CDLHAMMER", "CDLSHOOTINGSTAR", "CDLDOJI"],
            "min_confidence": 0.6,
            "risk": {"risk_per_trade": 0.02, "max_position": 0.15, "stop": "pattern",
                     "min_risk_reward": 2.0}}}
    contract = load_contracts(data)["BTCUSDT"]
    assert contract.indicators.ema == (20, 50, 200)
    assert contract.patterns == ("CDLENGULFING", "CDLHAMMER", "CDLSHOOTINGSTAR", "CDLDOJI")
    assert contract.risk == RiskSettings(risk_per_trade=0.02, max_position=0.15, stop="pattern",
                                         min_risk_reward=2.0)


def test_default_entry_merges_under_each_symbol_key_by_key():
    contracts = load_contracts({
        "default": {"risk": {"risk_per_trade": 0.01, "max_bars": 10}, "indicators": {"ema": [10, 30]}},
        "BTCUSDT": {"risk": {"max_position": 0.3}},
        "ETHUSDT": {"indicators": {"ema": [5]}, "risk": {"max_bars": None}},
    })
    btc, eth = contracts["BTCUSDT"], contracts["ETHUSDT"]
    assert (btc.risk.risk_per_trade, btc.risk.max_position, btc.risk.max_bars) == (0.01, 0.3, 10)
    assert btc.indicators.ema == (10, 30) and eth.indicators.ema == (5,)
    assert eth.risk.max_bars is None
    # a symbol not listed gets the default entry; the built-ins fill the rest
    assert contracts.for_symbol("btcusdt") is btc
    other = contracts.for_symbol("SOLUSDT")
    assert other.symbol == "SOLUSDT" and other.risk.risk_per_trade == 0.01
    assert other.timeframe == ContractConfig.defaults().timeframe


def test_target_r_defaults_to_min_risk_reward():
    risk = load_contracts({"X": {"risk": {"min_risk_reward": 3}}})["X"].risk
    assert risk.target_multiple == 3.0
    assert load_contracts({"X": {"risk": {"target_r": 4}}})["X"].risk.target_multiple == 4.0


def test_model_entry():
    from alphapulse.config import ModelSettings

    contract = load_contracts({"X": {"model": {"path": "models/X-1h", "weight": 0.5}}})["X"]
    assert contract.model == ModelSettings("models/X-1h", 0.5)
    assert load_contracts({"X": {}})["X"].model is None


def test_underscore_keys_are_comments():
    contracts = load_contracts({"_comment": "x", "X": {"_note": "y", "risk": {"_why": 1}}})
    assert list(contracts) == ["X"]


@pytest.mark.parametrize(("data", "message"), [
    ({"BTCUSDT": {"risk": {"risk_per_trade": 1.5}}},
     "BTCUSDT.risk.risk_per_trade: 1.5 is out of range (0, 0.1]"),
    ({"BTCUSDT": {"risk": {"risk_per_trade": 0}}}, "BTCUSDT.risk.risk_per_trade: 0 is out of range (0, 0.1]"),
    ({"BTCUSDT": {"indicator": {}}}, "BTCUSDT.indicator: unknown key (did you mean 'indicators'?)"),
    ({"BTCUSDT": {"risk": {"stop": "trailing"}}},
     "BTCUSDT.risk.stop: \"trailing\" is not one of pattern, atr"),
    ({"BTCUSDT": {"patterns": ["CDLENGULFIN"]}},
     "BTCUSDT.patterns[0]: unknown candlestick pattern \"CDLENGULFIN\"; close matches: CDLENGULFING"),
    ({"BTCUSDT": {"patterns": []}}, "BTCUSDT.patterns: must be a non-empty list"),
    ({"BTCUSDT": {"timeframe": "2m"}}, "BTCUSDT.timeframe: \"2m\" is not one of 1m, 3m"),
    ({"BTCUSDT": {"timeframe": "4h", "higher_timeframe": "1h"}},
     "BTCUSDT.higher_timeframe: 1h must be longer than the timeframe (4h)"),
    ({"BTCUSDT": {"indicators": {"rsi": {"oversold": 70, "overbought": 30}}}},
     "BTCUSDT.indicators.rsi: oversold (70) must be below overbought (30)"),
    ({"BTCUSDT": {"indicators": {"rsi": {"period": 14.5}}}},
     "BTCUSDT.indicators.rsi.period: 14.5 is not a whole number in [2, 500]"),
    ({"BTCUSDT": {"indicators": {"macd": {"fast": 26, "slow": 12}}}},
     "BTCUSDT.indicators.macd: fast (26) must be shorter than slow (12)"),
    ({"BTCUSDT": {"indicators": {"ema": [50, 20]}}}, "BTCUSDT.indicators.ema: periods [50, 20] must be"),
    ({"BTCUSDT": {"indicators": {"ema": "20"}}}, "BTCUSDT.indicators.ema: must be a list of 1 to 5"),
    ({"BTCUSDT": {"risk": {"min_risk_reward": 2, "target_r": 1.5}}},
     "BTCUSDT.risk.target_r: 1.5 is below min_risk_reward (2)"),
    ({"BTCUSDT": {"risk": {"allow_short": "yes"}}}, "BTCUSDT.risk.allow_short: \"yes\" is not true or false"),
    ({"BTCUSDT": {"weights": {"pattern": 0, "confidence": 0, "trend": 0, "rsi": 0, "volume": 0,
                              "higher_timeframe": 0, "model": 0}}},
     "BTCUSDT.weights: at least one weight must be positive"),
    ({"BTCUSDT": {"weights": {"trnd": 1}}}, "BTCUSDT.weights.trnd: unknown key (did you mean 'trend'?)"),
    ({"BTCUSDT": {"min_confidence": 1.2}}, "BTCUSDT.min_confidence: 1.2 is out of range [0, 1]"),
    ({"BTCUSDT": {"strategy": "grid"}}, "BTCUSDT.strategy: \"grid\" is not one of pattern-confluence"),
    ({"BTCUSDT": [1, 2]}, "BTCUSDT: must be an object of settings, got list"),
    ({"default": {"risk": {"max_position": 2}}, "BTCUSDT": {}},
     "default.risk.max_position: 2 is out of range (0, 1]"),
    ({" BTC": {}}, "' BTC': a symbol must be non-empty text without spaces"),
    ({"BTCUSDT": {"model": {"weight": 1}}}, "BTCUSDT.model.path: must be the model folder (text), got null"),
    ({"BTCUSDT": {"model": {"path": "m", "weight": 0}}}, "BTCUSDT.model.weight: 0 is out of range (0, 100]"),
    ({"BTCUSDT": {"model": {"path": "m", "file": "x"}}}, "BTCUSDT.model.file: unknown key"),
])
def test_bad_values_name_the_key_path(data, message):
    with pytest.raises(ConfigError) as caught:
        load_contracts(data)
    assert message in str(caught.value)


def test_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match=r"nope\.json: no such configuration file"):
        load_contracts(missing)
    broken = tmp_path / "broken.json"
    broken.write_text('{"BTCUSDT": {"timeframe": "1h",}}')
    with pytest.raises(ConfigError, match=r"broken.json: not valid JSON \(.* at line 1, column"):
        load_contracts(broken)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"BTCUSDT": {"risk": {"max_position": -1}}}))
    with pytest.raises(ConfigError, match=r"wrong.json: BTCUSDT.risk.max_position: -1 is out of range"):
        load_contracts(wrong)
    twice = tmp_path / "twice.json"
    twice.write_text('{"BTCUSDT": {"timeframe": "1h"}, "BTCUSDT": {"timeframe": "4h"}}')
    with pytest.raises(ConfigError, match=r"twice.json: the key 'BTCUSDT' appears twice"):
        load_contracts(twice)
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    with pytest.raises(ConfigError, match="must be a JSON object of symbol -> settings"):
        load_contracts(listed)


def test_configs_are_frozen():
    contract = ContractConfig.defaults("BTCUSDT")
    with pytest.raises(AttributeError):
        contract.min_score = 0.1  # type: ignore[misc]
