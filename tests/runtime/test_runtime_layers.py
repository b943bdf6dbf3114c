"""The layering: records below runtime and store, which never import each other; evaluate above both."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

OPTO = Path(__file__).resolve().parents[2] / "opto"


def loaded_after(statement: str) -> set[str]:
    """The opto modules and sqlite3 a fresh interpreter has loaded after running ``statement``."""
    probe = (f"import sys\n{statement}\nimport json\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('opto', 'sqlite3')))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_records_loads_nothing_else_of_opto():
    assert loaded_after("import opto.records") <= {"opto", "opto.context", "opto.records"}


@pytest.mark.parametrize("statement", ["import opto.runtime", "import opto.runtime.worker"])
def test_the_runtime_and_its_workers_load_no_store_and_no_evaluate_loop(statement):
    loaded = loaded_after(statement)
    assert not {m for m in loaded if m.startswith(("opto.store", "opto.evaluate", "sqlite3"))}, loaded


def test_the_store_loads_no_runtime():
    loaded = loaded_after("import opto.store")
    assert not {m for m in loaded if m.startswith(("opto.runtime", "opto.evaluate"))}, loaded


def _opto_imports(path: Path) -> set[str]:
    """Every opto module a file imports, at top level or inside functions (lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n for n in names if n == "opto" or n.startswith("opto.")}


@pytest.mark.parametrize("package, forbidden", [
    ("runtime", ("opto.store", "opto.evaluate")),
    ("store", ("opto.runtime", "opto.evaluate")),
])
def test_no_file_imports_a_sibling_or_a_layer_above(package, forbidden):
    for path in sorted((OPTO / package).rglob("*.py")):
        bad = {n for n in _opto_imports(path) if n.startswith(forbidden)}
        assert not bad, f"{path.relative_to(OPTO.parent)} imports {sorted(bad)}"


def test_records_imports_no_opto_module_at_all():
    assert _opto_imports(OPTO / "records.py") == set()


def test_one_exec_site_in_the_whole_library():
    """Candidate code and trainable bundles' rewrites are both run by opto.runtime.source.define."""
    sites = []
    for path in sorted(OPTO.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval"):
                sites.append(f"{path.relative_to(OPTO.parent)}:{node.lineno}")
    assert len(sites) == 1 and sites[0].startswith("opto/runtime/source.py:"), sites


def test_moved_names_point_to_their_new_home():
    import opto.runtime

    with pytest.raises(AttributeError, match=r"from opto\.evaluate import run_batch"):
        opto.runtime.run_batch  # noqa: B018
    with pytest.raises(AttributeError, match="EvaluationFailure"):
        opto.runtime.Failure  # noqa: B018
