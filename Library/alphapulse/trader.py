"""Streaming execution decisions for one symbol: closed bars in, order intents out.

A :class:`SymbolTrader` owns a strategy's streaming state and turns its signals into
:class:`OrderIntent` objects with the semantics of :mod:`alphapulse.strategies.base` (the same the
local runner simulates). Adapters only translate intents into their broker's calls — a Lean
algorithm into ``market_order`` / ``stop_market_order`` / ``limit_order`` / ``ticket.cancel()``,
live paper trading into its paper broker — and report fills back:

1. every closed bar: ``trader.on_bar(bar, position=..., equity=...)`` -> the bar's signal (or None)
   and the intents to execute now (an entry market order, or an exit market order after cancelling
   the exit orders);
2. every fill: ``trader.on_fill(quantity, price, tag)`` -> after the entry, the stop-market and the
   limit (target) intents, evaluated by the broker from the next bar on; after the stop or the target,
   the intent cancelling the other.

During warm-up (``trading=False``) bars only feed the strategy; nothing is ordered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from alphapulse.bars import Bar
from alphapulse.journal import Direction, Signal
from alphapulse.risk import RiskBook, SymbolProperties, round_price
from alphapulse.strategies.base import Strategy

OrderKind = Literal["market", "stop_market", "limit", "cancel_exits"]


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order to place: ``kind``, signed ``quantity`` (base units), ``price`` (stop or limit level,
    None for market orders), a ``tag`` naming its role (``entry``, ``stop``, ``target``, ``exit``)
    and the id of the signal behind it."""

    kind: OrderKind
    symbol: str
    quantity: float = 0.0
    price: float | None = None
    tag: str = ""
    signal_id: str = ""


class SymbolTrader:
    """The decisions for one symbol; see the module docstring for the protocol. ``period`` is the
    bar length in seconds (the breaker's day is that of the bar's close)."""

    def __init__(self, strategy: Strategy, book: RiskBook, symbol: str,
                 properties: SymbolProperties | None = None, *, period: int = 0) -> None:
        self.strategy = strategy
        self.period_ns = period * 1_000_000_000  # bar length, for the bar's close time
        self.book = book
        self.symbol = symbol
        self.properties = properties
        self.stream = strategy.stream()
        self.signal: Signal | None = None  # the signal of the open position
        self.bars_held = 0
        self._exits_open = False

    @property
    def warm_up_period(self) -> int:
        return self.strategy.warm_up_period

    def on_bar(self, bar: Bar, *, position: float, equity: float,
               trading: bool = True) -> tuple[Signal | None, list[OrderIntent]]:
        """Feed one closed bar. ``position`` is the symbol's signed holding after the broker has
        processed this bar (exit orders included), ``equity`` the account value at the bar's close."""
        signal = self.stream.update(bar)
        self.book.mark_price(self.symbol, bar.close)
        if not trading:
            return signal, []
        if position == 0:
            self._forget_position()
            if signal is None or signal.direction == Direction.FLAT:
                return signal, []
            # the breaker sees the equity at entry signals (as in the local runner)
            self.book.mark_equity(equity, bar.time + self.period_ns)
            sizing = self.book.size(signal, equity)
            if not sizing.accepted:
                return signal, []
            self.signal = signal
            self.bars_held = 0
            return signal, [OrderIntent("market", self.symbol, sizing.quantity, None, "entry", signal.id)]
        self.bars_held += 1
        opened = self.signal
        time_exit = opened is not None and opened.max_bars is not None and self.bars_held >= opened.max_bars
        if (signal is not None and signal.direction == Direction.FLAT) or time_exit:
            reason = "flat" if signal is not None and signal.direction == Direction.FLAT else "time"
            signal_id = opened.id if opened is not None else ""
            intents = [OrderIntent("cancel_exits", self.symbol, tag="exit", signal_id=signal_id)] \
                if self._exits_open else []
            intents.append(OrderIntent("market", self.symbol, -position, None, f"exit:{reason}", signal_id))
            self._exits_open = False
            return signal, intents
        return signal, []

    def on_fill(self, quantity: float, price: float, tag: str) -> list[OrderIntent]:
        """An order of this trader filled ``quantity`` (signed) at ``price``; ``tag`` is the intent's.

        After the entry: the stop-market and limit (target) intents. After the stop or the target:
        the intent cancelling the other one. After an exit market order: nothing.
        """
        self.book.on_fill(self.symbol, quantity, price)
        if tag == "entry":
            return self._exit_orders(quantity)
        if tag in ("stop", "target"):
            signal_id = self.signal.id if self.signal is not None else ""
            was_open = self._exits_open
            self._forget_position()
            return [OrderIntent("cancel_exits", self.symbol, tag="exit", signal_id=signal_id)] if was_open else []
        if tag.startswith("exit"):
            self._forget_position()
        return []

    def _exit_orders(self, quantity: float) -> list[OrderIntent]:
        opened = self.signal
        if opened is None or opened.stop is None or opened.target is None:
            return []
        tick = self.properties.tick_size if self.properties is not None else 0.0
        self._exits_open = True
        return [
            OrderIntent("stop_market", self.symbol, -quantity, round_price(opened.stop, tick), "stop", opened.id),
            OrderIntent("limit", self.symbol, -quantity, round_price(opened.target, tick), "target", opened.id),
        ]

    def _forget_position(self) -> None:
        self.signal = None
        self.bars_held = 0
        self._exits_open = False
