"""Write ``opto/demo/data/tsp50.json``: 16 seeded 50-city instances and a reference tour of each.

    pip install elkai && python -m opto.demo.make_tsp_reference

The reference tours come from elkai (LKH-3, a well-kept TSP solver), run here once: the
examples only read the file, so they need neither elkai nor its run time. Cities are uniform in
the unit square (seed 2024); distances are Euclidean.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SEED, INSTANCES, CITIES = 2024, 16, 50
OUT = Path(__file__).resolve().parent / "data" / "tsp50.json"


def instances(seed: int = SEED) -> list[list[list[float]]]:
    rng = np.random.default_rng(seed)
    return [np.round(rng.random((CITIES, 2)), 4).tolist() for _ in range(INSTANCES)]


def distances(coords: list[list[float]]) -> np.ndarray:
    xy = np.asarray(coords, dtype=float)
    return np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))


def tour_length(tour: list[int], dist: np.ndarray) -> float:
    return float(sum(dist[a, b] for a, b in zip(tour, tour[1:] + tour[:1])))


def main() -> None:
    import elkai

    rows = []
    for coords in instances():
        dist = distances(coords)
        tour = list(elkai.DistanceMatrix((dist * 1e6).round().astype(int).tolist()).solve_tsp(runs=10))
        tour = tour[:-1] if len(tour) > 1 and tour[0] == tour[-1] else tour
        assert sorted(tour) == list(range(CITIES)), "elkai returned a tour that is not a permutation"
        rows.append({"coords": coords, "reference_tour": tour, "reference_length": round(tour_length(tour, dist), 6)})
    OUT.write_text(json.dumps({"source": "opto.demo.make_tsp_reference (elkai / LKH-3, runs=10)", "seed": SEED,
                               "instances": rows}, separators=(",", ":")), encoding="utf-8")
    print(f"wrote {OUT}: mean reference length {np.mean([r['reference_length'] for r in rows]):.4f}")


if __name__ == "__main__":
    main()
