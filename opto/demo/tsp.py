"""A TSP constructive heuristic (AEL/EoH's task): ``select_next_node`` builds a tour one city at a time.

The tour starts at city 0; while cities remain, ``select_next_node(current, destination, unvisited,
distances)`` picks the next one (destination is the start city the tour returns to). Scored on 16
seeded instances of 50 cities by the gap in % of the mean tour length to the mean length of
reference tours computed by elkai (LKH-3) on the same instances (package data, made by
``python -m opto.demo.make_tsp_reference``). Workers import this module by name.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

import numpy as np

from opto.demo.make_tsp_reference import distances, tour_length

NEAREST_NEIGHBOUR = '''import numpy as np


def select_next_node(current, destination, unvisited, distances):
    """The next city to visit: the unvisited one closest to the current city."""
    near = distances[current][unvisited]
    back = distances[destination][unvisited]
    score = 1.0 * near - 0.0 * back
    return unvisited[int(np.argmin(score))]
'''

TASK = ("Travelling salesman: a tour is built greedily from city 0. select_next_node(current, destination, "
        "unvisited, distances) returns the next city: current and destination are city indices, unvisited is "
        "a numpy array of the indices not yet visited, distances is the full numpy distance matrix. Goal: the "
        "shortest closed tour (score = minus the gap in % to an optimized reference tour).")


@functools.lru_cache(maxsize=1)
def instances() -> list[dict[str, Any]]:
    text = resources.files("opto.demo").joinpath("data/tsp50.json").read_text(encoding="utf-8")
    rows: list[dict[str, Any]] = json.loads(text)["instances"]
    for row in rows:
        row["distances"] = distances(row["coords"])
    return rows


def build_tour(select: Callable[..., Any], dist: np.ndarray) -> list[int]:
    n = dist.shape[0]
    tour, unvisited = [0], list(range(1, n))
    while unvisited:
        choice = int(select(tour[-1], 0, np.array(unvisited), dist))
        if choice not in unvisited:
            raise ValueError(f"select_next_node returned {choice}, which is not an unvisited city")
        tour.append(choice)
        unvisited.remove(choice)
    return tour


def evaluate(values: Mapping[str, Any], split: str = "all") -> dict[str, Any]:
    """score = -(gap in %) of the mean tour length over the instances ("all", "first8", "last8")."""
    from opto.runtime import load_function

    rows = {"all": instances(), "first8": instances()[:8], "last8": instances()[8:]}.get(split)
    if rows is None:
        raise ValueError(f"unknown split {split!r}; use 'all', 'first8' or 'last8'")
    select = load_function(str(values["select_next_node"]), "select_next_node", globals={"np": np, "math": math})
    lengths = [tour_length(build_tour(select, r["distances"]), r["distances"]) for r in rows]
    ref = float(np.mean([r["reference_length"] for r in rows]))
    gap = 100.0 * (float(np.mean(lengths)) - ref) / ref
    return {"score": -gap, "scores": {"gap_percent": gap},
            "feedback": f"mean tour {np.mean(lengths):.4f} vs reference {ref:.4f}: gap {gap:.2f}% (lower is better)"}
