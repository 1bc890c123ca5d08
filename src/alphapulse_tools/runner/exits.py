"""The exits of many positions at once (vectorised, no loop over bars).

The first bar after entry whose low/high reaches the stop or target is searched in growing
windows (16, 64, 256, ... bars) over all candidates together, bounded by each candidate's FLAT or
time exit. The fill rules are those of :mod:`alphapulse.fills` (Lean's, as the algorithms' fill
model applies them): a bar that reaches a level fills it, a gap fills at the open, and the stop is
taken when both levels lie inside one bar.
"""

from __future__ import annotations

import numpy as np

#: search window budget (bars x candidates) of one vectorised exit-search step
_SEARCH_BUDGET = 4_000_000
#: width of the first search window (bars); each next one is 4 times wider
_FIRST_WIDTH = 16


def find_exits(open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray, entry: np.ndarray,
               long: np.ndarray, stop: np.ndarray, target: np.ndarray, end: np.ndarray, forced: np.ndarray,
               *, first: np.ndarray | None = None,
               rounds: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exits of positions entered at the closes of bars ``entry`` (many candidates at once).

    ``stop``/``target`` are the levels (±inf when absent), ``end`` the last bar a position may reach
    (its FLAT or time exit, else the last bar) and ``forced`` whether ``end`` closes it at its close.
    Bars ``first`` (default ``entry + 1``) .. ``end`` are searched in growing windows (16, 64, 256, ...
    bars), vectorised over all candidates, for the first whose low/high reaches a level; the stop wins
    when both are reached in one bar; a bar that opens beyond a level fills at its open. With
    ``rounds``, at most that many windows are searched.

    Returns (exit bar or -1, fill price, reason code: 1 stop, 2 target, 3 forced at the close (the
    caller tells FLAT from time), 0 none, and the bar to resume the search from, -1 once decided).
    """
    n = len(close)
    m = len(entry)
    hit = np.full(m, -1, dtype=np.int64)
    below = np.where(long, stop, target)
    above = np.where(long, target, stop)
    first = (entry + 1 if first is None else first).astype(np.int64, copy=True)
    todo = np.flatnonzero(first <= end)
    width = _FIRST_WIDTH
    done = 0
    while todo.size and (rounds is None or done < rounds):
        width = max(1, min(width, _SEARCH_BUDGET // todo.size))
        start, stop_at = first[todo], end[todo]
        bars = np.minimum(start[:, None] + np.arange(width)[None, :], n - 1)
        reached = (low[bars] <= below[todo, None]) | (high[bars] >= above[todo, None])
        column = reached.argmax(axis=1)
        at = bars[np.arange(len(todo)), column]
        # the first bar of the window reaching a level, if within the position's last bar, is the
        # first such bar of the position (a window running past the data repeats its last bar)
        found = reached[np.arange(len(todo)), column] & (at <= stop_at)
        hit[todo[found]] = at[found]
        more = ~found & (start + width <= stop_at)
        todo = todo[more]
        first[todo] += width
        width *= 4
        done += 1
    resume = np.full(m, -1, dtype=np.int64)
    resume[todo] = first[todo]
    decided = resume < 0
    reason = np.zeros(m, dtype=np.int8)
    price = np.zeros(m)
    j = np.maximum(hit, 0)
    o = open_[j]
    stop_hit = np.where(long, low[j] <= stop, high[j] >= stop) & (hit >= 0)
    target_hit = (hit >= 0) & ~stop_hit
    price = np.where(stop_hit, np.where(long, np.minimum(o, stop), np.maximum(o, stop)), price)
    price = np.where(target_hit, np.where(long, np.maximum(o, target), np.minimum(o, target)), price)
    reason[stop_hit] = 1
    reason[target_hit] = 2
    closing = (hit < 0) & forced & decided
    hit = np.where(closing, end, hit)
    price = np.where(closing, close[np.minimum(end, n - 1)], price)
    reason[closing] = 3
    return hit, price, reason, resume
