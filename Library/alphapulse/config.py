"""Per-contract configuration: each trading pair's timeframe, indicators, patterns, weights and risk.

The JSON shape (one entry per symbol, plus an optional ``"default"`` entry merged under each)::

    {"default": {"risk": {"risk_per_trade": 0.01}},
     "BTCUSDT": {"timeframe": "1h", "strategy": "pattern-confluence",
                 "indicators": {"ema": [20, 50, 200],
                                "rsi": {"period": 14, "oversold": 30, "overbought": 70, "exit": 70},
                                "macd": {"fast": 12, "slow": 26, "signal": 9},
                                "atr": {"period": 14}, "volume": {"period": 20}},
                 "patterns": ["CDLENGULFING", "CDLHAMMER"], "min_confidence": 0.6, "min_score": 0.5,
                 "weights": {"pattern": 1, "confidence": 1, "trend": 1, "rsi": 0.5, "volume": 0.5,
                             "higher_timeframe": 1, "model": 1},
                 "higher_timeframe": "4h",
                 "confidence": {"trend": 0.25, "volume": 0.15, "rsi": 0.15, "level": 0.15,
                                "reliability": 0.3, "barrier_bars": 20},
                 "risk": {"risk_per_trade": 0.02, "max_position": 0.15, "stop": "pattern",
                          "atr_multiple": 2.0, "min_risk_reward": 2.0, "max_bars": 48},
                 "model": {"path": "models/BTCUSDT-1h", "weight": 1.0}}}

Every key is optional; what is missing takes the default of the dataclass field (documented on
each field). Validation happens once, at load: an unknown key or an out-of-range value raises
:class:`~alphapulse.errors.ConfigError` naming the key path (``BTCUSDT.risk.risk_per_trade: 1.5 is
out of range (0, 0.1]``) and the allowed keys or values; an unknown pattern lists close matches.
Keys starting with ``_`` are ignored anywhere (use them for comments).
Merging: the ``default`` entry's objects are merged key by key under each symbol's (lists and
plain values in the symbol replace the default's).
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import talib

from alphapulse.confidence import MAX_RELIABILITY_BARS, ConfidenceSettings
from alphapulse.errors import ConfigError
from alphapulse.intervals import SUPPORTED_INTERVALS, interval_seconds

#: every TA-Lib candlestick pattern name (the 61 ``CDL*`` functions)
PATTERN_NAMES: tuple[str, ...] = tuple(talib.get_function_groups()["Pattern Recognition"])
#: the pattern set of a contract that names none (the product's example set)
DEFAULT_PATTERN_SET: tuple[str, ...] = ("CDLENGULFING", "CDLHAMMER", "CDLSHOOTINGSTAR", "CDLDOJI")
#: the strategies a contract may name (see :mod:`alphapulse.strategies`)
STRATEGY_NAMES: tuple[str, ...] = ("pattern-confluence", "rsi-mean-reversion", "macd-crossover")
DEFAULT_KEY = "default"

StopRule = Literal["pattern", "atr"]


# ------------------------------------------------------------------------------------------------
# settings
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RsiSettings:
    """RSI period (bars, 2..500) and its levels in (0, 100): ``oversold`` < ``overbought``.
    ``exit`` is the level whose upward cross closes an RSI mean-reversion long (default: overbought)."""

    period: int = 14
    oversold: float = 30.0
    overbought: float = 70.0
    exit: float | None = None

    @property
    def exit_level(self) -> float:
        return self.overbought if self.exit is None else self.exit


@dataclass(frozen=True)
class MacdSettings:
    """MACD periods in bars (fast < slow, each 2..500; signal 1..500). ``above_zero``: only take
    crossovers with the MACD line above zero; ``trend_filter``: only when the close is above the
    longest configured EMA."""

    fast: int = 12
    slow: int = 26
    signal: int = 9
    above_zero: bool = False
    trend_filter: bool = False


@dataclass(frozen=True)
class PeriodSettings:
    """One period in bars (1..500)."""

    period: int = 14


@dataclass(frozen=True)
class BollingerSettings:
    """Bollinger Bands period (2..500 bars) and width in standard deviations (0, 10]."""

    period: int = 20
    deviations: float = 2.0


@dataclass(frozen=True)
class StochasticSettings:
    """Slow stochastic periods in bars (1..500 each)."""

    k_period: int = 5
    k_smoothing: int = 3
    d_period: int = 3


@dataclass(frozen=True)
class IndicatorSettings:
    """Indicator parameters. ``ema``: the trend EMAs, 1-5 distinct periods (2..1000), ascending;
    ``volume``: the volume-ratio average period; ``atr``: the ATR period for ATR stops."""

    ema: tuple[int, ...] = (20, 50, 200)
    rsi: RsiSettings = field(default_factory=RsiSettings)
    macd: MacdSettings = field(default_factory=MacdSettings)
    atr: PeriodSettings = field(default_factory=lambda: PeriodSettings(14))
    volume: PeriodSettings = field(default_factory=lambda: PeriodSettings(20))
    bollinger: BollingerSettings = field(default_factory=BollingerSettings)
    stochastic: StochasticSettings = field(default_factory=StochasticSettings)


@dataclass(frozen=True)
class FactorWeights:
    """Weight (>= 0) of each scoring factor; the score is the weighted mean of the factors present.
    At least one weight must be positive."""

    pattern: float = 1.0
    confidence: float = 1.0
    trend: float = 1.0
    rsi: float = 0.5
    volume: float = 0.5
    higher_timeframe: float = 1.0
    model: float = 1.0

    def get(self, name: str) -> float:
        """The weight of factor ``name`` (0 for a factor without a configured weight)."""
        return float(getattr(self, name, 0.0))


@dataclass(frozen=True)
class RiskSettings:
    """Risk parameters (fractions of equity unless stated).

    * ``risk_per_trade`` (0, 0.1]: equity lost if the stop is hit;
    * ``max_position`` (0, 1]: largest position value per trade;
    * ``max_symbol_exposure`` (0, 1]: largest open position value per symbol (default = max_position);
    * ``max_portfolio_exposure`` (0, 10]: largest total open position value;
    * ``stop``: ``pattern`` (beyond the pattern's extreme; ATR for strategies without patterns) or
      ``atr`` (``atr_multiple`` ATRs from the entry, (0, 20]);
    * ``min_risk_reward`` [0.5, 20]: the least target distance in stop distances; ``target_r``:
      the target in R (default = min_risk_reward; must be >= it);
    * ``max_bars``: time exit in bars after entry (1..100000, or null for none);
    * ``allow_short``: take SHORT signals (default false: long only);
    * ``max_drawdown`` (0, 1]: drawdown from peak equity that stops new entries; ``drawdown_reset``:
      ``day`` (the breaker clears at the first equity update of a new UTC day, the peak re-based to
      the equity then) or ``never``;
    * ``kelly_fraction`` (0, 1] or null: cap the risk per trade at this fraction of the Kelly bet
      when a win rate and payoff are known.
    """

    risk_per_trade: float = 0.02
    max_position: float = 0.15
    max_symbol_exposure: float | None = None
    max_portfolio_exposure: float = 1.0
    stop: StopRule = "pattern"
    atr_multiple: float = 2.0
    min_risk_reward: float = 2.0
    target_r: float | None = None
    max_bars: int | None = None
    allow_short: bool = False
    max_drawdown: float = 0.2
    drawdown_reset: Literal["day", "never"] = "day"
    kelly_fraction: float | None = None

    @property
    def target_multiple(self) -> float:
        """The target distance in stop distances (R)."""
        return self.min_risk_reward if self.target_r is None else self.target_r

    @property
    def symbol_exposure_limit(self) -> float:
        return self.max_position if self.max_symbol_exposure is None else self.max_symbol_exposure


@dataclass(frozen=True)
class ModelSettings:
    """A trained meta-labelling model used as the ``model`` scoring factor: ``path`` is its folder
    (``model.keras`` + ``model.json``, see :mod:`alphapulse.model_factor`), relative to the working
    directory; ``weight`` (> 0, default 1) is the factor's own weight, used when ``weights.model`` is 0."""

    path: str
    weight: float = 1.0


@dataclass(frozen=True)
class ContractConfig:
    """Everything one contract (symbol) trades with. See the module docstring for the JSON shape.

    ``min_confidence`` [0, 1]: least pattern confidence; ``min_score`` [0, 1]: least signal score;
    ``higher_timeframe``: an interval longer than ``timeframe`` and a whole multiple of it, or None
    (then the higher-timeframe factor is not used). ``confidence``: the pattern confidence settings
    (:class:`alphapulse.confidence.ConfidenceSettings`: term weights summing to 1 — a weight of 0
    switches a term off, e.g. ``reliability`` — lookbacks in bars, RSI levels, barrier and prior).
    ``model``: an optional :class:`ModelSettings` (loaded by :func:`alphapulse.strategies.create_strategy`).
    """

    symbol: str = ""
    timeframe: str = "1h"
    strategy: str = "pattern-confluence"
    indicators: IndicatorSettings = field(default_factory=IndicatorSettings)
    patterns: tuple[str, ...] = DEFAULT_PATTERN_SET
    min_confidence: float = 0.6
    min_score: float = 0.5
    weights: FactorWeights = field(default_factory=FactorWeights)
    higher_timeframe: str | None = None
    risk: RiskSettings = field(default_factory=RiskSettings)
    confidence: ConfidenceSettings = field(default_factory=ConfidenceSettings)
    model: ModelSettings | None = None

    @classmethod
    def defaults(cls, symbol: str = "") -> ContractConfig:
        """The built-in defaults for ``symbol``."""
        return cls(symbol=symbol)

    @classmethod
    def from_dict(cls, symbol: str, data: Mapping[str, Any]) -> ContractConfig:
        """Validate one contract's JSON object (already merged with the default entry)."""
        return _contract(symbol, data)

    @property
    def interval_seconds(self) -> int:
        return interval_seconds(self.timeframe)


class Contracts(dict[str, ContractConfig]):
    """The loaded contracts by symbol, plus the (merged) default entry for symbols not listed."""

    def __init__(self, contracts: Mapping[str, ContractConfig], default: Mapping[str, Any] | None = None):
        super().__init__(contracts)
        self._default = dict(default or {})

    def for_symbol(self, symbol: str) -> ContractConfig:
        """The configuration of ``symbol``: its own entry, else the ``default`` entry, else built-ins."""
        found = self.get(symbol) or self.get(symbol.upper())
        if found is not None:
            return found
        return _contract(symbol, self._default, path=DEFAULT_KEY)


def load_contracts(source: str | Path | Mapping[str, Any]) -> Contracts:
    """Load and validate per-contract configuration from a JSON file or an already-parsed mapping.

    Raises :class:`ConfigError` naming the file (and line) for unreadable JSON, and the key path for
    anything invalid.
    """
    if isinstance(source, Mapping):
        data: Any = source
        where = ""
    else:
        path = Path(source)
        where = f"{path}: "
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such configuration file") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the configuration ({exc.strerror})") from None
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                              f"column {exc.colno})") from None
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}the configuration must be a JSON object of symbol -> settings")
    default = data.get(DEFAULT_KEY, {})
    try:
        if not isinstance(default, Mapping):
            raise ConfigError(f"{DEFAULT_KEY}: must be an object, got {_show(default)}")
        _contract("", default, path=DEFAULT_KEY)
        contracts: dict[str, ContractConfig] = {}
        for symbol, entry in data.items():
            if symbol == DEFAULT_KEY or str(symbol).startswith("_"):
                continue
            if not isinstance(symbol, str) or not symbol.strip() or symbol != symbol.strip():
                raise ConfigError(f"{symbol!r}: a symbol must be non-empty text without spaces")
            if not isinstance(entry, Mapping):
                raise ConfigError(f"{symbol}: must be an object of settings, got {_show(entry)}")
            contracts[symbol] = _contract(symbol, _merge(default, entry))
    except ConfigError as exc:
        if where:
            raise ConfigError(f"{where}{exc}") from None
        raise
    return Contracts(contracts, default)


