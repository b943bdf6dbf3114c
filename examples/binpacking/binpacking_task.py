"""Online bin packing with FunSearch's skeleton: the task that ``priority(item, bins)`` is evolved for.

Items arrive one at a time; each goes into the feasible bin with the highest priority (a new bin
is one of the feasible ones). The heuristic is scored by its excess over the L1 lower bound
(``ceil(sum of sizes / capacity)`` per instance) as a percentage of the bound, averaged over the
instances of a set -- FunSearch's measure. Objectives here are called in sandboxed workers by
reference (``binpacking_task:evaluate``); candidate code is loaded with
``opto.runtime.load_function``, the runtime's one exec site.

Data: ``or3_weibull5k.json`` (OR3: 20 x 500 items, capacity 150; Weibull 5k: 5 x 5,000 items,
capacity 100), found at $OPTO_BINPACKING_DATA or ../shared/data/binpacking/ next to the checkout.
Generated sets (``generated_sets``) follow a documented seeded recipe for generalization checks.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

Instance = Mapping[str, Any]  # {"capacity": int, "num_items": int, "items": [int, ...]}
Priority = Callable[[Any, np.ndarray], Any]
SETS = ("OR3", "Weibull 5k")
BEST_FIT = "def priority(item, bins):\n    \"\"\"Best fit: prefer the bin left fullest.\"\"\"\n    return -(bins - item)\n"
REFERENCE = {"best_fit": {"OR3": 5.37, "Weibull 5k": 3.98}, "funsearch": {"OR3": 3.11, "Weibull 5k": 0.68}}


def data_path() -> Path:
    env = os.environ.get("OPTO_BINPACKING_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "binpacking" / "or3_weibull5k.json"


@functools.lru_cache(maxsize=4)
def load_sets(path: str | None = None) -> dict[str, dict[str, Instance]]:
    """{"OR3": {name: instance}, "Weibull 5k": {...}} from the data file."""
    file = Path(path) if path else data_path()
    if not file.exists():
        raise FileNotFoundError(f"bin packing data not found at {file}; set OPTO_BINPACKING_DATA to or3_weibull5k.json")
    data = json.loads(file.read_text())
    return {name: dict(data["datasets"][name]) for name in SETS}


def l1_bound(instance: Instance) -> int:
    return math.ceil(sum(instance["items"]) / instance["capacity"])


def online_binpack(items: Any, bins: np.ndarray, priority: Priority) -> np.ndarray:
    """FunSearch's skeleton: each item goes to the feasible bin of highest priority; returns the
    remaining capacities."""
    for item in items:
        valid = np.nonzero((bins - item) >= 0)[0]
        priorities = np.asarray(priority(item, bins[valid]), dtype=float).reshape(-1)
        if priorities.shape[0] != valid.shape[0] or not np.isfinite(priorities).all():
            # argmax would pick the first NaN or a misaligned index: a loophole, not a heuristic
            raise ValueError("priority must return one finite number per feasible bin")
        best = valid[int(np.argmax(priorities))]
        bins[best] -= item
    return bins


def bins_used(instance: Instance, priority: Priority) -> int:
    capacity = instance["capacity"]
    bins = np.array([capacity] * instance["num_items"], dtype=float)
    left = online_binpack(instance["items"], bins, priority)
    return int((left != capacity).sum())


def excess_percent(instances: Mapping[str, Instance], priority: Priority) -> tuple[float, dict[str, int]]:
    """(excess over the mean L1 bound in %, bins used per instance)."""
    used = {name: bins_used(inst, priority) for name, inst in instances.items()}
    bound = float(np.mean([l1_bound(inst) for inst in instances.values()]))
    return 100.0 * (float(np.mean(list(used.values()))) - bound) / bound, used


def load_priority(values: Mapping[str, Any]) -> Priority:
    from opto.runtime import load_function

    return load_function(str(values["priority"]), "priority", globals={"np": np, "numpy": np, "math": math})


def _trace_worst(priority: Priority, instances: Mapping[str, Instance], used: Mapping[str, int]) -> dict[str, Any]:
    """The calls of the candidate on the instance it handles worst (for trace-guided mutation)."""
    from opto.optimizers.evolution.operators.trace_guided import TraceRecorder

    worst = max(used, key=lambda n: used[n] - l1_bound(instances[n]))
    recorder = TraceRecorder(priority, head=3, tail=3, value_chars=200)
    bins_used(instances[worst], recorder)
    outcome = f"{used[worst]} bins used, L1 lower bound {l1_bound(instances[worst])}"
    return recorder.artifact(outcome, instance=worst)


def score_sets(priority: Priority, sets: Mapping[str, Mapping[str, Instance]], trace: bool = False) -> dict[str, Any]:
    """The objective's return value for ``priority`` over named instance sets."""
    excess: dict[str, float] = {}
    notes = []
    artifacts: dict[str, Any] = {}
    for name, instances in sets.items():
        pct, used = excess_percent(instances, priority)
        excess[name] = pct
        worst = max(used, key=lambda n: used[n] - l1_bound(instances[n]))
        notes.append(f"{name}: excess {pct:.2f}% over the L1 bound (worst {worst}: {used[worst]} bins, "
                     f"bound {l1_bound(instances[worst])})")
        if trace and "trace" not in artifacts:
            artifacts["trace"] = _trace_worst(priority, instances, used)
    mean = float(np.mean(list(excess.values())))
    scores = {f"{_key(n)}_excess": -v for n, v in excess.items()}
    return {"score": -mean, "scores": {"score": -mean, **scores}, "feedback": "; ".join(notes),
            "artifacts": artifacts}


