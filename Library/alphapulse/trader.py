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
        self._pending_entry: Signal | None = None
        self._pending_time = 0
        self.exits_in_software = False

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
            return signal, self._enter(signal, equity, bar.time)
        self.bars_held += 1
        opened = self.signal
        time_exit = opened is not None and opened.max_bars is not None and self.bars_held >= opened.max_bars
        level_exit = self._level_exit(bar, position) if self.exits_in_software else None
        if (signal is not None and signal.direction == Direction.FLAT) or time_exit or level_exit:
            reason = level_exit or ("flat" if signal is not None and signal.direction == Direction.FLAT
                                    else "time")
            # exits come before entries on a bar: an entry signal on the time-exit bar opens the next
            # position once the exit has filled (sized from the equity then, see on_fill)
            self._pending_entry = signal if signal is not None and signal.direction != Direction.FLAT else None
            self._pending_time = bar.time
            signal_id = opened.id if opened is not None else ""
            intents = [OrderIntent("cancel_exits", self.symbol, tag="exit", signal_id=signal_id)] \
                if self._exits_open else []
            intents.append(OrderIntent("market", self.symbol, -position, None, f"exit:{reason}", signal_id))
            self._exits_open = False
            return signal, intents
        return signal, []

    def on_fill(self, quantity: float, price: float, tag: str, equity: float | None = None) -> list[OrderIntent]:
        """An order of this trader filled ``quantity`` (signed) at ``price``; ``tag`` is the intent's.

        After the entry: the stop-market and limit (target) intents. After the stop or the target:
        the intent cancelling the other one. After a time exit on a bar that also brought an entry
        signal: that entry, sized from ``equity`` (the account value after the exit).
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
            pending, time = self._pending_entry, self._pending_time
            self._forget_position()
            if pending is not None and equity is not None:
                return self._enter(pending, equity, time)
        return []

    def on_rejected(self, tag: str) -> list[OrderIntent]:
        """The broker refused an order of this trader (e.g. a brokerage without resting stop-market
        orders for spot crypto, or a cash account that will not reserve the holding twice). A refused
        entry forgets the position; a refused stop or target switches the position to exits checked
        at each bar's close (a market order once the bar reached the stop, else the target) and
        cancels the other resting order."""
        if tag == "entry":
            self._forget_position()
            return []
        if tag in ("stop", "target") and self.signal is not None:
            self.exits_in_software = True
            was_open, self._exits_open = self._exits_open, False
            return [OrderIntent("cancel_exits", self.symbol, tag="exit", signal_id=self.signal.id)] if was_open else []
        return []

    def _level_exit(self, bar: Bar, position: float) -> str | None:
        opened = self.signal
        if opened is None or opened.stop is None:
            return None
        if (bar.low <= opened.stop) if position > 0 else (bar.high >= opened.stop):
            return "stop"
        if opened.target is not None and ((bar.high >= opened.target) if position > 0 else (bar.low <= opened.target)):
            return "target"
        return None

    def _enter(self, signal: Signal, equity: float, time: int) -> list[OrderIntent]:
        # the breaker sees the equity at entry signals (as in the local runner)
        self.book.mark_equity(equity, time + self.period_ns)
        sizing = self.book.size(signal, equity)
        if not sizing.accepted or not self._levels_valid(signal):
            return []
        self.signal = signal
        self.bars_held = 0
        return [OrderIntent("market", self.symbol, sizing.quantity, None, "entry", signal.id)]

    def _levels_valid(self, signal: Signal) -> bool:
        """The stop (and target), rounded to the tick, still lie on the losing (winning) side of the entry."""
        if signal.entry is None or signal.stop is None:
            return False
        tick = self.properties.tick_size if self.properties is not None else 0.0
        sign = 1 if signal.direction == Direction.LONG else -1
        if (round_price(signal.stop, tick) - signal.entry) * sign >= 0:
            return False
        return signal.target is None or (round_price(signal.target, tick) - signal.entry) * sign > 0

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
        self.exits_in_software = False
        self._pending_entry = None
        self.signal = None
        self.bars_held = 0
        self._exits_open = False
