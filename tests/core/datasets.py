"""Every OHLCV trade-bar dataset in ``../shared/data``, as :class:`~alphapulse.bars.Bars`.

Used by the core tests to check a computation on all real data at hand::

    from tests.core.datasets import DATASET_NAMES, load_dataset

    @pytest.mark.parametrize("name", DATASET_NAMES)
    def test_x(shared_data, name):
        data = load_dataset(shared_data, name)   # a Dataset: .bars, .market, .interval ...

What is included (names are ``<source>/<market>/<resolution>/<symbol>``):

* Lean (``lean/...``): every crypto and US-equity trade file, per market, resolution and symbol,
  read with :func:`alphapulse.lean_data.read_trade_bars` (minute files of a symbol concatenated over
  all their days; SPY minute bars include extended hours, as in the files).
* freqtrade (``freqtrade/...``): every ``.feather`` trade-candle file (spot and ``-futures``).
  Skipped, because they are not trade bars: ``-mark`` files (mark-price candles; the 1h ones have
  NaN volume) and ``-funding_rate`` files (the rate stored in ``open``, other prices 0). The
  ``.json``/``.json.gz`` files are byte-for-byte the same candles as their ``.feather`` twins and are
  not listed twice.
* backtesting.py (``backtesting_py/...``): GOOG (daily), EURUSD (hourly), BTCUSD (monthly, stamped
  on month end; ``period`` 0 because months differ in length). Naive times are taken as UTC.

Loading is cached per process; every dataset is validated by :class:`Bars`.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from alphapulse.bars import Bars
from alphapulse.lean_data import read_trade_bars

#: where the shared data lives (the same rule as ``tests/conftest.py``)
SHARED_DATA = Path(os.environ.get("ALPHAPULSE_SHARED_DATA",
                                  Path(__file__).resolve().parents[2].parent / "shared" / "data"))

_FREQTRADE_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_SKIPPED_CANDLES = ("mark", "funding_rate")
_BACKTESTING_PY = {"GOOG": ("nasdaq", 86400), "EURUSD": ("forex", 3600), "BTCUSD": ("index", 0)}


@dataclass(frozen=True)
class Dataset:
    """One dataset: its name, its bars and what kind of market it comes from.

    ``market`` is the Lean market (``usa`` for US equities, ``coinbase``, ``binance`` ...) or the
    origin's label; ``session`` is ``"us_equity"`` for New York session data, else None (24/7 or
    unknown); ``interval`` is the bar length in seconds (0 when irregular).
    """

    name: str
    bars: Bars
    market: str
    interval: int
    session: str | None = None


def _lean_names(root: Path) -> list[str]:
    names = []
    lean = root / "lean"
    for kind in ("crypto", "equity"):
        for market_dir in sorted((lean / kind).glob("*")):
            for res_dir in sorted(market_dir.glob("*")):
                resolution = res_dir.name
                if resolution == "minute":
                    symbols = sorted(p.name for p in res_dir.iterdir() if p.is_dir()
                                     and any(p.glob("*_trade.zip")))
                elif resolution in ("hour", "daily"):
                    symbols = sorted(p.name.removesuffix(".zip").removesuffix("_trade")
                                     for p in res_dir.glob("*.zip"))
                else:
                    continue
                names += [f"lean/{market_dir.name}/{resolution}/{s}" for s in symbols]
    return names


def _freqtrade_names(root: Path) -> list[str]:
    names = []
    for path in sorted((root / "freqtrade").rglob("*.feather")):
        stem = path.stem
        if any(stem.endswith(f"-{kind}") for kind in _SKIPPED_CANDLES):
            continue
        names.append("freqtrade/" + path.relative_to(root / "freqtrade").with_suffix("").as_posix())
    return names


def dataset_names(root: Path = SHARED_DATA) -> list[str]:
    """Names of every dataset under ``root`` (empty when the data folder is absent)."""
    if not root.is_dir():
        return []
    backtesting = [f"backtesting_py/{p.stem}" for p in sorted((root / "backtesting_py").glob("*.csv"))]
    return _lean_names(root) + _freqtrade_names(root) + backtesting


@functools.cache
def load_dataset(root: Path, name: str) -> Dataset:
    """The dataset called ``name`` (one of :func:`dataset_names`) under ``root``."""
    source, _, rest = name.partition("/")
    if source == "lean":
        market, resolution, symbol = rest.split("/")
        bars = read_trade_bars(root / "lean", market, symbol, resolution)
        seconds = {"minute": 60, "hour": 3600, "daily": 86400}[resolution]
        return Dataset(name, bars, market, seconds, "us_equity" if market == "usa" else None)
    if source == "freqtrade":
        path = root / "freqtrade" / f"{rest}.feather"
        match = re.search(r"-(\d+)([mhd])(?:-|$)", path.stem)
        assert match, f"no timeframe in {path.name}"
        seconds = int(match.group(1)) * _FREQTRADE_SECONDS[match.group(2)]
        frame = pd.read_feather(path)
        return Dataset(name, Bars.from_frame(frame, period=seconds, symbol=path.stem),
                       "freqtrade", seconds)
    if source == "backtesting_py":
        market, seconds = _BACKTESTING_PY.get(rest, ("backtesting_py", 0))
        frame = pd.read_csv(root / "backtesting_py" / f"{rest}.csv", index_col=0, parse_dates=True)
        return Dataset(name, Bars.from_frame(frame, period=seconds, symbol=rest), market, seconds)
    raise KeyError(f"unknown dataset {name!r}")


def all_datasets(root: Path = SHARED_DATA) -> list[Dataset]:
    """Every dataset under ``root``, loaded."""
    return [load_dataset(root, name) for name in dataset_names(root)]


#: every dataset name, for ``pytest.mark.parametrize``
DATASET_NAMES: list[str] = dataset_names()
