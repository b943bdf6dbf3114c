"""Evolution.search end to end on tiny objectives in sandbox workers (no LLM)."""

from __future__ import annotations

import math

import pytest

from opto.optimizers.evolution.loop import SearchError
from opto.optimizers.evolution.search import Evolution
from opto.runtime import LocalExecutor, load_function
from opto.store import ConfigMismatchError, RunStore
from opto.trace import bundle, node

NUMERIC_SPACE = {"x": {"low": -5, "high": 5}, "n": {"low": 0, "high": 10}, "mode": {"choices": ["a", "b", "c"]}}


@bundle(trainable=True)
def f(x):
    return 2 * x + 1


def numeric_params() -> dict:
    return {"x": node(0.0, trainable=True, name="x"), "n": node(1, trainable=True, name="n"),
            "mode": node("a", trainable=True, name="mode")}


@pytest.fixture(scope="module")
def quadratic():
    with LocalExecutor("evo_objectives:quadratic", workers=2) as ex:
        yield ex


@pytest.fixture(scope="module")
def line_fit():
    with LocalExecutor("evo_objectives:line_fit", workers=2) as ex:
        yield ex


def run_numeric(executor, store=None, **config):
    params = numeric_params()
    opt = Evolution(params, config={"islands": 2, "batch_size": 4, "seed": 1, "space": NUMERIC_SPACE, **config})
    return opt, params, opt.search(executor=executor, budget=40, store=store)


def test_numeric_search_improves_and_applies_the_best(quadratic, tmp_path):
    opt, params, result = run_numeric(quadratic, store=tmp_path / "run.db")
    assert result.evaluations == 40 and result.stopped == "budget"
    assert result.score > -2.0  # the starting values score -25
    assert {k: p.data for k, p in params.items()} == dict(result.values)
    with RunStore.open(tmp_path / "run.db", readonly=True) as store:
        assert store.info().config["kind"] == "evolution"
        assert store.counts()["evaluations"] == 40
        assert store.best()[0][0].id == result.candidate.id
        ops = {e.data["operator"]: e.data for e in store.events("operator")}
        assert set(ops) == {"optuna", "numeric_mutate", "numeric_crossover"}  # ast_* do not apply
        for data in ops.values():
            assert set(data) == {"operator", "proposals", "valid", "improved", "mean_gain", "llm_tokens",
                                 "apply_failures"}
        assert sum(d["valid"] for d in ops.values()) == 39  # every child but the seed
        gens = [e.data for e in store.events("generation")]
        assert [g["generation"] for g in gens] == list(range(1, result.generations + 1))
        assert gens[-1]["evaluations"] == 40 and gens[-1]["best_score"] == result.score
        islands = store.events("islands")[-1].data
        assert islands["programs"] == 40 and len(islands["islands"]) == 2
        bests = [e.data["score"] for e in store.events("best")]
        assert bests == sorted(bests) and bests[-1] == result.score
        seeds = [c for c in store.candidates() if c.operator == "seed"]
        assert len(seeds) == 1 and seeds[0].values == {"x": 0.0, "n": 1, "mode": "a"}
        children = [c for c in store.candidates() if c.operator != "seed"]
        assert all(c.parent_ids and c.island in (0, 1) and c.generation >= 1 for c in children)


def test_seeded_runs_are_reproducible(quadratic, tmp_path):
    _, _, a = run_numeric(quadratic, store=tmp_path / "a.db")
    _, _, b = run_numeric(quadratic, store=tmp_path / "b.db")
    _, _, c = run_numeric(quadratic, store=tmp_path / "c.db", seed=2)
    assert (a.candidate.id, a.score, dict(a.values)) == (b.candidate.id, b.score, dict(b.values))
    with RunStore.open(tmp_path / "a.db", readonly=True) as sa, RunStore.open(tmp_path / "b.db", readonly=True) as sb:
        assert [x.values for x in sa.candidates()] == [x.values for x in sb.candidates()]
    assert dict(c.values) != dict(a.values)


@pytest.mark.parametrize("config", [
    {"selection": "tournament", "survival": "aging", "population_size": 6},  # regularized evolution
    {"selection": "uniform", "survival": "best", "population_size": 4},  # (mu + lambda)
    {"selection": "qube"},
    {"selection": "tempered", "reset_period": 2, "migration_period": 3, "islands": 4},
])
def test_each_selection_scheme_makes_progress(quadratic, config):
    _, _, result = run_numeric(quadratic, **config)
    assert result.score > -5.0, config


