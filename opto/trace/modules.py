"""Module and ``@model``: user classes whose parameters an optimizer can find, save and load.

Parameters are saved as JSON (code stays readable text). trace-opt pickles them, and unpickling a
file from elsewhere can run arbitrary code; opto never unpickles parameter files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from opto.trace.broadcast import apply_op
from opto.trace.containers import NodeContainer, ParameterContainer
from opto.trace.nodes import ParameterNode

FORMAT = "opto-parameters"
VERSION = 1


def model(cls: type) -> type:
    """Class decorator: instances become Modules (``parameters()``, ``save``, ``load``)."""

    class ModelWrapper(cls, Module):  # type: ignore[valid-type, misc]
        pass

    ModelWrapper.__name__ = cls.__name__
    ModelWrapper.__qualname__ = cls.__qualname__
    ModelWrapper.__doc__ = cls.__doc__
    ModelWrapper.__module__ = cls.__module__
    return ModelWrapper


def _encode(path: str, value: Any) -> Any:
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(path, v) for v in value]}
    if isinstance(value, list):
        return [_encode(path, v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"parameter {path!r}: dict keys must be str to save as JSON")
        return {k: _encode(path, v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"parameter {path!r} holds a {type(value).__name__}, which cannot be saved as JSON; "
                    "keep parameters to str/int/float/bool/None/list/tuple/dict")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v) for v in value["__tuple__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class Module(ParameterContainer):
    """A ParameterContainer with a ``forward``; calling it calls forward."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def save(self, file_name: str | os.PathLike) -> None:
        """Write every parameter's value as JSON, keyed by its ``named_parameters()`` path."""
        path = Path(file_name)
        if path.parent != Path(""):
            path.parent.mkdir(parents=True, exist_ok=True)
        params = {k: _encode(k, p._data) for k, p in self.named_parameters().items()}
        payload = {"format": FORMAT, "version": VERSION, "parameters": params}
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)

    def load(self, file_name: str | os.PathLike) -> None:
        """Read values written by ``save``; the file's names must match this module's exactly."""
        path = Path(file_name)
        raw = path.read_bytes()
        if raw[:1] == b"\x80":
            raise ValueError(f"{path} is a pickle file (trace-opt's format); opto never unpickles parameter "
                             "files because that can run arbitrary code. Re-save it with opto's Module.save()")
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path} is not an opto parameter file (invalid JSON: {err})") from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"{path} is not an opto parameter file (missing 'format': '{FORMAT}')")
        if payload.get("version") != VERSION:
            raise ValueError(f"{path} has parameter-file version {payload.get('version')}; "
                             f"this opto reads version {VERSION}")
        stored = payload.get("parameters", {})
        params = self.named_parameters()
        missing, unexpected = sorted(set(params) - set(stored)), sorted(set(stored) - set(params))
        if missing or unexpected:
            raise ValueError(f"parameters in {path} do not match {type(self).__name__}: "
                             f"missing from file {missing}, not in this module {unexpected}")
        for key, value in stored.items():
            params[key]._set(_decode(value))

    def _set(self, new_parameters: dict[str, Any] | ParameterContainer) -> None:
        """Copy values from another container or a ``parameters_dict()``-shaped dict (trace-opt API)."""
        if isinstance(new_parameters, ParameterContainer):
            new_parameters = new_parameters.parameters_dict()
        if not isinstance(new_parameters, dict):
            raise TypeError("_set needs a dict of parameters or a ParameterContainer")
        current = self.parameters_dict()
        missing = sorted(set(current) - set(new_parameters))
        if missing:
            raise ValueError(f"new parameters lack {missing}")
        for key, value in new_parameters.items():
            if key in current:
                target = current[key]
                if isinstance(target, ParameterNode):
                    target._set(value)
                elif isinstance(target, Module) and isinstance(value, (dict, ParameterContainer)):
                    target._set(value)
                else:
                    raise TypeError(f"cannot set {key!r} from a {type(value).__name__}")
            else:
                setattr(self, key, value)


__all__ = ["Module", "model", "NodeContainer", "apply_op"]
