"""The same small search on the Ray executor ends exactly where the local one does."""

from __future__ import annotations

import pytest

from opto.optimizers.evolution.search import Evolution
from opto.trace import bundle, node

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")
pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.integration]


@bundle(trainable=True)
def f(x):
    return 2 * x + 1


@pytest.fixture(scope="module")
def ray_cluster():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


def search(kind: str, tmp_path, name: str):
    f.parameter._set("def f(x):\n    return 2 * x + 1\n")
    scale = node(1.0, trainable=True, name="scale")
    opt = Evolution({"f": f.parameter, "scale": scale},
                    config={"islands": 2, "batch_size": 4, "seed": 5, "space": {"scale": {"low": 0.1, "high": 3}}})
    return opt.search("evo_objectives:line_fit_scaled", budget=16, executor=kind, workers=2,
                      store=tmp_path / f"{name}.db", probes={"f": [(0.0,), (1.0,)]})  # probes: local workers


def test_ray_search_matches_local(ray_cluster, tmp_path):
    on_ray = search("ray", tmp_path, "ray")
    local = search("local", tmp_path, "local")
    assert on_ray.evaluations == local.evaluations == 16
    assert (on_ray.candidate.id, on_ray.score, dict(on_ray.values)) == (local.candidate.id, local.score,
                                                                        dict(local.values))
    assert on_ray.gates == local.gates
