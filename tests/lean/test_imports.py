"""Everything a Lean algorithm reaches imports only what Lean's foundation image has."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: third-party packages of Lean's foundation image the core may use (TensorFlow/Keras only lazily)
LEAN_IMAGE = {"numpy", "pandas", "talib", "scipy", "AlgorithmImports", "QuantConnect", "tensorflow", "keras"}
LAZY_ONLY = {"tensorflow", "keras", "AlgorithmImports", "QuantConnect"}
FILES = sorted((ROOT / "Library").rglob("*.py")) + sorted((ROOT / "algorithms").glob("*/main.py"))


def imports(path: Path) -> list[tuple[str, bool]]:
    """(top-level package, imported at module level) of every import in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    module_level = {id(node) for node in tree.body}
    type_checking = {id(n) for node in tree.body if isinstance(node, ast.If)
                     and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], id(node) in module_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], id(node) in module_level))
    return found


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_only_lean_image_packages(path: Path) -> None:
    for package, top_level in imports(path):
        if package in sys.stdlib_module_names or package in ("alphapulse", "__future__"):
            continue
        assert package in LEAN_IMAGE, f"{path.relative_to(ROOT)} imports {package}, which Lean's image lacks"
        if path.parent.parent.name != "algorithms":
            assert not (top_level and package in LAZY_ONLY), \
                f"{path.relative_to(ROOT)} imports {package} at module level: import it lazily"


def test_the_check_sees_every_core_module() -> None:
    names = {p.name for p in FILES}
    assert {"patterns.py", "lean_adapter.py", "trader.py", "main.py"} <= names
