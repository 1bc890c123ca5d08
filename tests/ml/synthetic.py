"""Synthetic bars and signals with a planted, learnable relationship.

Every ``spacing`` bars a LONG signal is proposed (stop 1.5 % below, target 3 % above the close). A
hidden coin ``z`` decides its fate: with probability ``p_good`` (z = 1) or ``p_bad`` (z = 0) the next
bars drift up through the target, otherwise down through the stop. The only trace of ``z`` known at
the signal's bar is its volume: the signal bar's volume is multiplied by ``volume_lift`` when z = 1.
A model that reads the volume ratio can therefore predict the label; nothing else can.
"""

from __future__ import annotations

import numpy as np

from alphapulse.bars import Bars
from alphapulse.journal import Direction, PatternHit, Signal

HOUR_NS = 3_600_000_000_000


def planted(n_bars: int = 16_000, spacing: int = 10, seed: int = 1, *, p_good: float = 0.9,
            p_bad: float = 0.1, volume_lift: float = 3.0, symbol: str = "SYNTH",
            offset_bars: int = 0) -> tuple[Bars, list[Signal]]:
    rng = np.random.default_rng(seed)
    log_returns = rng.normal(0.0, 0.003, n_bars)
    volume = rng.lognormal(3.0, 0.5, n_bars)
    signal_rows = np.arange(200, n_bars - spacing, spacing)
    z = rng.random(len(signal_rows)) < 0.5
    win = rng.random(len(signal_rows)) < np.where(z, p_good, p_bad)
    for row, good, up in zip(signal_rows, z, win, strict=True):
        if good:
            volume[row] *= volume_lift
        drift = 0.008 if up else -0.008
        log_returns[row + 1: row + 7] += drift
    close = 100.0 * np.exp(np.cumsum(log_returns))
    opening = np.r_[close[0], close[:-1]]
    wiggle = np.abs(rng.normal(0.0, 0.001, (2, n_bars)))
    high = np.maximum(opening, close) * (1 + wiggle[0])
    low = np.minimum(opening, close) * (1 - wiggle[1])
    times = (np.arange(n_bars, dtype=np.int64) + offset_bars) * HOUR_NS + 1_700_000_000 * 1_000_000_000
    bars = Bars(times, opening, high, low, close, volume, period=3600, symbol=symbol)
    signals = [
        Signal("synthetic", symbol, "test", "1h", int(times[row]), Direction.LONG,
               entry=float(close[row]), stop=float(close[row] * 0.985), target=float(close[row] * 1.03),
               score=0.5, patterns=(PatternHit("CDLHAMMER", 100, 0.6),) if row % 20 == 0 else (),
               max_bars=8)
        for row in signal_rows
    ]
    return bars, signals
