"""The simulation's one-instrument loop equals its general event queue: the same trades, skipped
signals (with their reasons), cash and sizing contexts, on real data and with every skip rule."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from alphapulse.config import ContractConfig
from alphapulse.journal import Signal
from alphapulse.lean_data import read_trade_bars
from alphapulse.strategies import create_strategy
from alphapulse_tools.runner.engine import simulate
from alphapulse_tools.runner.fees import PercentOfValueFee
from alphapulse_tools.runner.trades import Instrument, SizingContext


def _signals(bars, *, allow_short: bool) -> list[Signal]:
    contract = ContractConfig.from_dict("BTCUSDT", {
        "timeframe": "1h", "patterns": ["CDLENGULFING", "CDLHAMMER", "CDLHARAMI", "CDLSHOOTINGSTAR"],
        "min_confidence": 0.0, "min_score": 0.0, "risk": {"allow_short": allow_short, "max_bars": 30}})
    return create_strategy("pattern-confluence", contract, symbol="BTCUSDT", market="binance").signals(bars)


def _run(instrument: Instrument, sizer, *, cash: float, alone: bool):
    """``alone``: the instrument by itself (the one-instrument loop); else beside an idle one
    (no signals), which takes the general event queue without changing anything."""
    contexts: list[SizingContext] = []

    def recording(signal: Signal, price: float, context: SizingContext) -> float:
        contexts.append(context)
        return sizer(signal, price, context)

    idle = dataclasses.replace(instrument, symbol="IDLE", signals=[])
    result = simulate([instrument] if alone else [instrument, idle], cash=cash, sizer=recording)
    return result, contexts


def _sizers():
    def risk(signal, price, context):  # 2% of equity at risk, at most 1.2 x equity: some refused for cash
        return min(context.equity * 0.02 / abs(price - signal.stop), context.equity * 1.2 / price)

    def alternating(signal, price, context):  # zero, tiny (below the minimum), normal sizes
        return (0.0, 3e-5, context.cash * 0.2 / price)[signal.time // 3_600_000_000_000 % 3]

    return {"risk": risk, "alternating": alternating}


@pytest.mark.parametrize("allow_short", [False, True])
@pytest.mark.parametrize("sizer", ["risk", "alternating"])
def test_one_instrument_loop_equals_the_event_queue(lean_data: Path, allow_short: bool, sizer: str) -> None:
    bars = read_trade_bars(lean_data, "bitfinex", "BTCUSD", "hour")
    signals = _signals(bars, allow_short=True)  # shorts too: refused on spot, taken with margin
    instrument = Instrument("BTCUSDT", "binance", bars, signals, PercentOfValueFee(0.001), lot_size=1e-5,
                            min_order_value=5.0, tick_size=0.01, allow_short=allow_short)
    alone, alone_contexts = _run(instrument, _sizers()[sizer], cash=10_000.0, alone=True)
    queued, queued_contexts = _run(instrument, _sizers()[sizer], cash=10_000.0, alone=False)
    assert len(alone.trades) > 5
    assert alone.trades == queued.trades
    assert [(s.signal, s.reason) for s in alone.skipped] == [(s.signal, s.reason) for s in queued.skipped]
    assert alone.cash == queued.cash
    assert alone_contexts == queued_contexts
    reasons = {s.reason.split(" ")[0] for s in alone.skipped}
    if not allow_short:
        assert "short" in reasons
    if sizer == "alternating":
        assert {"position", "order"} <= reasons
    else:
        assert "insufficient" in reasons
    grid = np.isin(queued.equity_time, alone.equity_time)
    assert np.array_equal(alone.equity, queued.equity[grid])
