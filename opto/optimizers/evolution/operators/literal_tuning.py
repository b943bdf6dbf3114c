"""Algorithm configuration of code: tune a program's numeric literals with Optuna's TPE sampler.

A heuristic written with weights (``score - 0.0 * gap ** 2``) has knobs; random perturbation
turns one at a time. This operator treats the literals of the best parent as one vector, fits
TPE to the parents that share its structure (same code once literals are blanked out), and
writes the sampled vector back -- a recombination of the parents' constants guided by their
scores. Stateless like the other Optuna operator: the study is rebuilt from the parents.
"""

from __future__ import annotations

import ast
import math
import textwrap
from collections.abc import Sequence
from typing import Any

from opto.optimizers.evolution.operators import register
from opto.optimizers.evolution.operators.base import OperatorContext, Parent, Proposal, ProposalFailure
from opto.optimizers.evolution.space import SearchSpace


def literals(source: str) -> tuple[str, list[ast.Constant], ast.Module] | None:
    """(structure key, numeric literal nodes in walk order, tree), or None if it does not parse.

    The key is the code with every literal blanked: programs with equal keys differ only in constants.
    """
    try:
        tree = _SignedLiterals().visit(ast.parse(textwrap.dedent(source)))
    except (SyntaxError, ValueError):
        return None
    nodes = [n for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) in (int, float)]
    saved = [n.value for n in nodes]
    for n in nodes:
        n.value = 0
    key = ast.dump(tree)
    for n, v in zip(nodes, saved):
        n.value = v
    return key, nodes, tree


class _SignedLiterals(ast.NodeTransformer):
    """``-2.5`` parses as minus applied to 2.5; fold it into one literal so the sign is tunable too."""

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if (isinstance(node.op, (ast.USub, ast.UAdd)) and isinstance(node.operand, ast.Constant)
                and type(node.operand.value) in (int, float)):
            value: float = node.operand.value  # type: ignore[assignment]
            return ast.copy_location(ast.Constant(-value if isinstance(node.op, ast.USub) else value), node)
        return node


class LiteralTuning:
    """The literals of one code parameter, sampled by TPE from the scored parents of the same structure.

    Up to ``max_literals`` literals, chosen at random, are sampled per child; the others keep the
    best parent's values. Each one's range is the parents' range widened by ``spread`` times its
    size (``zero_width`` around a literal that is 0 in every parent, at least 1 for integers).
    """

    needs_lm = False

    def __init__(self, parents: int = 16, startup: int = 4, spread: float = 0.5, zero_width: float = 0.1,
                 max_literals: int = 2, name: str = "literal_tuning") -> None:
        self.name, self.arity, self.startup, self.spread = name, parents, startup, spread
        self.zero_width, self.max_literals = zero_width, max_literals

    def applies_to(self, space: SearchSpace) -> bool:
        return bool(space.of_kind("code"))

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        scored = [p for p in parents if p.score is not None and math.isfinite(p.score)]
        codes = [s.name for s in ctx.space.of_kind("code")]
        if not scored or not codes:
            return ProposalFailure(self.name, "not_applicable", "needs a scored parent with code")
        best = max(scored, key=lambda p: p.score if p.score is not None else float("-inf"))
        name = codes[0] if len(codes) == 1 else ctx.rng.choice(codes)
        parsed = literals(str(best.values[name]))
        if parsed is None or not parsed[1]:
            return ProposalFailure(self.name, "not_applicable", f"no numeric literal in {name} to tune")
        key, nodes, tree = parsed
        vectors: dict[str, tuple[list[float], float]] = {}
        for p in scored:
            other = literals(str(p.values[name]))
            if other is not None and other[0] == key and p.id not in vectors:
                vectors[p.id] = ([float(n.value) for n in other[1]], float(p.score or 0.0))  # type: ignore[arg-type]
        integer = [type(n.value) is int for n in nodes]
        # a few literals at a time (the rest stay the best parent's): TPE cannot learn many at once
        chosen = sorted(ctx.rng.sample(range(len(nodes)), min(self.max_literals, len(nodes))))
        dists = self._distributions([[v[i] for i in chosen] for v, _ in vectors.values()],
                                    [integer[i] for i in chosen])
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(
            seed=ctx.rng.getrandbits(31), n_startup_trials=self.startup))
        for vector, score in vectors.values():
            params = {f"c{j}": (int(vector[i]) if integer[i] else vector[i]) for j, i in enumerate(chosen)}
            study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=score))
        trial = study.ask(dists)
        for j, i in enumerate(chosen):
            value = trial.params[f"c{j}"]
            nodes[i].value = int(value) if integer[i] else float(f"{value:.6g}")
        values = dict(best.values)
        values[name] = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
        return Proposal(values, self.name, (best.id,))

    def _distributions(self, vectors: list[list[float]], integer: list[bool]) -> dict[str, Any]:
        from optuna.distributions import FloatDistribution, IntDistribution

        dists: dict[str, Any] = {}
        for i, is_int in enumerate(integer):
            column = [v[i] for v in vectors]
            lo, hi = min(column), max(column)
            width = self.spread * max(hi - lo, abs(hi), abs(lo)) or self.zero_width  # a knob at 0: gently
            if is_int:
                width = max(width, 1.0)
            if is_int:
                dists[f"c{i}"] = IntDistribution(math.floor(lo - width), math.ceil(hi + width))
            else:
                dists[f"c{i}"] = FloatDistribution(lo - width, hi + width)
        return dists


register("literal_tuning", LiteralTuning)
