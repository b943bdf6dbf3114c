"""The demo's training task: OptoPrime tunes one number of a best-fit packer through its trace.

The number is a trainable node; ``pack`` is a traced call whose docstring OptoPrime reads in
#Code, and the guide's sentence is the feedback. The packer's code is the library's own (trusted),
only the number changes, so it runs in this process.
"""

from __future__ import annotations

from typing import Any

from opto import trace
from opto.demo import binpacking as bp

INSTANCES = 3  # seeded training instances packed per evaluation


@trace.bundle()
def pack(bonus: float) -> float:
    """Pack the instances online with best fit, adding `bonus` to the priority of every bin the item
    would leave almost full (2 or less capacity left). Returns the excess over the lower bound in %;
    lower is better, 0 is optimal."""
    instances = dict(list(bp.training_set().items())[:INSTANCES])
    weight = float(bonus)

    def priority(item: float, bins: Any) -> Any:
        gap = bins - item
        return -gap + weight * (gap <= 2.0)

    return bp.excess_percent(instances, priority)[0]


@trace.model
class BestFitWithBonus:
    def __init__(self, bonus: float = 0.0) -> None:
        self.bonus = trace.node(bonus, trainable=True, description="priority bonus for a bin left almost full")

    def forward(self, _input: Any) -> Any:
        return pack(self.bonus)


def guide(_input: Any, output: Any, _info: Any) -> tuple[float, str]:
    """Score = -excess; the feedback is a sentence the optimizer reads."""
    excess = float(output)
    return -excess, (f"The packing uses {excess:.2f}% more bins than the lower bound. "
                     "Change bonus so that this gets smaller.")
