"""The strategy interface: rules defined once, fed closed bars, executed by every runtime.

A strategy decides *what* to do; the local runner, the Lean algorithms and live paper trading only
execute its decisions with the same semantics:

* a LONG (or SHORT, where the contract allows shorting) signal while flat: a market order at the
  signal bar's close (``signal.entry``), sized by :mod:`alphapulse.risk` from ``signal.stop``; then a
  stop-market order at ``signal.stop`` and a limit order at ``signal.target``, both evaluated from
  the next bar on (when both levels lie inside one bar, the stop is taken); when one fills, the
  other is cancelled;
* a FLAT signal while in a position: cancel the exit orders, market order at the bar's close;
* ``signal.max_bars``: the position is closed at the close of the ``max_bars``-th bar after entry;
* any entry signal while a position is open is ignored (it is still logged).

Batch and streaming must agree: ``signals(bars)`` equals the concatenation of
``stream().update(bar)`` over the same bars, and a signal never changes when later bars are added.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from alphapulse.bars import Bar, Bars
    from alphapulse.journal import Signal


class StrategyStream(ABC):
    """The streaming form of a strategy: one closed bar at a time."""

    @abstractmethod
    def update(self, bar: Bar) -> Signal | None:
        """Feed the next closed bar; return the signal decided on its close, if any.

        Raises :class:`~alphapulse.errors.BarError` for an invalid bar or one not newer than the last.
        """

    @property
    @abstractmethod
    def is_ready(self) -> bool:
        """True once enough bars were seen for signals to be possible."""


class Strategy(ABC):
    """A strategy for one contract (symbol + its configuration)."""

    #: the name used on the command line and in Lean parameters, e.g. "pattern-confluence"
    name: ClassVar[str]

    @property
    @abstractmethod
    def warm_up_period(self) -> int:
        """Bars needed before the first signal is possible."""

    @abstractmethod
    def signals(self, bars: Bars) -> list[Signal]:
        """Every signal over a whole history, vectorised, in time order (at most one per bar)."""

    @abstractmethod
    def stream(self) -> StrategyStream:
        """A fresh streaming state that reproduces :meth:`signals` bar by bar."""
