"""Risk: how much to buy, and when to stop buying.

Pure functions (:func:`position_size`, :func:`round_quantity`, :func:`round_price`,
:func:`kelly_fraction`; :func:`lot_rounder`, :func:`round_quantities` and :func:`round_prices` give
:func:`round_quantity`'s and :func:`round_price`'s results in float arithmetic, also for many numbers
at once) and one small state object,
:class:`RiskBook`, that the local runner, the Lean algorithms and live paper trading all use the
same way:

1. ``book.mark_equity(equity, time)`` on every bar (updates the peak and the drawdown breaker);
2. ``book.size(signal, equity)`` when an entry signal arrives -> a :class:`Sizing` (quantity 0 and a
   reason when the trade is refused);
3. ``book.on_fill(symbol, quantity, price)`` for every fill, ``book.mark_price(symbol, price)`` on
   every bar, so exposures stay current.

Position size = equity × risk_per_trade ÷ |entry − stop| (units of the base asset), then capped by
``max_position`` × equity ÷ entry, by what is left of the symbol and portfolio exposure limits, and
(when a win rate and payoff are known and ``kelly_fraction`` is set) by that fraction of the Kelly
bet; rounded down to the lot size; 0 when below the minimum order size or minimum notional.

Drawdown circuit breaker: when equity falls more than ``max_drawdown`` below its peak, new entries
are refused (exits still happen). With ``drawdown_reset = "day"`` the breaker clears at the first
equity update of a new UTC day and the peak is re-based to the equity at that moment; with
``"never"`` it stays tripped until equity makes a new peak.

Symbol properties come from Lean's ``symbol-properties/symbol-properties-database.csv`` (read with
:func:`read_symbol_properties`; parsing is :func:`parse_symbol_properties`).
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from alphapulse.config import RiskSettings
from alphapulse.errors import ConfigError, DataError, NoDataError
from alphapulse.journal import Direction, Signal

_NS_PER_DAY = 86_400 * 1_000_000_000
#: markets whose ``minimum_order_size`` in Lean's database is a minimum order value in the quote currency
NOTIONAL_MINIMUM_MARKETS = frozenset({"binance", "binanceus"})
SYMBOL_PROPERTIES_FILE = Path("symbol-properties") / "symbol-properties-database.csv"


@dataclass(frozen=True)
class SymbolProperties:
    """Trading rules of one symbol: ``lot_size`` (quantity step, base units), ``min_order_size``
    (least quantity, base units), ``min_notional`` (least order value, quote currency), ``tick_size``
    (price step), ``quote_currency`` and Lean's ``contract_multiplier``."""

    symbol: str
    market: str = ""
    quote_currency: str = "USD"
    lot_size: float = 0.0
    min_order_size: float = 0.0
    min_notional: float = 0.0
    tick_size: float = 0.0
    contract_multiplier: float = 1.0

    def __post_init__(self) -> None:
        for name in ("lot_size", "min_order_size", "min_notional", "tick_size"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"{self.symbol}: symbol property {name} = {value} must be >= 0")
        if not math.isfinite(self.contract_multiplier) or self.contract_multiplier <= 0:
            raise ConfigError(f"{self.symbol}: contract_multiplier = {self.contract_multiplier} must be > 0")


def parse_symbol_properties(lines: Iterable[str], where: str = "symbol properties",
                            ) -> dict[tuple[str, str, str], SymbolProperties]:
    """Parse the rows of Lean's symbol properties database into ``{(market, symbol, type): props}``
    (market, symbol and type lower case; ``[*]`` rows are kept under the symbol ``[*]``).

    Columns: market, symbol, type, description, quote_currency, contract_multiplier,
    minimum_price_variation, lot_size, market_ticker, minimum_order_size, ... (``#`` comments and
    blank lines skipped; the header row is recognised). A malformed row raises
    :class:`DataError` naming its line.
    """
    table: dict[tuple[str, str, str], SymbolProperties] = {}
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#") or row[0] == "market":
            continue
        if len(row) < 8:
            raise DataError(f"{where}: line {number} has {len(row)} columns, expected at least 8 "
                            "(market,symbol,type,description,quote_currency,contract_multiplier,"
                            "minimum_price_variation,lot_size,...)")
        market, symbol, kind = row[0].strip().lower(), row[1].strip(), row[2].strip().lower()
        try:
            minimum = float(row[9]) if len(row) > 9 and row[9].strip() else 0.0
            notional = market in NOTIONAL_MINIMUM_MARKETS
            props = SymbolProperties(
                symbol=symbol.upper(), market=market, quote_currency=row[4].strip(),
                contract_multiplier=float(row[5]), tick_size=float(row[6]), lot_size=float(row[7]),
                min_order_size=0.0 if notional else minimum, min_notional=minimum if notional else 0.0,
            )
        except (ValueError, ConfigError) as exc:
            raise DataError(f"{where}: line {number} ({','.join(row[:3])}) has a bad number: {exc}") from None
        table[(market, symbol.lower(), kind)] = props
    return table


