"""Purged walk-forward splits with an embargo (López de Prado's purging, applied to walk-forward).

Each sample is a signal with a label window ``[entry, exit]`` (inclusive; bar rows of one symbol,
or bar start times in ns, which also order samples pooled from several symbols): its label is
decided by the bars inside it. ``embargo`` is in the same unit. Samples are ordered by entry and
split into ``folds + 1`` contiguous blocks of equal count; each block but the first is a test fold once.
A test fold's span is ``[first entry, last exit]`` of its samples. For each fold:

* **purge**: a sample whose label window overlaps the test span is never trained on;
* **embargo** (``embargo`` bars on both sides of the span): samples whose label window ends within
  ``embargo`` bars before the span starts, or that enter within ``embargo`` bars after it ends,
  are dropped too. Features look back (indicator windows, the recent-returns window), so samples
  right next to a test span share information with it; the embargo keeps them out;
* **walk-forward** (the default): only samples before the test span train, so the model never
  sees the future. With ``walk_forward=False`` samples after the span train too (purged k-fold);
  the embargo after the span is what protects that variant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alphapulse.errors import ConfigError


@dataclass(frozen=True)
class Fold:
    """One test fold: sample indices to train and test on, and the test span (in the windows' unit)."""

    number: int
    train: np.ndarray
    test: np.ndarray
    test_start: int
    test_end: int


def purged_walk_forward(entry_rows: np.ndarray, exit_rows: np.ndarray, *, folds: int = 4,
                        embargo: int = 0, min_train: int = 50, walk_forward: bool = True) -> list[Fold]:
    """Purged walk-forward folds over samples with label windows ``[entry_rows, exit_rows]``
    (any integer time unit; ``Fold.test_start``/``test_end`` are in it too).

    The samples are split by entry order into ``folds + 1`` blocks of equal count: the first block
    only trains, each later block is tested once. ``min_train`` is the fewest training samples a fold
    needs (raises :class:`ConfigError` when the data are too few).
    """
    entry = np.asarray(entry_rows, dtype=np.int64)
    exit_ = np.asarray(exit_rows, dtype=np.int64)
    if entry.shape != exit_.shape or (exit_ < entry).any():
        raise ConfigError("walk-forward: every label window needs exit_row >= entry_row")
    if folds < 1 or embargo < 0:
        raise ConfigError(f"walk-forward: folds ({folds}) must be >= 1 and embargo ({embargo}) >= 0")
    if len(entry) > 1 and (np.diff(entry) < 0).any():
        raise ConfigError("walk-forward: samples must be in entry order")
    n = len(entry)
    edges = np.linspace(0, n, folds + 2).round().astype(np.int64)
    result: list[Fold] = []
    for k in range(1, folds + 1):
        test = np.arange(edges[k], edges[k + 1])
        if not len(test):
            raise ConfigError(f"walk-forward: {n} samples are too few for {folds} folds")
        start, end = int(entry[test].min()), int(exit_[test].max())
        keep = entry < start if walk_forward else np.ones(n, dtype=bool)
        keep[test] = False
        keep &= ~((exit_ >= start - embargo) & (entry <= end + embargo))
        train = np.flatnonzero(keep)
        if len(train) < min_train:
            raise ConfigError(f"walk-forward fold {k}: only {len(train)} training samples "
                              f"(need {min_train}); "
                              "use a longer history, fewer folds or a strategy with more signals")
        result.append(Fold(k, train, test, start, end))
    return result


def purge_split(entry_rows: np.ndarray, exit_rows: np.ndarray,
                fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Split training samples into (fit, holdout): the holdout is the latest ``fraction`` of them;
    fit samples whose label window reaches into the holdout's span are purged."""
    entry = np.asarray(entry_rows, dtype=np.int64)
    exit_ = np.asarray(exit_rows, dtype=np.int64)
    n = len(entry)
    cut = n - max(1, round(n * fraction))
    holdout = np.arange(cut, n)
    start = int(entry[holdout].min())
    fit = np.flatnonzero((np.arange(n) < cut) & (exit_ < start))
    return fit, holdout
