"""Conversion throughput: 1M one-minute Binance klines -> Lean minute files (one zip per day).

The bars are synthetic but shaped like real data: log returns and volumes are drawn (with
replacement, fixed seed) from freqtrade's real UNITTEST/BTC 1m candles in ``../shared/data``,
prices rounded to 2 decimals like BTCUSDT, volumes to 5 like Binance's lot size.

Measured, median of 3 runs each, in one process:

* ``alphapulse``: parse the kline CSV (:func:`parse_kline_csv`) and write Lean minute zips
  (:func:`write_trade_bars`): the work of ``alphapulse data convert``.
* ``reference``: ``pandas.read_csv`` of the same text, then per day ``DataFrame.to_csv`` + a
  zip of the same rows (not Lean's exact text: pandas writes ``8870.0``, not ``8870``).
* the writer alone against the same per-day ``to_csv`` + zip.

Run: ``.venv/bin/python benchmarks/bench_convert.py [rows]``
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from alphapulse.bars import Bars
from alphapulse.lean_data import write_trade_bars
from alphapulse_tools.data.klines import parse_kline_csv

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ALPHAPULSE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def synthetic_minutes(rows: int) -> Bars:
    real = pd.read_feather(SHARED / "freqtrade" / "UNITTEST_BTC-1m.feather")
    rng = np.random.default_rng(7)
    returns = np.diff(np.log(real["close"].to_numpy()))
    close = np.round(30_000 * np.exp(np.cumsum(rng.choice(returns, rows) * 0.2)), 2)
    opened = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.choice(returns, rows)) * close * 0.2
    high = np.round(np.maximum(opened, close) + spread, 2)
    low = np.round(np.minimum(opened, close) - spread, 2)
    volume = np.round(rng.choice(real["volume"].to_numpy(), rows) / 10, 5)
    start = np.datetime64("2020-01-01T00:00", "ns").astype(np.int64)
    times = start + np.arange(rows, dtype=np.int64) * 60_000_000_000
    return Bars(times, opened, high, low, close, volume, period=60, symbol="BTCUSDT")


def kline_text(bars: Bars) -> str:
    ms = bars.time // 1_000_000
    frame = pd.DataFrame({"t": ms, "o": bars.open, "h": bars.high, "l": bars.low, "c": bars.close,
                          "v": bars.volume, "ct": ms + 59_999, "q": bars.volume * bars.close, "n": 100,
                          "tb": bars.volume / 2, "tq": bars.volume * bars.close / 2, "i": 0})
    return frame.to_csv(header=False, index=False, float_format="%.8f")


def ours(text: str, folder: Path) -> None:
    bars = parse_kline_csv(text, "bench.csv", 60)
    write_trade_bars(folder, "binance", "BTCUSDT", "minute", bars, merge=False)


def write_reference(frame: pd.DataFrame, folder: Path) -> None:
    day = frame["t"] // 86_400_000
    for number, part in frame.groupby(day, sort=False):
        stamp = pd.Timestamp(int(number), unit="D").strftime("%Y%m%d")
        out = part.assign(t=part["t"] - int(number) * 86_400_000)
        with zipfile.ZipFile(folder / f"{stamp}_trade.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{stamp}_btcusdt_minute_trade.csv", out.to_csv(header=False, index=False))


def reference(text: str, folder: Path) -> None:
    frame = pd.read_csv(io.StringIO(text), header=None, usecols=range(6), names=list("tohlcv"))
    write_reference(frame, folder)


def median_seconds(work: Callable[[Path], None]) -> float:
    times = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            work(Path(folder))
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    bars = synthetic_minutes(rows)
    text = kline_text(bars)
    frame = pd.read_csv(io.StringIO(text), header=None, usecols=range(6), names=list("tohlcv"))
    results = [
        ("convert: kline CSV -> Lean minute zips", median_seconds(lambda f: ours(text, f)),
         median_seconds(lambda f: reference(text, f))),
        ("write only: bars -> Lean minute zips",
         median_seconds(lambda f: write_trade_bars(f, "binance", "BTCUSDT", "minute", bars, merge=False)),
         median_seconds(lambda f: write_reference(frame, f))),
    ]
    print(f"{rows:,} one-minute bars ({rows // 1440:,} day files), median of 3")
    print(f"{'step':<42}{'alphapulse rows/s':>20}{'reference rows/s':>20}{'ratio':>8}")
    for name, mine, theirs in results:
        print(f"{name:<42}{rows / mine:>20,.0f}{rows / theirs:>20,.0f}{theirs / mine:>8.2f}")
    print("ratio = reference time / alphapulse time (above 1: alphapulse is faster)")


if __name__ == "__main__":
    main()
