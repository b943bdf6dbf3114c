"""The Optimizer contract every optimizer (LLM-based or evolutionary) implements.

    opt = OptoPrime(parameters, lm=None, memory_size=0)   # trace-opt: OptoPrime(params, llm=...)
    opt.zero_feedback(); opt.backward(output, "feedback"); opt.step()

``propose()`` returns validated new values without touching the parameters, ``update()`` applies
them, ``step()`` is both. Keeping the two apart lets a trainer or a search score a proposal before it
is accepted. The LM is resolved only when first needed, never at construction or import.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from opto.optimizers.lm_adapter import as_lm
from opto.trace.nodes import Node, ParameterNode


class Optimizer:
    """Base class: holds the parameters, the LM, the propagator and the step log.

    parameters: ParameterNodes (a list, or any iterable such as ``model.parameters()``).
    lm: an opto LM (``complete(Request) -> Response``) or a trace-opt ``LLM``/``AbstractModel``;
        ``llm=`` is trace-opt's name for the same argument. None: ``opto.llm.resolve_lm()`` on first use.
    propagator: how backward carries feedback (default: the subclass's ``default_propagator()``).
    config_list: trace-opt's older ``[{"model", "api_key", "base_url"}, ...]``; the first entry is the
        model (``opto.utils.llm.AutoGenLLM``) when no ``lm``/``llm`` is given.
    """

    def __init__(
        self,
        parameters: Iterable[ParameterNode],
        lm: Any = None,
        *args: Any,
        llm: Any = None,
        propagator: Any = None,
        **kwargs: Any,
    ) -> None:
        config_list = kwargs.pop("config_list", None)  # trace-opt's older autogen-style model config
        if config_list is not None and lm is None and llm is None:
            from opto.utils.llm import AutoGenLLM

            llm = AutoGenLLM(config_list=list(config_list))
        if args or kwargs:  # accepted for trace-opt signatures, but a typo must not pass silently
            warnings.warn(f"{type(self).__name__} ignores unknown argument(s) "
                          f"{[*map(repr, args), *sorted(kwargs)]}", stacklevel=3)
        if lm is not None and llm is not None and lm is not llm:
            raise TypeError("pass the model once: lm=... (or trace-opt's llm=...), not both")
        self.parameters: list[ParameterNode] = _check_parameters(parameters)
        self._lm_given: Any = lm if lm is not None else llm
        self._lm: Any = None
        self._propagator = propagator if propagator is not None else self.default_propagator()
        self.log: list[dict[str, Any]] = []

    # -- the model ----------------------------------------------------------------------------
    @property
    def lm(self) -> Any:
        """The opto LM this optimizer calls (resolved with ``resolve_lm()`` the first time it is read)."""
        if self._lm is None:
            if self._lm_given is not None:
                self._lm = as_lm(self._lm_given)
            else:
                from opto.llm import resolve_lm

                self._lm = resolve_lm()
        return self._lm

    @property
    def llm(self) -> Any:
        """trace-opt's name: the model object as it was given, else the resolved LM as trace-opt's ``LLM``
        (callable with ``messages=...``, as trace-opt programs call ``optimizer.llm``)."""
        if self._lm_given is not None:
            return self._lm_given
        wrapper = getattr(self, "_llm_wrapper", None)
        if wrapper is None or wrapper.lm is not self.lm:
            from opto.utils.llm import LLM

            wrapper = self._llm_wrapper = LLM(lm=self.lm)
        return wrapper

    # -- feedback -----------------------------------------------------------------------------
    def default_propagator(self) -> Any:
        """The propagator used when none is given; LLM optimizers want the whole subgraph."""
        from opto.trace.propagators import GraphPropagator

        return GraphPropagator()

    @property
    def propagator(self) -> Any:
        return self._propagator

    @property
    def trace_graph(self) -> Any:
        """The feedback gathered at the parameters, summed (a TraceGraph under GraphPropagator)."""
        from opto.trace.utils import sum_feedback

        return sum_feedback(self.parameters)

    def zero_feedback(self) -> None:
        """Clear the feedback on every parameter (call before each backward)."""
        for p in self.parameters:
            p.zero_feedback()

    def backward(self, node: Node, *args: Any, **kwargs: Any) -> Any:
        """``node.backward(feedback, ...)`` with this optimizer's propagator."""
        if not isinstance(node, Node):
            raise TypeError(
                f"backward needs the output Node of the traced program, got {type(node).__name__}; "
                "wrap values with opto.trace.node(...) or return a node from a bundled function"
            )
        kwargs.setdefault("propagator", self._propagator)
        return node.backward(*args, **kwargs)

    # -- proposing and applying ---------------------------------------------------------------
    def propose(self, *args: Any, **kwargs: Any) -> dict[ParameterNode, Any]:
        """New values for (some of) the parameters, already validated; nothing is applied.

        The base calls ``_step``, the hook trace-opt's custom optimizers implement, so a subclass
        written for trace-opt (only ``_step`` defined) works unchanged.
        """
        return self._step(*args, **kwargs)

    def _step(self, *args: Any, **kwargs: Any) -> dict[ParameterNode, Any]:
        """trace-opt's hook: return {parameter: new value} from the feedback held by the parameters."""
        raise NotImplementedError(f"{type(self).__name__} must implement propose() (or trace-opt's _step())")

    def update(self, values: Mapping[Any, Any]) -> None:
        """Apply ``values`` (keyed by ParameterNode, or by parameter name) to trainable parameters."""
        for key, value in values.items():
            param = self._lookup(key)
            if param.trainable:
                param._set(value)

    def step(self, *args: Any, bypassing: bool = False, verbose: Any = False, **kwargs: Any) -> dict[ParameterNode, Any]:
        """``propose()`` then ``update()``; returns what was proposed (applied unless ``bypassing``)."""
        values = self.propose(*args, verbose=verbose, **kwargs)
        if not bypassing:
            self.update(values)
        return values

    def _lookup(self, key: Any) -> ParameterNode:
        if isinstance(key, ParameterNode):
            for p in self.parameters:
                if p is key:
                    return p
            raise KeyError(f"{key.name} is not one of this optimizer's parameters")
        if isinstance(key, str):
            for p in self.parameters:
                if key in (p.name, p.py_name):
                    return p
            by_base = [p for p in self.parameters if p.name.split(":")[0] == key]
            if len(by_base) == 1:
                return by_base[0]
            names = [p.py_name for p in self.parameters]
            raise KeyError(f"no parameter named {key!r}; this optimizer's parameters are {names}")
        raise TypeError(f"update() keys must be ParameterNodes or parameter names, got {type(key).__name__}")

    # -- checkpoints --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """JSON-serializable state (parameter values by position, plus subclass memory) for checkpoints."""
        return {
            "optimizer": type(self).__name__,
            "parameters": [{"name": p.py_name, "value": _jsonable(p._data)} for p in self.parameters],
            "log_size": len(self.log),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict()`` returned (parameters are matched by position)."""
        values = state.get("parameters", [])
        if len(values) != len(self.parameters):
            raise ValueError(
                f"state has {len(values)} parameters but this optimizer has {len(self.parameters)}; "
                "build the optimizer with the same parameters (same order) as the one that was saved"
            )
        for p, saved in zip(self.parameters, values, strict=True):
            p._set(saved["value"])

    def save(self, path: str | Path) -> None:
        """Write ``state_dict()`` as JSON (trace-opt's method name)."""
        Path(path).write_text(json.dumps(self.state_dict(), indent=1))

    def load(self, path: str | Path) -> None:
        self.load_state_dict(json.loads(Path(path).read_text()))


def _check_parameters(parameters: Iterable[ParameterNode]) -> list[ParameterNode]:
    if isinstance(parameters, Node):
        parameters = [parameters]  # type: ignore[list-item]
    try:
        params = list(parameters)
    except TypeError:
        raise TypeError(
            f"parameters must be a list of ParameterNodes (e.g. [x] or model.parameters()), got "
            f"{type(parameters).__name__}"
        ) from None
    out: list[ParameterNode] = []
    seen: set[int] = set()
    for p in params:
        if not isinstance(p, ParameterNode):
            raise TypeError(
                f"{p!r:.80} is a {type(p).__name__}, not a ParameterNode; create it with "
                "opto.trace.node(value, trainable=True)"
            )
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def _jsonable(value: Any) -> Any:
    """``value`` if JSON can hold it, else its repr (a checkpoint must always be writable)."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


AbstractOptimizer = Optimizer
"""trace-opt's name for the base class (there it only held the parameters; here it is ``Optimizer``)."""
