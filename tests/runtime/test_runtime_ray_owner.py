"""A RayExecutor that started Ray itself shuts it down again, so later code can ray.init() freely."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the [ray] extra is not installed")
pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.integration]

SCRIPT = textwrap.dedent(
    r"""
    import ray
    from opto.runtime import Candidate, make_executor

    with make_executor("ray", "sandbox_objectives:run_code", workers=1,
                       init_kwargs={"num_cpus": 1, "include_dashboard": False, "logging_level": "ERROR"}) as ex:
        result = ex.map([Candidate({"code": "def f():\n    return 1.0\n"})])[0]
    assert ray.is_initialized() is False, "the executor left its own Ray running"

    ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR")  # a Ray the user started ...
    with make_executor("ray", "sandbox_objectives:run_code", workers=1) as ex:
        ex.map([Candidate({"code": "def f():\n    return 2.0\n"})])
    assert ray.is_initialized() is True, "the executor shut down a Ray it did not start"  # ... stays
    ray.shutdown()
    print("ok", result.ok)
    """
)


def test_executor_shuts_down_only_the_ray_it_started(tmp_path: Path) -> None:
    here = Path(__file__).resolve().parent
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=here, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "ok True"
