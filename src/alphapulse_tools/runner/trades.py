"""What the simulation works with and what it produces: instruments and their entry candidates,
sizers, trades, and the orders Lean records for them.

:attr:`SimulationResult.trades` (:class:`Trade` tuples) and Lean's orders
(:attr:`SimulationResult.orders`) are built on first use; the cash and the equity curve are there
at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from alphapulse.bars import Bars
from alphapulse.journal import Direction, Signal
from alphapulse_tools.runner.fees import LIMIT, MARKET, STOP_MARKET, FeeModel

#: why a position was closed
EXIT_STOP = "stop"
EXIT_TARGET = "target"
EXIT_FLAT = "flat"
EXIT_TIME = "time"


class SizingContext(NamedTuple):
    """What a sizer knows at an entry: the account at the signal bar's close (quote currency)."""

    equity: float
    cash: float
    #: absolute value of all open positions, marked at the latest close
    exposure: float
    #: absolute value of the open position of this signal's symbol (0: the runner enters only when flat)
    symbol_exposure: float
    #: highest equity seen at an entry so far (for drawdown circuit breakers)
    peak_equity: float
    #: the bar's close time (ns UTC)
    time: int = 0
    #: open positions: (symbol, signed quantity, latest close)
    positions: tuple[tuple[str, float, float], ...] = ()


#: quantity (units, positive, before lot rounding) to trade for a signal at ``price``
Sizer = Callable[[Signal, float, SizingContext], float]


class Candidates(NamedTuple):
    """The entry signals (LONG/SHORT) of one instrument as arrays, in time order."""

    symbol: str
    #: the entry fill price: the signal bar's close
    price: np.ndarray
    #: the signals' stop and target (NaN when absent)
    stop: np.ndarray
    target: np.ndarray
    #: +1 LONG, -1 SHORT (int8)
    direction: np.ndarray
    #: the entry fill time: the signal bar's close (ns UTC)
    time: np.ndarray


@runtime_checkable
class FractionSizer(Protocol):
    """A sizer whose quantity is the equity times a number set by the signal and its price alone,
    which it computes for all entry signals at once.

    ``sizer(signal, price, context) == context.equity * sizer.fractions(candidates)[k]`` to the last
    bit for the ``k``-th candidate, whatever the context, so the simulation multiplies instead of
    calling it. Sizers that look at anything else of the account (cash, exposure, peak equity,
    positions) are plain :data:`Sizer` callables and are called at each entry.
    """

    def __call__(self, signal: Signal, price: float, context: SizingContext) -> float: ...

    def fractions(self, candidates: Candidates) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class Instrument:
    """One traded symbol: its bars, its strategy's signals and its trading rules.

    ``lot_size``: quantities are multiples of it (rounded down). ``min_order_size``: smallest
    quantity in units; ``min_order_value``: smallest order value in the quote currency (Binance's
    minimum notional). ``tick_size``: stop and target are rounded to it (0: no rounding).
    """

    symbol: str
    market: str
    bars: Bars
    signals: Sequence[Signal]
    fee_model: FeeModel
    lot_size: float = 1e-8
    min_order_size: float = 0.0
    min_order_value: float = 0.0
    tick_size: float = 0.0
    allow_short: bool = False
    quote_currency: str = "USD"


class Trade(NamedTuple):
    """One position from entry fill to exit fill.

    ``entry_index``/``exit_index`` are bar numbers in the instrument's bars (``exit_index`` -1 while
    still open at the end); ``entry_time``/``exit_time`` the fill times (ns UTC: the close of the entry
    bar, the close of the exit bar); prices in the quote currency; ``quantity`` in units (positive);
    fees in the quote currency; ``exit_reason`` one of stop, target, flat, time ("" while open).
    """

    symbol: str
    market: str
    direction: Direction
    quantity: float
    entry_index: int
    entry_time: int
    entry_price: float
    entry_fee: float
    stop: float | None
    target: float | None
    exit_index: int
    exit_time: int
    exit_price: float
    exit_fee: float
    exit_reason: str
    signal: Signal

    @property
    def is_closed(self) -> bool:
        return self.exit_index >= 0

    @property
    def gross_profit(self) -> float:
        """Profit before fees, quote currency (0 while open)."""
        if not self.is_closed:
            return 0.0
        return int(self.direction) * self.quantity * (self.exit_price - self.entry_price)

    @property
    def fees(self) -> float:
        return self.entry_fee + self.exit_fee

    @property
    def profit(self) -> float:
        """Net profit after both fees, quote currency."""
        return self.gross_profit - self.fees

    @property
    def r_multiple(self) -> float | None:
        """Gross profit per unit divided by the planned risk per unit (|entry - stop|)."""
        if not self.is_closed or self.stop is None or self.stop == self.entry_price:
            return None
        per_unit = int(self.direction) * (self.exit_price - self.entry_price)
        return per_unit / abs(self.entry_price - self.stop)


