"""Gates a child passes before it is evaluated, cheapest first; each pass and rejection is counted.

1. duplicate: the same values after normalization (code compared by AST dump, so whitespace,
   comments and docstrings do not make a new program) as any child seen before;
2. syntax / signature: every code parameter parses, defines the expected function, with the
   expected arguments; numbers and choices are in range;
3. behaviour: the same outputs on the probe inputs as a program already evaluated (the probes
   run in sandbox workers; see probes.py);
4. cascade (in the search loop): a cheap first stage of the objective must reach a threshold.
"""

from __future__ import annotations

import ast
import hashlib
import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opto.optimizers.evolution.space import SearchSpace, signature_of

GATES = ("duplicate", "syntax", "signature", "behaviour", "cascade")


@dataclass(frozen=True)
class Verdict:
    gate: str
    passed: bool
    reason: str = ""


def normalized(space: SearchSpace, values: Mapping[str, Any]) -> dict[str, Any]:
    """Values with code replaced by its AST dump (docstrings dropped) and text stripped."""
    out: dict[str, Any] = {}
    for name in sorted(values):
        value = values[name]
        kind = space[name].kind if name in space else None
        if kind == "code" and isinstance(value, str):
            out[name] = _ast_key(value)
        elif kind == "text" and isinstance(value, str):
            out[name] = " ".join(value.split())
        elif isinstance(value, float):
            out[name] = float(f"{value:.12g}")
        else:
            out[name] = value
    return out


def _ast_key(source: str) -> str:
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return "unparsable:" + source.strip()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


def values_key(space: SearchSpace, values: Mapping[str, Any]) -> str:
    """A digest of the normalized values: equal keys mean the same child."""
    blob = json.dumps(normalized(space, values), sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class Gates:
    """The gate state of a search: keys seen, behaviours seen, and counts per gate."""

    def __init__(self, space: SearchSpace, probes: Mapping[str, Sequence[Any]] | Sequence[Any] | None = None) -> None:
        self.space = space
        self.probes = _check_probes(space, probes)
        self.seen: set[str] = set()
        self.behaviours: set[str] = set()
        self.counts: dict[str, dict[str, int]] = {g: {"passed": 0, "rejected": 0} for g in GATES}

    def count(self, verdict: Verdict) -> Verdict:
        self.counts[verdict.gate]["passed" if verdict.passed else "rejected"] += 1
        return verdict

    def duplicate(self, key: str) -> Verdict:
        """Gate 1; a key is remembered the first time, so a rejected child is not retried either."""
        if key in self.seen:
            return self.count(Verdict("duplicate", False, "the same values (after normalization) were tried before"))
        self.seen.add(key)
        return self.count(Verdict("duplicate", True))

    def structure(self, values: Mapping[str, Any]) -> Verdict:
        """Gate 2: ranges and types, then each code parameter's syntax, function name and signature."""
        problems = self.space.problems(values)
        if problems:
            return self.count(Verdict("syntax", False, "; ".join(problems)))
        for spec in self.space.of_kind("code"):
            source = textwrap.dedent(str(values[spec.name]))
            try:
                tree = ast.parse(source)
            except SyntaxError as err:
                return self.count(Verdict("syntax", False, f"{spec.name}: line {err.lineno}: {err.msg}"))
            defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            target = next((n for n in defs if n.name == spec.function_name), None)
            if target is None:
                return self.count(Verdict("signature", False, f"{spec.name}: no top-level function "
                                          f"{spec.function_name!r} (found {[n.name for n in defs]})"))
            if spec.signature and signature_of(target) != spec.signature:
                return self.count(Verdict("signature", False, f"{spec.name}: {target.name}{signature_of(target)} "
                                          f"must keep the signature {target.name}{spec.signature}"))
        self.counts["syntax"]["passed"] += 1
        self.counts["signature"]["passed"] += 1
        return Verdict("signature", True)

    def behaviour_key(self, values: Mapping[str, Any], hashes: Mapping[str, str]) -> str:
        """Code parameters by their behaviour hash, everything else by its normalized value."""
        plain = {k: v for k, v in normalized(self.space, values).items() if k not in hashes}
        blob = json.dumps({"code": dict(sorted(hashes.items())), "rest": plain}, sort_keys=True, default=repr)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def behaviour(self, key: str) -> Verdict:
        """Gate 3, given the child's behaviour key (from probe outputs computed in the sandbox)."""
        if key in self.behaviours:
            return self.count(Verdict("behaviour", False, "same outputs on every probe input as an earlier program"))
        self.behaviours.add(key)
        return self.count(Verdict("behaviour", True))

    def count_cascade(self, passed: bool) -> None:
        """Gate 4 is decided in the search loop (it needs an evaluation); counted here with the rest."""
        self.count(Verdict("cascade", passed))

    def probe_task(self) -> dict[str, Any]:
        """The input of the sandbox probe objective (probes.behaviour)."""
        return {"functions": {s.name: s.function_name for s in self.space.of_kind("code") if s.name in self.probes},
                "probes": {k: [list(p) if isinstance(p, tuple) else p for p in v] for k, v in self.probes.items()}}


def _check_probes(space: SearchSpace, probes: Mapping[str, Sequence[Any]] | Sequence[Any] | None
                  ) -> dict[str, list[Any]]:
    if probes is None:
        return {}
    code = [s.name for s in space.of_kind("code")]
    if not isinstance(probes, Mapping):  # one list of probes: for the only code parameter
        if len(code) != 1:
            raise ValueError(f"probes as a list needs exactly one code parameter; pass {{name: [args, ...]}} "
                             f"for the code parameters {code}")
        probes = {code[0]: list(probes)}
    unknown = sorted(set(probes) - set(code))
    if unknown:
        raise ValueError(f"probes name {unknown}, which are not code parameters; code parameters: {code}")
    out: dict[str, list[Any]] = {}
    for name, items in probes.items():
        items = list(items)
        if not items:
            raise ValueError(f"probes[{name!r}] is empty; give at least one input (a tuple of arguments)")
        out[name] = [p if isinstance(p, (tuple, list, dict)) else (p,) for p in items]
    return out
