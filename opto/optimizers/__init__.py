"""Optimizers: read the trace and the feedback, propose new parameter values.

``from opto.optimizers import OptoPrime`` works as in trace-opt. Each optimizer's module is imported
only when its name is first used, so ``import opto.optimizers`` stays light (no model backend).
"""

from __future__ import annotations

import importlib
from typing import Any

from opto.optimizers.optimizer import Optimizer

_LAZY = {
    "OptoPrime": "opto.optimizers.optoprime",
    "OptoPrimeMulti": "opto.optimizers.optoprime_multi",
    "OPRO": "opto.optimizers.opro",
    "TextGrad": "opto.optimizers.textgrad",
    "Evolution": "opto.optimizers.evolution.search",
}

__all__ = ["Optimizer", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'opto.optimizers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
