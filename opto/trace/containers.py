"""Containers that hold parameters: NodeContainer, ParameterContainer, Seq and Map."""

from __future__ import annotations

from collections import UserDict, UserList
from typing import Any

from opto.trace.nodes import ParameterNode

_RESERVED = "__TRACE_RESERVED_"


class NodeContainer:
    """Marker base: an object whose attributes may hold nodes (used by apply_op/to_data)."""


def _bundled_members(obj: Any) -> dict[str, Any]:
    """Trainable bundled methods of ``obj``, found on its class without evaluating properties."""
    from opto.trace.bundle import FunModule

    found: dict[str, Any] = {}
    for klass in reversed(type(obj).__mro__):
        for name, attr in vars(klass).items():
            if isinstance(attr, FunModule) and attr.trainable:
                found[name] = getattr(obj, name)
    return found


class ParameterContainer(NodeContainer):
    """Anything with parameters: ``parameters()`` flattens, ``parameters_dict()`` keeps names."""

    def parameters(self) -> list[ParameterNode]:
        params: list[ParameterNode] = []
        for value in self.parameters_dict().values():
            if isinstance(value, ParameterNode):
                params.append(value)
            elif isinstance(value, ParameterContainer):
                params.extend(value.parameters())
            else:
                raise TypeError(f"unknown parameter type {type(value).__name__}")
        return params

    def parameters_dict(self) -> dict[str, Any]:
        """Attribute name -> ParameterNode or nested ParameterContainer (trainable methods included)."""
        params: dict[str, Any] = {}
        for name, method in _bundled_members(self).items():
            params[name] = method.parameter
        for name, attr in vars(self).items():
            if name.startswith(_RESERVED):
                continue
            if isinstance(attr, (ParameterNode, ParameterContainer)):
                params[name] = attr
        return params

    def named_parameters(self, prefix: str = "") -> dict[str, ParameterNode]:
        """Every parameter under a stable dotted path, e.g. ``"agent.prompt"`` (PyTorch-style)."""
        out: dict[str, ParameterNode] = {}
        stack: list[tuple[str, Any]] = [(prefix, self)]
        seen: set[int] = set()
        while stack:
            path, container = stack.pop()
            if id(container) in seen:
                continue
            seen.add(id(container))
            for name, value in container.parameters_dict().items():
                key = f"{path}.{name}" if path else str(name)
                if isinstance(value, ParameterNode):
                    out[key] = value
                else:
                    stack.append((key, value))
        return dict(sorted(out.items()))

    def set_parameter_values(self, values: dict[str, Any]) -> None:
        """Set parameters by ``named_parameters()`` path; unknown names are an error listing valid ones."""
        params = self.named_parameters()
        unknown = sorted(set(values) - set(params))
        if unknown:
            raise KeyError(f"unknown parameter name(s) {unknown}; this module has {sorted(params)}")
        for key, value in values.items():
            params[key]._set(value)


class Seq(UserList, ParameterContainer):
    """A list that is also a ParameterContainer (parameters are the items that are parameters)."""

    def __init__(self, *args: Any) -> None:
        if len(args) == 1 and hasattr(args[0], "__len__") and hasattr(args[0], "__getitem__"):
            seq = args[0]
        else:
            seq = args
        super().__init__(initlist=seq)

    def parameters_dict(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for i, item in enumerate(self.data):
            if isinstance(item, ParameterNode):
                params[item.name] = item
            elif isinstance(item, ParameterContainer):
                params[str(i)] = item
        return params


class Map(UserDict, ParameterContainer):
    """A dict that is also a ParameterContainer (values, and keys, that are parameters)."""

    def __init__(self, mapping: Any) -> None:
        super().__init__(mapping)

    def parameters_dict(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for k, v in self.data.items():
            if isinstance(v, (ParameterNode, ParameterContainer)):
                params[str(k.name if isinstance(k, ParameterNode) else k)] = v
            if isinstance(k, ParameterNode):
                params[k.name] = k
            elif isinstance(k, ParameterContainer):
                raise TypeError("the key of a Map cannot be a container")
        return params
