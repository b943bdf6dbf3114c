"""The search space: which ParameterNodes a search varies, and what kind of value each one holds.

Operators never touch ParameterNodes; they see plain values keyed by parameter name and a
ParamSpec per name (kind, bounds or choices, a code parameter's function name and signature).
Specs are inferred from the current values and refined by the user's ``space=`` overrides or a
parameter's ``info["search"]`` dict, e.g. ``{"low": 0.0, "high": 1.0, "log": False}`` or
``{"choices": ["a", "b"]}``.
"""

from __future__ import annotations

import ast
import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ParamKind = Literal["code", "text", "number", "integer", "categorical"]
PARAM_KINDS: tuple[str, ...] = ("code", "text", "number", "integer", "categorical")
_SPEC_KEYS = ("kind", "low", "high", "log", "choices", "function_name", "signature")


class SpaceError(ValueError):
    """A parameter cannot be searched as given; the message names the parameter and the fix."""


@dataclass(frozen=True)
class ParamSpec:
    """One searchable parameter: its name in candidate values, kind, and the range operators may use."""

    name: str
    kind: ParamKind
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()
    function_name: str | None = None  # code: the top-level function the objective loads
    signature: str | None = None  # code: "(item, bins)" -- children must keep it

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not valid for this parameter (None when it is); cheap, no code is run."""
        if self.kind in ("code", "text"):
            if not isinstance(value, str):
                return f"{self.name}: expected text, got {type(value).__name__}"
            return None
        if self.kind == "categorical":
            return None if value in self.choices else f"{self.name}: {value!r} is not one of {list(self.choices)}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{self.name}: expected a number, got {type(value).__name__}"
        if self.kind == "integer" and not float(value).is_integer():
            return f"{self.name}: expected an integer, got {value!r}"
        if not math.isfinite(float(value)):
            return f"{self.name}: {value!r} is not finite"
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            return f"{self.name}: {value!r} is outside [{self.low}, {self.high}]"
        return None


@dataclass(frozen=True)
class SearchSpace:
    """The ordered specs of a search; ``names`` fixes the order used for vectors and hashing."""

    specs: tuple[ParamSpec, ...]
    _by_name: Mapping[str, ParamSpec] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, ParamSpec] = {}
        for spec in self.specs:
            if spec.name in by_name:
                raise SpaceError(f"two parameters share the name {spec.name!r}; give them distinct names")
            by_name[spec.name] = spec
        object.__setattr__(self, "_by_name", by_name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    def __getitem__(self, name: str) -> ParamSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no parameter {name!r} in the search space; it has {list(self.names)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Any:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def of_kind(self, *kinds: str) -> tuple[ParamSpec, ...]:
        return tuple(s for s in self.specs if s.kind in kinds)

    def problems(self, values: Mapping[str, Any]) -> list[str]:
        """Everything wrong with a full set of values (missing/unknown names, bad values)."""
        out = [f"missing value for {n!r}" for n in self.names if n not in values]
        out += [f"unknown parameter {n!r}" for n in values if n not in self._by_name]
        out += [p for n, v in values.items() if n in self._by_name and (p := self._by_name[n].check(v))]
        return out

    def to_dict(self) -> list[dict[str, Any]]:
        """JSON form, kept in the run config so a resume can check it searches the same space."""
        return [
            {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(s).items() if not _is_unset(v)}
            for s in self.specs
        ]

    @classmethod
    def from_values(cls, values: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]] | None = None,
                    ) -> SearchSpace:
        """Specs inferred from plain values (name -> value), refined by ``overrides``."""
        overrides = dict(overrides or {})
        unknown = sorted(set(overrides) - set(values))
        if unknown:
            raise SpaceError(f"space overrides name unknown parameter(s) {unknown}; known: {sorted(values)}")
        return cls(tuple(infer_spec(name, value, overrides.get(name)) for name, value in values.items()))


def _is_unset(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, tuple) and not value)


def infer_spec(name: str, value: Any, override: Mapping[str, Any] | None = None) -> ParamSpec:
    """A spec from a current value: code if it parses to a function, numbers get a default range."""
    override = dict(override or {})
    bad = sorted(set(override) - set(_SPEC_KEYS))
    if bad:
        raise SpaceError(f"parameter {name!r}: unknown space key(s) {bad}; use some of {list(_SPEC_KEYS)}")
    kind = override.get("kind")
    if kind is not None and kind not in PARAM_KINDS:
        raise SpaceError(f"parameter {name!r}: kind {kind!r} is not one of {list(PARAM_KINDS)}")
    if "choices" in override:
        choices = tuple(override["choices"])
        if len(choices) < 2:
            raise SpaceError(f"parameter {name!r}: choices needs at least two values, got {list(choices)}")
        if value not in choices:
            raise SpaceError(f"parameter {name!r}: current value {value!r} is not among choices {list(choices)}")
        return ParamSpec(name, "categorical", choices=choices)
    if isinstance(value, bool):
        return ParamSpec(name, "categorical", choices=(False, True))
    if isinstance(value, (int, float)):
        spec = _numeric_spec(name, value, kind, override)
        if not (spec.low is not None and spec.high is not None and spec.low <= value <= spec.high):
            raise SpaceError(f"parameter {name!r}: current value {value!r} is outside [{spec.low}, {spec.high}]")
        return spec
    if isinstance(value, str):
        fn = function_def(value)
        if kind == "text" or (kind is None and fn is None):
            return ParamSpec(name, "text")
        if fn is None:
            raise SpaceError(f"parameter {name!r} is declared code but does not parse to a function; fix its source")
        return ParamSpec(name, "code", function_name=override.get("function_name", fn.name),
                         signature=override.get("signature", signature_of(fn)))
    raise SpaceError(
        f"parameter {name!r} holds a {type(value).__name__}; evolution searches code, text, numbers and "
        "choices -- give it a space override with 'choices', or leave it out of the parameters"
    )


def _numeric_spec(name: str, value: float, kind: str | None, override: Mapping[str, Any]) -> ParamSpec:
    integer = kind == "integer" or (kind is None and isinstance(value, int))
    width = 2.0 * max(abs(float(value)), 1.0)  # default range when none is given: value +- 2*max(|v|, 1)
    low = override.get("low", value - width)
    high = override.get("high", value + width)
    if not (isinstance(low, (int, float)) and isinstance(high, (int, float)) and low < high):
        raise SpaceError(f"parameter {name!r}: need numbers low < high, got low={low!r} high={high!r}")
    log = bool(override.get("log", False))
    if log and low <= 0:
        raise SpaceError(f"parameter {name!r}: log=True needs low > 0, got {low!r}")
    if integer:
        return ParamSpec(name, "integer", low=math.floor(low), high=math.ceil(high), log=log)
    return ParamSpec(name, "number", low=float(low), high=float(high), log=log)


def function_def(source: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The last top-level function of ``source`` (the one ``load_function`` returns), or None."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return None
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return defs[-1] if defs else None


def signature_of(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The argument list as text without annotations or defaults' values, e.g. ``"(item, bins, *, k=...)"``."""
    a = fn.args
    parts: list[str] = [p.arg for p in a.posonlyargs]
    if a.posonlyargs:
        parts.append("/")
    n_defaults = len(a.defaults)
    plain = a.args
    for i, p in enumerate(plain):
        has_default = i >= len(plain) - n_defaults
        parts.append(p.arg + ("=..." if has_default else ""))
    if a.vararg:
        parts.append("*" + a.vararg.arg)
    elif a.kwonlyargs:
        parts.append("*")
    for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        parts.append(p.arg + ("=..." if d is not None else ""))
    if a.kwarg:
        parts.append("**" + a.kwarg.arg)
    return "(" + ", ".join(parts) + ")"


