"""Fixtures of the meta-labelling tests: TensorFlow (part of the test install) and the planted data."""

from __future__ import annotations

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
