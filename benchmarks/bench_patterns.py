"""Pattern benchmarks (run by hand: ``.venv/bin/python benchmarks/bench_patterns.py``; add
``--p1-only`` for the batch figures alone).

Prints medians of 3 runs and the ratios measured in the same run:

CPU time (``time.process_time``) of each candidate and its reference, run alternately.

* P1  batch: ``patterns.scan`` of all 61 patterns + ``confidence.occurrence_confidence`` (the
  batch result: per pattern the bars where it fires and the confidence there) on 1M one-minute
  bars, divided by the raw TA-Lib scan (61 ``talib.CDLx`` calls) on the same bars (goal <= 1.3),
  with memory reused from run to run and with fresh memory (see :func:`p1`);
  also the same with ``confidence.confidence`` (61 NaN-filled float64 columns of 1M bars, 488 MB,
  the per-bar table form);
* P3  streaming: ``PatternDetector.update`` per bar for the 13 default patterns and for all 61,
  divided by the cost of just the TA-Lib calls on the same windows (per bar: the four window views
  and one ``talib.CDLx(...)[-1]`` per pattern) (goal <= 1.1); µs per bar for both.

Bars: Coinbase BTCUSD one-minute bars from ``../shared/data`` (12,423 real bars) tiled 81 times to
1M bars. Each tile is rescaled so that its first open continues the previous tile's last close,
times a drift of +0.5 % per tile; times continue minute by minute. Prices keep their real shapes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import talib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("ALPHAPULSE_SHARED_DATA", ROOT.parent / "shared" / "data"))

from alphapulse.bars import Bar, Bars  # noqa: E402
from alphapulse.confidence import confidence, occurrence_confidence  # noqa: E402
from alphapulse.lean_data import read_trade_bars  # noqa: E402
from alphapulse.patterns import ALL_PATTERNS, DEFAULT_PATTERNS, PatternDetector, scan  # noqa: E402

MINUTE = 60_000_000_000


def paired(ours: Callable[[], Any], reference: Callable[[], Any], runs: int = 3,
           before: Callable[[], Any] | None = None) -> tuple[float, float]:
    """Median CPU seconds of ``ours`` and ``reference``, run alternately (less exposed to load
    changes on a shared machine than wall time measured in two separate blocks); ``before`` runs
    untimed before each."""
    mine, theirs = [], []
    for _ in range(runs):
        for fn, times in ((reference, theirs), (ours, mine)):
            if before is not None:
                before()
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
    return statistics.median(mine), statistics.median(theirs)


def tiled_minutes(n: int) -> Bars:
    """``n`` one-minute bars tiled from real Coinbase BTCUSD minutes (see the module docstring)."""
    source = read_trade_bars(SHARED / "lean", "coinbase", "btcusd", "minute")
    tiles = -(-n // len(source))
    columns: list[list[np.ndarray]] = [[], [], [], []]
    level = 1.0
    previous_close = float(source.open[0])
    for _ in range(tiles):
        level = previous_close / float(source.open[0]) * 1.005
        for k, column in enumerate((source.open, source.high, source.low, source.close)):
            columns[k].append(column * level)
        previous_close = float(source.close[-1] * level)
    o, h, lo, c = (np.concatenate(parts)[:n] for parts in columns)
    volume = np.tile(source.volume, tiles)[:n]
    return Bars(np.arange(n, dtype=np.int64) * MINUTE, o, h, lo, c, volume, period=60, symbol="BTCUSD")


def talib_scan(bars: Bars) -> dict[str, np.ndarray]:
    o, h, lo, c = bars.open, bars.high, bars.low, bars.close
    return {name: getattr(talib, name)(o, h, lo, c) for name in ALL_PATTERNS}


def release_memory() -> Callable[[], Any] | None:
    """glibc's ``malloc_trim(0)``: hands freed memory back to the system, so that the next run
    writes its output to fresh pages (a page fault each, as in a new process); None elsewhere."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return lambda: trim(0)


def p1(bars: Bars) -> None:
    """The reference writes 244 MB of output per run: its cost depends on whether that memory is
    reused from the previous run (steady state) or fresh from the system (60k page faults), so
    both are measured."""
    modes: list[tuple[str, Callable[[], Any] | None]] = [("steady state (memory reused)", None)]
    fresh = release_memory()
    if fresh is not None:
        modes.append(("fresh memory (malloc_trim before each run)", fresh))
    for label, before in modes:
        ours, raw = paired(lambda: occurrence_confidence(bars, scan(bars)), lambda: talib_scan(bars), runs=5,
                           before=before)
        print(f"P1  {len(bars):,} bars, {label}: TA-Lib 61-pattern scan {raw:.3f} s; scan + confidence "
              f"(occurrence_confidence) {ours:.3f} s; ratio {ours / raw:.2f} (goal <= 1.3)")
    dense, raw = paired(lambda: confidence(bars, scan(bars)), lambda: talib_scan(bars))
    print(f"P1d same, dense NaN-filled columns (confidence): {dense:.3f} s vs TA-Lib {raw:.3f} s; "
          f"ratio {dense / raw:.2f}")


def detector_run(listed: list[Bar], names: tuple[str, ...]) -> None:
    detector = PatternDetector(names)
    for bar in listed:
        detector.update(bar)
    assert detector.exact_by_window


def talib_calls_run(bars: Bars, names: tuple[str, ...]) -> None:
    functions = [getattr(talib, name) for name in names]
    width = PatternDetector(names).warm_up_period
    o, h, lo, c = bars.open, bars.high, bars.low, bars.close
    for end in range(1, len(bars) + 1):
        first = max(0, end - width)
        wo, wh, wl, wc = o[first:end], h[first:end], lo[first:end], c[first:end]
        for function in functions:
            function(wo, wh, wl, wc)[-1]


def p3(bars: Bars) -> None:
    listed = list(bars)
    for label, names in (("default 13", DEFAULT_PATTERNS), ("all 61", ALL_PATTERNS)):
        ours, calls = paired(lambda names=names: detector_run(listed, names),
                             lambda names=names: talib_calls_run(bars, names))
        per_bar = 1e6 / len(listed)
        print(f"P3  {label}: PatternDetector {ours * per_bar:.1f} µs/bar; TA-Lib calls alone "
              f"{calls * per_bar:.1f} µs/bar; ratio {ours / calls:.2f} (goal <= 1.1)")


def main() -> None:
    bars = tiled_minutes(1_000_000)
    p1(bars)
    if "--p1-only" not in sys.argv[1:]:
        p3(bars[:20_000])


if __name__ == "__main__":
    main()
