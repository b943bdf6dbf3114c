"""Online bin packing with FunSearch's skeleton: the task ``opto demo`` evolves ``priority(item, bins)`` for.

Items arrive one at a time; each goes into the feasible bin with the highest priority (an empty
bin is always feasible). A heuristic is scored by its excess over the L1 lower bound
(``ceil(sum of sizes / capacity)``) in % of the bound, averaged over a set -- FunSearch's measure.

The search selects on seeded OR-Library-style training instances (uniform sizes in [20, 100],
capacity 150, 500 items: OR3's recipe) and the result is reported on OR3 itself, which it never
saw, so the figure is comparable with best fit's 5.37 % and FunSearch's 3.11 %. OR3 ships with
the package (``opto/demo/data/or3.json``, from FunSearch's notebook, CC-BY 4.0), so the demo
needs no network. Workers import this module by name (``opto.demo.binpacking:evaluate``).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

import numpy as np

Instance = Mapping[str, Any]  # {"capacity": int, "num_items": int, "items": [int, ...]}
Priority = Callable[[Any, np.ndarray], Any]

BEST_FIT_OR3 = 5.37  # % excess of best fit on OR3 (FunSearch paper, Table 1)
FUNSEARCH_OR3 = 3.11  # % excess of FunSearch's evolved heuristic on OR3 (same table)

BEST_FIT = '''def priority(item, bins):
    """Best fit: prefer the bin that is left fullest."""
    return -(bins - item)
'''

# Best fit written with extra terms whose weights start at zero: knobs for the operators that need
# no LLM (literal perturbation, operator swaps): a bonus for a near-exact fit, and a penalty for
# leaving a gap of 1-19, which no item (sizes 20-100) can fill. An LLM operator may rewrite it all.
SEED = '''import numpy as np


def priority(item, bins):
    """Priority of each feasible bin (remaining capacities `bins`) for `item`; the highest wins."""
    gap = bins - item
    score = -1.0 * gap
    score = score + 0.0 * (gap <= 2.0)
    score = score - 0.0 * ((gap > 0) & (gap < 20.0))
    return score
'''

TASK = ("Online bin packing: items arrive one by one and each goes into the feasible bin whose "
        "priority(item, bins) is highest; bins is a numpy array of the remaining capacities of the "
        "feasible bins (capacity 150, item sizes 20-100). Return a numpy array with one priority per bin. "
        "Goal: use as few bins as possible (score = minus the excess over the lower bound, in %).")


@functools.lru_cache(maxsize=1)
def or3() -> dict[str, Instance]:
    """OR3's 20 instances of 500 items (package data)."""
    text = resources.files("opto.demo").joinpath("data/or3.json").read_text(encoding="utf-8")
    return dict(json.loads(text)["datasets"]["OR3"])


@functools.lru_cache(maxsize=4)
def training_set(count: int = 10, n_items: int = 500, seed: int = 7) -> dict[str, Instance]:
    """Seeded instances from OR3's recipe (uniform integer sizes in [20, 100], capacity 150)."""
    rng = np.random.default_rng(seed)
    return {f"train_{i:02d}": {"capacity": 150, "num_items": n_items,
                               "items": rng.integers(20, 101, size=n_items).tolist()}
            for i in range(count)}


def l1_bound(instance: Instance) -> int:
    return math.ceil(sum(instance["items"]) / instance["capacity"])


def bins_used(instance: Instance, priority: Priority) -> int:
    """FunSearch's skeleton: each item goes to the feasible bin of highest priority."""
    capacity = instance["capacity"]
    bins = np.full(instance["num_items"], float(capacity))
    for item in instance["items"]:
        valid = np.nonzero(bins - item >= 0)[0]
        priorities = np.asarray(priority(item, bins[valid]), dtype=float).reshape(-1)
        if priorities.shape[0] != valid.shape[0]:
            raise ValueError(f"priority returned {priorities.shape[0]} values for {valid.shape[0]} bins; "
                             "return one priority per bin")
        if not np.isfinite(priorities).all():  # argmax would pick the first NaN: a loophole, not a heuristic
            raise ValueError("priority returned NaN or infinite values; return finite numbers for every bin")
        bins[valid[int(np.argmax(priorities))]] -= item
    return int((bins != capacity).sum())


def excess_percent(instances: Mapping[str, Instance], priority: Priority) -> tuple[float, dict[str, int]]:
    """(excess of the mean bins used over the mean L1 bound, in %; bins used per instance)."""
    used = {name: bins_used(inst, priority) for name, inst in instances.items()}
    bound = float(np.mean([l1_bound(inst) for inst in instances.values()]))
    return 100.0 * (float(np.mean(list(used.values()))) - bound) / bound, used


def load_priority(source: str) -> Priority:
    from opto.runtime import load_function

    return load_function(source, "priority", globals={"np": np, "numpy": np, "math": math})


def evaluate(values: Mapping[str, Any], split: str = "train") -> dict[str, Any]:
    """The objective: score = -(excess %) on ``split`` ("train": seeded instances, "or3": the test set).

    On "train" the result also carries the calls of the candidate on its worst instance (artifact
    "trace"), which the trace-guided mutation reads.
    """
    if split not in ("train", "or3"):
        raise ValueError(f"unknown split {split!r}; use 'train' or 'or3'")
    instances = training_set() if split == "train" else or3()
    priority = load_priority(str(values["priority"]))
    pct, used = excess_percent(instances, priority)
    worst = max(used, key=lambda n: used[n] - l1_bound(instances[n]))
    feedback = (f"excess {pct:.2f}% over the L1 lower bound (lower is better); worst instance {worst}: "
                f"{used[worst]} bins, bound {l1_bound(instances[worst])}")
    artifacts: dict[str, Any] = {}
    if split == "train":
        artifacts["trace"] = _worst_trace(priority, instances[worst], used[worst], worst)
    return {"score": -pct, "scores": {"score": -pct, "excess_percent": pct}, "feedback": feedback,
            "artifacts": artifacts}


def _worst_trace(priority: Priority, instance: Instance, used: int, name: str) -> dict[str, Any]:
    from opto.optimizers.evolution.operators.trace_guided import TraceRecorder

    recorder = TraceRecorder(priority, head=3, tail=3, value_chars=200)
    bins_used(instance, recorder)
    artifact: dict[str, Any] = recorder.artifact(f"{used} bins used, L1 lower bound {l1_bound(instance)}",
                                                 instance=name)
    return artifact


def or3_excess(source: str) -> float:
    """The excess in % on OR3 of a ``priority`` source (run in this process: for trusted code only)."""
    return excess_percent(or3(), load_priority(source))[0]