# -- from ParameterNodes -------------------------------------------------------------------------


def named_parameters(parameters: Any) -> dict[str, Any]:
    """Name -> ParameterNode from a list of nodes/trainable bundles, a mapping, or a trace Module.

    Names: a Module's dotted ``named_parameters()`` paths; a mapping's keys; in a list, a bundle's
    code parameter is named for its function (``priority``), any other node by its ``py_name``.
    """
    from opto.trace.nodes import ParameterNode

    if hasattr(parameters, "named_parameters"):
        return dict(parameters.named_parameters())
    if isinstance(parameters, Mapping):
        items = list(parameters.items())
    else:
        items = [(None, p) for p in _as_list(parameters)]
    nodes: list[tuple[str | None, Any]] = []
    for key, p in items:
        node = p if isinstance(p, ParameterNode) else getattr(p, "parameter", p)
        if not isinstance(node, ParameterNode):
            raise SpaceError(f"expected ParameterNodes or trainable bundles, got {type(p).__name__}")
        if not any(n is node for _, n in nodes):
            nodes.append((key, node))
    bases = [key if key is not None else _default_name(n) for key, n in nodes]
    out: dict[str, Any] = {}
    for (key, node), base in zip(nodes, bases):
        name = base if key is not None or bases.count(base) == 1 else str(node.py_name)
        if name in out:
            raise SpaceError(f"two parameters share the name {name!r}; pass a dict name -> parameter")
        out[str(name)] = node
    if not out:
        raise SpaceError("no parameters to search; pass ParameterNodes (e.g. model.parameters())")
    return out


def _as_list(parameters: Any) -> list[Any]:
    if isinstance(parameters, (str, bytes)) or not isinstance(parameters, Iterable):
        return [parameters]
    return list(parameters)


def _default_name(node: Any) -> str:
    if node.name.startswith("__code") and isinstance(node._data, str):
        fn = function_def(node._data)
        if fn is not None:
            return fn.name
    return str(node.name).split(":")[0]


def space_for(nodes: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]] | None = None) -> SearchSpace:
    """The space of named ParameterNodes; a node's ``info["search"]`` refines its spec."""
    merged: dict[str, dict[str, Any]] = {}
    for name, node in nodes.items():
        info = node.info if isinstance(node.info, dict) else {}
        spec = dict(info.get("search", {}) or {})
        if node.name.startswith("__code"):
            spec.setdefault("kind", "code")
        merged[name] = {**spec, **dict((overrides or {}).get(name, {}))}
    return SearchSpace.from_values({n: node._data for n, node in nodes.items()}, merged)


__all__: Sequence[str] = [
    "PARAM_KINDS",
    "ParamKind",
    "ParamSpec",
    "SearchSpace",
    "SpaceError",
    "function_def",
    "infer_spec",
    "named_parameters",
    "signature_of",
    "space_for",
]