def _key(name: str) -> str:
    return name.lower().replace(" ", "")


def selection_sets() -> dict[str, dict[str, Instance]]:
    """What the search selects on: OR3 and a seeded Weibull training set (10 x 1,000 items).

    Weibull 5k itself is held out: it costs ~8x the rest to evaluate and FunSearch also evolved on
    training instances and reported on these test sets.
    """
    return {"OR3": load_sets()["OR3"], "Weibull train": weibull(1000, 10, seed=7)}


def test_sets() -> dict[str, dict[str, Instance]]:
    """The published figure's sets: OR3 and Weibull 5k."""
    return load_sets()


SPLITS: dict[str, Callable[[], Mapping[str, Mapping[str, Instance]]]] = {
    "selection": selection_sets, "test": test_sets, "generalization": lambda: generated_sets(),
    "or3": lambda: {"OR3": load_sets()["OR3"]},
}


def evaluate(values: Mapping[str, Any], split: str = "selection") -> dict[str, Any]:
    """The objective: score = -(mean excess % over the split's sets); higher is better.

    split: "selection" (OR3 + Weibull train, what the search selects on; its artifacts carry the
    trace of the worst instance for trace-guided mutation), "test" (OR3 + Weibull 5k),
    "generalization" (generated sets) or "or3" (a cheap first stage). A search passes the split
    as the objective's input (``heldout="test"``, ``cascade="or3"``).
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {sorted(SPLITS)}")
    return score_sets(load_priority(values), SPLITS[split](), trace=split == "selection")


# -- generalization: seeded instance sets the heuristic was not evolved on -------------------------


def or_uniform(n_items: int, count: int, seed: int, capacity: int = 150, low: int = 20, high: int = 100,
               ) -> dict[str, Instance]:
    """OR-Library style (Falkenauer's u-classes): integer sizes uniform in [low, high], capacity 150."""
    rng = np.random.default_rng(seed)
    return {f"u{n_items}_{i:02d}": {"capacity": capacity, "num_items": n_items,
                                    "items": rng.integers(low, high + 1, size=n_items).tolist()}
            for i in range(count)}


def weibull(n_items: int, count: int, seed: int, capacity: int = 100, shape: float = 3.0, scale: float = 45.0,
            ) -> dict[str, Instance]:
    """FunSearch's Weibull recipe: sizes ~ Weibull(shape 3, scale 45), rounded, clipped to [1, capacity]."""
    rng = np.random.default_rng(seed)
    return {f"w{n_items}_{i:02d}": {"capacity": capacity, "num_items": n_items,
                                    "items": np.clip(np.rint(scale * rng.weibull(shape, size=n_items)), 1,
                                                     capacity).astype(int).tolist()}
            for i in range(count)}


def generated_sets(seed: int = 2024) -> dict[str, dict[str, Instance]]:
    """Sets of other sizes than the evolution data: OR-style u120/u1000, Weibull 500/2k."""
    return {
        "OR u120": or_uniform(120, 20, seed),
        "OR u1000": or_uniform(1000, 10, seed + 1),
        "Weibull 500": weibull(500, 20, seed + 2),  # Weibull train (seed 7) is 10 x 1,000
        "Weibull 2k": weibull(2000, 5, seed + 3),
    }
