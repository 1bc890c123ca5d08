"""Purged walk-forward: no training label window touches a test span; embargo; order."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphapulse.errors import ConfigError
from alphapulse_tools.ml.walkforward import purge_split, purged_walk_forward


@st.composite
def label_windows(draw):
    n = draw(st.integers(60, 300))
    gaps = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    lengths = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    entry = np.cumsum(gaps).astype(np.int64)
    return entry, entry + np.array(lengths, dtype=np.int64)


@settings(max_examples=60, deadline=None)
@given(label_windows(), st.integers(1, 5), st.integers(0, 30), st.booleans())
def test_no_training_label_window_overlaps_a_test_span_or_its_embargo(windows, folds, embargo, forward):
    entry, exit_ = windows
    try:
        result = purged_walk_forward(entry, exit_, folds=folds, embargo=embargo, min_train=1,
                                     walk_forward=forward)
    except ConfigError:
        return  # too few samples for these folds: refused, not silently split
    assert len(result) == folds
    tested = np.concatenate([f.test for f in result])
    assert np.array_equal(tested, np.arange(tested[0], len(entry)))  # the test folds tile the end
    for fold in result:
        assert fold.test_start == entry[fold.test].min() and fold.test_end == exit_[fold.test].max()
        train_entry, train_exit = entry[fold.train], exit_[fold.train]
        assert not np.intersect1d(fold.train, fold.test).size
        # purge: no overlap of [entry, exit] with the test span
        assert not ((train_exit >= fold.test_start) & (train_entry <= fold.test_end)).any()
        # embargo: nothing ends within `embargo` bars before the span or starts within `embargo` after it
        assert not ((train_exit < fold.test_start) & (train_exit >= fold.test_start - embargo)).any()
        assert not ((train_entry > fold.test_end) & (train_entry <= fold.test_end + embargo)).any()
        if forward:  # walk-forward: trained only on what came before the test span
            assert (train_exit < fold.test_start).all()
        else:  # purged k-fold: every sample not excluded above trains
            excluded = (train_exit >= fold.test_start - embargo) & (train_entry <= fold.test_end + embargo)
            assert not excluded.any()
            kept = len(fold.train) + len(fold.test)
            near = ((exit_ >= fold.test_start - embargo) & (entry <= fold.test_end + embargo)).sum()
            assert kept == len(entry) - near + len(fold.test)


def test_overlapping_windows_are_purged_in_a_small_case():
    entry = np.arange(0, 100, 10)
    exit_ = entry + 25  # each window reaches two samples ahead
    folds = purged_walk_forward(entry, exit_, folds=1, min_train=1)
    (fold,) = folds
    assert fold.test.tolist() == [5, 6, 7, 8, 9] and fold.test_start == 50
    assert fold.train.tolist() == [0, 1, 2]  # samples 3 (30..55) and 4 (40..65) reach into the test span


def test_embargo_drops_samples_next_to_the_test_span():
    entry = np.arange(0, 300, 10)
    exit_ = entry + 5
    first, _second = purged_walk_forward(entry, exit_, folds=2, embargo=20, min_train=1)
    assert (first.test_start, first.test_end) == (100, 195)
    # windows ending at 85 and 95 lie within 20 bars before the span; 75 does not
    assert first.train.tolist() == list(range(8))
    first, _ = purged_walk_forward(entry, exit_, folds=2, embargo=20, walk_forward=False, min_train=1)
    # purged k-fold: samples entering at 200 and 210 lie within 20 bars after the span, 220 does not
    assert first.train.tolist() == [*range(8), *range(22, 30)]


def test_too_few_samples_or_bad_arguments_are_clear_errors():
    entry = np.arange(20)
    with pytest.raises(ConfigError, match="training samples"):
        purged_walk_forward(entry, entry + 1, folds=4, min_train=50)
    with pytest.raises(ConfigError, match="exit_row >= entry_row"):
        purged_walk_forward(entry, entry - 1)
    with pytest.raises(ConfigError, match="entry order"):
        purged_walk_forward(entry[::-1], entry[::-1] + 1, min_train=1)


def test_calibration_holdout_is_the_latest_part_and_purged():
    entry = np.arange(0, 100, 10)
    fit, holdout = purge_split(entry, entry + 15, 0.3)
    assert holdout.tolist() == [7, 8, 9]
    assert fit.tolist() == [0, 1, 2, 3, 4, 5]  # sample 6 (60..75) reaches the holdout starting at 70
