"""The trading journal's records: signals and fills, as plain versioned data with one JSON form.

This is the one schema every runtime writes and every reader accepts: the local runner's
``signals.jsonl``, the Lean algorithms' ObjectStore logs (``alphapulse/<algorithm>/signals.jsonl``,
``.../fills.jsonl``), live paper trading, the exporter and the webhook's signal references.

JSON form: one object per line, keys in snake_case, times as ISO-8601 UTC text
(``2024-01-01T00:00:00Z``), prices as JSON numbers, and a ``schema`` tag such as
``"alphapulse.signal/1"``. Readers reject unknown schema versions and malformed records with a
:class:`~alphapulse.errors.DataError` naming the field.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any

from alphapulse.bars import format_time, parse_time
from alphapulse.errors import DataError, StrategyError

SIGNAL_SCHEMA = "alphapulse.signal/1"
FILL_SCHEMA = "alphapulse.fill/1"


class Direction(IntEnum):
    """What a signal asks for: go long, go short, or close the open position (FLAT)."""

    SHORT = -1
    FLAT = 0
    LONG = 1

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Direction:
        try:
            return cls[text.upper()]
        except KeyError:
            raise DataError(f"direction {text!r} is not one of long, short, flat") from None


@dataclass(frozen=True, slots=True)
class PatternHit:
    """A candlestick pattern found on the signal's bar: TA-Lib name, raw value (+-100/200), confidence."""

    name: str
    value: int
    confidence: float


