"""Evaluation metrics against scikit-learn's (an independent reference)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score

from alphapulse_tools.ml.evaluate import brier, reliability, roc_auc
from alphapulse_tools.ml.model import fit_platt


@pytest.mark.parametrize("seed", range(5))
def test_auc_and_brier_equal_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(500) < 0.3
    p = np.round(np.clip(0.3 + 0.2 * y + rng.normal(0, 0.2, 500), 0, 1), 2)  # rounding makes ties
    assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert brier(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)


def test_auc_undefined_for_one_class():
    assert np.isnan(roc_auc(np.ones(5), np.linspace(0, 1, 5)))


def test_reliability_curve_equals_scikit_learn_uniform_bins():
    rng = np.random.default_rng(3)
    p = rng.random(2000)
    y = rng.random(2000) < p
    curve = reliability(y, p, bins=10)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    assert [b["observed"] for b in curve] == pytest.approx(list(observed))
    assert [b["predicted"] for b in curve] == pytest.approx(list(predicted))
    assert sum(b["count"] for b in curve) == 2000


def test_platt_scaling_recovers_a_known_distortion():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(8)
    true = rng.uniform(0.05, 0.95, 5000)
    y = (rng.random(5000) < true).astype(float)
    logit = np.log(true / (1 - true))
    raw = 1 / (1 + np.exp(-(logit / 2.0 + 0.5)))  # a distorted forecast
    calibration = fit_platt(raw, y)
    reference = LogisticRegression(C=1e6).fit(np.log(raw / (1 - raw))[:, None], y)
    assert calibration.a == pytest.approx(reference.coef_[0][0], rel=1e-3)
    assert calibration.b == pytest.approx(reference.intercept_[0], abs=1e-2)
    assert brier(y, calibration.apply(raw)) < brier(y, raw)
