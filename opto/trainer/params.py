"""The trainable parameters of a model, under stable names, and their values as JSON data.

Names are what the run store keeps (``param_values``) and what a resumed run matches on, so they
come from the module's attribute paths (``named_parameters()``), never from graph node ids.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from opto.records import to_jsonable
from opto.trace.nodes import ParameterNode

Values = dict[str, Any]


class ParameterSet:
    """name -> ParameterNode for one model; reads and writes values without tracing."""

    def __init__(self, nodes: Mapping[str, ParameterNode]) -> None:
        if not nodes:
            raise ValueError(
                "the model has no trainable parameters; mark one with trace.node(value, trainable=True), "
                "@bundle(trainable=True), or pass parameters=[...] to train()"
            )
        self.nodes = dict(nodes)
        self._names = {id(p): name for name, p in self.nodes.items()}

    @classmethod
    def of(cls, model: Any, parameters: Iterable[ParameterNode] | None = None) -> ParameterSet:
        if parameters is not None:
            return cls(_named(list(parameters)))
        named = getattr(model, "named_parameters", None)
        if callable(named):
            return cls({k: p for k, p in named().items() if p.trainable})
        params = getattr(model, "parameters", None)
        if callable(params):
            return cls(_named([p for p in params() if p.trainable]))
        raise TypeError(
            f"cannot find the parameters of a {type(model).__name__}: pass a @trace.model instance, a @bundle "
            "function, or parameters=[...] with the ParameterNodes to train"
        )

    def name(self, node: ParameterNode) -> str:
        try:
            return self._names[id(node)]
        except KeyError:
            raise KeyError(f"{node.name} is not a parameter of the model being trained") from None

    def values(self) -> Values:
        """A deep copy of the current values (JSON-checked, so the store can keep them)."""
        vals = {k: copy.deepcopy(p._data) for k, p in self.nodes.items()}
        to_jsonable(vals, "parameter values")
        return vals

    def set(self, values: Mapping[str, Any]) -> None:
        unknown = sorted(set(values) - set(self.nodes))
        if unknown:
            raise KeyError(f"unknown parameter name(s) {unknown}; the model has {sorted(self.nodes)}")
        for k, v in values.items():
            self.nodes[k]._set(copy.deepcopy(v))

    def by_name(self, update: Mapping[ParameterNode, Any]) -> Values:
        """An optimizer's ``{node: value}`` as ``{name: value}``."""
        return {self.name(node): value for node, value in update.items()}

    def by_node(self, values: Mapping[str, Any]) -> dict[ParameterNode, Any]:
        return {self.nodes[k]: v for k, v in values.items()}


def _named(params: list[ParameterNode]) -> dict[str, ParameterNode]:
    out: dict[str, ParameterNode] = {}
    for p in params:
        if not isinstance(p, ParameterNode):
            raise TypeError(f"parameters=[...] must hold ParameterNodes, got a {type(p).__name__}")
        base = p.name.split(":")[0]
        name, i = base, 1
        while name in out:
            name, i = f"{base}.{i}", i + 1
        out[name] = p
    return out
