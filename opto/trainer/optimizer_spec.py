"""Which optimizer trains the model: an instance, a class, or a name, built on the model's parameters."""

from __future__ import annotations

from typing import Any

from opto.trainer.params import ParameterSet

OPTIMIZER_NAMES = {"optoprime": "OptoPrime", "optoprime_multi": "OptoPrimeMulti", "opro": "OPRO",
                   "textgrad": "TextGrad"}


def build_optimizer(spec: Any, params: ParameterSet, lm: Any = None) -> Any:
    """An optimizer over ``params``; an instance given by the user must hold exactly those nodes."""
    nodes = list(params.nodes.values())
    if spec is None:
        spec = "optoprime"
    if isinstance(spec, str):
        key = spec.lower()
        if key not in OPTIMIZER_NAMES:
            raise ValueError(f"unknown optimizer {spec!r}; use one of {sorted(OPTIMIZER_NAMES)}, a class or an instance")
        import opto.optimizers as optimizers

        spec = getattr(optimizers, OPTIMIZER_NAMES[key])
    if isinstance(spec, type):
        return spec(nodes, lm=lm)
    missing = [n for n in getattr(spec, "parameters", []) if all(n is not p for p in nodes)]
    for attr in ("zero_feedback", "backward", "propose", "update"):
        if not callable(getattr(spec, attr, None)):
            raise TypeError(f"optimizer must implement the Optimizer contract; {type(spec).__name__} has no {attr}()")
    if missing:
        raise ValueError(
            f"the optimizer holds parameters the model does not ({[n.name for n in missing]}); build it from "
            "the model's parameters, e.g. OptoPrime(model.parameters())"
        )
    return spec


def operator_name(optimizer: Any) -> str:
    return type(optimizer).__name__.lower()


def calls_per_step(optimizer: Any) -> int:
    """Most LLM calls one proposal makes: samples (OptoPrimeMulti's ``num_responses``) times two when the
    reply is structured (the LLM layer may send one repair turn); 1 unless the optimizer says more."""
    n = getattr(optimizer, "calls_per_step", None) or getattr(optimizer, "num_responses", None) or 1
    n = int(n) if isinstance(n, int) and n > 0 else 1
    return 2 * n if getattr(optimizer, "structured", False) is True else n
