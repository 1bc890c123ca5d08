"""The Keras meta-labelling model: learns a planted relationship out of sample, learns nothing from
shuffled labels, saves and loads exactly, refuses a mismatched feature schema, loads TF lazily."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from alphapulse.errors import ConfigError
from alphapulse.features import FeatureSpec
from alphapulse.model_factor import METADATA_FILE, MODEL_FILE, ModelFactor, ModelMetadata
from alphapulse_tools.ml.dataset import build_dataset, pool
from alphapulse_tools.ml.evaluate import walk_forward_evaluation
from alphapulse_tools.ml.model import TrainingSettings, train
from tests.ml.synthetic import planted

pytestmark = [pytest.mark.usefixtures("keras_ready"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]

SPEC = FeatureSpec(patterns=("CDLHAMMER", "CDLENGULFING"))
SETTINGS = TrainingSettings(epochs=20)
METADATA = ModelMetadata(SPEC, strategy="synthetic", symbol="SYNTH", market="test", interval="1h", horizon=8)


@pytest.fixture(scope="module")
def planted_data():
    bars, signals = planted()
    return build_dataset(bars, signals, SPEC, horizon=8)


@pytest.fixture(scope="module")
def small_model(planted_data):
    part = slice(0, 600)
    return train(planted_data.x[part], planted_data.y[part], planted_data.entry_rows[part],
                 planted_data.exit_rows[part], METADATA, SETTINGS)


def test_a_planted_relationship_is_learned_out_of_sample(planted_data):
    report = walk_forward_evaluation(planted_data, METADATA, folds=3, embargo=10, settings=SETTINGS)
    assert report.samples > 1000
    assert report.auc > 0.75, report.table()
    assert report.brier < report.brier_baseline
    # calibrated: where a bin holds enough signals, its observed rate is near its mean probability
    for b in report.reliability:
        if b["count"] >= 80:
            assert abs(b["observed"] - b["predicted"]) < 0.12, report.table()
    assert report.with_model.mean_r > report.without_model.mean_r


def test_a_planted_relationship_is_learned_out_of_sample_across_pooled_symbols():
    parts = [build_dataset(*planted(n_bars=8_000, seed=seed, symbol=name, offset_bars=offset), SPEC, horizon=8)
             for seed, name, offset in ((11, "AAA", 0), (12, "BBB", 3))]
    data = pool(parts)
    assert len(data.sources) == 2 and len(data) == len(parts[0]) + len(parts[1])
    report = walk_forward_evaluation(data, METADATA, folds=3, embargo=10, settings=SETTINGS)
    assert report.auc > 0.75, report.table()
    assert report.with_model.mean_r > report.without_model.mean_r
    assert report.without_model.trades > len(data) // 2  # both symbols trade, one position each


def test_shuffled_labels_give_no_skill(planted_data):
    shuffled = dataclasses.replace(planted_data, y=np.random.default_rng(3).permutation(planted_data.y))
    report = walk_forward_evaluation(shuffled, METADATA, folds=3, embargo=10, settings=SETTINGS)
    assert abs(report.auc - 0.5) < 0.05, report.table()


def test_training_is_deterministic(planted_data, small_model):
    part = slice(0, 600)
    again = train(planted_data.x[part], planted_data.y[part], planted_data.entry_rows[part],
                  planted_data.exit_rows[part], METADATA, SETTINGS)
    x = planted_data.x[600:700]
    np.testing.assert_array_equal(again.predict(x), small_model.predict(x))
    assert again.metadata == small_model.metadata


def test_save_and_load_give_identical_predictions(planted_data, small_model, tmp_path):
    small_model.save(tmp_path / "m")
    loaded = ModelFactor.load(tmp_path / "m")
    x = planted_data.x[600:800]
    np.testing.assert_array_equal(loaded.predict(x), small_model.predict(x))
    assert loaded.metadata == small_model.metadata
    assert loaded.metadata.calibration.method == "platt"
    data = planted_data
    signals = list(data.signals[600:620])
    rows = data.entry_rows[600:620]
    batch = loaded.probabilities(data.bars, signals)
    np.testing.assert_array_equal(batch, small_model.predict(data.x[600:620]))
    stream = loaded.stream(period=3600)
    wanted = dict(zip(rows.tolist(), signals, strict=True))
    for i, bar in enumerate(data.bars[: int(rows[-1]) + 1]):
        stream.update(bar)
        if i in wanted:
            batch = loaded.probabilities(data.bars, [wanted[i]])[0]
            assert stream.probability(wanted[i]) == batch


def test_numpy_forward_pass_equals_keras_and_is_batch_independent(small_model, planted_data):
    factor = small_model.factor()
    x = planted_data.x[600:900]
    keras_output = np.asarray(small_model.network(x.astype(np.float32), training=False)).reshape(-1)
    np.testing.assert_allclose(factor.raw(x), keras_output, rtol=0, atol=1e-5)
    one_by_one = np.concatenate([factor.raw(x[i:i + 1]) for i in range(len(x))])
    np.testing.assert_array_equal(factor.raw(x), one_by_one)


def test_other_networks_are_evaluated_by_keras_row_by_row(small_model, planted_data):
    import keras

    width = planted_data.x.shape[1]
    network = keras.Sequential([keras.Input(shape=(width,)), keras.layers.BatchNormalization(),
                                keras.layers.Dense(1, activation="sigmoid")])
    factor = ModelFactor(network, small_model.metadata)
    x = planted_data.x[:40]
    expected = np.asarray(network(x.astype(np.float32), training=False)).reshape(-1)
    np.testing.assert_allclose(factor.raw(x), expected, rtol=0, atol=1e-6)
    with pytest.raises(ConfigError, match="weight"):
        ModelFactor(network, small_model.metadata, weight=-1.0)


def test_the_model_factor_plugs_into_scoring(small_model):
    from alphapulse.scoring import FactorStream, SignalFactor

    factor = small_model.factor()
    assert isinstance(factor, SignalFactor) and factor.name == "model"
    assert isinstance(factor.stream(period=3600, symbol="SYNTH"), FactorStream)


def test_loading_from_object_store_paths_without_extension(small_model, planted_data, tmp_path):
    folder = small_model.save(tmp_path / "m")
    store = tmp_path / "store"
    store.mkdir()
    shutil.copyfile(folder / MODEL_FILE, store / "a1b2c3")
    shutil.copyfile(folder / METADATA_FILE, store / "d4e5f6")
    factor = ModelFactor.from_object_store(str(store / "a1b2c3"), str(store / "d4e5f6"))
    x = planted_data.x[:50]
    np.testing.assert_array_equal(factor.predict(x), small_model.predict(x))


def _edit(folder: Path, change) -> None:
    data = json.loads((folder / METADATA_FILE).read_text())
    change(data)
    (folder / METADATA_FILE).write_text(json.dumps(data))


def test_a_feature_schema_mismatch_is_a_clear_error(small_model, tmp_path):
    cases = [
        (lambda d: d.update(feature_schema="alphapulse.features/0"), "trained on features"),
        (lambda d: d["feature_names"].pop(), "feature list"),
        (lambda d: d["features"].update(window=8), "feature list"),
        (lambda d: d.update(schema="something/else"), "not an AlphaPulse model"),
        (lambda d: d["features"].update(colour="red"), "unknown key"),
    ]
    for k, (change, message) in enumerate(cases):
        folder = small_model.save(tmp_path / f"m{k}")
        _edit(folder, change)
        with pytest.raises(ConfigError, match=message):
            ModelFactor.load(folder)
    # metadata consistent in itself but describing another feature set than the network was built on
    folder = small_model.save(tmp_path / "other")
    other = dataclasses.replace(small_model.metadata, features=FeatureSpec(patterns=("CDLDOJI",)))
    other.write(folder / METADATA_FILE)
    with pytest.raises(ConfigError, match="do not belong together"):
        ModelFactor.load(folder)


def test_missing_or_corrupt_files_are_clear_errors(small_model, tmp_path):
    with pytest.raises(ConfigError, match="no such model metadata"):
        ModelFactor.load(tmp_path / "nowhere")
    folder = small_model.save(tmp_path / "m")
    (folder / MODEL_FILE).write_bytes(b"not a zip")
    with pytest.raises(ConfigError, match="not a loadable Keras model"):
        ModelFactor.load(folder)
    (folder / METADATA_FILE).write_text("{")
    with pytest.raises(ConfigError, match="unreadable model metadata"):
        ModelFactor.load(folder)


def test_tensorflow_is_imported_only_when_a_model_is_loaded(small_model, tmp_path):
    folder = small_model.save(tmp_path / "m")
    code = f"""
import sys
import alphapulse.model_factor, alphapulse.features, alphapulse_tools.cli, alphapulse_tools.ml.evaluate
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "imported too early"
from alphapulse.model_factor import ModelFactor
ModelFactor.load({str(folder)!r})
assert "keras" in sys.modules and "tensorflow" in sys.modules
print("lazy ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "lazy ok" in done.stdout
