"""The optional model factor: a trained meta-labelling model's probability that a signal reaches
its target before its stop.

A saved model is two files: ``model.keras`` (Keras 3 format, loadable by TensorFlow 2.19+/Keras
3.10+, the versions in Lean's image; feature normalisation is inside the model) and ``model.json``
(:class:`ModelMetadata`: the feature schema version and specification, the probability calibration,
the decision threshold and the training ranges).

TensorFlow/Keras is imported only when a model is loaded, never by importing this module, so the
core stays usable without the ``ml`` extra. A model whose feature schema or feature list differs
from this core's raises :class:`~alphapulse.errors.ConfigError` at load, never a silent wrong
prediction.

In Lean, store both files in the ObjectStore and load them with the paths it gives::

    factor = ModelFactor.from_object_store(self.object_store.get_file_path("alphapulse/btc/model.keras"),
                                           self.object_store.get_file_path("alphapulse/btc/model.json"))
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alphapulse.bars import Bar, Bars
from alphapulse.errors import ConfigError
from alphapulse.features import FEATURE_SCHEMA, FeatureSpec, FeatureStream, signal_features
from alphapulse.journal import Signal

MODEL_SCHEMA = "alphapulse.model/1"
MODEL_FILE = "model.keras"
METADATA_FILE = "model.json"
CALIBRATION_METHODS = ("none", "platt")


@dataclass(frozen=True)
class Calibration:
    """Maps the network's raw probability p to a calibrated one.

    ``platt``: sigmoid(a * logit(p) + b), fitted on a held-out, later part of the training window;
    ``none``: p unchanged.
    """

    method: str = "none"
    a: float = 1.0
    b: float = 0.0

    def __post_init__(self) -> None:
        if self.method not in CALIBRATION_METHODS:
            raise ConfigError(f"model.calibration.method: {self.method!r} is not one of "
                              f"{CALIBRATION_METHODS}")
        if not (math.isfinite(self.a) and math.isfinite(self.b)):
            raise ConfigError("model.calibration: a and b must be finite numbers")

    def apply(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)
        if self.method == "none":
            return raw
        p = np.clip(raw, 1e-7, 1 - 1e-7)
        return _sigmoid(self.a * np.log(p / (1 - p)) + self.b)


@dataclass(frozen=True)
class ModelMetadata:
    """What a saved model was trained on and how its output is read (``model.json``)."""

    features: FeatureSpec
    calibration: Calibration = field(default_factory=Calibration)
    threshold: float = 0.5
    strategy: str = ""
    symbol: str = ""
    market: str = ""
    interval: str = ""
    horizon: int = 48
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"model.threshold: {self.threshold!r} must be in (0, 1)")

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.features.names()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": MODEL_SCHEMA,
            "feature_schema": FEATURE_SCHEMA,
            "features": self.features.to_dict(),
            "feature_names": list(self.feature_names),
            "calibration": {"method": self.calibration.method, "a": self.calibration.a,
                            "b": self.calibration.b},
            "threshold": self.threshold,
            "strategy": self.strategy,
            "symbol": self.symbol,
            "market": self.market,
            "interval": self.interval,
            "horizon": self.horizon,
            "training": self.training,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "model.json") -> ModelMetadata:
        """Validate and read metadata; a schema or feature mismatch raises :class:`ConfigError`."""
        if data.get("schema") != MODEL_SCHEMA:
            raise ConfigError(f"{where}: schema {data.get('schema')!r} is not {MODEL_SCHEMA!r}; "
                              "this file is not an AlphaPulse model description")
        if data.get("feature_schema") != FEATURE_SCHEMA:
            raise ConfigError(f"{where}: the model was trained on features {data.get('feature_schema')!r} "
                              f"but this AlphaPulse computes {FEATURE_SCHEMA!r}; retrain it with "
                              "`alphapulse ml train`")
        try:
            spec = FeatureSpec.from_dict(dict(data["features"]))
            calibration = Calibration(**dict(data.get("calibration") or {}))
            metadata = cls(
                features=spec, calibration=calibration, threshold=float(data.get("threshold", 0.5)),
                strategy=str(data.get("strategy", "")), symbol=str(data.get("symbol", "")),
                market=str(data.get("market", "")), interval=str(data.get("interval", "")),
                horizon=int(data.get("horizon", 48)), training=dict(data.get("training") or {}),
            )
        except KeyError as exc:
            raise ConfigError(f"{where}: missing key {exc.args[0]!r}") from None
        except TypeError as exc:
            raise ConfigError(f"{where}: malformed value ({exc})") from None
        names = list(data.get("feature_names") or [])
        if names != list(metadata.feature_names):
            raise ConfigError(f"{where}: the model's feature list ({len(names)} features) differs from "
                              f"the {len(metadata.feature_names)} this AlphaPulse computes for that "
                              "specification; retrain it with `alphapulse ml train`")
        return metadata

    @classmethod
    def read(cls, path: str | Path) -> ModelMetadata:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such model metadata file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path}: unreadable model metadata ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: model metadata must be a JSON object")
        return cls.from_dict(data, where=str(path))

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


class ModelFactor:
    """A loaded model as a signal factor: ``probabilities`` (batch) and ``stream()`` (bar by bar).

    Probabilities are calibrated, in [0, 1]; a signal whose features are undefined (warm-up, no
    stop/target) gets NaN.
    """

    name = "model"

    def __init__(self, model: Any, metadata: ModelMetadata, *, weight: float = 1.0) -> None:
        if not (math.isfinite(weight) and weight >= 0):
            raise ConfigError(f"model weight {weight!r} must be a finite number >= 0")
        self.model = model
        self.metadata = metadata
        self.weight = weight
        self._chain: list[Callable[[np.ndarray], np.ndarray]] | None = None
        expected = len(metadata.feature_names)
        shape = getattr(model, "input_shape", None)
        width = shape[-1] if isinstance(shape, tuple) and shape else None
        if width is not None and width != expected:
            raise ConfigError(f"model expects {width} features but its metadata lists {expected}; the two "
                              "files do not belong together")

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: str | Path, *, weight: float = 1.0) -> ModelFactor:
        """Load ``model.keras`` and ``model.json`` from a model directory."""
        directory = Path(directory)
        return cls.from_files(directory / MODEL_FILE, directory / METADATA_FILE, weight=weight)

    @classmethod
    def from_files(cls, model_path: str | Path, metadata_path: str | Path, *,
                   weight: float = 1.0) -> ModelFactor:
        """Load a model from its two files (metadata first, so a mismatch fails before TensorFlow loads)."""
        metadata = ModelMetadata.read(metadata_path)
        return cls(_load_keras(Path(model_path)), metadata, weight=weight)

    @classmethod
    def from_object_store(cls, model_file_path: str, metadata_file_path: str, *,
                          weight: float = 1.0) -> ModelFactor:
        """Load from the local paths Lean's ``object_store.get_file_path(key)`` returns for the two keys."""
        return cls.from_files(model_file_path, metadata_file_path, weight=weight)

    # -- prediction ----------------------------------------------------------------------------
    def raw(self, x: np.ndarray) -> np.ndarray:
        """The network's uncalibrated output for finite feature rows.

        A plain chain of Normalization, Dense and Dropout layers (what ``alphapulse ml train``
        builds) is evaluated here in float64 numpy, row by row identical whatever the batch size, so
        the batch and the streaming forms agree exactly; other networks go through Keras one row at
        a time (slower, equally batch-independent).
        """
        if self._chain is None:
            self._chain = _numpy_chain(self.model) or []
        if self._chain:
            out = np.empty(len(x))
            for i, row in enumerate(np.asarray(x, dtype=np.float64)):
                # one row at a time: the same arithmetic (and rounding) whatever the batch
                for step in self._chain:
                    row = step(row)
                out[i] = row[0]
            return out
        rows = [np.asarray(self.model(x[i:i + 1].astype(np.float32), training=False)).reshape(-1)[0]
                for i in range(len(x))]
        return np.asarray(rows, dtype=np.float64)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for a feature matrix (NaN rows give NaN)."""
        x = np.asarray(features, dtype=np.float64)
        out = np.full(len(x), np.nan)
        usable = np.isfinite(x).all(axis=1) if x.size else np.zeros(len(x), dtype=bool)
        if usable.any():
            out[usable] = self.metadata.calibration.apply(self.raw(x[usable]))
        return out

    def probabilities(self, bars: Bars, signals: Sequence[Signal],
                      rows: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Probability that each signal reaches its target first (features from bars up to its bar)."""
        return self.predict(signal_features(bars, signals, self.metadata.features, rows))

    def stream(self, *, period: int = 0, symbol: str = "") -> ModelFactorStream:
        return ModelFactorStream(self, period=period, symbol=symbol)


