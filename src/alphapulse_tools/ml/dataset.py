"""The meta-labelling data set: one row per entry signal - features at its bar, triple-barrier label."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from alphapulse.bars import Bars
from alphapulse.errors import NoDataError
from alphapulse.features import FeatureSpec, finite_rows, signal_features
from alphapulse.journal import Direction, Signal

from alphapulse_tools.ml.labels import Labels, triple_barrier


@dataclass(frozen=True)
class Dataset:
    """Usable samples in entry order: ``x`` features, ``y`` labels (1 = target first), their
    ``labels`` (label windows, exits, R multiples) and the ``signals`` they come from."""

    bars: Bars
    signals: tuple[Signal, ...]
    x: np.ndarray
    y: np.ndarray
    labels: Labels
    spec: FeatureSpec
    dropped: int
    #: the strategy's FLAT (exit) signals, in time order; the backtests execute them too
    exits: tuple[Signal, ...] = ()

    def __len__(self) -> int:
        return len(self.y)

    @property
    def entry_rows(self) -> np.ndarray:
        return self.labels.entry_row

    @property
    def exit_rows(self) -> np.ndarray:
        return self.labels.exit_row


def build_dataset(bars: Bars, signals: Sequence[Signal], spec: FeatureSpec, *, horizon: int = 48) -> Dataset:
    """Features and labels for the LONG/SHORT signals with stop and target.

    Signals in the features' warm-up and those whose trade is still open at the end of the data are
    dropped (counted in ``dropped``). Raises :class:`NoDataError` when no entry signal is given.
    """
    entries = [s for s in signals if s.direction != Direction.FLAT and s.entry is not None
               and s.stop is not None and s.target is not None]
    if not entries:
        raise NoDataError(f"{bars.symbol or 'bars'}: the strategy gave no entry signals with a stop and a "
                          "target in this range; use a longer range or another strategy")
    entries.sort(key=lambda s: s.time)
    rows = np.searchsorted(bars.time, np.array([s.time for s in entries], dtype=np.int64))
    features = signal_features(bars, entries, spec, rows)
    labels = triple_barrier(bars, entries, rows, horizon=horizon)
    keep = finite_rows(features) & labels.known
    kept = np.flatnonzero(keep)
    subset = Labels(*(getattr(labels, name)[kept] for name in
                      ("label", "entry_row", "exit_row", "exit_price", "kind", "r_multiple")))
    exits = tuple(sorted((s for s in signals if s.direction == Direction.FLAT), key=lambda s: s.time))
    return Dataset(bars, tuple(entries[i] for i in kept), features[kept], subset.label.astype(np.int64),
                   subset, spec, dropped=len(entries) - len(kept), exits=exits)
