"""When and at what price a resting order fills on one bar: the rules every AlphaPulse runtime uses.

These are the fill rules of Lean's documented defaults (``LEAN.md``), applied to a bar that closed
after the order was placed (an order is evaluated from the next bar on):

* a **stop** order (stop-market) triggers when the bar reaches the stop — a sell stop when the low
  is at or below it, a buy stop when the high is at or above it — and fills at the stop, or at the
  open when the bar opened beyond it (a gap through the stop fills at the worse open);
* a **limit** order fills when the bar reaches the limit — a sell limit when the high is at or above
  it, a buy limit when the low is at or below it — at the limit, or at the open when the bar opened
  better than it.

The local runner applies them vectorised over many positions (``alphapulse_tools.runner.exits``),
the Lean algorithms install them as the securities' fill model
(:class:`alphapulse.lean_adapter.AlphaPulseFillModel`), so a Lean backtest or paper session fills
exactly like the runner. Lean's own base model differs in two details that would otherwise split the
runtimes: it triggers a stop only when the low goes strictly below it and fills a triggered stop at
``min(stop, close)``; a limit likewise needs the high strictly above it.
"""

from __future__ import annotations


def stop_fill(quantity: float, stop: float, open_: float, high: float, low: float) -> float | None:
    """The fill price of a stop order of signed ``quantity`` on a bar, or None when it does not trigger."""
    if quantity < 0:
        return min(open_, stop) if low <= stop else None
    return max(open_, stop) if high >= stop else None


def limit_fill(quantity: float, limit: float, open_: float, high: float, low: float) -> float | None:
    """The fill price of a limit order of signed ``quantity`` on a bar, or None when it does not fill."""
    if quantity < 0:
        return max(open_, limit) if high >= limit else None
    return min(open_, limit) if low <= limit else None


__all__ = ["limit_fill", "stop_fill"]
