"""The runner's vectorised exit search fills by the same rules as the Lean fill model.

``alphapulse.fills`` holds the rules as scalar functions (the Lean algorithms' fill model calls them);
the engine's ``find_exits`` applies them vectorised over many positions. Replaying each position bar
by bar through the scalar rules must give the same exit bar, price and reason.
"""

from __future__ import annotations

import numpy as np
import pytest

from alphapulse.fills import limit_fill, stop_fill
from alphapulse_tools.runner.exits import find_exits


def _bars(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.r_[100.0, close[:-1]] * np.exp(rng.normal(0, 0.004, n))  # gaps at the open
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.006, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.006, n)))
    # round to a tick so that bars touch levels exactly now and then
    return tuple(np.round(x, 1) for x in (open_, high, low, close))  # type: ignore[return-value]


def _replay(o, h, lo, c, entry, long, stop, target, end, forced):
    """Bar by bar with the scalar rules: the stop is evaluated first (it was placed first)."""
    exit_quantity = -1.0 if long else 1.0
    for j in range(entry + 1, end + 1):
        price = stop_fill(exit_quantity, stop, o[j], h[j], lo[j])
        if price is not None:
            return j, price, 1
        price = limit_fill(exit_quantity, target, o[j], h[j], lo[j])
        if price is not None:
            return j, price, 2
    return (end, c[end], 3) if forced else (-1, 0.0, 0)


def _compare(seed: int) -> int:
    rng = np.random.default_rng(seed)
    o, h, lo, c = _bars(rng, 600)
    m = 400
    entry = rng.integers(0, 590, m)
    long = rng.random(m) < 0.6
    distance = np.round(rng.uniform(0.2, 6.0, m), 1)
    stop = np.where(long, c[entry] - distance, c[entry] + distance)
    target = np.where(long, c[entry] + 2 * distance, c[entry] - 2 * distance)
    end = np.minimum(entry + rng.integers(1, 120, m), len(c) - 1)
    forced = rng.random(m) < 0.5
    hit, price, reason, resume = find_exits(o, h, lo, c, entry, long, stop, target, end, forced)
    assert (resume == -1).all()
    kinds, touches, gaps = set(), 0, 0
    for k in range(m):
        expected = _replay(o, h, lo, c, int(entry[k]), bool(long[k]), float(stop[k]), float(target[k]),
                           int(end[k]), bool(forced[k]))
        assert (int(hit[k]), float(price[k]), int(reason[k])) == expected, f"position {k}"
        kinds.add(expected[2])
        j = expected[0]
        if expected[2] in (1, 2):
            touches += expected[1] in (lo[j], h[j])  # the bar reached the level exactly
            gaps += expected[1] == o[j] != (stop[k] if expected[2] == 1 else target[k])
    # every outcome occurred, and the cases where Lean's base model would fill differently
    assert kinds == {0, 1, 2, 3} and gaps > 0
    return touches


@pytest.mark.parametrize("seed", range(6))
def test_find_exits_follows_the_fill_rules(seed: int) -> None:
    _compare(seed)


def test_exact_touches_are_compared() -> None:
    """A bar whose low (high) equals the level exactly fills it: such bars occur in the comparison."""
    assert sum(_compare(seed) for seed in range(6)) > 0