def test_code_search_without_llm_improves_a_trainable_bundle(line_fit):
    opt = Evolution([f], config={"islands": 1, "batch_size": 6, "seed": 0, "operators": ["ast_perturb", "ast_swap"]})
    result = opt.search(executor=line_fit, budget=60)
    assert result.score > -11.0  # the starting code's summed error is 11
    assert f.parameter.data == result.values["f"]
    assert f(2).data == pytest.approx(load_function(result.values["f"], "f")(2))  # the bundle runs the best code


def test_code_and_number_together():
    scale = node(1.0, trainable=True, name="scale")
    opt = Evolution({"f": f.parameter, "scale": scale}, config={"islands": 1, "batch_size": 6, "seed": 3,
                                                                 "space": {"scale": {"low": 0.1, "high": 3}}})
    before = -sum(abs((2 * x + 1) - (3 * x + 2)) for x in (-2, -1, 0, 1, 2, 3))
    result = opt.search("evo_objectives:line_fit_scaled", budget=48, workers=2)
    assert result.score > before
    assert set(result.operators) >= {"ast_perturb", "optuna"}
    assert scale.data == result.values["scale"]


def test_failures_are_recorded_and_the_run_goes_on(tmp_path):
    x = node(1.0, trainable=True, name="x")
    opt = Evolution([x], config={"islands": 1, "batch_size": 6, "seed": 0, "space": {"x": {"low": 0, "high": 8}}})
    result = opt.search("evo_objectives:nan_sometimes", budget=30, workers=2, store=tmp_path / "nan.db")
    assert result.failures.get("invalid_return", 0) > 0
    assert math.isfinite(result.score) and result.values["x"] <= 4
    with RunStore.open(tmp_path / "nan.db", readonly=True) as store:
        failed = [e for e in store.evaluations() if not e.ok]
        assert failed and all(e.failure.reason == "invalid_return" for e in failed)


def test_rejections_reach_the_operator_context(line_fit):
    """Failed children are remembered with their reason for LLM operators (a recording operator sees them)."""
    from opto.optimizers.evolution.operators import OPERATORS, Proposal

    seen: list = []

    class Breaker:
        name, arity, needs_lm = "breaker", 1, False

        def propose(self, parents, ctx):
            seen.append(list(ctx.rejected))
            return Proposal({"f": "def f(x):\n    return 1 / 0\n"}, "breaker", (parents[0].id,))

    OPERATORS["breaker"] = Breaker
    try:
        opt = Evolution([f], config={"islands": 1, "batch_size": 2, "seed": 0, "operators": ["breaker", "ast_swap"]})
        opt.search(executor=line_fit, budget=12)
    finally:
        del OPERATORS["breaker"]
    last = seen[-1]
    reasons = {r.reason for r in last}
    assert "exception" in reasons  # the evaluation failure, with its message
    assert "duplicate" in reasons  # the second identical child never reached evaluation
    assert any("ZeroDivisionError" in r.detail for r in last if r.reason == "exception")


def test_probes_cascade_and_heldout(tmp_path):
    opt = Evolution([f], config={"islands": 1, "batch_size": 6, "seed": 0, "operators": ["ast_swap", "ast_perturb"],
                                 "cascade_threshold": -6.0, "heldout_top": 2})
    result = opt.search("evo_objectives:line_fit", budget=30, workers=2, store=tmp_path / "g.db",
                        probes=[(0.0,), (1.0,), (2.5,)], input=(-2.0, -1.0, 0.0, 1.0, 2.0, 3.0),
                        cascade=(0.0, 1.0), heldout=(10.0, 20.0))
    with RunStore.open(tmp_path / "g.db", readonly=True) as store:
        gates = [e.data for e in store.events("gate")]
        behaviour = [g for g in gates if g["gate"] == "behaviour"]
        cascade = [g for g in gates if g["gate"] == "cascade"]
        assert behaviour and all("hashes" in g for g in behaviour)
        assert cascade and any(not g["passed"] for g in cascade)
        for g in cascade:  # a child stopped by the cascade has its cheap evaluation only
            evals = store.evaluations(g["candidate_id"])
            assert len(evals) == 1 if not g["passed"] else len(evals) >= 2
        heldout = [e.data for e in store.events("heldout")]
        assert len(heldout) == 2 and heldout[0]["candidate_id"] == result.candidate.id
        assert heldout[0]["selection_score"] == result.score and heldout[0]["heldout_score"] is not None
    assert result.gates["cascade"]["rejected"] > 0
    assert result.heldout == heldout


