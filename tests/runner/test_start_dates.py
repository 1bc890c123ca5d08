"""Two backtests that start on different dates give the same signals where they overlap: each
loads its warm-up span before its start (``alphapulse.intervals.warm_up_days``), and a signal
depends on no more history than the strategy's warm-up."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from alphapulse.bars import to_ns
from alphapulse_tools.runner.backtest import BacktestRequest, run_backtest


@pytest.mark.parametrize(("market", "symbol", "interval", "starts", "end", "extra"), [
    ("usa", "SPY", "1h", (date(2015, 6, 1), date(2016, 9, 1)), date(2017, 12, 31), {"higher_timeframe": "1d"}),
    ("coinbase", "BTCUSD", "1d", (date(2016, 9, 1), date(2017, 3, 1)), date(2018, 8, 13), {}),
])
def test_signals_do_not_depend_on_the_start_date(lean_data: Path, tmp_path: Path, market: str, symbol: str,
                                                 interval: str, starts: tuple[date, date], end: date,
                                                 extra: dict) -> None:
    config = tmp_path / "contracts.json"
    config.write_text(json.dumps({symbol: {"strategy": "pattern-confluence", "timeframe": interval, **extra}}))

    def signals(start: date) -> list:
        request = BacktestRequest(strategy="pattern-confluence", symbols=(symbol,), interval=interval, start=start,
                                  end=end, market=market, data_dir=lean_data, config=config, cash=100_000.0,
                                  out=None, report=False)
        return run_backtest(request).signals

    overlap = to_ns(datetime(starts[1].year, starts[1].month, starts[1].day, tzinfo=UTC))
    early = [s for s in signals(starts[0]) if s.time >= overlap]
    late = signals(starts[1])
    assert all(s.time >= overlap for s in late)
    assert late, "no signal in the overlap: the case proves nothing"
    assert [(s.time, s.direction, s.entry, s.stop, s.target) for s in early] == \
           [(s.time, s.direction, s.entry, s.stop, s.target) for s in late]
    assert all(math.isclose(a.score, b.score, rel_tol=1e-12) for a, b in zip(early, late, strict=True))
