"""A trained model in Lean: PatternConfluence loads it from the ObjectStore (the contract's
``model.path`` names the key folder) and places exactly the local runner's orders with the same model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphapulse.errors import ConfigError
from tests.lean.test_algorithms import double_orders, runner_orders

pytestmark = [pytest.mark.usefixtures("keras_ready"),
              pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]


def test_lean_loads_the_model_from_the_object_store(lean_data: Path, tmp_path: Path, planted_model_folder: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from tests.lean import test_algorithms

    local = tmp_path / "local.json"
    local.write_text(json.dumps({"SPY": {"strategy": "pattern-confluence", "timeframe": "1h",
                                         "model": {"path": str(planted_model_folder), "weight": 2.0}}}))
    lean = tmp_path / "lean.json"
    lean.write_text(json.dumps({"SPY": {"strategy": "pattern-confluence", "timeframe": "1h",
                                        "model": {"path": "models/spy-1h", "weight": 2.0}}}))
    args = ("pattern-confluence", "usa", "SPY", "1h", date(2019, 1, 1), date(2021, 3, 31))
    expected = runner_orders(lean_data, *args, local)
    files = {"models/spy-1h/model.keras": planted_model_folder / "model.keras",
             "models/spy-1h/model.json": planted_model_folder / "model.json"}
    original = test_algorithms.run_algorithm
    monkeypatch.setattr(test_algorithms, "run_algorithm",
                        lambda *a, **k: original(*a, **k, object_store_files=files))
    actual = double_orders(lean_data, *args, lean)
    assert expected and actual == expected

    monkeypatch.setattr(test_algorithms, "run_algorithm", lambda *a, **k: original(*a, **k, object_store_files={}))
    with pytest.raises(ConfigError, match=r"the ObjectStore has no key 'models/spy-1h/model\.keras'"):
        double_orders(lean_data, *args, lean)