class ModelFactorStream:
    """Streaming form: feed every closed bar, ask for a signal's probability on the last one."""

    def __init__(self, factor: ModelFactor, *, period: int = 0, symbol: str = "") -> None:
        self.factor = factor
        self._features = FeatureStream(factor.metadata.features, period=period, symbol=symbol)

    def update(self, bar: Bar) -> bool:
        return self._features.update(bar)

    @property
    def is_ready(self) -> bool:
        return self._features.is_ready

    def probability(self, signal: Signal) -> float:
        return float(self.factor.predict(self._features.features(signal)[None, :])[0])


def _sigmoid(v: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # exp overflows to inf for v << 0: the result is then exactly 0
        return 1.0 / (1.0 + np.exp(-v))


_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda v: v,
    "relu": lambda v: np.maximum(v, 0.0),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
}


def _numpy_chain(model: Any) -> list[Callable[[np.ndarray], np.ndarray]] | None:
    """The network as numpy steps when it is a chain of known layers, else None."""
    steps: list[Callable[[np.ndarray], np.ndarray]] = []
    layers = list(getattr(model, "layers", []))
    for layer in layers:
        kind = type(layer).__name__
        if kind in ("InputLayer", "Dropout"):
            continue
        if kind == "Normalization":
            mean = np.asarray(layer.mean, dtype=np.float64).reshape(-1)
            spread = np.maximum(np.sqrt(np.asarray(layer.variance, dtype=np.float64).reshape(-1)), 1e-7)
            steps.append(lambda v, m=mean, s=spread: (v - m) / s)
        elif kind == "Dense":
            kernel, *bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
            activation = _ACTIVATIONS.get(getattr(layer.activation, "__name__", ""))
            if activation is None:
                return None
            offset = bias[0] if bias else np.zeros(kernel.shape[1])
            steps.append(lambda v, k=kernel, b=offset, f=activation: f(v @ k + b))
        else:
            return None
    inbound = [len(getattr(layer, "_inbound_nodes", []) or [None]) for layer in layers]
    if not steps or any(count != 1 for count in inbound):
        return None
    return steps


def _load_keras(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"{path}: no such model file; train one with `alphapulse ml train --out DIR`")
    try:
        import keras
    except ImportError:
        raise ConfigError("a model is configured but TensorFlow is not installed: "
                          "pip install 'alphapulse[ml]'") from None
    if path.suffix != ".keras":
        # the ObjectStore's file paths carry no extension; Keras needs one to pick the format
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / MODEL_FILE
            shutil.copyfile(path, copy)
            return _read_keras(keras, copy)
    return _read_keras(keras, path)


def _read_keras(keras: Any, path: Path) -> Any:
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors...
        raise ConfigError(f"{path}: not a loadable Keras model ({type(exc).__name__}: {exc})") from exc
