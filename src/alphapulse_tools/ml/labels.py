"""Triple-barrier labels: did a signal reach its target before its stop and before its time limit?

The exits are the runner's (see :mod:`alphapulse.strategies.base`): entry at the signal bar's close;
stop and target evaluated from the next bar on against its open, high and low; an open beyond a
level fills at the open; when the stop and the target both lie inside one bar the stop is taken;
the time barrier closes the trade at the close of the ``max_bars``-th bar after entry
(``signal.max_bars``, or ``horizon`` when the signal has none).

Label 1 = the target was reached first; 0 = the stop or the time barrier came first. A signal whose
trade is still open at the end of the data has no label (``kind == "open"``) and is left out of
training and evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alphapulse.bars import Bars
from alphapulse.errors import ConfigError
from alphapulse.journal import Direction, Signal

#: exit kinds, in the order of their integer codes
EXIT_KINDS = ("target", "stop", "time", "open")
TARGET, STOP, TIME, OPEN = range(4)


@dataclass(frozen=True)
class Labels:
    """Outcome of each signal (arrays aligned with the signals).

    ``entry_row``/``exit_row`` are bar indices (the exit row is the last bar of the label window),
    ``kind`` an index into :data:`EXIT_KINDS`, ``r_multiple`` the trade's result in units of its
    initial risk |entry - stop|, before fees.
    """

    label: np.ndarray
    entry_row: np.ndarray
    exit_row: np.ndarray
    exit_price: np.ndarray
    kind: np.ndarray
    r_multiple: np.ndarray

    @property
    def known(self) -> np.ndarray:
        """True where the trade closed inside the data (the label is defined)."""
        return self.kind != OPEN

    def __len__(self) -> int:
        return len(self.label)


def triple_barrier(bars: Bars, signals: Sequence[Signal], rows: Sequence[int] | np.ndarray,
                   *, horizon: int = 48) -> Labels:
    """Label LONG/SHORT ``signals`` (on ``bars`` at bar indices ``rows``) by the triple barrier.

    ``horizon`` is the time barrier in bars for signals without ``max_bars``. Raises
    :class:`ConfigError` for a FLAT signal or one without a stop or target, or for levels on the
    wrong side of the entry.
    """
    if horizon < 1:
        raise ConfigError(f"horizon: {horizon} must be at least 1 bar")
    n = len(signals)
    entry_rows = np.asarray(rows, dtype=np.int64)
    label = np.zeros(n, dtype=np.int8)
    exit_row = np.zeros(n, dtype=np.int64)
    exit_price = np.zeros(n)
    kind = np.zeros(n, dtype=np.int8)
    r_multiple = np.zeros(n)
    o, h, lo, c = bars.open, bars.high, bars.low, bars.close
    last = len(bars) - 1
    for j, (signal, row) in enumerate(zip(signals, entry_rows.tolist(), strict=True)):
        entry, stop, target = _levels(signal)
        long = signal.direction == Direction.LONG
        limit = signal.max_bars if signal.max_bars is not None else horizon
        end = min(row + limit, last)
        span = slice(row + 1, end + 1)
        if long:
            stop_hit = lo[span] <= stop
            target_hit = h[span] >= target
        else:
            stop_hit = h[span] >= stop
            target_hit = lo[span] <= target
        hit = stop_hit | target_hit
        if hit.any():
            k = int(np.argmax(hit))
            at = row + 1 + k
            opening = o[at]
            if stop_hit[k]:
                gapped = opening <= stop if long else opening >= stop
                price, code = (opening if gapped else stop), STOP
            else:
                gapped = opening >= target if long else opening <= target
                price, code = (opening if gapped else target), TARGET
        elif row + limit <= last:
            at, price, code = row + limit, c[row + limit], TIME
        else:
            at, price, code = last, c[last], OPEN
        risk = abs(entry - stop)
        label[j] = 1 if code == TARGET else 0
        exit_row[j] = at
        exit_price[j] = price
        kind[j] = code
        r_multiple[j] = ((price - entry) if long else (entry - price)) / risk
    return Labels(label, entry_rows, exit_row, exit_price, kind, r_multiple)


def _levels(signal: Signal) -> tuple[float, float, float]:
    if signal.direction == Direction.FLAT:
        raise ConfigError(f"signal {signal.id}: a FLAT signal has no barriers to label")
    if signal.entry is None or signal.stop is None or signal.target is None:
        raise ConfigError(f"signal {signal.id}: entry, stop and target are needed for a triple-barrier label")
    entry, stop, target = signal.entry, signal.stop, signal.target
    long = signal.direction == Direction.LONG
    if (long and not stop < entry < target) or (not long and not target < entry < stop):
        raise ConfigError(f"signal {signal.id}: levels stop={stop}, entry={entry}, target={target} are on "
                          f"the wrong side for a {signal.direction.label} trade")
    return entry, stop, target


def fee_in_r(signals: Sequence[Signal], exit_price: np.ndarray, fee_rate: float) -> np.ndarray:
    """Round-trip fees (``fee_rate`` of traded value per side) in units of each trade's risk."""
    out = np.zeros(len(signals))
    for j, signal in enumerate(signals):
        entry, stop, _ = _levels(signal)
        out[j] = fee_rate * (entry + float(exit_price[j])) / abs(entry - stop)
    return out
