"""The user objective: how it is named, shipped to workers, called, and what it may return.

An objective is given as an importable reference (``"package.module:function"``) or a picklable
callable, so a worker process (local or on a Ray node) can rebuild it without sharing memory with
the run. Optionally it names a program (a trace ``Module`` or a zero-arg factory returning one);
the worker builds that once per process and applies each candidate's values to it.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import numbers
import pickle
from collections.abc import Callable, Mapping
from typing import Any

from opto.records import EvalResult, Outcome

Ref = str | Callable[..., Any]


class InvalidReturn(Exception):
    """The objective returned something that is not a score, (score, feedback), dict or Outcome."""


@dataclasses.dataclass(frozen=True)
class Objective:
    """What a worker calls for each candidate.

    fn: ``"module:function"`` or a picklable callable. Called as ``fn(values)`` — or
      ``fn(program)`` when ``program`` is set — plus the task input as a second argument when the
      evaluation has one.
    program: optional ``"module:attr"`` (or callable) naming a trace Module instance or a zero-arg
      factory returning one; each worker builds it once and calls
      ``program.set_parameter_values(candidate.values)`` before every call of ``fn``.
    """

    fn: Ref
    program: Ref | None = None

    def __post_init__(self) -> None:
        for field, ref in (("fn", self.fn), ("program", self.program)):
            if ref is None and field == "program":
                continue
            if isinstance(ref, str):
                _check_ref_syntax(ref, field)
            elif not callable(ref) and not hasattr(ref, "set_parameter_values"):
                raise TypeError(
                    f"Objective.{field} must be 'module:attr' or a callable, got {type(ref).__name__}"
                )

    @classmethod
    def coerce(cls, value: Objective | Ref) -> Objective:
        """Accept an Objective, a 'module:function' string or a callable."""
        return value if isinstance(value, Objective) else cls(value)

    def validate(self) -> None:
        """Fail early, in the run process, if a string reference does not resolve."""
        for ref in (self.fn, self.program):
            if isinstance(ref, str):
                resolve_ref(ref)

    def dumps(self) -> bytes:
        """Pickle for a worker; cloudpickle (if installed) also ships lambdas and __main__ functions."""
        try:
            import cloudpickle  # type: ignore[import-not-found]

            return cloudpickle.dumps(self)
        except ImportError:
            pass
        for ref in (self.fn, self.program):
            module = ref.partition(":")[0] if isinstance(ref, str) else getattr(ref, "__module__", None)
            if module == "__main__":
                raise TypeError(
                    f"the objective {getattr(ref, '__qualname__', ref)!r} is defined in __main__, which worker "
                    "processes cannot import; move it into a module and pass 'module:function', or install cloudpickle"
                )
        try:
            return pickle.dumps(self)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError(
                f"the objective cannot be sent to a worker process ({exc}); define it at module top "
                "level and pass it as 'module:function', or install cloudpickle"
            ) from exc


def _check_ref_syntax(ref: str, field: str) -> None:
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise ValueError(f"Objective.{field}={ref!r} must look like 'package.module:attribute'")


def resolve_ref(ref: Ref) -> Any:
    """Import ``module:attr`` (attr may be dotted); return a non-string unchanged."""
    if not isinstance(ref, str):
        return ref
    module_name, _, attr = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(
            f"cannot import module {module_name!r} of reference {ref!r}: {exc}; "
            "make it importable from the run's sys.path (workers inherit it)"
        ) from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no attribute {attr!r} (reference {ref!r})") from None
    return obj


def build_program(ref: Ref) -> Any:
    """A Module instance from a reference to an instance or a zero-arg factory."""
    obj = resolve_ref(ref)
    if not hasattr(obj, "set_parameter_values"):
        obj = obj() if callable(obj) else obj
    if not hasattr(obj, "set_parameter_values"):
        raise TypeError(
            f"program {ref!r} gave a {type(obj).__name__}, which has no set_parameter_values(); "
            "point it at an opto.trace Module instance or a zero-arg function returning one"
        )
    return obj


def _as_score(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidReturn(f"{what} must be a number, got {type(value).__name__}: {_short(value)}")
    score = float(value)
    if not math.isfinite(score):  # the run store (JSON, SQL) cannot keep it, and it breaks ranking
        kind = "NaN" if math.isnan(score) else f"infinite ({score!r})"
        raise InvalidReturn(f"{what} is {kind}; return a finite number (raise to report a failed candidate)")
    return score


def _as_scores(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise InvalidReturn(f"scores must be a non-empty dict of name -> number, got {_short(value)}")
    return {str(k): _as_score(v, f"score {k!r}") for k, v in value.items()}


def _short(value: Any, limit: int = 200) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ is itself garbage
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


Normalized = tuple[float, dict[str, float], str, dict[str, Any]]
_DICT_KEYS = {"score", "scores", "feedback", "artifacts"}


def normalize_return(value: Any) -> Normalized:
    """Turn what an objective returned into (score, scores, feedback, artifacts) or InvalidReturn.

    Accepted: a number; ``(score, feedback)`` where score may be a dict of named scores; a dict
    with keys among score/scores/feedback/artifacts (or a dict of only numbers: named scores); an
    Outcome or EvalResult-like object with those attributes.
    """
    score: Any = None
    scores: Any = None
    feedback: Any = ""
    artifacts: Any = None
    if value is None:
        raise InvalidReturn("the objective returned None; return a number, (score, feedback), a dict or an Outcome")
    if isinstance(value, tuple):
        if len(value) != 2:
            raise InvalidReturn(f"a tuple return must be (score, feedback), got {len(value)} items")
        head, feedback = value
        if isinstance(head, Mapping):
            scores = head
        else:
            score = head
    elif isinstance(value, Mapping):
        keys = set(map(str, value))
        if keys and keys <= _DICT_KEYS:
            score, scores = value.get("score"), value.get("scores")
            feedback, artifacts = value.get("feedback", ""), value.get("artifacts")
        elif keys and all(isinstance(v, numbers.Real) for v in value.values()):
            scores = value
        else:
            raise InvalidReturn(
                f"a dict return needs keys among {sorted(_DICT_KEYS)} (or only numeric values), got {sorted(keys)}"
            )
    elif isinstance(value, (Outcome, EvalResult)) or hasattr(value, "scores") or hasattr(value, "score"):
        score, scores = getattr(value, "score", None), getattr(value, "scores", None)
        feedback, artifacts = getattr(value, "feedback", ""), getattr(value, "artifacts", None)
    else:
        score = value
    named = _as_scores(scores) if scores is not None else {}
    if score is None and not named:
        raise InvalidReturn(f"no score in the returned value {_short(value)}")
    primary = _as_score(score, "score") if score is not None else next(iter(named.values()))
    if score is not None and "score" not in named:
        named = {"score": primary, **named}
    if feedback is None:
        feedback = ""
    if not isinstance(feedback, str):
        raise InvalidReturn(f"feedback must be a str, got {type(feedback).__name__}")
    if artifacts is None:
        artifacts = {}
    if not isinstance(artifacts, Mapping):
        raise InvalidReturn(f"artifacts must be a dict, got {type(artifacts).__name__}")
    return primary, named, feedback, {str(k): v for k, v in artifacts.items()}
