"""``Evolution``: the evolutionary optimizer over ParameterNodes.

    opt = Evolution([priority_fn.parameter, threshold], config={"islands": 2, "seed": 1})
    result = opt.search("my_pkg.objectives:score", budget=200, store="runs/pack.db", workers=2)
    result.score, result.candidate.values            # the best; the parameters now hold it

It implements the Optimizer contract as ask/tell (``propose()`` a child of the population,
``observe(score)`` the values currently applied), and ``search()`` runs whole generations in
sandbox workers with every step in a RunStore. Calling ``search()`` again on the same store
resumes a killed run: it replays from the seed, reading stored evaluations instead of re-running
them, and ends with the same best as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import random
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from opto.optimizers.evolution.config import EvolutionConfig
from opto.optimizers.evolution.database import Database
from opto.optimizers.evolution.gates import Gates, values_key
from opto.optimizers.evolution.member import Member
from opto.optimizers.evolution.operators import OPERATORS, Operator, OperatorContext, Proposal
from opto.optimizers.evolution.space import named_parameters, space_for
from opto.optimizers.optimizer import Optimizer
from opto.records import Candidate, new_id
from opto.trace.nodes import ParameterNode

if TYPE_CHECKING:
    from opto.optimizers.evolution.loop import Progress

_PROBE_OPTIONS = ("extra_sys_path", "memory_mb", "scrub_env", "env")  # executor options probes share
_NO_INPUT: Any = object()  # replaced by opto.runtime's NO_INPUT when the runtime is loaded


@dataclass
class SearchResult:
    """The outcome of ``search()``: the best candidate (now applied) and what the report shows."""

    candidate: Candidate
    score: float
    scores: dict[str, float]
    evaluations: int
    generations: int
    stopped: str
    pareto: list[Candidate] = field(default_factory=list)
    heldout: list[dict[str, Any]] = field(default_factory=list)
    operators: dict[str, dict[str, Any]] = field(default_factory=dict)
    gates: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    store_path: str | None = None

    @property
    def values(self) -> Mapping[str, Any]:
        return self.candidate.values


class Evolution(Optimizer):
    """Population search over code, text, numeric and categorical ParameterNodes.

    parameters: ParameterNodes / trainable bundles (a code parameter is named for its function), a
      mapping name -> node, or a trace Module (dotted parameter paths).
    lm: an opto LM for the LLM operators; None runs only the operators that need no LM.
    config: EvolutionConfig, a mapping, or a TOML path; keyword overrides win over it.
    task: a description of the problem, shown to LLM operators.
    """

    def __init__(self, parameters: Any, lm: Any = None, *args: Any, config: Any = None, task: str = "",
                 llm: Any = None, **overrides: Any) -> None:
        nodes = named_parameters(parameters)
        super().__init__(list(nodes.values()), lm, *args, llm=llm)
        self.config = _config(config, overrides)
        self.nodes = nodes
        self.space = space_for(nodes, self.config.space)
        self.task = task
        self.database = Database(self.config)
        self._rng = random.Random(self.config.seed)
        self._last: Proposal | None = None
        self._gates = Gates(self.space)  # ask/tell: duplicate and structure gates (no sandbox probes)

    # -- the model and the operators ----------------------------------------------------------------
    def _search_lm(self) -> Any:
        return self.lm if self._lm_given is not None else None

    def build_operators(self) -> dict[str, Operator]:
        """The configured operators that apply to this space (and have an LM if they need one)."""
        has_lm = self._lm_given is not None
        ops: dict[str, Operator] = {}
        for name in self.config.operators:
            op = OPERATORS[name](**self.config.operator_options.get(name, {}))
            applies = getattr(op, "applies_to", None)
            if (op.needs_lm and not has_lm) or (applies is not None and not applies(self.space)):
                continue
            ops[name] = op
        if not ops:
            kinds = sorted({s.kind for s in self.space})
            raise ValueError(f"none of the operators {list(self.config.operators)} applies to parameters of kind "
                             f"{kinds}{'' if has_lm else ' without an LM'}; add operators (e.g. 'optuna' for "
                             "numbers and choices, 'ast_perturb' for code) or pass lm=")
        return ops

    # -- Optimizer contract: ask / tell -------------------------------------------------------------
    def current_values(self) -> dict[str, Any]:
        return {name: node._data for name, node in self.nodes.items()}

    def propose(self, *args: Any, verbose: Any = False, **kwargs: Any) -> dict[ParameterNode, Any]:
        """A child of the observed population (or of the current values); nothing is applied."""
        ops = self.build_operators()
        parents = [Member(new_id(), self.current_values(), float("-inf"))]
        if self.database.programs:
            island = self.database.islands[0]
            name = self._rng.choice(sorted(ops))
            parents = island.sample(ops[name].arity, self._rng)
        else:
            name = self._rng.choice(sorted(n for n, o in ops.items() if o.arity == 1) or sorted(ops))
        ctx = OperatorContext(self.space, self._rng, self._search_lm(), [], self.task)
        out = ops[name].propose([p.as_parent() for p in parents], ctx)
        self.log.append({"operator": name, "parents": [p.id for p in parents],
                         "proposed": isinstance(out, Proposal), "detail": getattr(out, "detail", "")})
        if not isinstance(out, Proposal):
            return {}
        for gate in (lambda: self._gates.duplicate(values_key(self.space, out.values)),
                     lambda: self._gates.structure(out.values)):
            verdict = gate()
            if not verdict.passed:  # validated: a repeat or a broken child is not proposed
                self.log[-1].update(proposed=False, rejected=[{"gate": verdict.gate, "reason": verdict.reason}])
                return {}
        self._last = out
        return {self.nodes[k]: v for k, v in out.values.items() if k in self.nodes and v != self.nodes[k]._data}

    def update(self, values: Mapping[Any, Any]) -> None:
        """Apply values keyed by ParameterNode or by this search's parameter names."""
        super().update({self.nodes.get(k, k) if isinstance(k, str) else k: v for k, v in values.items()})

    def observe(self, score: float, scores: Mapping[str, float] | None = None, feedback: str = "") -> None:
        """Tell the search how the values currently applied scored (higher is better)."""
        last = self._last
        member = Member(new_id(), self.current_values(), float(score), dict(scores or {}), feedback,
                        {"thought": last.thought} if last and last.thought else {},
                        tuple(last.parent_ids) if last else (), last.operator if last else "seed")
        self.database.register(member)
        self.log.append({"observed": float(score), "operator": member.operator})

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["observed"] = [{"id": m.id, "values": dict(m.values), "score": m.score, "scores": dict(m.scores),
                              "operator": m.operator} for m in sorted(self.database.programs.values(),
                                                                      key=lambda m: m.birth)]
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self.database = Database(self.config)
        for m in state.get("observed", []):
            self.database.register(Member(m["id"], m["values"], m["score"], m.get("scores", {}),
                                          operator=m.get("operator", "")))

    # -- search -------------------------------------------------------------------------------------
    def search(self, objective: Any = None, *, budget: int = 100, time_limit: float | None = None,
               executor: Any = None, store: Any = None, workers: int | None = None, input: Any = _NO_INPUT,
               heldout: Any = _NO_INPUT, cascade: Any = _NO_INPUT, probes: Any = None,
               seeds: Sequence[Mapping[str, Any]] = (), executor_options: Mapping[str, Any] | None = None,
               on_progress: Callable[[Progress], None] | None = None) -> SearchResult:
        """Evolve the parameters for ``budget`` evaluations (or ``time_limit`` seconds); apply the best.

        budget counts candidates sent to evaluation, the starting values included (a child stopped
        by the cascade counts too). time_limit is checked before each round of proposals and while
        waiting for LLM replies (no new proposal starts after it; calls in flight finish and their children
        are evaluated), and between generations; a run stopped by it
        is not reproducible by a resume, one stopped by its budget is.

        objective: "module:function", an opto.runtime.Objective, or an importable function (not
          needed when ``executor`` is an executor already built with one).
        executor: None / "local" (LocalExecutor with ``workers``), "ray", or an Executor.
        store: a RunStore, a path (an existing file resumes that run), or None (a temporary file).
        input / cascade / heldout: what the objective gets as its second argument for the selection
          evaluation, the cheap first stage (with config.cascade_threshold), and held-out re-scoring.
        probes: inputs for behavioural dedupe, {code parameter: [args tuple, ...]} (or a list when
          there is one code parameter); run in sandbox workers.
        seeds: extra starting value sets (the parameters' current values are always the first).
        on_progress: called after every generation with a Progress (evaluations, generation, best,
          failures by reason, LLM tokens, rejected children) -- e.g. for a live progress bar.
        """
        from opto.optimizers.evolution.journal import Journal
        from opto.optimizers.evolution.loop import Inputs, SearchLoop
        from opto.runtime.executor import NO_INPUT

        if not isinstance(budget, int) or budget < 1:
            raise ValueError(f"budget must be a positive number of evaluations, got {budget!r}")
        ops = self.build_operators()

        def given(x: Any) -> Any:
            return NO_INPUT if x is _NO_INPUT else x

        inputs = Inputs(given(input), given(cascade), given(heldout), probes)
        if inputs.cascade is not NO_INPUT and self.config.cascade_threshold is None:
            raise ValueError("cascade= was given without config cascade_threshold; set the score a child must "
                             "reach on the cascade input to be fully evaluated")
        if inputs.cascade is NO_INPUT and self.config.cascade_threshold is not None:
            raise ValueError("config cascade_threshold is set but search() got no cascade= input; pass the "
                             "cheap first-stage input, or unset cascade_threshold")
        all_seeds = [self.current_values(), *[{**self.current_values(), **s} for s in seeds]]
        with contextlib.ExitStack() as stack:
            run_store = stack.enter_context(self._open_store(store))
            journal = Journal(run_store)
            ex = stack.enter_context(_executor(executor, objective, workers, executor_options))
            probe_ex = None
            if probes is not None:
                # probes are cheap: local sandbox workers, so they never wait for a cluster's slots
                shared = {k: v for k, v in (executor_options or {}).items() if k in _PROBE_OPTIONS}
                probe_ex = stack.enter_context(_executor("local", "opto.optimizers.evolution.probes:behaviour",
                                                         min(workers or 2, 2),
                                                         {**shared, "timeout_s": self.config.probe_timeout_s}))
            lm = self._search_lm()
            if lm is not None and getattr(lm, "usage", None) is not None:
                stack.callback(lm.usage.subscribe(journal.llm_call))
            loop = SearchLoop(self.config, self.space, ops, journal, ex, inputs, lm=lm, task=self.task,
                              probe_executor=probe_ex, on_progress=on_progress)
            stack.callback(loop.close)
            progress = loop.run(all_seeds, budget, time_limit)
            heldout_rows = loop.heldout()
            loop.finish()
            self.database = loop.database
            best = progress.best
            assert best is not None
            self.update({self.nodes[k]: v for k, v in best.values.items()})
            candidate = run_store.candidate(best.id)
            return SearchResult(
                candidate, best.score, dict(best.scores), progress.evaluations, progress.generation, progress.stopped,
                pareto=[run_store.candidate(m.id) for m in loop.database.pareto()], heldout=heldout_rows,
                operators={n: s.event(n) for n, s in loop.stats.items()}, gates=loop.gates.counts,
                failures=dict(progress.failures), store_path=str(run_store.path) if store is not None else None)

    @contextlib.contextmanager
    def _open_store(self, store: Any) -> Iterator[Any]:
        from opto.store import RunStore

        if isinstance(store, RunStore):
            yield store
            return
        config = self.config.to_run_config(space=self.space.to_dict(), task=self.task)
        if store is None:
            with tempfile.TemporaryDirectory(prefix="opto-evolution-") as tmp, \
                    RunStore.open(Path(tmp) / "run.db", config=config, seed=self.config.seed) as s:
                yield s
            return
        with RunStore.open(store, config=config, seed=self.config.seed) as s:
            yield s


