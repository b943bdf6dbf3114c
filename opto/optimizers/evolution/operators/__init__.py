"""The operator registry: a name in the search config -> a factory that builds the operator.

Each operator module registers itself with one ``register`` call; the registry imports no
operator module eagerly (LLM operators pull in prompt handling), so ``OPERATORS`` is filled on
first use from the modules listed in ``_BUILTIN_MODULES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from opto.optimizers.evolution.operators.base import (
    Operator,
    OperatorContext,
    Parent,
    Proposal,
    ProposalFailure,
    Rejection,
)

# Modules whose import registers operators; a missing one (not written yet) is skipped.
_BUILTIN_MODULES = (
    "opto.optimizers.evolution.operators.numeric",
    "opto.optimizers.evolution.operators.ast_ops",
    "opto.optimizers.evolution.operators.literal_tuning",
    "opto.optimizers.evolution.operators.llm_eoh",
    "opto.optimizers.evolution.operators.llm_funsearch",
    "opto.optimizers.evolution.operators.llm_diff",
    "opto.optimizers.evolution.operators.llm_text",
    "opto.optimizers.evolution.operators.trace_guided",
)


class _Registry(MutableMapping[str, Callable[..., Operator]]):
    """A dict that loads the built-in operator modules the first time it is read."""

    def __init__(self) -> None:
        self._factories: dict[str, Callable[..., Operator]] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in _BUILTIN_MODULES:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as err:
                if err.name != module:  # the module exists but one of its imports is missing
                    raise

    def __getitem__(self, name: str) -> Callable[..., Operator]:
        self._load()
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(sorted(self._factories)) or "none"
            raise KeyError(f"unknown operator {name!r}; known operators: {known}") from None

    def __setitem__(self, name: str, factory: Callable[..., Operator]) -> None:
        self._factories[name] = factory

    def __delitem__(self, name: str) -> None:
        del self._factories[name]

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(sorted(self._factories))

    def __len__(self) -> int:
        self._load()
        return len(self._factories)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._factories


OPERATORS: MutableMapping[str, Callable[..., Operator]] = _Registry()


def register(name: str, factory: Callable[..., Operator]) -> None:
    """Register an operator factory under ``name`` (one line per operator in its own module)."""
    OPERATORS[name] = factory


def build_operator(name: str, **options: Any) -> Operator:
    """Build the operator registered as ``name`` with the given options."""
    return OPERATORS[name](**options)


__all__ = [
    "OPERATORS",
    "Operator",
    "OperatorContext",
    "Parent",
    "Proposal",
    "ProposalFailure",
    "Rejection",
    "build_operator",
    "register",
]
