"""Operations on bar series the data tools need: joining pieces, clipping to a range, and
aggregating finer bars into coarser ones (e.g. minute -> hour) on UTC boundaries."""

from __future__ import annotations

import numpy as np

from alphapulse.bars import COLUMNS, Bars


def concat_bars(parts: list[Bars], *, period: int, symbol: str) -> Bars:
    """One sorted series from pieces; where pieces overlap, the later piece's bar wins."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Bars.empty(period=period, symbol=symbol)
    times = np.concatenate([p.time for p in parts])
    columns = [np.concatenate([getattr(p, c) for p in parts]) for c in COLUMNS]
    # keep the last occurrence of each time: unique over the reversed order
    _, last = np.unique(times[::-1], return_index=True)
    keep = len(times) - 1 - last
    return Bars(times[keep], *(c[keep] for c in columns), period=period, symbol=symbol)


def clip_bars(bars: Bars, start_ns: int, end_ns: int) -> Bars:
    """Bars whose start lies in ``[start_ns, end_ns)``."""
    return bars.between(start_ns, end_ns)


def aggregate_bars(bars: Bars, seconds: int) -> Bars:
    """Consolidate bars into ``seconds``-long bars starting on multiples of ``seconds`` since the
    epoch (UTC): first open, max high, min low, last close, summed volume. Buckets with no bars
    produce no bar (nothing is invented). ``seconds`` must be a multiple of the bars' period."""
    if bars.period and seconds % bars.period:
        raise ValueError(f"cannot aggregate {bars.period}s bars into {seconds}s bars")
    if len(bars) == 0:
        return Bars.empty(period=seconds, symbol=bars.symbol)
    size = seconds * 1_000_000_000
    bucket = bars.time // size
    starts = np.flatnonzero(np.r_[True, np.diff(bucket) != 0])
    ends = np.r_[starts[1:], len(bars)] - 1
    return Bars(bucket[starts] * size, bars.open[starts], np.maximum.reduceat(bars.high, starts),
                np.minimum.reduceat(bars.low, starts), bars.close[ends], np.add.reduceat(bars.volume, starts),
                period=seconds, symbol=bars.symbol)
