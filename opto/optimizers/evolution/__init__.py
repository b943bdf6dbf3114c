"""Evolutionary search over traced parameters: a population mutated, gated, evaluated and selected.

This package module stays light: it imports no LLM, runtime or store module, so that
``import opto.optimizers.evolution`` is cheap. The search loop (``Evolution``) and the heavier
layers are imported from their own modules, or lazily through attribute access here.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Evolution": "opto.optimizers.evolution.search",
    "SearchResult": "opto.optimizers.evolution.search",
    "SearchError": "opto.optimizers.evolution.loop",
    "Progress": "opto.optimizers.evolution.loop",
    "ConfigError": "opto.optimizers.evolution.config",
    "EvolutionConfig": "opto.optimizers.evolution.config",
    "SearchSpace": "opto.optimizers.evolution.space",
    "ParamSpec": "opto.optimizers.evolution.space",
    "OPERATORS": "opto.optimizers.evolution.operators",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'opto.optimizers.evolution' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
