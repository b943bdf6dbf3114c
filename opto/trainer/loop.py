"""``train``: run a search algorithm over a dataset, keep the best parameters, resume after a kill.

Each completed step ends with a "checkpoint" event holding everything needed to continue (values,
optimizer state, algorithm state, counters, best so far); evaluations and LLM calls are committed
as they complete. A rerun with the same store continues after the last checkpoint, so a run killed
mid-step repeats only that step (its stored evaluations are reused; a seeded or cached LM gives
the same proposals) and ends with the result an uninterrupted run would have had.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from opto.llm import BudgetExceeded, record_calls, track_usage
from opto.trace.nodes import ParameterNode
from opto.trainer.algorithms import Algorithm, algorithm_of
from opto.trainer.budget import BudgetStop, Spent, TrainBudget
from opto.trainer.dataset import Dataset
from opto.trainer.evaluation import Evaluator
from opto.trainer.guides import as_guide
from opto.trainer.optimizer_spec import build_optimizer, calls_per_step, operator_name
from opto.trainer.params import ParameterSet
from opto.trainer.plan import Plan, make_plan
from opto.trainer.progress import Progress
from opto.trainer.recorder import CHECKPOINT, VALIDATION, Recorder, candidate_id
from opto.trainer.result import TrainResult
from opto.trainer.session import Session

log = logging.getLogger("opto.trainer")


def train(model: Any, train_set: Any, guide: Any, *, optimizer: Any = None, algorithm: Any = "minibatch",
          epochs: int = 1, batch_size: int = 1, val_set: Any = None, test_set: Any = None, budget: Any = None,
          store: Any = None, seed: int | None = 0, dry_run: bool = False, lm: Any = None,
          parameters: Iterable[ParameterNode] | None = None, eval_every: int = 1, patience: int | None = None,
          failure_score: float = 0.0, shuffle: bool = True, resume: bool = True, progress: bool | None = None,
          tokens_per_call: tuple[int, int] = (2000, 400)) -> TrainResult | Plan:
    """Optimize ``model``'s trainable parameters on ``train_set`` with feedback from ``guide``.

    model: a traced callable (a @bundle function or a @trace.model instance) called as model(input).
    guide: (input, output, info) -> (score, feedback); see opto.trainer.guides.
    optimizer: an Optimizer instance, class, or name ("optoprime", "opro", ...); default OptoPrime.
    algorithm: "minibatch", "beam", "priority", "pareto", or an Algorithm instance.
    budget: a TrainBudget, an int (max proposals), or an opto.llm.Budget; the run stops cleanly at it.
    store: a path or an open RunStore; with a path, a rerun resumes where the last run stopped.
    dry_run: print (and return) the Plan of LLM calls, evaluations and cost; run nothing.
    Returns a TrainResult; the model is left holding the best parameters.
    """
    if epochs < 0 or eval_every < 1 or (patience is not None and patience < 1):
        raise ValueError("train() needs epochs >= 0, eval_every >= 1 and patience None or >= 1")
    train_data = Dataset.of(train_set, "train")
    if not train_data:
        raise ValueError("train_set is empty; pass at least one (input, info) pair")
    val_data = train_data if val_set is None else Dataset.of(val_set, "val")
    test_data = None if test_set is None else Dataset.of(test_set, "test")
    judge = as_guide(guide)
    params = ParameterSet.of(model, parameters)
    caps = TrainBudget.of(budget)
    algo = algorithm_of(algorithm)
    plan = _plan(algo, optimizer, lm, judge, train_data, val_data, test_data, epochs, batch_size, caps,
                 tokens_per_call)
    if dry_run:
        print(plan)
        return plan
    for warning in plan.warnings:
        log.warning("opto train: %s", warning)
    opt = build_optimizer(optimizer, params, lm)
    config = {"kind": "training", "algorithm": algo.config(), "optimizer": type(opt).__name__,
              "guide": judge.name, "epochs": epochs, "batch_size": batch_size, "seed": seed,
              "train_size": len(train_data), "val_size": len(val_data) if val_set is not None else None,
              "test_size": len(test_data) if test_data is not None else None, "eval_every": eval_every,
              "patience": patience, "failure_score": failure_score, "shuffle": shuffle,
              "parameters": sorted(params.nodes), "start_candidate": candidate_id(params.values())}
    with contextlib.ExitStack() as stack:
        run_store = _open_store(store, config, seed, stack)
        recorder = Recorder(run_store)
        trainer = _Trainer(model, params, opt, algo, judge, recorder, train_data, val_data, test_data, caps, seed,
                           epochs, batch_size, eval_every, patience, failure_score, shuffle,
                           sys.stderr.isatty() if progress is None else progress)
        result = trainer.run(resume)
        result.store_path = str(run_store.path) if run_store is not None else None
        return result


def _open_store(store: Any, config: dict[str, Any], seed: int | None, stack: contextlib.ExitStack) -> Any:
    if store is None:
        return None
    if isinstance(store, (str, Path)):
        from opto.store import RunStore

        return stack.enter_context(RunStore.open(store, config=config, seed=seed))
    if not hasattr(store, "add_event"):
        raise TypeError(f"store must be a path or an opto.store.RunStore, got {type(store).__name__}")
    return store


def _plan(algo: Algorithm, optimizer: Any, lm: Any, judge: Any, train: Dataset, val: Dataset, test: Dataset | None,
          epochs: int, batch_size: int, caps: TrainBudget, tokens_per_call: tuple[int, int]) -> Plan:
    cost = algo.cost(batch_size, len(val))
    opt_lm = getattr(optimizer, "lm", None) if not isinstance(optimizer, (str, type, type(None))) else None
    price = getattr(opt_lm if opt_lm is not None else lm, "price", None)
    calls = calls_per_step(optimizer) if not isinstance(optimizer, (str, type(None))) else 1
    return make_plan(epochs=epochs, steps_per_epoch=train.steps_per_epoch(batch_size), batch_size=batch_size,
                     n_val=len(val), n_test=len(test) if test is not None else 0,
                     step_proposals=cost.proposals, step_evaluations=cost.evaluations + len(val),
                     start_evaluations=len(val), calls_per_proposal=calls, judge_calls=judge.calls_lm(),
                     budget=caps, price=price, tokens_per_call=tokens_per_call)


class _Trainer:
    """One call of ``train``: the loop, checkpoints, best tracking, the final held-out score."""

    def __init__(self, model: Any, params: ParameterSet, opt: Any, algo: Algorithm, judge: Any, recorder: Recorder,
                 train: Dataset, val: Dataset, test: Dataset | None, caps: TrainBudget, seed: int | None,
                 epochs: int, batch_size: int, eval_every: int, patience: int | None, failure_score: float,
                 shuffle: bool, show_progress: bool) -> None:
        self.params, self.opt, self.algo, self.recorder = params, opt, algo, recorder
        self.train, self.val, self.test, self.caps = train, val, test, caps
        self.seed, self.epochs, self.batch_size = seed, epochs, batch_size
        self.eval_every, self.patience, self.shuffle = eval_every, patience, shuffle
        self.show_progress = show_progress
        self.spent = Spent()
        self.evaluator = Evaluator(model, judge, recorder, failure_score, self._count)
        self.session = Session(params, opt, self.evaluator, recorder, train, val, caps, self.spent, seed,
                               operator_name(opt))
        self.capped = True
        self.steps_done = 0
        self.best: dict[str, Any] = {}
        self.bad_validations = 0
        self.history: list[dict[str, Any]] = []
        self.seed_score = 0.0

    def _count(self, n: int) -> None:
        if self.capped:
            self.session.count_evaluation(n)
        else:
            self.spent.evaluations += n

    # -- state -----------------------------------------------------------------------------------
    def _checkpoint(self, done: bool = False, result: TrainResult | None = None) -> None:
        cid, values = self.algo.current()
        state_dict = getattr(self.opt, "state_dict", None)
        data = {"steps_done": self.steps_done, "current_id": cid, "values": values, "best": self.best,
                "bad_validations": self.bad_validations, "seed_score": self.seed_score,
                "spent": self.spent.to_dict(), "algorithm": self.algo.state_dict(),
                "optimizer": state_dict() if callable(state_dict) else None, "done": done}
        if result is not None:
            data["result"] = result.to_dict()
        self.recorder.event(CHECKPOINT, data)

    def _restore(self, ckpt: dict[str, Any]) -> None:
        self.steps_done = int(ckpt["steps_done"])
        self.best = dict(ckpt["best"])
        self.bad_validations = int(ckpt["bad_validations"])
        # one "validation" event per validation (not the whole list in every checkpoint); a step that was
        # cut short may have validated before the kill: keep what the checkpoint covers, latest per step
        by_step = {e["step"]: e for e in self.recorder.events(VALIDATION) if e["step"] <= self.steps_done}
        self.history = [by_step[k] for k in sorted(by_step)]
        self.seed_score = float(ckpt["seed_score"])
        restored = Spent.from_dict(ckpt["spent"])
        for k, v in restored.to_dict().items():
            setattr(self.spent, k, v)
        self.algo.load_state_dict(ckpt["algorithm"])
        load = getattr(self.opt, "load_state_dict", None)
        if ckpt.get("optimizer") is not None and callable(load):
            load(ckpt["optimizer"])
        self.params.set(ckpt["values"])
        self.recorder.event("resume", {"steps_done": self.steps_done})

    def _start(self) -> None:
        s = self.session
        values = self.params.values()
        cid = s.candidate(values, operator="seed")
        self.algo.start(s, cid, values)
        self.seed_score = s.score(values).mean
        self.best = {"candidate_id": cid, "score": self.seed_score, "values": values, "step": 0}
        self._history({"step": 0, "candidate_id": cid, "score": self.seed_score})
        self.recorder.event("best", {"candidate_id": cid, "score": self.seed_score,
                                     "evaluations": self.spent.evaluations})
        self._checkpoint()

    def _history(self, entry: dict[str, Any]) -> None:
        self.history.append(entry)
        self.recorder.event(VALIDATION, entry)

    def _validate(self, step: int) -> None:
        cid, values = self.algo.current()
        score = self.session.score(values).mean
        self._history({"step": step, "candidate_id": cid, "score": score})
        if score > self.best["score"]:
            self.best = {"candidate_id": cid, "score": score, "values": values, "step": step}
            self.bad_validations = 0
            self.recorder.event("best", {"candidate_id": cid, "score": score, "evaluations": self.spent.evaluations})
        else:
            self.bad_validations += 1

    # -- the loop --------------------------------------------------------------------------------
    def run(self, resume: bool) -> TrainResult:
        ckpt = self.recorder.latest_checkpoint() if resume else None
        if ckpt is not None and ckpt.get("done") and ckpt.get("result"):
            self.params.set(ckpt["best"]["values"])
            return TrainResult.from_dict({**ckpt["result"], "resumed": True})
        base = Spent.from_dict(ckpt["spent"]) if ckpt else Spent()
        spe = self.train.steps_per_epoch(self.batch_size)
        total = self.epochs * spe
        stopped: str | None = None
        unit = self.caps.unit or "proposals"
        bar_total = self.caps.total if self.caps.unit else total * self.algo.cost(self.batch_size, 0).proposals
        recorder = self.recorder
        with contextlib.ExitStack() as stack:
            usage = stack.enter_context(track_usage(budget=self.caps.lm_budget(base), name="train", report=False,
                                                    stop_on_budget=False))
            if recorder.store is not None:
                stack.enter_context(record_calls(recorder.store, usage))
            bar = Progress(self.show_progress, bar_total, unit, self.spent.amount(unit) if ckpt else 0.0)
            stack.callback(bar.close)
            try:
                if ckpt is not None:
                    self._restore(ckpt)
                else:
                    self._start()
                bar.update(self.spent.amount(unit), self.best["score"])
                batches: dict[int, list] = {}
                while self.steps_done < total:
                    reason = self._exhausted()
                    if reason:
                        stopped = f"budget: {reason}"
                        break
                    epoch, b = divmod(self.steps_done, spe)
                    if epoch not in batches:
                        batches = {epoch: self.train.batches(self.batch_size, epoch, self.seed, self.shuffle)}
                    step = self.steps_done + 1
                    self.session.step, self.session.epoch = step, epoch
                    self.params.set(self.algo.current()[1])
                    self.algo.step(self.session, batches[epoch][b])
                    if step % self.eval_every == 0 or step == total:
                        self._validate(step)
                    self.steps_done = step
                    self.spent.with_usage(base, usage.summary())
                    self._checkpoint()
                    bar.update(self.spent.amount(unit), self.best["score"])
                    if self.patience is not None and self.bad_validations >= self.patience:
                        stopped = f"early stop: no improvement in {self.patience} validation(s)"
                        break
            except (BudgetStop, BudgetExceeded) as err:
                stopped = f"budget: {err}"
            self.spent.with_usage(base, usage.summary())
            self.params.set(self.best["values"])
            test_score = self._heldout()
        result = TrainResult(best_values=self.best["values"], best_candidate_id=self.best["candidate_id"],
                             best_score=self.best["score"], selection_split=self.val.name, test_score=test_score,
                             steps=self.steps_done, stopped=stopped, spent=self.spent, history=self.history,
                             seed_score=self.seed_score, resumed=ckpt is not None)
        self._checkpoint(done=stopped is None or stopped.startswith("early"), result=result)
        return result

    def _exhausted(self) -> str | None:
        """A cap already reached by counted spending (the LLM layer stops calls past its own caps)."""
        c, s = self.caps, self.spent
        if c.max_llm_calls is not None and s.llm_calls >= c.max_llm_calls:
            return f"{c.max_llm_calls} LLM calls reached"
        if c.max_tokens is not None and s.tokens >= c.max_tokens:
            return f"{c.max_tokens} tokens reached"
        if c.max_cost_usd is not None and s.cost_usd >= c.max_cost_usd:
            return f"${c.max_cost_usd} reached"
        if c.max_proposals is not None and s.proposals >= c.max_proposals:
            return f"{c.max_proposals} proposals reached"
        if c.max_evaluations is not None and s.evaluations >= c.max_evaluations:
            return f"{c.max_evaluations} evaluations reached"
        return None

    def _heldout(self) -> float | None:
        """The best candidate's test score, measured after selection and outside the budget caps."""
        if self.test is None or not self.best:
            return None
        self.capped = False
        try:
            score = self.session.score(self.best["values"], self.test).mean
        except BudgetExceeded:
            return None
        finally:
            self.capped = True
        self.recorder.event("heldout", {"candidate_id": self.best["candidate_id"],
                                        "selection_score": self.best["score"], "heldout_score": score})
        return score
