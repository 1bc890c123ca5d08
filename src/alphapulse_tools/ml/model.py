"""The meta-labelling network: a small Keras classifier, trained deterministically, then calibrated.

Architecture: Normalization (mean and variance of the training rows; constant features are only
centred) -> Dense(hidden, relu, L2) -> Dropout ->
Dense(1, sigmoid). Classes are weighted by inverse frequency, so a rare "target first" outcome is not
ignored; the weighting distorts probabilities, which is why the output is then calibrated (Platt
scaling) on the latest ``calibration_fraction`` of the training window - never on test data.

TensorFlow is imported inside the functions here, so importing this module is cheap.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alphapulse.errors import ConfigError
from alphapulse.model_factor import METADATA_FILE, MODEL_FILE, Calibration, ModelFactor, ModelMetadata
from alphapulse_tools.ml.walkforward import purge_split


@dataclass(frozen=True)
class TrainingSettings:
    """Hyper-parameters (fixed, not tuned on test data). ``seed`` makes training reproducible."""

    hidden: int = 16
    dropout: float = 0.1
    l2: float = 1e-3
    learning_rate: float = 3e-3
    epochs: int = 40
    batch_size: int = 64
    calibration: str = "platt"
    calibration_fraction: float = 0.25
    seed: int = 7

    def __post_init__(self) -> None:
        if self.calibration not in ("none", "platt"):
            raise ConfigError(f"calibration: {self.calibration!r} is not one of none, platt")
        if not 0.0 <= self.calibration_fraction < 0.8:
            raise ConfigError(f"calibration_fraction: {self.calibration_fraction} must be in [0, 0.8)")
        if self.hidden < 1 or self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("hidden, epochs and batch_size must be positive")


def deterministic(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, force deterministic ops and one thread (call before training)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # TensorFlow's runtime is already initialised in this process; threads stay as set then


def build_network(n_features: int, settings: TrainingSettings, fit_rows: np.ndarray) -> Any:
    """The uncompiled-weights network, its Normalization layer adapted on ``fit_rows``."""
    import keras

    rows = np.asarray(fit_rows, dtype=np.float64)
    mean = rows.mean(axis=0)
    variance = rows.var(axis=0)
    # a feature constant in training (e.g. reward:risk of a fixed-R strategy) is centred, not scaled:
    # dividing by a near-zero spread would blow up any other value met later
    variance[variance < 1e-10] = 1.0
    norm = keras.layers.Normalization(axis=-1, mean=mean.astype(np.float32), variance=variance.astype(np.float32),
                                      name="normalise")
    inputs = keras.Input(shape=(n_features,), name="features")
    x = norm(inputs)
    x = keras.layers.Dense(settings.hidden, activation="relu", name="hidden",
                           kernel_regularizer=keras.regularizers.L2(settings.l2))(x)
    x = keras.layers.Dropout(settings.dropout, seed=settings.seed, name="dropout")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="probability")(x)
    return keras.Model(inputs, outputs, name="alphapulse_meta_label")


def fit_network(x: np.ndarray, y: np.ndarray, settings: TrainingSettings) -> Any:
    """Train a fresh network on (x, y) with inverse-frequency class weights."""
    import keras

    deterministic(settings.seed)
    model = build_network(x.shape[1], settings, x)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate), loss="binary_crossentropy")
    positives = float(y.mean()) if len(y) else 0.0
    weights = None
    if 0.0 < positives < 1.0:
        weights = {0: 0.5 / (1.0 - positives), 1: 0.5 / positives}
    model.fit(x.astype(np.float32), y.astype(np.float32), epochs=settings.epochs,
              batch_size=settings.batch_size, class_weight=weights, shuffle=True, verbose=0)
    return model


def fit_platt(raw: np.ndarray, y: np.ndarray, iterations: int = 50) -> Calibration:
    """Platt scaling: logistic regression of y on logit(raw) by Newton's method (lightly regularised)."""
    p = np.clip(np.asarray(raw, dtype=np.float64), 1e-7, 1 - 1e-7)
    z = np.log(p / (1 - p))
    design = np.column_stack([z, np.ones_like(z)])
    theta = np.array([1.0, 0.0])
    ridge = 1e-3 * np.eye(2)
    for _ in range(iterations):
        with np.errstate(over="ignore"):
            q = 1.0 / (1.0 + np.exp(-design @ theta))
        gradient = design.T @ (q - y) + ridge @ (theta - np.array([1.0, 0.0]))
        hessian = design.T @ (design * (q * (1 - q))[:, None]) + ridge
        step = np.linalg.solve(hessian, gradient)
        theta = theta - step
        if np.abs(step).max() < 1e-10:
            break
    return Calibration("platt", float(theta[0]), float(theta[1]))


@dataclass
class TrainedModel:
    """A trained network plus its metadata; ``predict`` gives calibrated probabilities."""

    network: Any
    metadata: ModelMetadata

    def factor(self) -> ModelFactor:
        return ModelFactor(self.network, self.metadata)

    def predict(self, features: np.ndarray) -> np.ndarray:
        return self.factor().predict(features)

    def save(self, directory: str | Path) -> Path:
        """Write ``model.keras`` and ``model.json`` into ``directory`` (created). Both are written
        to a temporary folder beside it first, so a failure leaves no half-written model."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory.parent, prefix=f".{directory.name}-") as scratch:
            self.network.save(Path(scratch) / MODEL_FILE)
            self.metadata.write(Path(scratch) / METADATA_FILE)
            directory.mkdir(exist_ok=True)
            for name in (MODEL_FILE, METADATA_FILE):
                os.replace(Path(scratch) / name, directory / name)
        return directory


def train(x: np.ndarray, y: np.ndarray, entry_rows: np.ndarray, exit_rows: np.ndarray,
          metadata: ModelMetadata, settings: TrainingSettings | None = None) -> TrainedModel:
    """Train on samples in entry order; calibrate on the latest part of them (purged from the fit part).

    ``metadata`` describes the features and context; its calibration is replaced by the fitted one.
    """
    settings = settings or TrainingSettings()
    if len(x) != len(y) or len(x) != len(entry_rows):
        raise ConfigError("train: features, labels and label windows differ in length")
    if len(np.unique(y)) < 2:
        raise ConfigError(f"train: the {len(y)} training labels are all {int(y[0]) if len(y) else '-'}; "
                          "a model needs both outcomes (use a longer history)")
    calibration = Calibration()
    fit = np.arange(len(x))
    holdout = np.arange(0)
    if settings.calibration == "platt" and settings.calibration_fraction > 0:
        fit, holdout = purge_split(entry_rows, exit_rows, settings.calibration_fraction)
        if len(np.unique(y[fit])) < 2 or len(np.unique(y[holdout])) < 2:
            fit, holdout = np.arange(len(x)), np.arange(0)
    network = fit_network(x[fit], y[fit], settings)
    if len(holdout):
        raw = ModelFactor(network, metadata).raw(x[holdout])
        calibration = fit_platt(raw, y[holdout].astype(np.float64))
    done = ModelMetadata(
        features=metadata.features, calibration=calibration, threshold=metadata.threshold,
        strategy=metadata.strategy, symbol=metadata.symbol, market=metadata.market,
        interval=metadata.interval, horizon=metadata.horizon,
        training={**metadata.training, "samples": len(x), "fit_samples": len(fit),
                  "calibration_samples": len(holdout), "positive_rate": round(float(y.mean()), 6)},
    )
    return TrainedModel(network, done)
