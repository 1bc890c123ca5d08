"""Synthetic bars that make TA-Lib's rare candlestick patterns appear, for checks beyond real data.

Real market data rarely shows some patterns (mat hold, breakaway, concealing baby swallow, three
stars in the south ...). :func:`pattern_rich_bars` builds a long series on a coarse 1/16 price grid
(so ties and exactly equal levels are frequent, the hardest case for an exact port) from:

* random candles drawn from a palette of shapes (doji, short, long, marubozu), trending regimes and
  opening gaps;
* textbook sequences of the rare patterns, each after a calm stretch of small candles so that the
  TA-Lib averages make them qualify, in their bullish and mirrored (bearish) forms, and copies of
  them with every price moved by up to one point (so that each rule of a pattern is met and
  missed, and met exactly at its boundary, many times).

Nothing here decides whether a pattern is present: the tests ask ``talib.CDL*`` for that.
"""

from __future__ import annotations

import numpy as np

from alphapulse.bars import Bars

# (open, high, low, close) of textbook sequences, oldest first; prices around 100
_TEMPLATES: dict[str, list[tuple[float, float, float, float]]] = {
    "mat_hold": [(100, 110, 100, 110), (112, 112.5, 111.25, 111.5), (109, 109.25, 108.25, 108.5),
                 (108, 108.25, 107.25, 107.5), (108, 115.25, 107.75, 115)],
    "rising_three_methods": [(100, 110.25, 99.75, 110), (108, 108.25, 107.25, 107.5),
                             (107.5, 107.75, 106.75, 107), (107, 107.25, 106.25, 106.5),
                             (107, 112.25, 106.75, 112)],
    "three_stars_in_the_south": [(110, 110.25, 88, 100), (105, 105.25, 95, 101), (100, 100, 99.5, 99.5)],
    "breakaway": [(110, 110.25, 99.75, 100), (98, 98.25, 96.75, 97), (97.5, 97.75, 95.75, 96),
                  (96.5, 96.75, 94.75, 95), (95.5, 99.25, 95.25, 99)],
    "concealing_baby_swallow": [(110, 110, 104, 104), (104, 104, 98, 98), (97, 99, 96, 96),
                                (100, 100.5, 94.5, 95)],
    "three_black_crows": [(100, 106.25, 99.75, 106), (105.5, 105.5, 101.5, 101.75),
                          (103, 103, 98, 98.25), (100, 100.25, 95, 95)],
    "kicking": [(110, 110, 100, 100), (111, 121, 111, 121)],
    "two_crows": [(100, 110.25, 99.75, 110), (114, 114.25, 111.75, 112), (113, 113.25, 104.75, 105)],
    "upside_gap_two_crows": [(100, 110.25, 99.75, 110), (112, 112.25, 111.25, 111.5),
                             (113, 113.25, 110.75, 111)],
}


def _calm(rng: np.random.Generator, n: int) -> list[tuple[float, float, float, float]]:
    """Small candles around 100: body 1, range 3 (so 'long' and 'short' are easy to meet)."""
    rows = []
    for _ in range(n):
        up = rng.random() < 0.5
        o, c = (100.0, 101.0) if up else (101.0, 100.0)
        rows.append((o, 102.0, 99.0, c))
    return rows


def _mirror(rows: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """The same sequence upside down (bullish <-> bearish): p -> 200 - p, high and low swapped."""
    return [(200 - o, 200 - lo, 200 - h, 200 - c) for o, h, lo, c in rows]


def _nudged(rng: np.random.Generator, rows: list[tuple[float, float, float, float]],
            ) -> list[tuple[float, float, float, float]]:
    """The sequence with every price moved by -1 .. +1 in half points (still a valid candle)."""
    out = []
    for o, h, lo, c in rows:
        o2 = o + 0.5 * int(rng.integers(-2, 3))
        c2 = c + 0.5 * int(rng.integers(-2, 3))
        h2 = max(h + 0.5 * int(rng.integers(-2, 3)), o2, c2)
        lo2 = min(lo + 0.5 * int(rng.integers(-2, 3)), o2, c2)
        out.append((o2, h2, lo2, c2))
    return out


def _random(rng: np.random.Generator, n: int, start: float) -> list[tuple[float, float, float, float]]:
    rows = []
    prev_o = prev_c = start
    trend = 1
    for _ in range(n):
        if rng.random() < 0.15:
            trend = -trend
        body = float(rng.choice([0, 1, 2, 8, 12, 20], p=[0.15, 0.15, 0.15, 0.25, 0.15, 0.15]))
        direction = trend if rng.random() < 0.7 else -trend
        start_kind = rng.choice(["close", "gap", "inside", "open"], p=[0.35, 0.3, 0.25, 0.1])
        if start_kind == "close":
            o = prev_c
        elif start_kind == "open":
            o = prev_o
        elif start_kind == "gap":
            o = prev_c + direction * int(rng.integers(3, 15)) * (1 if rng.random() < 0.7 else -1)
        else:
            o = (prev_c + prev_o) / 2 + int(rng.integers(-2, 3))
        c = o + direction * body
        h = max(o, c) + float(rng.choice([0, 0, 1, 3, 12]))
        lo = min(o, c) - float(rng.choice([0, 0, 1, 3, 12]))
        rows.append((o, h, lo, c))
        prev_o, prev_c = o, c
    return [(o / 4, h / 4, lo / 4, c / 4) for o, h, lo, c in rows]


def pattern_rich_bars(seed: int = 1, rounds: int = 3, random_run: int = 2800, nudged: int = 12) -> Bars:
    """Random candles interleaved with every template (plain and mirrored, and ``nudged`` moved
    copies of each), ``rounds`` times over."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[float, float, float, float]] = []
    for _ in range(rounds):
        for template in _TEMPLATES.values():
            for sequence in (template, _mirror(template)):
                rows += _random(rng, random_run // len(_TEMPLATES), 100.0 * 4)
                rows += _calm(rng, 12)
                rows += sequence
                for _ in range(nudged):
                    rows += _calm(rng, 12)
                    rows += _nudged(rng, sequence)
    prices = np.array(rows, dtype=np.float64)
    prices = np.round((prices - min(prices[:, 2].min(), 0.0) + 50.0) * 16) / 16
    n = len(prices)
    times = (np.arange(n, dtype=np.int64) + 28_000_000) * 60 * 1_000_000_000
    return Bars(times, prices[:, 0], prices[:, 1], prices[:, 2], prices[:, 3], np.ones(n),
                period=60, symbol="SYNTHETIC")