@dataclass(frozen=True, slots=True)
class Signal:
    """A decision taken on the close of one bar.

    ``time`` is the bar's start (ns, UTC); the signal is known at the bar's close, ``time +
    interval``. For LONG/SHORT, ``entry`` is the bar's close, ``stop`` and ``target`` the exit
    levels and ``risk_reward`` = |target - entry| / |entry - stop|. A FLAT signal closes the position
    and carries no levels. ``score`` is in [0, 1]; ``factors`` holds each factor's contribution in
    [0, 1] by name (pattern, confidence, trend, rsi, volume, higher_timeframe, model, ...).
    ``max_bars`` is an optional time exit (bars after entry).
    """

    strategy: str
    symbol: str
    market: str
    interval: str
    time: int
    direction: Direction
    entry: float | None = None
    stop: float | None = None
    target: float | None = None
    score: float = 0.0
    factors: dict[str, float] = field(default_factory=dict)
    patterns: tuple[PatternHit, ...] = ()
    reason: str = ""
    max_bars: int | None = None

    def __post_init__(self) -> None:
        if self.max_bars is not None and self.max_bars < 1:
            raise StrategyError(f"{self.strategy} {self.symbol}: signal at {format_time(self.time)} has max_bars="
                                f"{self.max_bars}; a time exit is at least 1 bar after the entry (or None)")

    @property
    def risk_reward(self) -> float | None:
        if self.entry is None or self.stop is None or self.target is None or self.entry == self.stop:
            return None
        return abs(self.target - self.entry) / abs(self.entry - self.stop)

    @property
    def id(self) -> str:
        """Stable identity: the same strategy, symbol, interval, bar and direction give the same id."""
        key = f"{self.strategy}|{self.market}|{self.symbol}|{self.interval}|{self.time}|{int(self.direction)}"
        return hashlib.sha256(key.encode()).hexdigest()[:24]

    def to_dict(self) -> dict[str, Any]:
        rr = self.risk_reward
        return {
            "schema": SIGNAL_SCHEMA,
            "id": self.id,
            "strategy": self.strategy,
            "symbol": self.symbol,
            "market": self.market,
            "interval": self.interval,
            "time": format_time(self.time),
            "direction": self.direction.label,
            "entry": self.entry,
            "stop": self.stop,
            "target": self.target,
            "risk_reward": None if rr is None else round(rr, 10),
            "score": self.score,
            "factors": dict(self.factors),
            "patterns": [asdict(hit) for hit in self.patterns],
            "reason": self.reason,
            "max_bars": self.max_bars,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signal:
        _check_schema(data, SIGNAL_SCHEMA)
        try:
            signal = cls(
                strategy=str(data["strategy"]),
                symbol=str(data["symbol"]),
                market=str(data["market"]),
                interval=str(data["interval"]),
                time=parse_time(str(data["time"])),
                direction=Direction.parse(str(data["direction"])),
                entry=_optional_price(data, "entry"),
                stop=_optional_price(data, "stop"),
                target=_optional_price(data, "target"),
                score=float(data.get("score", 0.0)),
                factors={str(k): float(v) for k, v in dict(data.get("factors") or {}).items()},
                patterns=tuple(PatternHit(str(p["name"]), int(p["value"]), float(p["confidence"]))
                               for p in data.get("patterns") or ()),
                reason=str(data.get("reason", "")),
                max_bars=None if data.get("max_bars") is None else int(data["max_bars"]),
            )
        except KeyError as exc:
            raise DataError(f"signal record misses the field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise DataError(f"signal record has a malformed field: {exc}") from None
        if "id" in data and data["id"] != signal.id:
            raise DataError(f"signal record id {data['id']!r} does not match its content ({signal.id})")
        return signal

    @classmethod
    def from_json(cls, text: str) -> Signal:
        return cls.from_dict(_load_object(text))


@dataclass(frozen=True, slots=True)
class Fill:
    """An order event that filled (wholly or partly), as Lean reports it.

    ``quantity`` is signed (negative for sells), ``time`` the fill time (ns, UTC), ``fee`` in
    ``fee_currency``. ``order_type`` is market, limit, stop_market or stop_limit; ``signal_id`` links
    the fill to the signal that caused it (empty when none).
    """

    algorithm: str
    order_id: int
    symbol: str
    market: str
    time: int
    quantity: float
    price: float
    fee: float
    fee_currency: str
    order_type: str
    signal_id: str = ""
    tag: str = ""

    @property
    def direction(self) -> str:
        return "buy" if self.quantity > 0 else "sell"

    @property
    def id(self) -> str:
        key = f"{self.algorithm}|{self.order_id}|{self.time}|{self.quantity!r}|{self.price!r}"
        return hashlib.sha256(key.encode()).hexdigest()[:24]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": FILL_SCHEMA,
            "id": self.id,
            "algorithm": self.algorithm,
            "order_id": self.order_id,
            "symbol": self.symbol,
            "market": self.market,
            "time": format_time(self.time),
            "direction": self.direction,
            "quantity": self.quantity,
            "price": self.price,
            "fee": self.fee,
            "fee_currency": self.fee_currency,
            "order_type": self.order_type,
            "signal_id": self.signal_id,
            "tag": self.tag,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fill:
        _check_schema(data, FILL_SCHEMA)
        try:
            return cls(
                algorithm=str(data["algorithm"]),
                order_id=int(data["order_id"]),
                symbol=str(data["symbol"]),
                market=str(data["market"]),
                time=parse_time(str(data["time"])),
                quantity=_finite(data, "quantity"),
                price=_finite(data, "price"),
                fee=_finite(data, "fee"),
                fee_currency=str(data["fee_currency"]),
                order_type=str(data["order_type"]),
                signal_id=str(data.get("signal_id", "")),
                tag=str(data.get("tag", "")),
            )
        except KeyError as exc:
            raise DataError(f"fill record misses the field {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise DataError(f"fill record has a malformed field: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> Fill:
        return cls.from_dict(_load_object(text))


def read_record(line: str) -> Signal | Fill:
    """Parse one JSON line of a journal into a :class:`Signal` or a :class:`Fill` by its schema tag."""
    data = _load_object(line)
    schema = data.get("schema")
    if schema == SIGNAL_SCHEMA:
        return Signal.from_dict(data)
    if schema == FILL_SCHEMA:
        return Fill.from_dict(data)
    raise DataError(f"unknown record schema {schema!r}: expected {SIGNAL_SCHEMA} or {FILL_SCHEMA}")


def _load_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise DataError("a journal record must be a JSON object")
    return data


def _check_schema(data: dict[str, Any], expected: str) -> None:
    schema = data.get("schema")
    if schema != expected:
        raise DataError(f"record schema is {schema!r}, expected {expected!r}")


def _finite(data: dict[str, Any], key: str) -> float:
    value = float(data[key])
    if not math.isfinite(value):
        raise ValueError(f"{key} is not a finite number")
    return value


def _optional_price(data: dict[str, Any], key: str) -> float | None:
    if data.get(key) is None:
        return None
    value = _finite(data, key)
    if value <= 0:
        raise ValueError(f"{key} must be positive, got {value}")
    return value
