"""Fixtures of the meta-labelling tests: TensorFlow (part of the test install) and the planted data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import missing


@pytest.fixture(scope="session")
def keras_ready() -> None:
    """TensorFlow/Keras importable (the ``ml`` extra); fails in CI, skips elsewhere when absent."""
    try:
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
    except ImportError:
        missing("TensorFlow is not installed (pip install -e '.[ml]')")


@pytest.fixture(scope="session")
def planted_model_folder(keras_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model trained on planted synthetic signals and saved (``model.keras`` + ``model.json``)."""
    from alphapulse.config import ContractConfig
    from alphapulse.features import FeatureSpec
    from alphapulse.model_factor import ModelMetadata
    from alphapulse_tools.ml.dataset import build_dataset
    from alphapulse_tools.ml.model import TrainingSettings, train
    from tests.ml.synthetic import planted

    spec = FeatureSpec(patterns=tuple(ContractConfig.defaults("SPY").patterns))
    bars, signals = planted(n_bars=6000)
    data = build_dataset(bars, signals, spec, horizon=8)
    model = train(data.x, data.y, data.entry_rows, data.exit_rows, ModelMetadata(spec, horizon=8),
                  TrainingSettings(epochs=5))
    return Path(model.save(tmp_path_factory.mktemp("model") / "m"))