def read_symbol_properties(data_dir: str | Path, market: str, symbol: str,
                           security_type: str = "crypto") -> SymbolProperties:
    """The properties of ``symbol`` on ``market`` from a Lean data folder's symbol properties
    database, falling back to the market's ``[*]`` row. Raises :class:`NoDataError` when the file
    or the symbol is missing."""
    path = Path(data_dir) / SYMBOL_PROPERTIES_FILE
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            table = parse_symbol_properties(handle, str(path))
    except FileNotFoundError:
        raise NoDataError(f"{path}: no symbol properties database in this data folder") from None
    kind = security_type.lower()
    found = table.get((market.lower(), symbol.lower(), kind)) or table.get((market.lower(), "[*]", kind))
    if found is None:
        raise NoDataError(f"{path}: no {kind} row for {symbol} on {market}; add one or pick a listed symbol")
    if found.symbol == "[*]":
        found = SymbolProperties(symbol.upper(), found.market, found.quote_currency, found.lot_size,
                                 found.min_order_size, found.min_notional, found.tick_size,
                                 found.contract_multiplier)
    return found


# ------------------------------------------------------------------------------------------------
# pure sizing
# ------------------------------------------------------------------------------------------------
def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def round_quantity(quantity: float, lot_size: float) -> float:
    """``quantity`` rounded toward zero to a whole number of lots (unchanged when lot_size is 0).

    Computed in decimal on the shortest text form of both numbers, so 0.3 with lots of 0.1 stays 0.3.
    This is the definition every runtime follows; :func:`lot_rounder` (one quantity at a time) and
    :func:`round_quantities` (an array) give the same results faster.
    """
    if lot_size <= 0:
        return quantity
    lot = _decimal(lot_size)
    lots = (_decimal(abs(quantity)) / lot).to_integral_value(rounding=ROUND_DOWN)
    return math.copysign(float(lots * lot), quantity) if lots else 0.0


#: with fewer significant digits than this, a decimal is the shortest text form of its nearest float
_SHORT_DIGITS = 10**15
#: integers below this are exact floats
_EXACT_INT = 2**53
#: relative distance from a whole number of lots within which the float quotient cannot decide
_NEAR = 2.0**-48
#: lot counts from here on are left to decimal arithmetic
_MAX_LOTS = 2.0**46


def _lot_parts(lot_size: float) -> tuple[int, float]:
    """``lot_size``'s shortest decimal form as ``units / scale`` (``units`` a positive integer and
    ``scale`` a power of ten, both exact as floats), or (0, 0.0) when they are not."""
    _, digits, exponent = _decimal(lot_size).as_tuple()
    units = int("".join(map(str, digits)))
    if not isinstance(exponent, int):
        return 0, 0.0
    if exponent >= 0:
        units *= 10**exponent
        return (units, 1.0) if units < _EXACT_INT else (0, 0.0)
    return (units, float(10**-exponent)) if -exponent <= 22 and units < _EXACT_INT else (0, 0.0)