def test_pareto_front_is_kept_and_reported(tmp_path):
    x = node(0.1, trainable=True, name="x")
    opt = Evolution([x], config={"islands": 1, "batch_size": 5, "seed": 0, "objectives": ["accuracy", "thrift"],
                                 "selection": "pareto", "space": {"x": {"low": 0, "high": 3}}})
    result = opt.search("evo_objectives:two_goals", budget=25, workers=2, store=tmp_path / "p.db")
    front = result.pareto
    assert len(front) >= 3
    xs = sorted(c.values["x"] for c in front)
    assert xs == sorted(set(xs))  # distinct trade-offs
    with RunStore.open(tmp_path / "p.db", readonly=True) as store:
        event = store.events("pareto")[-1].data
        assert event["objectives"] == ["accuracy", "thrift"]
        assert {e["candidate_id"] for e in event["front"]} == {c.id for c in front}


def test_map_elites_grid_over_a_descriptor(line_fit):
    opt = Evolution([f], config={"islands": 1, "batch_size": 6, "seed": 0, "operators": ["ast_perturb", "ast_swap"],
                                 "descriptors": [{"name": "size", "edges": [24, 28, 32]}]})
    result = opt.search("evo_objectives:with_length", budget=24, workers=2)
    grid = opt.database.islands[0].grid
    assert grid is not None and grid.elites
    assert opt.database.summary()["islands"][0]["coverage"] == grid.coverage > 0
    cells = list(grid.elites)
    assert len(cells) == len(set(cells))
    assert result.score >= max(m.score for m in grid.members())


def test_seed_that_fails_is_a_clear_error():
    @bundle(trainable=True)
    def broken(x):
        return x

    opt = Evolution([broken], config={"operators": ["ast_swap"]})
    with pytest.raises(SearchError, match="no starting program could be evaluated"):
        opt.search("evo_objectives:line_fit", budget=5, workers=1)


def test_argument_errors():
    x = node(1.0, trainable=True, name="x")
    with pytest.raises(ValueError, match="none of the operators"):
        Evolution([x], config={"operators": ["ast_swap"]}).search("evo_objectives:quadratic", budget=3)
    with pytest.raises(ValueError, match="budget"):
        Evolution([x]).search("evo_objectives:quadratic", budget=0)
    with pytest.raises(ValueError, match="cascade_threshold"):
        Evolution([x]).search("evo_objectives:quadratic", budget=3, cascade=(1,))
    with pytest.raises(KeyError, match="unknown operator 'nope'"):
        Evolution([x], config={"operators": ["nope"]}).build_operators()


def test_ask_tell_contract_without_an_executor():
    x = node(0.0, trainable=True, name="x")
    opt = Evolution([x], config={"seed": 0, "space": {"x": {"low": -5, "high": 5}}})
    best = -abs(0.0 - 3)
    opt.observe(best)
    for _ in range(40):
        proposed = opt.step()
        assert set(proposed) <= {x}
        score = -abs(x.data - 3)
        opt.observe(score)
        best = max(best, score)
    assert best > -1.0
    assert opt.log and all(isinstance(entry, dict) for entry in opt.log)
    state = opt.state_dict()
    again = Evolution([node(0.0, trainable=True, name="x")], config={"seed": 0, "space": {"x": {"low": -5, "high": 5}}})
    again.load_state_dict(state)
    assert len(again.database.programs) == len(opt.database.programs)


def scripted_coder():
    """A scripted LM whose reply is an EoH-style thought + code for f(x) = 3*x + (request seed mod 5).

    The reply depends on the request, not on the call order: LLM proposals run concurrently."""
    from opto.llm import ScriptedLM

    def reply(request) -> str:
        k = request.seed % 5
        return f"{{Use offset {k}.}}\n```python\ndef f(x):\n    return 3 * x + {k}\n```"

    return ScriptedLM(reply)


def test_llm_operator_is_scheduled_recorded_and_replayed(tmp_path):
    store = tmp_path / "llm.db"

    def run():
        f.parameter._set("def f(x):\n    return 2 * x + 1\n")
        opt = Evolution([f], scripted_coder(), config={"islands": 1, "batch_size": 3, "seed": 0, "operators": ["M1"]},
                        task="fit a line")
        return opt.search("evo_objectives:line_fit", budget=7, workers=1, store=store)

    result = run()
    assert result.score == 0.0 and "3 * x + 2" in result.values["f"]
    assert result.operators["M1"]["llm_tokens"] > 0
    with RunStore.open(store, readonly=True) as s:
        calls = s.llm_calls()
        assert len(calls) == result.operators["M1"]["proposals"]
        children = [c for c in s.candidates() if c.operator == "M1"]
        assert children and all(c.meta.get("thought", "").startswith("Use offset") for c in children)
        assert {c.llm_call_id for c in children} <= {call.id for call in calls}
    again = run()  # the same run again on its store: a replay, which records no LLM call twice
    assert (again.candidate.id, again.score) == (result.candidate.id, result.score)
    with RunStore.open(store, readonly=True) as s:
        assert len(s.llm_calls()) == len(calls)


