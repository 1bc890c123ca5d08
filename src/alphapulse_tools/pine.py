"""A contract's configuration as the inputs of the TradingView scripts.

The overlay and the strategy (``pine_scripts/``) compute the core's pattern-confluence signal for
the configuration entered in their inputs; :func:`contract_inputs` translates a validated
:class:`~alphapulse.config.ContractConfig` into those inputs (by the scripts' variable names), and
refuses, naming the key path, what the scripts cannot express. :func:`script_inputs` reads a
script's input declarations, so the values can be listed under the titles and groups TradingView
shows in *Settings → Inputs*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path

from alphapulse.config import ContractConfig
from alphapulse.errors import ConfigError

SCRIPTS = {"overlay": "alphapulse_overlay.pine", "strategy": "alphapulse_strategy.pine"}
#: the most EMAs the trend factor takes in the scripts (EMA 1-3)
MAX_EMAS = 3
#: the longest window the scripts add in the core's fixed order (blocks of up to 32 bars)
MAX_SUMMED_WINDOW = 63
#: confidence settings that are summed windows in the scripts
SUMMED_WINDOWS = ("atr_bars", "volume_bars", "rsi_period")
#: the confidence term weights (inputs ``confWeight<Term>``)
CONFIDENCE_WEIGHTS = ("trend", "volume", "rsi", "level", "reliability")

Value = str | float | int | bool


@dataclass(frozen=True)
class PineInput:
    """One ``name = input.<kind>(default, "title", ..., minval=, maxval=, group="group")``
    declaration (``minval`` / ``maxval`` None when not declared)."""

    name: str
    kind: str
    default: Value
    title: str
    group: str
    minval: float | None = None
    maxval: float | None = None


_DECLARATION = re.compile(
    r'^(?P<name>\w+) = input\.(?P<kind>int|float|bool|string)\((?P<default>"[^"]*"|[^,]+), "(?P<title>[^"]*)"'
    r'(?P<rest>.*)$', re.M)
_ARGUMENT = re.compile(r'\b(?P<key>minval|maxval|group)=(?P<value>"[^"]*"|[-\d.]+)')


def script_inputs(script: Path) -> list[PineInput]:
    """The input declarations of a Pine script, in their order."""
    try:
        text = script.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{script}: cannot read the Pine script ({exc.strerror or exc}); "
                          "run from the project folder or pass --pine-dir") from None
    found = []
    for match in _DECLARATION.finditer(text):
        kind, raw = match["kind"], match["default"].strip()
        default: Value
        if kind == "string":
            default = raw.strip('"')
        elif kind == "bool":
            default = raw == "true"
        else:
            default = int(raw) if kind == "int" else float(raw)
        arguments = {item["key"]: item["value"] for item in _ARGUMENT.finditer(match["rest"])}
        bounds = [float(arguments[key]) if key in arguments else None for key in ("minval", "maxval")]
        found.append(PineInput(match["name"], kind, default, match["title"], arguments.get("group", "").strip('"'),
                               *bounds))
    if not found:
        raise ConfigError(f"{script}: no inputs found; is this an AlphaPulse Pine script?")
    return found


def confidence_input(key: str) -> str:
    """The scripts' input for a ``confidence`` key: ``trend`` -> ``confWeightTrend``,
    ``trend_bars`` -> ``confTrendBars``."""
    words = ["weight", key] if key in CONFIDENCE_WEIGHTS else key.split("_")
    return "conf" + "".join(word.capitalize() for word in words)


def contract_inputs(contract: ContractConfig) -> dict[str, Value]:
    """The scripts' inputs for ``contract`` (the strategy's risk inputs included). Raises
    :class:`ConfigError` listing every part of the contract the scripts cannot express."""
    symbol = contract.symbol or "contract"
    problems = []
    if contract.strategy != "pattern-confluence":
        problems.append(f"{symbol}.strategy {contract.strategy!r}: the scripts compute pattern-confluence only")
    if contract.higher_timeframe is not None:
        problems.append(f"{symbol}.higher_timeframe {contract.higher_timeframe!r}: the scripts have no "
                        "higher-timeframe factor; set it to null")
    if contract.model is not None:
        problems.append(f"{symbol}.model: the scripts have no model factor; remove it")
    if contract.risk.stop != "pattern":
        problems.append(f"{symbol}.risk.stop {contract.risk.stop!r}: the scripts offer the \"pattern\" stop only")
    emas = contract.indicators.ema
    if len(emas) > MAX_EMAS:
        problems.append(f"{symbol}.indicators.ema {list(emas)}: the scripts take at most {MAX_EMAS} EMAs")
    for key in SUMMED_WINDOWS:
        value = getattr(contract.confidence, key)
        if value > MAX_SUMMED_WINDOW:
            problems.append(f"{symbol}.confidence.{key} {value}: the scripts sum at most {MAX_SUMMED_WINDOW} bars")
    if problems:
        raise ConfigError("the Pine scripts cannot express " + "; ".join(problems))
    weights, rsi, risk = contract.weights, contract.indicators.rsi, contract.risk
    padded = (*emas, 0, 0, 0)
    inputs: dict[str, Value] = {
        "signalPatterns": ",".join(contract.patterns), "minConfidence": contract.min_confidence,
        "minScore": contract.min_score, "weightPattern": weights.pattern, "weightConfidence": weights.confidence,
        "weightTrend": weights.trend, "weightRsi": weights.rsi, "weightVolume": weights.volume,
        "emaFast": padded[0], "emaMid": padded[1], "emaSlow": padded[2], "rsiPeriod": rsi.period,
        "rsiOversold": rsi.oversold, "rsiOverbought": rsi.overbought,
        "volumePeriod": contract.indicators.volume.period, "targetR": risk.target_multiple,
        "maxBars": risk.max_bars or 0, "allowShort": risk.allow_short, "riskPerTrade": risk.risk_per_trade,
        "maxPosition": risk.max_position,
    }
    for item in fields(contract.confidence):
        inputs[confidence_input(item.name)] = getattr(contract.confidence, item.name)
    return inputs


def inputs_for_script(contract: ContractConfig, script: Path) -> list[tuple[PineInput, Value]]:
    """Each input of ``script`` with its value for ``contract`` (the script's default where the
    contract has no counterpart, e.g. the TA-Lib penetrations or the webhook secret)."""
    values = contract_inputs(contract)
    rows = [(item, values.get(item.name, item.default)) for item in script_inputs(script)]
    outside = [f"{item.title!r} ({item.name}) = {value} is outside [{item.minval}, {item.maxval}]"
               for item, value in rows if isinstance(value, int | float) and not isinstance(value, bool)
               and ((item.minval is not None and value < item.minval)
                    or (item.maxval is not None and value > item.maxval))]
    if outside:
        raise ConfigError(f"{contract.symbol or 'contract'}: the Pine script {script.name} does not accept "
                          + "; ".join(outside))
    return rows