def lot_rounder(lot_size: float) -> Callable[[float], float]:
    """A function equal to ``round_quantity(quantity, lot_size)`` for every float ``quantity``,
    computed in float arithmetic wherever that decides the result exactly.

    The float quotient ``quantity / lot_size`` lies within a few units in the last place of the
    decimal one; when it is not that close to a whole number, its floor is the number of lots. Near
    a whole number ``m``, the decimal ``m × lot`` (the float ``m·units / scale``, correctly rounded)
    is compared with ``quantity``: rounding decimals to floats keeps their order, and a decimal of at
    most 15 significant digits is the shortest text form of its float. The remaining cases (lot
    counts beyond 2**46, non-finite quantities) are computed in decimal by :func:`round_quantity`.
    """
    if lot_size <= 0:
        return float
    units, scale = _lot_parts(lot_size)
    if not units:
        return functools.partial(round_quantity, lot_size=lot_size)
    floor = math.floor
    most = _EXACT_INT // units  # whole-lot counts whose decimal value is an exact float

    def exact(quantity: float) -> float:
        q = quantity if quantity >= 0 else -quantity
        y = q / lot_size
        if not y < _MAX_LOTS:  # huge, or not a number
            return round_quantity(quantity, lot_size)
        lots = floor(y)
        near = y * _NEAR
        if y - lots <= near or lots + 1 - y <= near:
            lots = floor(y + 0.5)
            whole = lots * units
            if whole >= _EXACT_INT:
                return round_quantity(quantity, lot_size)
            value = whole / scale
            if value > q:
                lots -= 1
            elif value == q and whole >= _SHORT_DIGITS:
                return round_quantity(quantity, lot_size)
        elif lots >= most:
            return round_quantity(quantity, lot_size)
        if lots <= 0:
            return 0.0
        value = lots * units / scale
        return value if quantity >= 0 else -value

    def rounded(quantity: float) -> float:
        y = quantity / lot_size
        if 0 <= y < _MAX_LOTS:  # the usual case first: clear of a whole number of lots
            lots = floor(y)
            near = y * _NEAR
            if near < y - lots < 1 - near and lots < most:
                return lots * units / scale if lots else 0.0
        return exact(quantity)

    return rounded


