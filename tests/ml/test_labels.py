"""Triple-barrier labels: the runner's exit rules, case by case, and against a plain bar loop."""

from __future__ import annotations

import numpy as np
import pytest

from alphapulse.bars import Bars
from alphapulse.errors import ConfigError
from alphapulse.journal import Direction, Signal
from alphapulse_tools.ml.labels import EXIT_KINDS, triple_barrier
from tests.core.datasets import load_dataset

HOUR = 3_600_000_000_000


def _bars(*rows):
    """Bars from (open, high, low, close) rows; the first row is the signal bar."""
    o, h, lo, c = (np.array(col, dtype=float) for col in zip(*rows, strict=True))
    return Bars(np.arange(len(rows), dtype=np.int64) * HOUR, o, h, lo, c, np.ones(len(rows)), period=3600)


def _one(bars, direction=Direction.LONG, stop=95.0, target=110.0, max_bars=None, horizon=48):
    signal = Signal("t", "X", "m", "1h", 0, direction, entry=100.0, stop=stop, target=target,
                    max_bars=max_bars)
    labels = triple_barrier(bars, [signal], [0], horizon=horizon)
    return (int(labels.label[0]), EXIT_KINDS[labels.kind[0]], int(labels.exit_row[0]),
            float(labels.exit_price[0]), float(labels.r_multiple[0]))


SIGNAL_BAR = (99.0, 101.0, 98.0, 100.0)


def test_target_first():
    assert _one(_bars(SIGNAL_BAR, (100, 104, 99, 103), (103, 111, 102, 108))) == (1, "target", 2, 110.0, 2.0)


def test_stop_first():
    assert _one(_bars(SIGNAL_BAR, (100, 104, 94, 96))) == (0, "stop", 1, 95.0, -1.0)


def test_stop_and_target_in_one_bar_take_the_stop():
    assert _one(_bars(SIGNAL_BAR, (100, 111, 94, 108))) == (0, "stop", 1, 95.0, -1.0)


def test_a_gap_through_the_stop_fills_at_the_open():
    assert _one(_bars(SIGNAL_BAR, (93, 96, 92, 95))) == (0, "stop", 1, 93.0, -1.4)


def test_a_gap_through_the_target_fills_at_the_open():
    assert _one(_bars(SIGNAL_BAR, (112, 113, 111, 112))) == (1, "target", 1, 112.0, 2.4)


def test_the_signal_bar_itself_is_never_an_exit():
    assert _one(_bars((99, 120, 80, 100), (100, 104, 99, 103), (103, 111, 102, 108)))[1:3] == ("target", 2)


def test_time_barrier_closes_at_the_close_of_the_max_bars_th_bar():
    bars = _bars(SIGNAL_BAR, (100, 104, 99, 103), (103, 105, 101, 102), (102, 111, 101, 109))
    assert _one(bars, max_bars=2) == (0, "time", 2, 102.0, 0.4)
    assert _one(bars, horizon=2) == (0, "time", 2, 102.0, 0.4)
    assert _one(bars, horizon=3) == (1, "target", 3, 110.0, 2.0)


def test_a_trade_open_at_the_end_of_the_data_has_no_label():
    labels = triple_barrier(_bars(SIGNAL_BAR, (100, 104, 99, 103)),
                            [Signal("t", "X", "m", "1h", 0, Direction.LONG,
                                    entry=100.0, stop=95.0, target=110.0)],
                            [0], horizon=5)
    assert EXIT_KINDS[labels.kind[0]] == "open" and not labels.known[0]


def test_short_trades_mirror_long_ones():
    bars = _bars(SIGNAL_BAR, (100, 104, 89, 92))
    assert _one(bars, Direction.SHORT, stop=105.0, target=90.0) == (1, "target", 1, 90.0, 2.0)
    bars = _bars(SIGNAL_BAR, (100, 106, 89, 92))
    assert _one(bars, Direction.SHORT, stop=105.0, target=90.0) == (0, "stop", 1, 105.0, -1.0)
    bars = _bars(SIGNAL_BAR, (107, 108, 103, 104))
    assert _one(bars, Direction.SHORT, stop=105.0, target=90.0) == (0, "stop", 1, 107.0, -1.4)


def test_levels_on_the_wrong_side_and_flat_signals_are_refused():
    bars = _bars(SIGNAL_BAR, (100, 104, 99, 103))
    with pytest.raises(ConfigError, match="wrong side"):
        _one(bars, stop=101.0)
    with pytest.raises(ConfigError, match="FLAT"):
        triple_barrier(bars, [Signal("t", "X", "m", "1h", 0, Direction.FLAT)], [0])
    with pytest.raises(ConfigError, match="horizon"):
        _one(bars, horizon=0)


def _reference(bars, signal, row, horizon):
    """The exit rules written as a plain loop over bars."""
    long = signal.direction == Direction.LONG
    limit = signal.max_bars or horizon
    for j in range(row + 1, min(row + limit, len(bars) - 1) + 1):
        o, h, lo = bars.open[j], bars.high[j], bars.low[j]
        if long:
            if lo <= signal.stop:
                return 0, j, min(o, signal.stop)
            if h >= signal.target:
                return 1, j, max(o, signal.target)
        else:
            if h >= signal.stop:
                return 0, j, max(o, signal.stop)
            if lo <= signal.target:
                return 1, j, min(o, signal.target)
        if j == row + limit:
            return 0, j, bars.close[j]
    return None


def test_labels_equal_a_plain_bar_loop_on_real_data(shared_data):
    bars = load_dataset(shared_data, "lean/coinbase/minute/btcusd").bars
    rng = np.random.default_rng(4)
    rows = np.sort(rng.choice(len(bars) - 1, size=400, replace=False))
    signals = []
    for row in rows.tolist():
        close = float(bars.close[row])
        width = float(rng.uniform(0.001, 0.01))
        long = bool(rng.random() < 0.5)
        stop, target = (close * (1 - width), close * (1 + 2 * width)) if long else \
            (close * (1 + width), close * (1 - 2 * width))
        direction = Direction.LONG if long else Direction.SHORT
        signals.append(Signal("t", "X", "m", "1m", int(bars.time[row]), direction,
                              entry=close, stop=stop, target=target,
                              max_bars=None if rng.random() < 0.5 else int(rng.integers(1, 60))))
    labels = triple_barrier(bars, signals, rows, horizon=30)
    compared = 0
    for k, (signal, row) in enumerate(zip(signals, rows.tolist(), strict=True)):
        expected = _reference(bars, signal, row, 30)
        if expected is None:
            assert not labels.known[k]
            continue
        compared += 1
        assert (int(labels.label[k]), int(labels.exit_row[k]), float(labels.exit_price[k])) == expected
    assert compared > 350
