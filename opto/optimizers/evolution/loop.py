"""One search run: generations of propose -> gate -> evaluate -> select, written to a run store.

Generations are synchronous (a batch of children is proposed -- the LLM proposals concurrently --,
gated in plan order, evaluated in parallel, then registered in candidate order), so the run is a
deterministic function of the seed and the results, whatever order replies and evaluations finish
in; that is what makes resume-by-replay exact (journal.py).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import math
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opto.optimizers.evolution.bandit import Bandit, OperatorStats
from opto.optimizers.evolution.config import EvolutionConfig
from opto.optimizers.evolution.database import Database
from opto.optimizers.evolution.gates import Gates, values_key
from opto.optimizers.evolution.journal import Journal, excerpt
from opto.optimizers.evolution.member import Member
from opto.optimizers.evolution.operators import (
    Operator,
    OperatorContext,
    Proposal,
    ProposalFailure,
    Rejection,
)
from opto.optimizers.evolution.space import SearchSpace
from opto.records import Candidate, EvalResult, to_jsonable
from opto.runtime.executor import NO_INPUT, Executor


class SearchError(RuntimeError):
    """The search cannot go on (e.g. no starting program evaluates); the message says what to fix."""


@dataclass
class Inputs:
    """What the objective is called with: the selection input, optional cascade and held-out inputs."""

    train: Any = NO_INPUT
    cascade: Any = NO_INPUT
    heldout: Any = NO_INPUT
    probes: Mapping[str, Sequence[Any]] | Sequence[Any] | None = None  # see Gates


@dataclass
class Progress:
    evaluations: int = 0
    generation: int = 0
    best: Member | None = None
    failures: dict[str, int] = field(default_factory=dict)
    llm_tokens: int = 0
    rejected: int = 0  # children that never reached evaluation (operator failure or a gate)
    stopped: str = ""


class SearchLoop:
    def __init__(self, config: EvolutionConfig, space: SearchSpace, operators: Mapping[str, Operator],
                 journal: Journal, executor: Executor, inputs: Inputs, *, lm: Any = None, task: str = "",
                 probe_executor: Executor | None = None,
                 on_progress: Callable[[Progress], None] | None = None) -> None:
        self.config, self.space, self.operators, self.journal = config, space, dict(operators), journal
        self.executor, self.inputs, self.lm, self.task = executor, inputs, lm, task
        self.probe_executor = probe_executor
        self.on_progress = on_progress
        self.rng = random.Random(config.seed)
        self.database = Database(config)
        self.gates = Gates(space, inputs.probes)
        self.bandits = [Bandit(list(self.operators), config.bandit_exploration) for _ in range(config.islands)]
        self.stats = {name: OperatorStats() for name in self.operators}
        self.rejected: deque[Rejection] = deque(maxlen=config.remember_rejections)  # 0: none shown
        self.progress = Progress()
        self.evaluations_of: dict[str, int] = {}  # candidate id -> evaluations the pipeline made
        self._index = 0
        self._slot = 0
        self._executor_pool: concurrent.futures.ThreadPoolExecutor | None = None

    # -- ids and events ---------------------------------------------------------------------------
    def _new_id(self) -> str:
        """Deterministic ids (seed + counter): a replayed run names its children as the first did."""
        self._index += 1
        return hashlib.sha256(f"{self.config.seed}:{self._index}".encode()).hexdigest()[:16]

    def _reject(self, operator: str, reason: str, detail: str, values: Mapping[str, Any] | None) -> None:
        self.progress.rejected += 1
        self.rejected.append(Rejection(operator, reason, detail[:1000], excerpt(values) if values else ""))
        self.journal.event("rejected", {"operator": operator, "reason": reason, "detail": detail[:1000]})

    def _gate_event(self, gate: str, passed: bool, reason: str = "", **extra: Any) -> None:
        self.journal.event("gate", {"gate": gate, "passed": passed, "reason": reason, **extra})

    # -- the run ----------------------------------------------------------------------------------
    def run(self, seeds: Sequence[Mapping[str, Any]], budget: int, time_limit: float | None) -> Progress:
        started = time.monotonic()
        deadline = None if time_limit is None else started + time_limit
        self._seed(seeds)
        while self.progress.evaluations < budget:
            if deadline is not None and time.monotonic() >= deadline:
                self.progress.stopped = "time_limit"
                break
            self.progress.generation += 1
            size = min(self.config.batch_size, budget - self.progress.evaluations)
            children = self._propose(size, deadline)
            if not children:
                self.progress.stopped = self.progress.stopped or "no_new_children"
                break
            self._evaluate(children)
            self._maintain()
            p = self.progress
            self.journal.event("generation", {"generation": p.generation, "evaluations": p.evaluations,
                                              "best_score": p.best.score if p.best else None,
                                              "failures": dict(p.failures), "rejected": p.rejected,
                                              "llm_tokens": p.llm_tokens})
            if self.on_progress is not None:
                self.on_progress(self.progress)
        else:
            self.progress.stopped = "budget"
        self.journal.event("stopped", {"reason": self.progress.stopped, "evaluations": self.progress.evaluations})
        return self.progress

    def _seed(self, seeds: Sequence[Mapping[str, Any]]) -> None:
        cands = []
        for values in seeds:
            problems = self.space.problems(values)
            if problems:
                raise SearchError(f"a starting value set is not valid: {'; '.join(problems)}")
            key = values_key(self.space, values)
            if key in self.gates.seen:
                continue
            self.gates.seen.add(key)
            cands.append(Candidate(dict(values), id=self._new_id(), operator="seed", generation=0))
        if self.gates.probes:  # the seeds' behaviour is known too, so a child that merely restates them is gated
            cands = self._behaviour_gate([(c, values_key(self.space, c.values)) for c in cands])
        results = self.journal.evaluate(self.executor, cands, stage=0, input=self.inputs.train, input_key="train")
        self.progress.evaluations += len(cands)
        members = []
        for cand, result in zip(cands, results):
            self.evaluations_of[cand.id] = 1
            member = self._member(cand, result)
            if member is None:
                self._count_failure(result)
            else:
                members.append(member)
        if not members:
            first = results[0] if results else None
            why = first.feedback if first is not None else "no starting values"
            raise SearchError(f"no starting program could be evaluated ({why}); fix the objective or the "
                              "parameters' starting values, or pass seeds=[...] that evaluate")
        for m in members:
            self._check_descriptors(m)
            self.database.seed_all(m)
            self._note_best(m)

    def _check_descriptors(self, member: Member) -> None:
        """MAP-Elites needs each descriptor in the evaluation; say so at the start, not by an empty grid."""
        from opto.optimizers.evolution.map_elites import descriptor_value

        missing = [d.name for d in self.config.descriptors if descriptor_value(member, d.name) is None]
        if missing:
            raise SearchError(f"the objective's result has no descriptor {missing} for MAP-Elites; return it "
                              "among the named scores or artifacts (or use the built-in 'code_length')")

    def _member(self, cand: Candidate, result: EvalResult, island: int = 0) -> Member | None:
        if not result.ok or result.score is None or not math.isfinite(result.score):
            return None
        return Member(cand.id, dict(cand.values), float(result.score), dict(result.scores), result.feedback,
                      dict(cand.meta), cand.parent_ids, cand.operator or "", cand.generation, island,
                      artifacts=dict(result.artifacts))

    def _count_failure(self, result: EvalResult) -> None:
        reason = result.failure.reason if result.failure is not None else "invalid_return"
        self.progress.failures[reason] = self.progress.failures.get(reason, 0) + 1

    def _note_best(self, member: Member) -> None:
        best = self.progress.best
        if best is None or member.score > best.score:
            self.progress.best = member
            self.journal.event("best", {"candidate_id": member.id, "score": member.score,
                                        "evaluations": self.progress.evaluations})

    # -- proposing --------------------------------------------------------------------------------
    def _propose(self, size: int, deadline: float | None = None) -> list[Candidate]:
        """Up to ``size`` gated children, proposed in rounds.

        A round plans its proposals in order (operator, parents and a per-proposal rng from the
        seeded rng), runs those that call an LLM concurrently in a bounded thread pool while the
        others run here, and gates the outcomes in plan order, so a seeded run is the same
        whatever order the LLM replies arrive in. At the deadline no new proposal starts; the
        calls in flight are awaited and their children kept (so the time limit holds within one
        LLM call's latency).
        """
        children: list[Candidate] = []
        pending_behaviour: list[tuple[Candidate, str]] = []
        attempts = 0
        limit = size * self.config.max_attempts
        while len(children) + len(pending_behaviour) < size and attempts < limit:
            if deadline is not None and time.monotonic() >= deadline:
                self.progress.stopped = "time_limit"
                break
            need = min(size - len(children) - len(pending_behaviour), limit - attempts)
            plans = []
            for _ in range(need):
                plans.append(self._plan(self._slot % self.config.islands))
                self._slot += 1
            attempts += need
            outs = self._run_plans(plans, deadline)
            for plan, out in zip(plans, outs):
                if out is None:  # not started: the deadline came first
                    continue
                child = self._accept(plan, out)
                if child is None:
                    continue
                if self.gates.probes:
                    pending_behaviour.append((child, values_key(self.space, child.values)))
                else:
                    children.append(child)
            if self.gates.probes and len(children) + len(pending_behaviour) >= size:
                children += self._behaviour_gate(pending_behaviour)
                pending_behaviour = []
            if any(out is None for out in outs):
                self.progress.stopped = "time_limit"
                break
        children += self._behaviour_gate(pending_behaviour)
        return children

    def _plan(self, island: int) -> _Plan:
        name = self.bandits[island].choose(self.rng)
        op = self.operators[name]
        home = self.database.islands[island]
        if not len(home):  # emptied (a MAP-Elites grid that kept nothing): borrow the best island's members
            home = max(self.database.islands, key=lambda i: (b.score if (b := i.best()) else float("-inf")))
        parents = home.sample(op.arity, self.rng)
        rng = random.Random(self.rng.randrange(2**63))  # its own stream: results do not depend on timing
        ctx = OperatorContext(self.space, rng, self.lm, list(self.rejected), self.task)
        return _Plan(name, op, island, [p.as_parent() for p in parents], ctx)

    def _run_plans(self, plans: Sequence[_Plan], deadline: float | None) -> list[Any]:
        """Each plan's operator output, in plan order; None for a plan not started by the deadline."""
        outs: list[Any] = [None] * len(plans)
        threaded = [i for i, p in enumerate(plans) if _concurrent(p.op)] if self.config.llm_concurrency > 1 else []
        futures = {i: self._pool().submit(_call, plans[i]) for i in threaded}
        for i, plan in enumerate(plans):  # the others run here while the LLM thinks
            if i not in futures:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                outs[i] = _call(plan)
        if futures:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            concurrent.futures.wait(futures.values(), timeout=remaining)
            for fut in futures.values():
                fut.cancel()  # not started yet: never starts; a call in flight runs to its end
            for i, fut in futures.items():
                if not fut.cancelled():
                    outs[i] = fut.result()
        return outs

    def _pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._executor_pool is None:
            self._executor_pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=_pool_size(self.lm, self.config.llm_concurrency), thread_name_prefix="opto-evolution-llm")
        return self._executor_pool

    def close(self) -> None:
        """Release the LLM thread pool (waits for a call still in flight)."""
        if self._executor_pool is not None:
            self._executor_pool.shutdown(wait=True, cancel_futures=True)
            self._executor_pool = None

    def _accept(self, plan: _Plan, out: Any) -> Candidate | None:
        """Count an operator's output and gate it (duplicate, structure); a Candidate if it passed."""
        name, island = plan.name, plan.island
        stats = self.stats[name]
        stats.proposals += 1
        if isinstance(out, BaseException):
            out = ProposalFailure(name, "operator_error", f"{type(out).__name__}: {out}")
        if not isinstance(out, (Proposal, ProposalFailure)):
            out = ProposalFailure(name, "operator_error", f"propose() returned a {type(out).__name__}, not a "
                                  "Proposal or ProposalFailure")
        self.progress.llm_tokens += out.llm_tokens
        stats.llm_tokens += out.llm_tokens
        if isinstance(out, ProposalFailure):
            stats.apply_failures += out.reason == "apply_failed"
            self.bandits[island].update(name, 0.0)
            self._reject(name, out.reason, out.detail, None)
            return None
        try:  # numpy numbers become plain ones; what JSON cannot hold is never stored
            values = to_jsonable(dict(out.values), "the child's values")
        except TypeError as err:
            self.bandits[island].update(name, 0.0)
            self._reject(name, "unserializable", str(err), None)
            return None
        for gate in (lambda: self.gates.duplicate(values_key(self.space, values)),
                     lambda: self.gates.structure(values)):
            verdict = gate()  # cheapest first: a duplicate is never parsed
            if not verdict.passed:
                self.bandits[island].update(name, 0.0)
                self._gate_event(verdict.gate, False, verdict.reason)
                self._reject(name, verdict.gate, verdict.reason, values)
                return None
        meta = {"thought": out.thought} if out.thought else {}
        return Candidate(values, id=self._new_id(), parent_ids=tuple(out.parent_ids), operator=name,
                         llm_call_id=out.llm_call_id, generation=self.progress.generation, island=island, meta=meta)

    def _behaviour_gate(self, pending: list[tuple[Candidate, str]]) -> list[Candidate]:
        """Probe outputs (computed in sandbox workers, cached across a resume) -> drop behavioural twins."""
        if not pending:
            return []
        hashes = {key: h for _, key in pending if (h := self.journal.behaviour_hashes(key)) is not None}
        todo = [(c, key) for c, key in pending if key not in hashes]
        if todo:
            if self.probe_executor is None:
                raise SearchError("probes were given but no probe executor was built")
            task = self.gates.probe_task()
            results = self.probe_executor.map([Candidate(c.values, id=c.id) for c, _ in todo], input=task)
            for (_, key), r in zip(todo, results):
                # a child whose probe run failed (timeout, crash) is never a behavioural twin: its own key
                hashes[key] = dict(r.artifacts.get("behaviour", {})) if r.ok else {"*": f"probe failed: {key}"}
        kept = []
        for cand, key in pending:
            verdict = self.gates.behaviour(self.gates.behaviour_key(cand.values, hashes[key]))
            ids = {"candidate_id": cand.id} if verdict.passed else {}  # a rejected child is never stored
            self._gate_event("behaviour", verdict.passed, verdict.reason, key=key, hashes=hashes[key], **ids)
            if verdict.passed:
                kept.append(cand)
            else:
                bandit = self.bandits[cand.island or 0]
                if cand.operator in bandit.pulls:  # (a seed has no arm)
                    bandit.update(cand.operator, 0.0)
                self._reject(cand.operator or "", "behaviour", verdict.reason, cand.values)
        return kept

    # -- evaluating -------------------------------------------------------------------------------
    def _evaluate(self, children: list[Candidate]) -> None:
        j, inputs = self.journal, self.inputs
        self.progress.evaluations += len(children)
        full: list[Candidate] = children
        if inputs.cascade is not NO_INPUT:
            first = j.evaluate(self.executor, children, stage=0, input=inputs.cascade, input_key="cascade")
            threshold = self.config.cascade_threshold
            full = []
            for cand, r in zip(children, first):
                self.evaluations_of[cand.id] = 1
                if r.ok and (threshold is None or (r.score is not None and r.score >= threshold)):
                    full.append(cand)
                    self.gates.count_cascade(True)
                    self._gate_event("cascade", True, "", candidate_id=cand.id)
                    continue
                reason = r.feedback if not r.ok else f"cascade score {r.score} is below the threshold {threshold}"
                self.gates.count_cascade(False)
                self._gate_event("cascade", False, reason, candidate_id=cand.id)
                self._after(cand, None if r.ok else r, failed_gate=reason)
            results = j.evaluate(self.executor, full, stage=1, input=inputs.train, input_key="train")
        else:
            results = j.evaluate(self.executor, full, stage=0, input=inputs.train, input_key="train")
        for cand, r in zip(full, results):
            self.evaluations_of[cand.id] = self.evaluations_of.get(cand.id, 0) + 1
            self._after(cand, r)

    def _after(self, cand: Candidate, result: EvalResult | None, failed_gate: str = "") -> None:
        """Credit the operator and parents, and register the child if it evaluated."""
        name, island = cand.operator or "", cand.island or 0
        parents = [self.database.programs[p] for p in cand.parent_ids if p in self.database.programs]
        parent_score = max((p.score for p in parents), default=None)
        member = self._member(cand, result, island) if result is not None and not failed_gate else None
        stats = self.stats.get(name)
        improved = stats.record(parent_score, member.score if member else None) if stats else False
        if name in self.bandits[island].pulls:
            self.bandits[island].update(name, 1.0 if improved else 0.0)
        self.database.islands[island].record_child(cand.parent_ids, member.score if member else None)
        if member is not None:
            self.database.register(member)
            self._note_best(member)
            return
        if result is not None and not result.ok:
            self._count_failure(result)
            reason = result.failure.reason if result.failure else "invalid_return"
            detail = result.failure.message if result.failure else result.feedback
            self.rejected.append(Rejection(name, reason, detail[-1000:], excerpt(cand.values)))
        elif failed_gate:
            self.rejected.append(Rejection(name, "cascade", failed_gate, excerpt(cand.values)))

    def _maintain(self) -> None:
        g, c = self.progress.generation, self.config
        if c.migration_period and g % c.migration_period == 0:
            moves = self.database.migrate()
            self.journal.event("migration", {"generation": g, "moves": [list(m) for m in moves]})
        if c.reset_period and g % c.reset_period == 0:
            reset = self.database.reset_weakest(self.rng)
            self.journal.event("reset", {"generation": g, "islands": reset})

    # -- the end ----------------------------------------------------------------------------------
    def heldout(self) -> list[dict[str, Any]]:
        """Re-evaluate the top candidates on the held-out input; events show both scores side by side."""
        if self.inputs.heldout is NO_INPUT or not self.config.heldout_top:
            return []
        top = self.database.top(self.config.heldout_top)
        rows = []
        by_stage: dict[int, list[Member]] = {}
        for m in top:
            by_stage.setdefault(self.evaluations_of.get(m.id, 1), []).append(m)
        scores: dict[str, EvalResult] = {}
        for stage, members in sorted(by_stage.items()):
            cands = [Candidate(m.values, id=m.id) for m in members]
            for m, r in zip(members, self.journal.evaluate(self.executor, cands, stage=stage,
                                                           input=self.inputs.heldout, input_key="heldout")):
                scores[m.id] = r
        for m in top:
            r = scores[m.id]
            row = {"candidate_id": m.id, "selection_score": m.score,
                   "heldout_score": r.score if r.ok else None}
            if not r.ok:
                row["failure"] = r.feedback
            self.journal.event("heldout", row)
            rows.append(row)
        return rows

    def finish(self) -> None:
        for name, s in self.stats.items():
            self.journal.event("operator", s.event(name))
        self.journal.event("gates", {"counts": self.gates.counts})
        self.journal.event("islands", self.database.summary())
        front = self.database.pareto()
        if front:
            self.journal.event("pareto", {"objectives": list(self.config.objectives),
                                          "front": [{"candidate_id": m.id, "scores": dict(m.scores)} for m in front]})


@dataclass
class _Plan:
    """One proposal decided before it runs: operator, island, parents and its own context."""

    name: str
    op: Operator
    island: int
    parents: list[Any]
    ctx: OperatorContext


def _concurrent(op: Operator) -> bool:
    """LLM operators run in the thread pool unless they say they must not (``thread_safe = False``)."""
    return bool(op.needs_lm) and bool(getattr(op, "thread_safe", True))


def _pool_size(lm: Any, configured: int) -> int:
    """One thread for a model in this process (LocalLM serialises its calls: more threads would only
    queue behind its lock, and a deadline would then wait for the whole queue), else as configured."""
    local = sys.modules.get("opto.llm.local")
    if local is not None and isinstance(lm, local.LocalLM):
        return 1
    return configured


def _call(plan: _Plan) -> Any:
    """The operator's output, or the exception it raised (a broken operator costs a proposal, never the run)."""
    try:
        return plan.op.propose(plan.parents, plan.ctx)
    except Exception as err:  # noqa: BLE001
        return err
