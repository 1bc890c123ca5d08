"""Run a Pine Script offline: transpile it with pine2pyne and execute it with PyneCore on :class:`Bars`.

``run_pine(script, bars, inputs=None)`` returns a :class:`PineRun` holding every ``plot`` of the script
as a float64 numpy column keyed by the plot title (NaN where the script plotted ``na``), one row per
bar, plus the strategy's closed trades when the script is a strategy.

The transpiled Python file is cached in a temporary folder keyed by a digest of the Pine source, and
PyneCore's compiled form of it (its AST transformation takes seconds for a large script) is cached
beside it as bytecode, also when ``PYTHONDONTWRITEBYTECODE`` is set, so a script is transpiled and
compiled once. Prices reach the script exactly as stored in ``Bars``
(``lossless_prices``): PyneCore's float32 clean-up would otherwise round them and move comparisons.
"""

from __future__ import annotations

import hashlib
import math
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alphapulse.bars import Bars

PINE_DIR = Path(__file__).resolve().parents[2] / "pine_scripts"
_CACHE = Path(tempfile.gettempdir()) / "alphapulse-pine-cache"


def validate(script: Path) -> tuple[int, str]:
    """Exit status and output of ``python -m pine2pyne SCRIPT --validate``."""
    import subprocess

    done = subprocess.run([sys.executable, "-m", "pine2pyne", str(script), "--validate"],
                          capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


def transpiled(script: Path) -> Path:
    """The PyneCore Python file of a Pine script (transpiled once per source text)."""
    from pine2pyne import transpile

    source = script.read_text()
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    target = _CACHE / f"{script.stem}_{digest}.py"
    if not target.exists():
        _CACHE.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.stem}.{os.getpid()}.tmp")  # parallel sessions
        partial.write_text(transpile(source))
        partial.replace(target)
    return target


def tradingview_period(seconds: int) -> str:
    """TradingView's timeframe text for a bar length in seconds (``60`` -> ``"1"``, 1 day -> ``"1D"``)."""
    if seconds <= 0:
        return "1M"
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400}D"
    if seconds % 60 == 0:
        return str(seconds // 60)
    return f"{seconds}S"


@dataclass
class PineRun:
    """The result of one offline run: plot columns by title and, for a strategy, its closed trades."""

    plots: dict[str, np.ndarray]
    trades: list[Any] = field(default_factory=list)

    def __getitem__(self, title: str) -> np.ndarray:
        return self.plots[title]


def run_pine(script: Path, bars: Bars, *, inputs: dict[str, Any] | None = None,
             ticker: str = "BTCUSDT", prefix: str = "BINANCE") -> PineRun:
    """Run ``script`` bar by bar over ``bars``; every plot comes back as a column keyed by its title."""
    from pynecore.core.script_runner import ScriptRunner
    from pynecore.core.syminfo import SymInfo
    from pynecore.types.ohlcv import OHLCV

    syminfo = SymInfo(prefix=prefix, description="", ticker=ticker, currency="USD",
                      basecurrency="BTC", period=tradingview_period(int(bars.period)), type="crypto",
                      mintick=1e-8, pricescale=100_000_000, minmove=1, pointvalue=1.0,
                      mincontract=1e-8, timezone="UTC", volumetype="base", opening_hours=[],
                      session_starts=[], session_ends=[])
    candles = [OHLCV(int(t) // 1_000_000, float(o), float(h), float(lo), float(c), float(v))
               for t, o, h, lo, c, v in zip(bars.time, bars.open, bars.high, bars.low, bars.close,
                                            bars.volume, strict=True)]
    write_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = False  # keep PyneCore's compiled script in the cache folder
    try:
        runner = ScriptRunner(transpiled(script), candles, syminfo, inputs=inputs,
                              lossless_prices=True, lossless_volume=True)
    finally:
        sys.dont_write_bytecode = write_bytecode
    rows: list[dict[str, Any]] = []
    trades: list[Any] = []
    for result in runner.run_iter():
        rows.append(result[1])
        if len(result) > 2:
            trades.extend(result[2])  # type: ignore[misc]
    titles = list(rows[0]) if rows else []
    plots = {title: np.array([_number(row.get(title)) for row in rows], dtype=np.float64)
             for title in titles}
    return PineRun(plots, trades)


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