def _config(config: Any, overrides: Mapping[str, Any]) -> EvolutionConfig:
    if config is None:
        base = EvolutionConfig()
    elif isinstance(config, EvolutionConfig):
        base = config
    elif isinstance(config, Mapping):
        base = EvolutionConfig.from_mapping(config)
    elif isinstance(config, (str, Path)):
        base = EvolutionConfig.from_toml(config)
    else:
        raise TypeError(f"config must be an EvolutionConfig, a mapping or a TOML path, got {type(config).__name__}")
    return base.merged(**overrides) if overrides else base


@contextlib.contextmanager
def _executor(executor: Any, objective: Any, workers: int | None, options: Mapping[str, Any] | None
              ) -> Iterator[Any]:
    """Use a given executor as is; build (and shut down) one for "local"/"ray"/None."""
    from opto.runtime.executor import Executor, make_executor

    if isinstance(executor, Executor):
        yield executor
        return
    if objective is None:
        raise ValueError("search() needs objective= (e.g. 'my_pkg.objectives:score') or an executor built with one")
    kind: Literal["local", "ray"] = executor or "local"
    if kind not in ("local", "ray"):
        raise ValueError(f"executor must be 'local', 'ray' or an Executor, got {executor!r}")
    ex = make_executor(kind, objective, workers=workers or 2, **dict(options or {}))
    try:
        yield ex
    finally:
        ex.shutdown()


__all__ = ["Evolution", "SearchResult"]