# ------------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------------
def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ConfigError(f"the key {key!r} appears twice in one object; keep one")
        seen[key] = value
    return seen


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _show(value: Any) -> str:
    if isinstance(value, str | int | float | bool | type(None)):
        return json.dumps(value)
    return type(value).__name__


def _object(data: Any, path: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: must be an object with keys {', '.join(allowed)}, got {_show(data)}")
    for key in data:
        if key not in allowed and not str(key).startswith("_"):
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{path}.{key}: unknown key{hint}; allowed keys: {', '.join(allowed)}")
    return data


def _keys(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _int(value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{path}: {_show(value)} is not a whole number in [{low}, {high}]")
    if not low <= value <= high:
        raise ConfigError(f"{path}: {value} is out of range [{low}, {high}]")
    return int(value)


def _number(value: Any, path: str, low: float, high: float, *, open_low: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{path}: {_show(value)} is not a number")
    left = "(" if open_low else "["
    if (value <= low if open_low else value < low) or value > high:
        raise ConfigError(f"{path}: {value:g} is out of range {left}{low:g}, {high:g}]")
    return float(value)


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {_show(value)} is not true or false")
    return value


def _choice(value: Any, path: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{path}: {_show(value)} is not one of {', '.join(allowed)}")
    return str(value)


def _interval(value: Any, path: str) -> str:
    return _choice(value, path, tuple(SUPPORTED_INTERVALS))


def _rsi(data: Any, path: str) -> RsiSettings:
    data = _object(data, path, _keys(RsiSettings))
    base = RsiSettings()
    period = _int(data.get("period", base.period), f"{path}.period", 2, 500)
    oversold = _number(data.get("oversold", base.oversold), f"{path}.oversold", 0, 100, open_low=True)
    overbought = _number(data.get("overbought", base.overbought), f"{path}.overbought", 0, 100,
                         open_low=True)
    if oversold >= overbought:
        raise ConfigError(f"{path}: oversold ({oversold:g}) must be below overbought ({overbought:g})")
    exit_level = data.get("exit")
    if exit_level is not None:
        exit_level = _number(exit_level, f"{path}.exit", 0, 100, open_low=True)
        if exit_level <= oversold:
            raise ConfigError(f"{path}.exit: {exit_level:g} must be above oversold ({oversold:g})")
    return RsiSettings(period, oversold, overbought, exit_level)


def _macd(data: Any, path: str) -> MacdSettings:
    data = _object(data, path, _keys(MacdSettings))
    base = MacdSettings()
    fast = _int(data.get("fast", base.fast), f"{path}.fast", 2, 500)
    slow = _int(data.get("slow", base.slow), f"{path}.slow", 2, 500)
    signal = _int(data.get("signal", base.signal), f"{path}.signal", 1, 500)
    if fast >= slow:
        raise ConfigError(f"{path}: fast ({fast}) must be shorter than slow ({slow})")
    return MacdSettings(fast, slow, signal, _bool(data.get("above_zero", False), f"{path}.above_zero"),
                        _bool(data.get("trend_filter", False), f"{path}.trend_filter"))


def _period(data: Any, path: str, default: int, low: int = 1) -> PeriodSettings:
    if isinstance(data, int) and not isinstance(data, bool):
        return PeriodSettings(_int(data, path, low, 500))
    data = _object(data, path, ("period",))
    return PeriodSettings(_int(data.get("period", default), f"{path}.period", low, 500))


def _indicators(data: Any, path: str) -> IndicatorSettings:
    data = _object(data, path, _keys(IndicatorSettings))
    base = IndicatorSettings()
    ema = data.get("ema", list(base.ema))
    if not isinstance(ema, list | tuple) or not 1 <= len(ema) <= 5:
        raise ConfigError(f"{path}.ema: must be a list of 1 to 5 EMA periods, got {_show(ema)}")
    periods = tuple(_int(p, f"{path}.ema[{i}]", 2, 1000) for i, p in enumerate(ema))
    if list(periods) != sorted(set(periods)):
        raise ConfigError(f"{path}.ema: periods {list(periods)} must be distinct and ascending")
    bollinger = _object(data.get("bollinger", {}), f"{path}.bollinger", _keys(BollingerSettings))
    stochastic = _object(data.get("stochastic", {}), f"{path}.stochastic", _keys(StochasticSettings))
    return IndicatorSettings(
        ema=periods,
        rsi=_rsi(data.get("rsi", {}), f"{path}.rsi"),
        macd=_macd(data.get("macd", {}), f"{path}.macd"),
        atr=_period(data.get("atr", {}), f"{path}.atr", 14),
        volume=_period(data.get("volume", {}), f"{path}.volume", 20),
        bollinger=BollingerSettings(
            _int(bollinger.get("period", 20), f"{path}.bollinger.period", 2, 500),
            _number(bollinger.get("deviations", 2.0), f"{path}.bollinger.deviations", 0, 10, open_low=True)),
        stochastic=StochasticSettings(*(
            _int(stochastic.get(k, getattr(StochasticSettings(), k)), f"{path}.stochastic.{k}", 1, 500)
            for k in _keys(StochasticSettings))),
    )


def _patterns(data: Any, path: str) -> tuple[str, ...]:
    if not isinstance(data, list | tuple) or not data:
        raise ConfigError(f"{path}: must be a non-empty list of TA-Lib pattern names "
                          f"(e.g. \"CDLENGULFING\"), got {_show(data)}")
    names: list[str] = []
    for i, raw in enumerate(data):
        name = str(raw).upper() if isinstance(raw, str) else raw
        if name not in PATTERN_NAMES:
            close = difflib.get_close_matches(str(name), PATTERN_NAMES, n=3, cutoff=0.6)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            raise ConfigError(f"{path}[{i}]: unknown candlestick pattern {_show(raw)}{hint} "
                              "(see alphapulse.patterns.ALL_PATTERNS for the 61 names)")
        if name not in names:
            names.append(name)
    return tuple(names)


def _weights(data: Any, path: str) -> FactorWeights:
    data = _object(data, path, _keys(FactorWeights))
    values = {k: _number(data[k], f"{path}.{k}", 0, 100) for k in data if not str(k).startswith("_")}
    weights = FactorWeights(**values)
    if not any(getattr(weights, k) > 0 for k in _keys(FactorWeights)):
        raise ConfigError(f"{path}: at least one weight must be positive")
    return weights


def _risk(data: Any, path: str) -> RiskSettings:
    data = _object(data, path, _keys(RiskSettings))
    base = RiskSettings()

    def number(key: str, low: float, high: float, open_low: bool = True) -> Any:
        value = data.get(key, getattr(base, key))
        return None if value is None else _number(value, f"{path}.{key}", low, high, open_low=open_low)

    min_rr = number("min_risk_reward", 0.5, 20, open_low=False)
    target_r = number("target_r", 0.5, 50, open_low=False)
    if target_r is not None and target_r < min_rr:
        raise ConfigError(f"{path}.target_r: {target_r:g} is below min_risk_reward ({min_rr:g})")
    max_bars = data.get("max_bars")
    return RiskSettings(
        risk_per_trade=number("risk_per_trade", 0, 0.1),
        max_position=number("max_position", 0, 1),
        max_symbol_exposure=number("max_symbol_exposure", 0, 1),
        max_portfolio_exposure=number("max_portfolio_exposure", 0, 10),
        stop=_choice(data.get("stop", base.stop), f"{path}.stop", ("pattern", "atr")),  # type: ignore[arg-type]
        atr_multiple=number("atr_multiple", 0, 20),
        min_risk_reward=min_rr,
        target_r=target_r,
        max_bars=None if max_bars is None else _int(max_bars, f"{path}.max_bars", 1, 100_000),
        allow_short=_bool(data.get("allow_short", False), f"{path}.allow_short"),
        max_drawdown=number("max_drawdown", 0, 1),
        drawdown_reset=_choice(data.get("drawdown_reset", base.drawdown_reset),  # type: ignore[arg-type]
                               f"{path}.drawdown_reset", ("day", "never")),
        kelly_fraction=number("kelly_fraction", 0, 1),
    )


def _confidence(data: Any, path: str) -> ConfidenceSettings:
    data = _object(data, path, _keys(ConfidenceSettings))
    values: dict[str, Any] = {}
    for key in _keys(ConfidenceSettings):
        if key not in data:
            continue
        where = f"{path}.{key}"
        if key == "reliability_bars":
            values[key] = _int(data[key], where, 2, MAX_RELIABILITY_BARS)
        elif key.endswith(("_bars", "_period")):
            values[key] = _int(data[key], where, 1, 1000)
        elif key in ("oversold", "overbought"):
            values[key] = _number(data[key], where, 0, 100)
        elif key == "barrier_atr":
            values[key] = _number(data[key], where, 0, 20, open_low=True)
        elif key == "prior_strength":
            values[key] = _number(data[key], where, 0, 1000, open_low=True)
        else:  # the term weights and prior_mean
            values[key] = _number(data[key], where, 0, 1)
    try:
        return ConfidenceSettings(**values)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _model(data: Any, path: str) -> ModelSettings | None:
    if data is None:
        return None
    data = _object(data, path, _keys(ModelSettings))
    folder = data.get("path")
    if not isinstance(folder, str) or not folder.strip():
        raise ConfigError(f"{path}.path: must be the model folder (text), got {_show(folder)}")
    return ModelSettings(folder, _number(data.get("weight", 1.0), f"{path}.weight", 0, 100, open_low=True))


def _contract(symbol: str, data: Any, path: str | None = None) -> ContractConfig:
    path = path or symbol
    allowed = tuple(k for k in _keys(ContractConfig) if k != "symbol")
    data = _object(data, path, allowed)
    base = ContractConfig()
    timeframe = _interval(data.get("timeframe", base.timeframe), f"{path}.timeframe")
    higher = data.get("higher_timeframe")
    if higher is not None:
        higher = _interval(higher, f"{path}.higher_timeframe")
        low, high = interval_seconds(timeframe), interval_seconds(higher)
        if high <= low or high % low:
            raise ConfigError(f"{path}.higher_timeframe: {higher} must be longer than the timeframe "
                              f"({timeframe}) and a whole multiple of it")
    return ContractConfig(
        symbol=symbol,
        timeframe=timeframe,
        strategy=_choice(data.get("strategy", base.strategy), f"{path}.strategy", STRATEGY_NAMES),
        indicators=_indicators(data.get("indicators", {}), f"{path}.indicators"),
        patterns=_patterns(data.get("patterns", list(base.patterns)), f"{path}.patterns"),
        min_confidence=_number(data.get("min_confidence", base.min_confidence), f"{path}.min_confidence",
                               0, 1),
        min_score=_number(data.get("min_score", base.min_score), f"{path}.min_score", 0, 1),
        weights=_weights(data.get("weights", {}), f"{path}.weights"),
        higher_timeframe=higher,
        risk=_risk(data.get("risk", {}), f"{path}.risk"),
        confidence=_confidence(data.get("confidence", {}), f"{path}.confidence"),
        model=_model(data.get("model"), f"{path}.model"),
    )