def test_time_limit_and_progress_callback(quadratic):
    seen = []
    opt = Evolution(numeric_params(), config={"islands": 1, "batch_size": 2, "seed": 0, "space": NUMERIC_SPACE})
    result = opt.search(executor=quadratic, budget=10_000, time_limit=0.5, on_progress=lambda p: seen.append(
        (p.generation, p.evaluations, p.best.score if p.best else None)))
    assert result.stopped == "time_limit" and 1 < result.evaluations < 10_000
    assert seen and seen[-1][1] == result.evaluations and seen[-1][2] == result.score
    assert [g for g, _, _ in seen] == list(range(1, len(seen) + 1))


def test_a_broken_operator_costs_a_proposal_not_the_run(quadratic):
    from opto.optimizers.evolution.operators import OPERATORS

    class Broken:
        name, arity, needs_lm = "broken", 1, False

        def propose(self, parents, ctx):
            raise RuntimeError("bug in operator")

    OPERATORS["broken"] = Broken
    try:
        opt = Evolution(numeric_params(), config={"islands": 1, "batch_size": 4, "seed": 0, "space": NUMERIC_SPACE,
                                                  "operators": ["broken", "numeric_mutate"]})
        result = opt.search(executor=quadratic, budget=12)
    finally:
        del OPERATORS["broken"]
    assert result.evaluations == 12
    assert result.operators["broken"]["proposals"] > 0 and result.operators["broken"]["valid"] == 0


def test_a_store_of_other_settings_is_refused(quadratic, tmp_path):
    run_numeric(quadratic, store=tmp_path / "run.db")
    with pytest.raises(ConfigMismatchError, match="seed: stored 1, now 9"):
        run_numeric(quadratic, store=tmp_path / "run.db", seed=9)
    x = node(1.0, trainable=True, name="x")
    with pytest.raises(ValueError, match="no cascade= input"):
        Evolution([x], config={"cascade_threshold": 0.0}).search("evo_objectives:quadratic", budget=3)


def test_map_elites_without_the_descriptor_is_a_clear_error(line_fit):
    opt = Evolution([f], config={"operators": ["ast_swap"], "descriptors": [{"name": "nope", "edges": [1]}]})
    with pytest.raises(SearchError, match="no descriptor \\['nope'\\]"):
        opt.search(executor=line_fit, budget=4)


def test_a_child_that_behaves_like_the_seed_is_gated():
    @bundle(trainable=True)
    def g(x):
        return x * 2 + 0

    # x * 2 + 0 -> swaps give x * 2 - 0 (same outputs as the seed), x / 2 + 0, x // 2 + 0, x * 2 ...
    opt = Evolution([g], config={"islands": 1, "batch_size": 8, "seed": 1, "operators": ["ast_swap"]})
    result = opt.search("evo_objectives:line_fit_g", budget=6, workers=1, probes=[(0.0,), (2.0,), (3.0,)])
    assert result.gates["behaviour"]["rejected"] >= 1


def test_numpy_values_are_converted_and_unstorable_ones_rejected(quadratic, tmp_path):
    import numpy as np

    from opto.optimizers.evolution.operators import OPERATORS, Proposal

    class Odd:
        name, arity, needs_lm = "odd", 1, False
        calls = 0

        def propose(self, parents, ctx):
            Odd.calls += 1
            values = dict(parents[0].values)
            values["x"] = np.float64(ctx.rng.uniform(-5, 5)) if Odd.calls % 2 else object()
            values["n"] = np.int64(5)
            return Proposal(values, "odd", (parents[0].id,))

    OPERATORS["odd"] = Odd
    try:
        opt = Evolution(numeric_params(), config={"islands": 1, "batch_size": 2, "seed": 0, "space": NUMERIC_SPACE,
                                                  "operators": ["odd"]})
        result = opt.search(executor=quadratic, budget=5, store=tmp_path / "odd.db")
    finally:
        del OPERATORS["odd"]
    assert result.evaluations == 5 and type(result.values["x"]) is float and result.values["n"] == 5
    with RunStore.open(tmp_path / "odd.db", readonly=True) as store:
        assert {e.data["reason"] for e in store.events("rejected")} == {"unserializable"}


def test_seeds_that_behave_alike_are_evaluated_once():
    @bundle(trainable=True)
    def g(x):
        return x * 2

    opt = Evolution([g], config={"islands": 1, "batch_size": 2, "seed": 0, "operators": ["ast_perturb"]})
    result = opt.search("evo_objectives:line_fit_g", budget=4, workers=1, probes=[(1.0,), (2.0,)],
                        seeds=[{"g": "def g(x):\n    return 2 * x\n"}])
    assert result.gates["behaviour"]["rejected"] >= 1 and result.evaluations == 4
