"""The starting heuristic for online bin packing, in FunSearch's skeleton (``binpacking_task``).

    opto evolve examples/binpacking/heuristic.py --function priority \
        --objective binpacking_task:evaluate --heldout '"test"' --budget 200 --workers 2 \
        --store binpacking.db --config examples/binpacking/evolve.toml

It is best fit (5.37 % over the L1 bound on OR3, 3.98 % on Weibull 5k), written with extra
terms whose weights start at zero, so that operators without an LLM (literal perturbation,
operator swaps) have knobs to turn; an LLM operator may rewrite it entirely.
"""

import numpy as np


def priority(item: float, bins: np.ndarray) -> np.ndarray:
    """Priority of each feasible bin (remaining capacities ``bins``) for ``item``; highest wins."""
    gap = bins - item
    score = -1.0 * gap
    score = score - 0.0 * gap ** 2 * (gap < 20.0)
    score = score + 0.0 * (item / bins)
    score = score - 0.0 * (bins >= bins.max())
    return score
