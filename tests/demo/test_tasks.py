"""The examples' bundled tasks: shipped data matches its generator, objectives score known programs as
expected and name bad ones (run in-process here: the programs are the tests' own)."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from opto.demo import make_tsp_reference, solver_config, tsp, update_rule


def test_tsp_data_is_the_generators_instances_with_valid_reference_tours():
    shipped = json.loads(resources.files("opto.demo").joinpath("data/tsp50.json").read_text())
    assert [r["coords"] for r in shipped["instances"]] == make_tsp_reference.instances()
    for row in tsp.instances():
        assert sorted(row["reference_tour"]) == list(range(make_tsp_reference.CITIES))
        assert make_tsp_reference.tour_length(row["reference_tour"], row["distances"]) == pytest.approx(
            row["reference_length"], abs=1e-5)


def test_tsp_objective():
    nearest = tsp.evaluate({"select_next_node": tsp.NEAREST_NEIGHBOUR})
    assert nearest["scores"]["gap_percent"] == pytest.approx(21.42, abs=0.01)
    first = "def select_next_node(current, destination, unvisited, distances):\n    return unvisited[0]\n"
    assert tsp.evaluate({"select_next_node": first})["score"] < nearest["score"]
    bad = "def select_next_node(current, destination, unvisited, distances):\n    return current\n"
    with pytest.raises(ValueError, match="not an unvisited city"):
        tsp.evaluate({"select_next_node": bad})


def test_update_rule_objective_prefers_adam_to_diverging_sgd():
    adam = ("def update(w, g, m, v, t):\n    m = 0.9 * m + 0.1 * g\n    v = 0.999 * v + 0.001 * g * g\n"
            "    return w - 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8), m, v\n")
    sgd = update_rule.evaluate({"update": update_rule.SGD_MOMENTUM})
    assert "rosenbrock: final loss inf" in sgd["feedback"]
    assert update_rule.evaluate({"update": adam})["score"] > sgd["score"] + 1
    assert np.isfinite(sgd["score"])


def test_solver_config_objective_and_space():
    assert set(solver_config.SPACE) == set(solver_config.DEFAULTS)
    quick = {"iterations": 500, "move": "2opt", "start": "nearest"}
    assert solver_config.evaluate(quick)["score"] > solver_config.evaluate({"iterations": 500})["score"]
    with pytest.raises(ValueError, match="use 'first8' or 'last8'"):
        solver_config.evaluate({}, "all")


NAN_WHEN_TIGHT = '''def priority(item, bins):
    gap = bins - item
    return -1.0 * gap + 0.0 / (gap > 2)
'''


def test_binpacking_refuses_non_finite_priorities():
    """A NaN priority would make argmax pick the first NaN bin: an evaluator loophole, so it fails."""
    import sys
    from pathlib import Path

    from opto.demo import binpacking

    instance = {"capacity": 10, "num_items": 3, "items": [3, 8, 2]}
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="finite"):
        binpacking.bins_used(instance, binpacking.load_priority(NAN_WHEN_TIGHT))
    assert binpacking.bins_used(instance, binpacking.load_priority(binpacking.BEST_FIT)) == 2

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "binpacking"))
    try:
        import binpacking_task
    finally:
        sys.path.pop(0)
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="finite"):
        binpacking_task.bins_used(instance, binpacking_task.load_priority({"priority": NAN_WHEN_TIGHT}))
