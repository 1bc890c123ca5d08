"""The meta-labelling data set: one row per entry signal - features at its bar, triple-barrier label.

A data set may pool several symbols (:func:`pool`): samples are then ordered by entry time across
symbols, and every time-based split (walk-forward, purge, embargo) uses the label windows in time
(``entry_time`` .. ``exit_time``, bar start times in ns), so no symbol's training window can
overlap another symbol's test period either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alphapulse.bars import Bars
from alphapulse.errors import ConfigError, NoDataError
from alphapulse.features import FeatureSpec, finite_rows, signal_features
from alphapulse.journal import Direction, Signal
from alphapulse_tools.ml.labels import Labels, triple_barrier

_LABEL_FIELDS = ("label", "entry_row", "exit_row", "exit_price", "kind", "r_multiple")


@dataclass(frozen=True)
class Dataset:
    """Usable samples in entry-time order: ``x`` features, ``y`` labels (1 = target first), their
    ``labels`` (label windows as rows of their own bars, exits, R multiples), the ``signals`` they
    come from, and for each sample its ``source`` (index into ``sources``, one Bars per symbol)."""

    sources: tuple[Bars, ...]
    source: np.ndarray
    signals: tuple[Signal, ...]
    x: np.ndarray
    y: np.ndarray
    labels: Labels
    spec: FeatureSpec
    dropped: int
    #: per source, the strategy's FLAT (exit) signals in time order; the backtests execute them too
    exits: tuple[tuple[Signal, ...], ...] = ()

    def __len__(self) -> int:
        return len(self.y)

    @property
    def bars(self) -> Bars:
        """The bars of a single-symbol data set."""
        if len(self.sources) != 1:
            raise ConfigError(f"this data set pools {len(self.sources)} symbols; use .sources")
        return self.sources[0]

    @property
    def entry_rows(self) -> np.ndarray:
        return self.labels.entry_row

    @property
    def exit_rows(self) -> np.ndarray:
        return self.labels.exit_row

    @property
    def entry_time(self) -> np.ndarray:
        """Start time (ns) of each sample's signal bar."""
        return self._times(self.labels.entry_row)

    @property
    def exit_time(self) -> np.ndarray:
        """Start time (ns) of each sample's last label bar (its exit bar)."""
        return self._times(self.labels.exit_row)

    def _times(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty(len(rows), dtype=np.int64)
        for k, bars in enumerate(self.sources):
            mine = self.source == k
            out[mine] = bars.time[rows[mine]]
        return out

    def bar_period_ns(self) -> int:
        """The bar length in ns (the largest of the sources'; from the median spacing when unknown)."""
        periods = [b.period * 1_000_000_000 if b.period else int(np.median(np.diff(b.time))) if len(b) > 1 else 0
                   for b in self.sources]
        return max(periods) if periods else 0


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
    kept = np.flatnonzero(finite_rows(features) & labels.known)
    subset = Labels(*(getattr(labels, name)[kept] for name in _LABEL_FIELDS))
    exits = tuple(sorted((s for s in signals if s.direction == Direction.FLAT), key=lambda s: s.time))
    return Dataset((bars,), np.zeros(len(kept), dtype=np.int64), tuple(entries[i] for i in kept),
                   features[kept], subset.label.astype(np.int64), subset, spec,
                   dropped=len(entries) - len(kept), exits=(exits,))


def pool(datasets: Sequence[Dataset]) -> Dataset:
    """One data set from several symbols' (same feature specification), in entry-time order."""
    if not datasets:
        raise ConfigError("pool: no data sets given")
    spec = datasets[0].spec
    if any(d.spec != spec for d in datasets):
        raise ConfigError("pool: the data sets were built with different feature specifications")
    sources: list[Bars] = []
    exits: list[tuple[Signal, ...]] = []
    source_parts = []
    for d in datasets:
        source_parts.append(d.source + len(sources))
        sources.extend(d.sources)
        exits.extend(d.exits)
    source = np.concatenate(source_parts)
    signals = [s for d in datasets for s in d.signals]
    x = np.concatenate([d.x for d in datasets])
    y = np.concatenate([d.y for d in datasets])
    labels = Labels(*(np.concatenate([getattr(d.labels, name) for d in datasets]) for name in _LABEL_FIELDS))
    merged = Dataset(tuple(sources), source, tuple(signals), x, y, labels, spec,
                     dropped=sum(d.dropped for d in datasets), exits=tuple(exits))
    order = np.argsort(merged.entry_time, kind="stable")
    return Dataset(merged.sources, source[order], tuple(signals[i] for i in order), x[order], y[order],
                   Labels(*(getattr(labels, name)[order] for name in _LABEL_FIELDS)), spec,
                   dropped=merged.dropped, exits=merged.exits)
