"""Local runner benchmarks (run by hand: ``.venv/bin/python benchmarks/bench_runner.py [p2] [p2b] [p6]``;
no name runs them all).

Prints medians (CPU time of this single-threaded process, the measured things called in turn, so
the load of a shared machine hits them alike) and the ratios measured in the same run:

* P2  end-to-end bars/s of a backtest (load Lean files, signals, simulation, statistics; no report)
  divided by the bars/s of a raw TA-Lib scan of all 61 candlestick patterns on the same 1M bars,
  cold (the data folder's parsed-file cache removed before each timed run, the removal untimed)
  and warm (the cache in place);
* P2b simulation speed against backtesting.py (``trade_on_close=True``) replaying the same signals,
  with the trade lists checked equal, sizing through a ``FractionSizer`` and through a plain
  callable (the same limits), with and without building the ``Trade`` objects (vectorbt beside it:
  ``bench_vectorbt.py``);
* P6  the main job (``scripts/main``) on one year of 1h bars from a loopback mirror: cold (empty data
  folder) and warm (data in place) wall time.

Bars: real one-minute (and one-hour) candles' shapes (open/high/low/close relative to the previous
close, volume) from ``../shared/data``, drawn with replacement and chained into long series.
"""

from __future__ import annotations

import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import talib

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("ALPHAPULSE_SHARED_DATA", ROOT.parent / "shared" / "data"))

from alphapulse.bars import Bars  # noqa: E402
from alphapulse.lean_data import CACHE_FOLDER, read_trade_bars  # noqa: E402


def median(fn, runs: int = 3) -> tuple[float, object]:
    """Median CPU time of ``runs`` calls (everything measured runs on one thread, so CPU time is
    the wall time without the other processes of a shared machine) and the last result. Garbage
    left by earlier calls is collected before each call (the collector stays on while it runs)."""
    times, result = [], None
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def alternated(named: dict[str, object], runs: int = 3, *,
               before: dict[str, object] | None = None) -> dict[str, tuple[float, object]]:
    """:func:`median` of each function, the functions called in turn in every round (so that a
    change of load on a shared machine hits them alike); ``before`` names a preparation run
    untimed before each call of a function (e.g. removing a cache)."""
    times: dict[str, list[float]] = {name: [] for name in named}
    results: dict[str, object] = {}
    for _ in range(runs):
        for name, fn in named.items():
            prepare = (before or {}).get(name)
            if prepare is not None:
                prepare()  # type: ignore[operator]
            spent, results[name] = median(fn, 1)  # type: ignore[operator]
            times[name].append(spent)
    return {name: (statistics.median(times[name]), results[name]) for name in named}


def shaped_bars(source: Bars, n: int, period: int, first: datetime, seed: int = 7) -> Bars:
    """``n`` bars chained from ``source``'s bar shapes (relative to the previous close)."""
    prev = np.concatenate([[source.open[0]], source.close[:-1]])
    rel = np.stack([source.open / prev, source.high / prev, source.low / prev, source.close / prev]).T
    rel /= np.exp(np.mean(np.log(rel[:, 3])))  # no drift: the chained price stays near its start
    pick = np.random.default_rng(seed).integers(0, len(rel), n)
    shape = rel[pick]
    closes = 30_000.0 * np.cumprod(shape[:, 3])
    prev_close = np.concatenate([[30_000.0], closes[:-1]])
    o, h, lo, c = (prev_close * shape[:, k] for k in range(4))
    h = np.maximum.reduce([h, o, c])
    lo = np.minimum.reduce([lo, o, c])
    start = int(pd.Timestamp(first).value)
    times = start + period * 10**9 * np.arange(n, dtype=np.int64)
    return Bars(times, o, h, lo, c, source.volume[pick], period=period, symbol="BTCUSDT")


def real_minutes() -> Bars:
    frame = pd.read_feather(SHARED / "freqtrade" / "UNITTEST_BTC-1m.feather")
    return Bars.from_frame(frame, period=60, symbol="UNITTEST")


