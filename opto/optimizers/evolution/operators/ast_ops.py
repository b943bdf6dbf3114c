"""Code operators that need no LLM: perturb a numeric literal, or swap one operator for its sibling.

They work on the syntax tree (``ast``), so a child always parses and keeps the function's name
and signature; comments are lost in ``ast.unparse``, which is the price of never breaking syntax.
"""

from __future__ import annotations

import ast
import math
import random
import textwrap
from collections.abc import Callable, Sequence

from opto.optimizers.evolution.operators import register
from opto.optimizers.evolution.operators.base import OperatorContext, Parent, Proposal, ProposalFailure
from opto.optimizers.evolution.space import SearchSpace

_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div, ast.FloorDiv), ast.Div: (ast.Mult, ast.FloorDiv),
    ast.FloorDiv: (ast.Div,), ast.Pow: (ast.Mult,), ast.Mod: (ast.FloorDiv,),
    ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Gt: (ast.GtE, ast.Lt), ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.And: (ast.Or,), ast.Or: (ast.And,),
}
_NAME_SWAPS = {"min": "max", "max": "min"}


def _code_params(space: SearchSpace) -> list[str]:
    return [s.name for s in space.of_kind("code")]


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return None


class _AstOperator:
    arity = 1
    needs_lm = False
    name = "ast"

    def applies_to(self, space: SearchSpace) -> bool:
        return bool(_code_params(space))

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure:
        parent = parents[0]
        names = _code_params(ctx.space)
        if not names:
            return ProposalFailure(self.name, "not_applicable", "no code parameters")
        for name in ctx.rng.sample(names, len(names)):  # the first code parameter that has a site
            tree = _parse(str(parent.values[name]))
            if tree is None:
                continue
            sites = self._sites(tree)
            if not sites:
                continue
            ctx.rng.choice(sites)(ctx.rng)
            values = dict(parent.values)
            values[name] = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
            return Proposal(values, self.name, (parent.id,))
        return ProposalFailure(self.name, "not_applicable", f"no {self.what} in the code to change")

    what = "site"

    def _sites(self, tree: ast.Module) -> list[Callable[[random.Random], None]]:
        raise NotImplementedError


class LiteralPerturbation(_AstOperator):
    """Change one numeric constant: integers by a small step or doubling, floats by a log-normal factor.

    sigma: spread of the log-normal factor; zero_scale: standard deviation of the new value of a 0.0.
    """

    what = "numeric literal"

    def __init__(self, sigma: float = 0.5, zero_scale: float = 0.1, name: str = "ast_perturb") -> None:
        self.name, self.sigma, self.zero_scale = name, sigma, zero_scale

    def _sites(self, tree: ast.Module) -> list[Callable[[random.Random], None]]:
        def perturb(node: ast.Constant) -> Callable[[random.Random], None]:
            return lambda rng: setattr(node, "value", self._perturb(node.value, rng))  # type: ignore[arg-type]

        return [perturb(n) for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) in (int, float)]

    def _perturb(self, value: int | float, rng: random.Random) -> int | float:
        if isinstance(value, int):
            if rng.random() < 0.25 and value not in (0, 1):
                return value * 2 if rng.random() < 0.5 else value // 2
            return value + rng.choice((-2, -1, 1, 2))
        if value == 0 or not math.isfinite(value):  # a zero weight is switched on gently
            return float(f"{rng.gauss(0, self.zero_scale):.6g}")
        moved = value * math.exp(rng.gauss(0, self.sigma))
        return float(f"{moved:.6g}")


class OperatorSwap(_AstOperator):
    """Swap one arithmetic, comparison or boolean operator (or min/max) for a sibling."""

    what = "operator"

    def __init__(self, name: str = "ast_swap") -> None:
        self.name = name

    def _sites(self, tree: ast.Module) -> list[Callable[[random.Random], None]]:
        sites: list[Callable[[random.Random], None]] = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.BinOp, ast.BoolOp)) and type(node.op) in _SWAPS:
                sites.append(_swap_op(node))
            elif isinstance(node, ast.Compare):
                sites += [_swap_compare(node, i) for i, op in enumerate(node.ops) if type(op) in _SWAPS]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _NAME_SWAPS:
                sites.append(_swap_name(node.func))
        return sites


def _swap_op(node: ast.BinOp | ast.BoolOp) -> Callable[[random.Random], None]:
    return lambda rng: setattr(node, "op", rng.choice(_SWAPS[type(node.op)])())


def _swap_compare(node: ast.Compare, i: int) -> Callable[[random.Random], None]:
    return lambda rng: node.ops.__setitem__(i, rng.choice(_SWAPS[type(node.ops[i])])())


def _swap_name(node: ast.Name) -> Callable[[random.Random], None]:
    return lambda rng: setattr(node, "id", _NAME_SWAPS[node.id])


register("ast_perturb", LiteralPerturbation)
register("ast_swap", OperatorSwap)