def round_quantities(quantities: np.ndarray, lot_size: float) -> np.ndarray:
    """:func:`round_quantity` of every element of a float array, vectorised: the arithmetic of
    :func:`lot_rounder`, the elements it leaves undecided computed in decimal one by one."""
    q = np.array(quantities, dtype=np.float64)
    if lot_size <= 0:
        return q
    units, scale = _lot_parts(lot_size)
    if not units:
        return np.array([round_quantity(x, lot_size) for x in q.ravel().tolist()]).reshape(q.shape)
    size = np.abs(q)
    y = size / lot_size
    slow = ~(y < _MAX_LOTS)  # huge, or not a number
    y[slow] = 0.0
    lots = np.floor(y)
    near = y * _NEAR
    close = (y - lots <= near) | (lots + 1 - y <= near)
    slow |= ~close & (lots >= _EXACT_INT // units)
    nearest = np.floor(y[close] + 0.5)
    whole = nearest * units
    value = whole / scale
    at = size[close]
    slow[close] |= (whole >= _EXACT_INT) | ((value == at) & (whole >= _SHORT_DIGITS))
    lots[close] = nearest - (value > at)
    out = np.copysign(lots * units / scale, q)
    out[lots <= 0] = 0.0
    for k in np.flatnonzero(slow).tolist():
        out.flat[k] = round_quantity(float(q.flat[k]), lot_size)
    return out


def round_price(price: float, tick_size: float) -> float:
    """``price`` rounded to the nearest tick (half away from zero; unchanged when tick_size is 0)."""
    if tick_size <= 0:
        return price
    tick = _decimal(tick_size)
    return float((_decimal(price) / tick).to_integral_value(rounding=ROUND_HALF_UP) * tick)


def round_prices(prices: np.ndarray, tick_size: float) -> np.ndarray:
    """:func:`round_price` of every element of a float array (NaN stays NaN), vectorised in float
    arithmetic like :func:`lot_rounder`: away from a half tick the float quotient decides; near one,
    the decimal ``(m + ½) × tick`` (the float ``(2m + 1)·units / (2·scale)``) is compared with the
    price. Non-positive, huge and undecided elements are computed in decimal one by one."""
    p = np.array(prices, dtype=np.float64)
    if tick_size <= 0:
        return p
    units, scale = _lot_parts(tick_size)
    missing = np.isnan(p)
    if not units:
        return np.array([x if math.isnan(x) else round_price(x, tick_size) for x in p.ravel().tolist()]
                        ).reshape(p.shape)
    y = p / tick_size
    slow = ~((y > 0) & (y < _MAX_LOTS)) & ~missing  # zero, negative or huge
    y[slow | missing] = 1.0
    base = np.floor(y)
    part = y - base
    near = y * _NEAR
    up = part > 0.5 + near
    tie = ~up & (part >= 0.5 - near)
    ticks = base + up
    twice = (2 * base[tie] + 1) * units
    value = twice / (2 * scale)
    at = p[tie]
    slow[tie] |= (twice >= _EXACT_INT) | ((value == at) & (twice * 5 >= _SHORT_DIGITS))
    ticks[tie] += value <= at
    slow |= ticks >= _EXACT_INT // units
    out = ticks * units / scale
    out[missing] = np.nan
    for k in np.flatnonzero(slow).tolist():
        out.flat[k] = round_price(float(p.flat[k]), tick_size)
    return out


def kelly_fraction(win_rate: float, payoff: float) -> float:
    """The Kelly bet as a fraction of equity, ``p - (1 - p) / b`` for win rate p and payoff b (average
    win / average loss); negative means no edge."""
    if not 0 <= win_rate <= 1 or payoff <= 0:
        raise ConfigError(f"kelly: win rate {win_rate} must be in [0, 1] and payoff {payoff} > 0")
    return win_rate - (1 - win_rate) / payoff


def position_size(equity: float, entry: float, stop: float, risk: RiskSettings,
                  properties: SymbolProperties | None = None, *, exposure_room: float | None = None,
                  kelly: float | None = None) -> float:
    """Quantity (base units, >= 0) to trade for an entry at ``entry`` with its stop at ``stop``.

    equity × risk_per_trade ÷ |entry − stop| (the risk per trade capped at ``kelly_fraction`` ×
    ``kelly`` when both are given), capped by max_position × equity ÷ entry and by
    ``exposure_room`` (position value still allowed, quote currency), rounded down to the lot size;
    0 when the stop equals the entry, when any input is not positive, or when the result is below the
    minimum order size or notional.
    """
    if not (equity > 0 and entry > 0 and stop > 0) or entry == stop:
        return 0.0
    risk_fraction = risk.risk_per_trade
    if kelly is not None and risk.kelly_fraction is not None:
        risk_fraction = min(risk_fraction, max(0.0, kelly * risk.kelly_fraction))
    multiplier = properties.contract_multiplier if properties else 1.0
    quantity = equity * risk_fraction / (abs(entry - stop) * multiplier)
    value_cap = risk.max_position * equity
    if exposure_room is not None:
        value_cap = min(value_cap, max(0.0, exposure_room))
    quantity = min(quantity, value_cap / (entry * multiplier))
    if properties is None:
        return quantity
    quantity = round_quantity(quantity, properties.lot_size)
    if quantity <= 0 or quantity < properties.min_order_size or \
            quantity * entry * multiplier < properties.min_notional:
        return 0.0
    return quantity


# ------------------------------------------------------------------------------------------------
# the book
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sizing:
    """The answer to an entry signal: signed ``quantity`` (0 when refused), and why."""

    quantity: float
    reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.quantity != 0


@dataclass
class _Position:
    quantity: float = 0.0
    price: float = 0.0


class RiskBook:
    """Exposure, peak equity and the drawdown breaker for one account (all symbols).

    ``settings`` are the account-wide limits (``max_portfolio_exposure``, ``max_drawdown``,
    ``drawdown_reset``); ``per_symbol`` may give a symbol its own :class:`RiskSettings` for sizing and
    its own exposure limit. ``properties`` give lot sizes and minimums by symbol.
    """

    def __init__(self, settings: RiskSettings, *, per_symbol: dict[str, RiskSettings] | None = None,
                 properties: dict[str, SymbolProperties] | None = None) -> None:
        self.settings = settings
        self.per_symbol = dict(per_symbol or {})
        self.properties = dict(properties or {})
        self._positions: dict[str, _Position] = {}
        self._edges: dict[str, float] = {}
        self.peak_equity = 0.0
        self.equity = 0.0
        self.halted = False
        self._day: int | None = None

    # -- equity and the breaker ------------------------------------------------------------------
    def mark_equity(self, equity: float, time: int | None = None) -> None:
        """Record the account equity (quote currency) at ``time`` (ns UTC); trips or clears the breaker."""
        if not math.isfinite(equity):
            raise DataError(f"risk book: equity {equity} is not a finite number")
        day = None if time is None else time // _NS_PER_DAY
        if (self.halted and self.settings.drawdown_reset == "day" and day is not None
                and self._day is not None and day != self._day):
            self.halted = False
            self.peak_equity = equity
        if day is not None:
            self._day = day
        self.equity = equity
        if equity >= self.peak_equity:
            self.peak_equity = equity
            self.halted = False
        elif self.drawdown > self.settings.max_drawdown:
            self.halted = True

    @property
    def drawdown(self) -> float:
        """Fraction below peak equity (0 at a peak)."""
        return 0.0 if self.peak_equity <= 0 else max(0.0, 1.0 - self.equity / self.peak_equity)

    # -- positions --------------------------------------------------------------------------------
    def on_fill(self, symbol: str, quantity: float, price: float) -> None:
        """Apply a fill (signed quantity) to the symbol's position."""
        position = self._positions.setdefault(symbol, _Position())
        position.quantity = round(position.quantity + quantity, 12)
        position.price = price

    def mark_price(self, symbol: str, price: float) -> None:
        """The symbol's latest price, for exposure."""
        if symbol in self._positions:
            self._positions[symbol].price = price

    def position(self, symbol: str) -> float:
        found = self._positions.get(symbol)
        return found.quantity if found else 0.0

    def exposure(self, symbol: str | None = None) -> float:
        """Open position value (quote currency) of ``symbol``, or of all symbols when None."""
        if symbol is not None:
            found = self._positions.get(symbol)
            return abs(found.quantity) * found.price if found else 0.0
        return sum(abs(p.quantity) * p.price for p in self._positions.values())

    def set_edge(self, symbol: str, win_rate: float, payoff: float) -> None:
        """A measured win rate and payoff for ``symbol``, enabling the Kelly cap."""
        self._edges[symbol] = kelly_fraction(win_rate, payoff)

    # -- sizing -----------------------------------------------------------------------------------
    def settings_for(self, symbol: str) -> RiskSettings:
        return self.per_symbol.get(symbol, self.settings)

    def size(self, signal: Signal, equity: float | None = None) -> Sizing:
        """Signed quantity for an entry signal (LONG positive, SHORT negative), or 0 with a reason."""
        if signal.direction == Direction.FLAT:
            return Sizing(0.0, "a FLAT signal opens nothing")
        risk = self.settings_for(signal.symbol)
        if signal.direction == Direction.SHORT and not risk.allow_short:
            return Sizing(0.0, "short signals are not allowed (risk.allow_short is false)")
        if signal.entry is None or signal.stop is None:
            return Sizing(0.0, "the signal has no entry or stop")
        if self.halted:
            return Sizing(0.0, f"drawdown breaker: {self.drawdown:.1%} below peak equity "
                               f"(limit {self.settings.max_drawdown:.1%})")
        equity = self.equity if equity is None else equity
        if equity <= 0:
            return Sizing(0.0, "no equity")
        symbol_room = risk.symbol_exposure_limit * equity - self.exposure(signal.symbol)
        portfolio_room = self.settings.max_portfolio_exposure * equity - self.exposure()
        room = min(symbol_room, portfolio_room)
        if room <= 0:
            which = "symbol" if symbol_room <= portfolio_room else "portfolio"
            return Sizing(0.0, f"{which} exposure limit reached")
        quantity = position_size(equity, signal.entry, signal.stop, risk,
                                 self.properties.get(signal.symbol), exposure_room=room,
                                 kelly=self._edges.get(signal.symbol))
        if quantity <= 0:
            return Sizing(0.0, "size below the minimum order (or no edge)")
        return Sizing(quantity if signal.direction == Direction.LONG else -quantity)