def write_lean_minutes(bars: Bars, data_dir: Path) -> None:
    folder = data_dir / "crypto" / "binance" / "minute" / "btcusdt"
    folder.mkdir(parents=True, exist_ok=True)
    day = bars.time // (86_400 * 10**9)
    cuts = np.flatnonzero(np.diff(day)) + 1
    for chunk in np.split(np.arange(len(bars)), cuts):
        d = datetime.fromtimestamp(int(bars.time[chunk[0]]) // 10**9, tz=UTC)
        ms = (bars.time[chunk] // 10**6) % 86_400_000
        text = "".join(f"{m},{o:.2f},{h:.2f},{lo:.2f},{c:.2f},{v:.8f}\n" for m, o, h, lo, c, v in zip(
            ms.tolist(), bars.open[chunk].tolist(), bars.high[chunk].tolist(), bars.low[chunk].tolist(),
            bars.close[chunk].tolist(), bars.volume[chunk].tolist(), strict=True))
        with zipfile.ZipFile(folder / f"{d:%Y%m%d}_trade.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{d:%Y%m%d}_btcusdt_minute_trade.csv", text)


def write_lean_hours(bars: Bars, data_dir: Path) -> None:
    folder = data_dir / "crypto" / "binance" / "hour"
    folder.mkdir(parents=True, exist_ok=True)
    stamps = pd.DatetimeIndex(bars.time.astype("datetime64[ns]")).strftime("%Y%m%d %H:%M")
    text = "".join(f"{t},{o:.2f},{h:.2f},{lo:.2f},{c:.2f},{v:.8f}\n" for t, o, h, lo, c, v in zip(
        stamps, bars.open.tolist(), bars.high.tolist(), bars.low.tolist(), bars.close.tolist(),
        bars.volume.tolist(), strict=True))
    with zipfile.ZipFile(folder / "btcusdt_trade.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("btcusdt.csv", text)


def pick_strategy() -> str:
    from alphapulse.strategies import STRATEGIES

    return "pattern-confluence" if "pattern-confluence" in STRATEGIES else "macd-crossover"


def p2(n: int = 1_000_000, runs: int = 3) -> None:
    from alphapulse.config import ContractConfig
    from alphapulse.strategies import create_strategy
    from alphapulse_tools.runner.backtest import BacktestRequest, run_backtest

    strategy = pick_strategy()
    names = talib.get_function_groups()["Pattern Recognition"]
    minutes = shaped_bars(real_minutes(), n, 60, datetime(2021, 1, 1, tzinfo=UTC))
    hours = shaped_bars(real_minutes(), n, 3600,
                        datetime(2000, 1, 1, tzinfo=UTC))
    # the same 1M bars as one-minute Lean files (one zip per day) and as one Lean hour file
    for label, bars, interval, resolution, writer in (
            ("1m, 694 daily minute files", minutes, "1m", "minute", write_lean_minutes),
            ("1h, one hour file", hours, "1h", "hour", write_lean_hours)):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp)
            writer(bars, data)
            loaded = read_trade_bars(data, "binance", "BTCUSDT", resolution)
            o, h, lo, c = loaded.open, loaded.high, loaded.low, loaded.close

            def scan(o=o, h=h, lo=lo, c=c) -> None:
                for name in names:
                    getattr(talib, name)(o, h, lo, c)

            core = create_strategy(strategy, ContractConfig.from_dict("BTCUSDT", {"timeframe": interval}),
                                   symbol="BTCUSDT", market="binance")
            first = datetime.fromtimestamp(int(bars.time[0]) // 10**9, tz=UTC).date()
            last = datetime.fromtimestamp(int(bars.time[-1]) // 10**9, tz=UTC).date()
            request = BacktestRequest(strategy=strategy, symbols=("BTCUSDT",), interval=interval,
                                      start=first, end=last, data_dir=data, report=False)
            measured = alternated({
                "scan": scan,
                "read": lambda data=data, resolution=resolution: read_trade_bars(
                    data, "binance", "BTCUSDT", resolution),
                "signals": lambda core=core, loaded=loaded: core.signals(loaded),
                "cold": lambda request=request: run_backtest(request),
                "warm": lambda request=request: run_backtest(request),  # the cache written by cold
            }, runs, before={  # no parsed-file cache yet (its removal is not timed)
                "cold": lambda data=data: shutil.rmtree(data / CACHE_FOLDER, ignore_errors=True)})
        t_scan, t_read, t_signals = (measured[k][0] for k in ("scan", "read", "signals"))
        (t_cold, _), (t_warm, outcome) = measured["cold"], measured["warm"]
        timings = outcome.timings  # type: ignore[attr-defined]
        trades = len(outcome.result.trades)  # type: ignore[attr-defined]
        print(f"\nP2  end to end on {n:,} bars ({label}; {strategy}, {trades} trades; CPU s, medians)")
        print(f"  TA-Lib 61-pattern scan            {t_scan:7.3f} s  {n / t_scan / 1e6:6.2f} M bars/s")
        print(f"  runner, cold (no parsed cache)    {t_cold:7.3f} s  {n / t_cold / 1e6:6.2f} M bars/s")
        print(f"  runner, warm (parsed cache)       {t_warm:7.3f} s  {n / t_warm / 1e6:6.2f} M bars/s")
        print(f"    Lean files read without cache {t_read:.3f} s, strategy.signals {t_signals:.3f} s")
        for key, value in timings.items():
            print(f"    warm {key:<23} {value:7.3f} s (wall, last run)")
        print(f"  ratio runner / TA-Lib scan: warm {t_scan / t_warm:.2f}, cold {t_scan / t_cold:.2f}  (goal >= 0.7)")


def p2b(n: int = 200_000) -> None:
    import warnings

    from alphapulse.config import ContractConfig
    from alphapulse.strategies import create_strategy
    from alphapulse_tools.runner.engine import simulate
    from alphapulse_tools.runner.fees import PercentOfValueFee
    from alphapulse_tools.runner.trades import Instrument
    from tests.runner.replay import FractionRule, RiskRule, backtesting_trades

    hours = read_trade_bars(SHARED / "lean", "bitfinex", "BTCUSD", "hour")
    cases = [("macd-crossover", "1m", shaped_bars(real_minutes(), n, 60, datetime(2021, 1, 1, tzinfo=UTC))),
             (pick_strategy(), "1h", shaped_bars(hours, n, 3600, datetime(2001, 1, 1, tzinfo=UTC)))]
    cash = 30_000.0 * 1e5
    # the same limits two ways: a FractionSizer (sizes for all entries in one numpy pass, then one
    # multiplication per entry) and a plain callable (called at each entry with its context)
    rules = {"fraction sizer": FractionRule(0.02, 0.5), "callable sizer": RiskRule(0.02, 0.5)}

    def replayed(bars: Bars, signals: list, rule: RiskRule) -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return backtesting_trades(bars, signals, cash=cash, commission=0.001, rule=rule)

    for name, interval, bars in cases:
        contract = ContractConfig.from_dict("X", {"timeframe": interval, "risk": {"max_bars": 240}})
        signals = create_strategy(name, contract, symbol="X", market="binance").signals(bars)
        inst = Instrument("X", "binance", bars, signals, PercentOfValueFee(0.001), lot_size=1.0)
        for label, rule in rules.items():
            sizer = rule if isinstance(rule, FractionRule) else rule.size
            measured = alternated({
                "ours": lambda inst=inst, sizer=sizer: simulate([inst], cash=cash, sizer=sizer),
                "trades": lambda inst=inst, sizer=sizer: simulate([inst], cash=cash, sizer=sizer).trades,
                "theirs": lambda bars=bars, signals=signals, rule=rule: replayed(bars, signals, rule)}, runs=5)
            (t_ours, ours), (t_trades, _), (t_bt, theirs) = (measured[k] for k in ("ours", "trades", "theirs"))
            closed = [t for t in ours.trades if t.is_closed]  # type: ignore[attr-defined]
            done = theirs[theirs["ExitBar"].notna()]  # type: ignore[index]
            same = [(t.entry_index, t.exit_index, t.entry_price, t.exit_price, int(t.direction) * t.quantity)
                    for t in closed] == list(zip(done["EntryBar"].astype(int), done["ExitBar"].astype(int),
                                                 done["EntryPrice"].astype(float), done["ExitPrice"].astype(float),
                                                 done["Size"].astype(float), strict=True))
            print(f"\nP2b simulation on {n:,} {interval} bars, {name}, {label}, {len(closed)} trades "
                  f"(one per {n / max(1, len(closed)):.0f} bars; the same trades as backtesting.py: {same})")
            print(f"  runner simulate()               {t_ours * 1e3:9.2f} ms  {n / t_ours / 1e6:8.2f} M bars/s")
            print(f"  runner simulate() + .trades     {t_trades * 1e3:9.2f} ms  {n / t_trades / 1e6:8.2f} M bars/s")
            print(f"  backtesting.py run()            {t_bt * 1e3:9.2f} ms  {n / t_bt / 1e6:8.3f} M bars/s")
            print(f"  ratio: {t_bt / t_ours:.0f}x faster than backtesting.py ({t_bt / t_trades:.0f}x with the "
                  "Trade objects built; goal >= 100x)")
    print("  vectorbt: `benchmarks/run vectorbt` (bench_vectorbt.py, in its own environment)")


def p6() -> None:
    from tests.data.binance_double import BTC_RULES, BinanceDouble, kline_csv, serving

    hours = read_trade_bars(SHARED / "lean", "bitfinex", "BTCUSD", "hour")
    year = shaped_bars(hours, (31 + 366) * 24, 3600, datetime(2023, 12, 1, tzinfo=UTC))
    double = BinanceDouble()
    first = datetime(2023, 12, 1, tzinfo=UTC)
    while first < datetime(2025, 1, 1, tzinfo=UTC):
        following = (first + timedelta(days=32)).replace(day=1)
        part = year.between(int(pd.Timestamp(first).value), int(pd.Timestamp(following).value))
        double.add_archive("monthly", "BTCUSDT", "1h", f"{first:%Y-%m}", kline_csv(part, 3600))
        first = following
    double.exchange["BTCUSDT"] = BTC_RULES
    with serving(double), tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ALPHAPULSE_BINANCE_DATA_URL": double.url, "ALPHAPULSE_BINANCE_API_URL": double.url}

        def job(out: str) -> float:
            begin = time.perf_counter()
            done = subprocess.run([str(ROOT / "scripts" / "main"), "--data-dir", f"{tmp}/data",
                                   "--out", f"{tmp}/{out}"], env=env, capture_output=True, text=True,
                                  check=False)
            elapsed = time.perf_counter() - begin
            if done.returncode != 0:
                raise SystemExit(f"scripts/main failed: {done.stderr[-2000:]}")
            return elapsed

        cold = job("cold")
        warm = statistics.median(job(f"warm{k}") for k in range(3))
    print(f"\nP6  main job (scripts/main, {pick_strategy()}, BTCUSDT 1h 2024) against a loopback mirror")
    print(f"  cold (empty data folder, venv ready)  {cold:6.2f} s")
    print(f"  warm (data in place), median of 3     {warm:6.2f} s  (goal <= 3 s)")


if __name__ == "__main__":
    wanted = set(sys.argv[1:]) or {"p2", "p2b", "p6"}
    if "p2" in wanted:
        p2()
    if "p2b" in wanted:
        p2b()
    if "p6" in wanted:
        p6()
