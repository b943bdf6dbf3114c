"""Search algorithms for the trainer; ``algorithm_of("beam")`` or pass an instance to ``train``."""

from __future__ import annotations

from typing import Any

from opto.trainer.algorithms.base import Algorithm, StepCost
from opto.trainer.algorithms.beam import BeamSearch
from opto.trainer.algorithms.minibatch import Minibatch
from opto.trainer.algorithms.pareto import ParetoSearch
from opto.trainer.algorithms.priority import PrioritySearch

ALGORITHMS: dict[str, type[Algorithm]] = {
    "minibatch": Minibatch,
    "beam": BeamSearch,
    "priority": PrioritySearch,
    "pareto": ParetoSearch,
}


def algorithm_of(spec: Any) -> Algorithm:
    """An Algorithm from an instance, a class, or a name in ALGORITHMS."""
    if isinstance(spec, Algorithm):
        return spec
    if isinstance(spec, type) and issubclass(spec, Algorithm):
        return spec()
    if isinstance(spec, str) and spec in ALGORITHMS:
        return ALGORITHMS[spec]()
    raise ValueError(f"unknown algorithm {spec!r}; use one of {sorted(ALGORITHMS)} or an Algorithm instance")


__all__ = ["ALGORITHMS", "Algorithm", "BeamSearch", "Minibatch", "ParetoSearch", "PrioritySearch", "StepCost",
           "algorithm_of"]
