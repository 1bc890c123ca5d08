"""Streaming and batch cost of the three strategies, against the TA-Lib calls they need.

Run: ``.venv/bin/python benchmarks/bench_streaming_strategy.py [--bars N] [--repeat R]``.

Data: Lean's Coinbase BTCUSD minute sample (12,423 real bars), repeated with shifted times up to
``--bars``. For each strategy (default contract):

* streaming: µs per bar of ``stream().update(bar)``;
* reference: µs per bar of recomputing, on a window of the last ``warm_up_period`` bars (at least
  200), only the TA-Lib calls the strategy needs (patterns + indicators) — the naive way to stream;
* batch: ``signals(bars)`` in bars/s, and the raw TA-Lib batch calls it needs in bars/s.

Prints medians of ``--repeat`` runs and the ratios (streaming / reference, batch / raw TA-Lib).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import talib

from alphapulse.bars import Bars
from alphapulse.config import ContractConfig
from alphapulse.lean_data import read_trade_bars
from alphapulse.strategies import create_strategy

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lean"


def _bars(count: int) -> Bars:
    base = read_trade_bars(DATA, "coinbase", "BTCUSD", "minute")
    reps = -(-count // len(base))
    step = int(base.time[-1] - base.time[0]) + 60_000_000_000
    times = np.concatenate([base.time + k * step for k in range(reps)])[:count]
    cols = [np.tile(getattr(base, c), reps)[:count] for c in ("open", "high", "low", "close", "volume")]
    return Bars(times, *cols, period=60)


def _talib_calls(name: str, contract: ContractConfig):
    ind = contract.indicators
    patterns = [getattr(talib, p) for p in contract.patterns]

    def confluence(o, h, lo, c, v):
        for f in patterns:
            f(o, h, lo, c)
        for p in ind.ema:
            talib.EMA(c, p)
        talib.RSI(c, ind.rsi.period)
        talib.ATR(h, lo, c, ind.atr.period)
        talib.SMA(v, ind.volume.period)

    def rsi(o, h, lo, c, v):
        talib.RSI(c, ind.rsi.period)
        talib.ATR(h, lo, c, ind.atr.period)

    def macd(o, h, lo, c, v):
        talib.MACD(c, ind.macd.fast, ind.macd.slow, ind.macd.signal)
        talib.ATR(h, lo, c, ind.atr.period)

    return {"pattern-confluence": confluence, "rsi-mean-reversion": rsi, "macd-crossover": macd}[name]


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bars = _bars(args.bars)
    rows = list(bars)
    cols = (bars.open, bars.high, bars.low, bars.close, bars.volume)
    print(f"{len(bars)} one-minute bars, medians of {args.repeat} runs")
    print(f"{'strategy':<20} {'stream µs/bar':>14} {'ref µs/bar':>11} {'ratio':>6} "
          f"{'batch bars/s':>13} {'talib bars/s':>13} {'ratio':>6}")
    for name in ("pattern-confluence", "rsi-mean-reversion", "macd-crossover"):
        contract = ContractConfig.defaults("BTCUSD")
        strategy = create_strategy(name, contract)
        calls = _talib_calls(name, contract)
        window = max(200, strategy.warm_up_period)

        def streaming(strategy=strategy):
            stream = strategy.stream()
            for bar in rows:
                stream.update(bar)

        def reference(calls=calls, window=window):
            for i in range(window, len(bars)):
                calls(*(c[i - window:i + 1] for c in cols))

        stream_s = _median(streaming, args.repeat) / len(bars) * 1e6
        ref_s = _median(reference, args.repeat) / (len(bars) - window) * 1e6
        batch_s = _median(lambda strategy=strategy: strategy.signals(bars), args.repeat)
        raw_s = _median(lambda calls=calls: calls(*cols), args.repeat)
        print(f"{name:<20} {stream_s:>14.1f} {ref_s:>11.1f} {stream_s / ref_s:>6.2f} "
              f"{len(bars) / batch_s:>13,.0f} {len(bars) / raw_s:>13,.0f} {batch_s / raw_s:>6.2f}")


if __name__ == "__main__":
    main()
