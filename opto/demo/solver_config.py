"""Algorithm configuration: the numeric and categorical settings of a simulated-annealing TSP solver.

The solver (plain Python, the library's own code) improves a start tour with random moves accepted
by the Metropolis rule under a geometric cooling schedule. Its settings are what a search tunes:
``t0`` (start temperature, as a fraction of the mean edge), ``cooling`` (per-move factor),
``iterations``, ``move`` ("swap", "insert" or "2opt") and ``start`` ("random" or "nearest").
Scored on the TSP instances of ``opto.demo.tsp`` by the gap in % to the LKH-3 reference tours.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

import numpy as np

from opto.demo.make_tsp_reference import tour_length
from opto.demo.tsp import build_tour, instances

DEFAULTS: dict[str, Any] = {"t0": 0.5, "cooling": 0.999, "iterations": 2000, "move": "swap", "start": "random"}
SPACE: dict[str, dict[str, Any]] = {
    "t0": {"low": 0.001, "high": 2.0, "log": True},
    "cooling": {"low": 0.99, "high": 0.99999},
    "iterations": {"low": 500, "high": 4000},
    "move": {"choices": ["swap", "insert", "2opt"]},
    "start": {"choices": ["random", "nearest"]},
}


def _nearest(current: int, _destination: int, unvisited: np.ndarray, dist: np.ndarray) -> int:
    return int(unvisited[int(np.argmin(dist[current][unvisited]))])


def _neighbour(tour: list[int], move: str, rng: random.Random) -> list[int]:
    i, j = sorted(rng.sample(range(1, len(tour)), 2))
    if move == "swap":
        new = tour[:]
        new[i], new[j] = new[j], new[i]
        return new
    if move == "insert":
        new = tour[:i] + tour[i + 1:]
        new.insert(j, tour[i])
        return new
    return tour[:i] + tour[i:j + 1][::-1] + tour[j + 1:]  # 2-opt: reverse a segment


def anneal(dist: np.ndarray, settings: Mapping[str, Any], seed: int) -> float:
    rng = random.Random(seed)
    n = dist.shape[0]
    if settings["start"] == "nearest":
        tour = build_tour(_nearest, dist)
    else:
        tour = [0, *rng.sample(range(1, n), n - 1)]
    length = tour_length(tour, dist)
    best = length
    temp = float(settings["t0"]) * float(dist.sum() / (n * (n - 1)))
    for _ in range(int(settings["iterations"])):
        cand = _neighbour(tour, str(settings["move"]), rng)
        new = tour_length(cand, dist)
        if new < length or rng.random() < math.exp(-(new - length) / max(temp, 1e-12)):
            tour, length = cand, new
            best = min(best, length)
        temp *= float(settings["cooling"])
    return best


def evaluate(values: Mapping[str, Any], split: str = "first8") -> dict[str, Any]:
    """score = -(gap in %) of the best tours found, on "first8" (selection) or "last8" (held out)."""
    rows = {"first8": instances()[:8], "last8": instances()[8:]}.get(split)
    if rows is None:
        raise ValueError(f"unknown split {split!r}; use 'first8' or 'last8'")
    settings = {**DEFAULTS, **values}
    lengths = [anneal(r["distances"], settings, seed=i) for i, r in enumerate(rows)]
    ref = float(np.mean([r["reference_length"] for r in rows]))
    gap = 100.0 * (float(np.mean(lengths)) - ref) / ref
    return {"score": -gap, "scores": {"gap_percent": gap}, "feedback": f"gap {gap:.2f}% to the reference tours"}
