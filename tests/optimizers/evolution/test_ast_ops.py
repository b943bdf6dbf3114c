"""AST operators: literal perturbation and operator swaps keep code valid and change one site."""

from __future__ import annotations

import ast
import random
from collections import Counter

from opto.optimizers.evolution.operators import OPERATORS, OperatorContext, Parent, Proposal, ProposalFailure
from opto.optimizers.evolution.space import SearchSpace

CODE = "def f(x, y):\n    # a comment\n    return max(x * 2.5 + 1, y - 3) if x < y and y >= 0 else x / 4\n"
SPACE = SearchSpace.from_values({"f": CODE, "w": 1.0})


def propose(name: str, seed: int, code: str = CODE) -> Proposal | ProposalFailure:
    return OPERATORS[name]().propose([Parent("p", {"f": code, "w": 1.0}, 0.0)],
                                     OperatorContext(SPACE, random.Random(seed), None, []))


def _constants(code: str) -> list[object]:
    return [n.value for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Constant)]


def test_literal_perturbation_changes_exactly_one_constant():
    before = _constants(CODE)
    seen = set()
    for seed in range(30):
        out = propose("ast_perturb", seed)
        assert isinstance(out, Proposal)
        after = _constants(out.values["f"])
        assert len(after) == len(before)
        # one constant differs (a negative result unparses as -c, so compare magnitudes as multisets)
        assert sum((Counter(map(abs, before)) - Counter(map(abs, after))).values()) <= 1
        fn = ast.parse(out.values["f"]).body[0]
        assert isinstance(fn, ast.FunctionDef) and fn.name == "f" and [a.arg for a in fn.args.args] == ["x", "y"]
        assert out.values["w"] == 1.0
        seen.add(out.values["f"])
    assert len(seen) > 10


def test_operator_swap_changes_one_operator_and_keeps_syntax():
    seen = set()
    for seed in range(40):
        out = propose("ast_swap", seed)
        assert isinstance(out, Proposal)
        compile(out.values["f"], "<child>", "exec")
        assert out.values["f"] != ast.unparse(ast.parse(CODE)) + "\n"
        seen.add(out.values["f"])
    joined = "\n".join(seen)
    assert "min(" in joined and " - 1" in joined and "x <= y" in joined and " or " in joined


def test_no_site_is_a_failure_not_an_exception():
    out = propose("ast_perturb", 0, "def f(x, y):\n    return x\n")
    assert isinstance(out, ProposalFailure) and out.reason == "not_applicable"
    assert isinstance(propose("ast_swap", 0, "def f(x, y):\n    return x\n"), ProposalFailure)
    assert isinstance(propose("ast_swap", 0, "def f(x, y:\n"), ProposalFailure)  # unparsable parent


def test_seeded():
    assert propose("ast_perturb", 7).values == propose("ast_perturb", 7).values
    assert not OPERATORS["ast_swap"]().applies_to(SearchSpace.from_values({"w": 1.0}))


def test_literal_tuning_samples_the_literals_of_same_structure_parents():
    from opto.optimizers.evolution.operators.literal_tuning import literals

    weighted = "def f(x, y):\n    return {a} * x + {b} * y + 1\n"
    parents = [Parent(f"p{i}", {"f": weighted.format(a=a, b=b), "w": 1.0}, -abs(a - 3) - abs(b + 1))
               for i, (a, b) in enumerate([(0.0, 0.0), (1.0, 0.5), (2.0, -0.5), (2.5, -1.0), (0.5, 2.0)])]
    parents.append(Parent("other", {"f": "def f(x, y):\n    return x - 7.0\n", "w": 1.0}, 100.0))  # other structure
    op = OPERATORS["literal_tuning"](startup=2)
    key = literals(parents[0].values["f"])[0]
    outs = [op.propose(parents, OperatorContext(SPACE, random.Random(s), None, [])) for s in range(8)]
    assert all(isinstance(o, Proposal) for o in outs)
    best = max(parents, key=lambda p: p.score)
    assert all(o.parent_ids == ("other",) for o in outs)  # the best parent's literals are tuned ...
    assert all(literals(o.values["f"])[0] == literals(best.values["f"])[0] for o in outs)
    no_other = [p for p in parents if p.id != "other"]
    outs = [op.propose(no_other, OperatorContext(SPACE, random.Random(s), None, [])) for s in range(8)]
    assert all(literals(o.values["f"])[0] == key for o in outs)  # ... and the structure is kept
    top = [n.value for n in literals(max(no_other, key=lambda p: p.score).values["f"])[1]]
    for o in outs:  # at most max_literals (2) of the best parent's literals move per child
        assert sum(a != b for a, b in zip(top, [n.value for n in literals(o.values["f"])[1]])) <= 2
    assert len({o.values["f"] for o in outs}) > 4
    assert outs[0].values == op.propose(no_other, OperatorContext(SPACE, random.Random(0), None, [])).values
    assert isinstance(op.propose([Parent("z", {"f": "def f(x, y):\n    return x\n", "w": 1.0}, 0.0)],
                                 OperatorContext(SPACE, random.Random(0), None, [])), ProposalFailure)
