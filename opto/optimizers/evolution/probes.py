"""Functional hashing in the sandbox: run each code parameter on fixed probe inputs, hash the outputs.

This module is what sandbox workers import (``opto.optimizers.evolution.probes:behaviour``); the
search process never calls candidate code itself. Two children with the same outputs on every
probe behave the same, so only the first is evaluated (Unified Functional Hashing).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from opto.records import Outcome

OBJECTIVE = "opto.optimizers.evolution.probes:behaviour"


def behaviour(values: Mapping[str, Any], task: Mapping[str, Any]) -> Outcome:
    """task: {"functions": {param: function name}, "probes": {param: [args, ...]}} -> hashes per param."""
    from opto.runtime import load_function

    hashes: dict[str, str] = {}
    for name, function_name in task["functions"].items():
        probes = task["probes"].get(name, [])
        try:
            fn = load_function(str(values[name]), function_name)
        except Exception as err:  # noqa: BLE001 - a child that does not load behaves as "does not load"
            hashes[name] = _digest([f"load error: {type(err).__name__}"])
            continue
        outputs = []
        for probe in probes:
            args = copy.deepcopy(probe)
            try:
                out = fn(**args) if isinstance(args, dict) else fn(*args)
                outputs.append(_canonical(out))
            except Exception as err:  # noqa: BLE001
                outputs.append(f"raised {type(err).__name__}")
        hashes[name] = _digest(outputs)
    return Outcome(score=0.0, artifacts={"behaviour": hashes})


def _canonical(value: Any) -> Any:
    """A JSON-stable form; floats rounded to 9 significant digits so noise in the last bit is ignored."""
    if isinstance(value, float):
        return float(f"{value:.9g}") if math.isfinite(value) else repr(value)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _canonical(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return repr(value)


def _digest(outputs: list[Any]) -> str:
    return hashlib.sha256(json.dumps(outputs, sort_keys=True, default=repr).encode()).hexdigest()[:24]
