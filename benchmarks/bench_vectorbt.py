"""P2b beside vectorbt (run by hand: ``benchmarks/run vectorbt``, which creates ``.venv-vectorbt``
with the project and vectorbt; about 900 MB, so it is not part of the test environment).

The runner's simulation and vectorbt's ``Portfolio.from_signals`` replay the same signals of the
macd-crossover strategy on 200k one-minute bars (real candle shapes, as ``bench_runner.py``):
entries at the signal bar's close with the runner's quantities, the signal's stop and target as
``sl_stop``/``tp_stop`` fractions of the entry checked from the next bar against open/high/low,
FLAT signals as exits at the close, 0.1% fees. There are no time exits (vectorbt's ``from_signals``
has none). Prints CPU-time medians (vectorbt's first, compiling call excluded), the ratio, and how
many trades agree (entry and exit bar exactly, prices within 1e-9 relative: vectorbt rebuilds the
stop level as ``entry × (1 − fraction)``).
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_runner import real_minutes, shaped_bars  # noqa: E402

from alphapulse.config import ContractConfig  # noqa: E402
from alphapulse.journal import Direction  # noqa: E402
from alphapulse.strategies import create_strategy  # noqa: E402
from alphapulse_tools.runner.engine import simulate  # noqa: E402
from alphapulse_tools.runner.fees import PercentOfValueFee  # noqa: E402
from alphapulse_tools.runner.trades import Instrument  # noqa: E402
from tests.runner.replay import FractionRule  # noqa: E402


def cpu_median(fn, runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.process_time()
        result = fn()
        times.append(time.process_time() - start)
    return statistics.median(times), result


def main(n: int = 200_000) -> None:
    import vectorbt as vbt

    bars = shaped_bars(real_minutes(), n, 60, datetime(2021, 1, 1, tzinfo=UTC))
    contract = ContractConfig.from_dict("X", {"timeframe": "1m"})
    signals = create_strategy("macd-crossover", contract, symbol="X", market="binance").signals(bars)
    cash = 30_000.0 * 1e5
    inst = Instrument("X", "binance", bars, signals, PercentOfValueFee(0.001), lot_size=1.0)
    rule = FractionRule(0.02, 0.5)
    t_ours, ours = cpu_median(lambda: simulate([inst], cash=cash, sizer=rule))
    trades = [t for t in ours.trades if t.is_closed]  # type: ignore[attr-defined]

    close = bars.close
    entries = np.zeros(n, dtype=bool)
    exits = np.zeros(n, dtype=bool)
    size = np.full(n, np.nan)
    sl = np.full(n, np.nan)
    tp = np.full(n, np.nan)
    for trade in trades:
        k = trade.entry_index
        entries[k] = True
        size[k] = trade.quantity
        sl[k] = (close[k] - trade.stop) / close[k]
        tp[k] = (trade.target - close[k]) / close[k]
    index = {int(t): i for i, t in enumerate(bars.time)}
    for signal in signals:
        if signal.direction == Direction.FLAT:
            exits[index[signal.time]] = True

    def theirs():
        return vbt.Portfolio.from_signals(
            close, entries, exits, size=size, size_type="amount", price=close, fees=0.001,
            open=bars.open, high=bars.high, low=bars.low, sl_stop=sl, tp_stop=tp, init_cash=cash,
            accumulate=False, direction="longonly")

    theirs()  # compiles the numba kernels
    t_vbt, portfolio = cpu_median(theirs)
    records = portfolio.trades.records  # type: ignore[attr-defined]
    closed = records[records["status"] == 1]  # closed trades, bars as positions
    same = sum(
        int(row.entry_idx) == trade.entry_index and int(row.exit_idx) == trade.exit_index
        and abs(row.entry_price / trade.entry_price - 1) < 1e-9 and abs(row.exit_price / trade.exit_price - 1) < 1e-9
        for trade, row in zip(trades, closed.itertuples(), strict=False))
    print(f"\nP2b beside vectorbt {vbt.__version__}: macd-crossover on {n:,} 1m bars, {len(trades)} trades "
          f"(vectorbt {len(closed)}; {same} identical)")
    print(f"  runner simulate()              {t_ours * 1e3:9.2f} ms")
    print(f"  vectorbt Portfolio.from_signals {t_vbt * 1e3:8.2f} ms (compiled)")
    print(f"  ratio: runner {t_vbt / t_ours:.2f}x vectorbt's speed")


if __name__ == "__main__":
    main()