@dataclass(frozen=True, slots=True)
class Order:
    """An order as Lean records it (quantity signed: + buy, - sell)."""

    id: int
    symbol: str
    market: str
    type: str
    quantity: float
    time: int
    status: str
    fill_time: int = 0
    fill_price: float = 0.0
    fee: float = 0.0
    stop_price: float | None = None
    limit_price: float | None = None
    tag: str = ""
    signal_id: str = ""
    #: time the order was cancelled (ns), 0 when not cancelled
    cancel_time: int = 0


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry signal that did not become a trade, and why."""

    signal: Signal
    reason: str


@dataclass
class SimulationResult:
    """Everything the simulation produced; ``trades`` and ``orders`` (Lean's orders of every trade,
    in time order) are built on first use."""

    start_cash: float
    skipped: list[Skipped]
    #: bar close times (ns) of the merged time grid and the equity at each close
    equity_time: np.ndarray
    equity: np.ndarray
    cash: float
    instruments: list[Instrument] = field(default_factory=list)
    #: the trades, or what they are built from
    source: list[Trade] | TradeSource = field(default_factory=list, repr=False)

    @functools.cached_property
    def trades(self) -> list[Trade]:
        """Every trade, in entry order (by entry time across instruments)."""
        return self.source if isinstance(self.source, list) else self.source.trades()

    @property
    def total_fees(self) -> float:
        return float(sum(t.fees for t in self.trades))

    @property
    def order_count(self) -> int:
        """Number of orders (as :attr:`orders` would list them) without building them."""
        count = 0
        for t in self.trades:
            count += 1 + (t.stop is not None) + (t.target is not None)
            count += t.exit_reason in (EXIT_FLAT, EXIT_TIME)
        return count

    @functools.cached_property
    def orders(self) -> list[Order]:
        orders: list[Order] = []
        for trade in sorted(self.trades, key=lambda t: (t.entry_time, t.symbol)):
            orders.extend(_orders_of(trade, len(orders) + 1))
        orders.sort(key=lambda o: (o.time, o.id))
        return orders

    @property
    def end_equity(self) -> float:
        return float(self.equity[-1]) if len(self.equity) else self.start_cash


class TradeSource(Protocol):
    """Trades built on first use (the simulation's columns of an instrument run alone)."""

    def trades(self) -> list[Trade]: ...


def _orders_of(trade: Trade, first_id: int) -> list[Order]:
    """Lean's orders for one trade: entry market order, stop-market and limit exits, market exit."""
    sign = int(trade.direction)
    q = trade.quantity
    sid = trade.signal.id
    symbol, market = trade.symbol, trade.market
    result = [Order(id=first_id, type=MARKET, quantity=sign * q, time=trade.entry_time, status="filled",
                    fill_time=trade.entry_time, fill_price=trade.entry_price, fee=trade.entry_fee,
                    tag=f"entry {trade.signal.direction.label}", symbol=symbol, market=market,
                    signal_id=sid)]
    next_id = first_id + 1
    closed = trade.is_closed
    for order_type, level in ((STOP_MARKET, trade.stop), (LIMIT, trade.target)):
        if level is None:
            continue
        filled = closed and (
            (order_type == STOP_MARKET and trade.exit_reason == EXIT_STOP)
            or (order_type == LIMIT and trade.exit_reason == EXIT_TARGET))
        status = "filled" if filled else ("canceled" if closed else "submitted")
        result.append(Order(
            id=next_id, type=order_type, quantity=-sign * q, time=trade.entry_time, status=status,
            fill_time=trade.exit_time if filled else 0, fill_price=trade.exit_price if filled else 0.0,
            fee=trade.exit_fee if filled else 0.0,
            stop_price=level if order_type == STOP_MARKET else None,
            limit_price=level if order_type == LIMIT else None,
            tag="stop" if order_type == STOP_MARKET else "target",
            cancel_time=trade.exit_time if closed and not filled else 0, symbol=symbol, market=market,
            signal_id=sid))
        next_id += 1
    if closed and trade.exit_reason in (EXIT_FLAT, EXIT_TIME):
        result.append(Order(id=next_id, type=MARKET, quantity=-sign * q, time=trade.exit_time,
                            status="filled", fill_time=trade.exit_time, fill_price=trade.exit_price,
                            fee=trade.exit_fee, tag=f"exit {trade.exit_reason}", symbol=symbol,
                            market=market, signal_id=sid))
    return result
