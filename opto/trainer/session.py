"""The verbs a search algorithm uses: run a minibatch, ask the optimizer for a proposal, score.

Algorithms hold candidate ids and values; the session does the rest (tracing, combining a
minibatch's feedback into one backward, counting the budget, writing the run store), so an
algorithm file holds only its selection logic.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Sequence
from typing import Any

from opto.trace.bundle import bundle
from opto.trace.nodes import Node
from opto.trace.summary import graph_summary
from opto.trainer.budget import Spent, TrainBudget, check_counted
from opto.trainer.dataset import Dataset, Example
from opto.trainer.evaluation import Evaluator, Run, SplitScore
from opto.trainer.params import ParameterSet, Values
from opto.trainer.recorder import Recorder


@bundle("[batch_outputs] Joins the outputs of a minibatch, one per line as 'ID [i]: output'; the "
        "feedback refers to the same IDs.")
def batch_outputs(*outputs: Any) -> str:
    return "\n".join(f"ID [{i}]: {o}" for i, o in enumerate(outputs))


def combine(runs: Sequence[Run]) -> tuple[Node | None, str]:
    """One output node and one feedback text for a minibatch (trace-opt's batchify idea).

    A single instance keeps its own node and feedback; several are joined by the ``batch_outputs``
    operator so one backward carries every instance's feedback, each under the ID of its output.
    Instances that failed outside any traced call (no node) still contribute their feedback.
    """
    with_node = [r for r in runs if r.node is not None]
    if len(runs) == 1:
        return runs[0].node, runs[0].feedback
    lines = []
    ids = {id(r): i for i, r in enumerate(with_node)}
    for r in runs:
        tag = f"ID [{ids[id(r)]}]" if id(r) in ids else "(no traced output)"
        lines.append(f"{tag}: score {r.score:g}. {r.feedback}".rstrip())
    if not with_node:
        return None, "\n".join(lines)
    target = with_node[0].node if len(with_node) == 1 else batch_outputs(*[r.node for r in with_node])
    return target, "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class Proposal:
    """A child proposed from ``parent_id``: its full values and what changed."""

    parent_id: str
    child_id: str
    values: Values
    update: Values
    log: list[dict[str, Any]]


class Session:
    """Shared state of one training run, handed to the algorithm at every step."""

    def __init__(self, params: ParameterSet, optimizer: Any, evaluator: Evaluator, recorder: Recorder,
                 train: Dataset, val: Dataset, budget: TrainBudget, spent: Spent, seed: int | None,
                 operator: str) -> None:
        self.params = params
        self.optimizer = optimizer
        self.evaluator = evaluator
        self.recorder = recorder
        self.train = train
        self.val = val
        self.budget = budget
        self.spent = spent
        self.seed = seed
        self.operator = operator
        self.step = 0
        self.epoch = 0

    # -- parameter values ------------------------------------------------------------------------
    def values(self) -> Values:
        return self.params.values()

    def load(self, values: Values) -> None:
        self.params.set(values)

    def candidate(self, values: Values, parents: Sequence[str] = (), operator: str | None = None,
                  meta: dict[str, Any] | None = None, llm_call_id: str | None = None) -> str:
        return self.recorder.candidate(values, parents, operator or self.operator, self.step, meta, llm_call_id)

    # -- running and scoring ---------------------------------------------------------------------
    def count_evaluation(self, n: int) -> None:
        check_counted(self.budget, self.spent, evaluations=n)
        self.spent.evaluations += n

    def forward_batch(self, cid: str, batch: Sequence[Example]) -> list[Run]:
        """Traced runs of the current values (which must be ``cid``'s) on the batch, for backward."""
        return [self.evaluator.run(cid, self.train, ex) for ex in batch]

    def score(self, values: Values, split: Dataset | None = None,
              examples: Sequence[Example] | None = None) -> SplitScore:
        """Score ``values`` on a split (default: validation) and put the current values back."""
        split = self.val if split is None else split
        before = self.params.values()
        cid = self.candidate(values)
        try:
            self.params.set(values)
            result = self.evaluator.score(cid, split, examples)
        finally:
            self.params.set(before)
        if examples is None:
            self.evaluator.record_split(cid, split, result, selection=split is self.val)
        return result

    # -- proposing -------------------------------------------------------------------------------
    def propose(self, runs: Sequence[Run], parent_id: str, retain_graph: bool = False) -> Proposal | None:
        """Backward the batch's feedback and ask the optimizer for new values; nothing is applied.

        Returns None when there is nothing to propose from (no traced output) or the optimizer
        proposed no change. Every proposal is one "step" event in the run store.
        """
        target, feedback = combine(runs)
        if target is None:
            self._step_event(parent_id, None, runs, {}, [], "no traced output to send feedback to")
            return None
        check_counted(self.budget, self.spent, proposals=1)
        graph = _graph(target)  # before backward, which may free what the graph holds
        opt = self.optimizer
        opt.zero_feedback()
        kw: dict[str, Any] = {"retain_graph": True} if retain_graph else {}
        if _takes_score(opt):  # OPRO keeps (values, score) pairs: give it the batch's mean score
            kw["score"] = sum(r.score for r in runs) / len(runs)
        opt.backward(target, feedback, **kw)
        before = len(getattr(opt, "log", []) or [])
        self.spent.proposals += 1
        update = self.params.by_name(opt.propose() or {})
        log = [e for e in list(getattr(opt, "log", []) or [])[before:] if isinstance(e, dict)]
        parent_values = self.params.values()
        values = {**parent_values, **update}
        changed = {k: v for k, v in update.items() if parent_values.get(k) != v}
        if not changed:
            self._step_event(parent_id, None, runs, {}, log, "the optimizer proposed no change", graph)
            return None
        call_id = (log[-1].get("call_id") or None) if log else None
        child = self.candidate(values, [parent_id], meta=_meta(log), llm_call_id=call_id)
        self._step_event(parent_id, child, runs, changed, log, None, graph)
        return Proposal(parent_id, child, values, changed, log)

    def apply(self, proposal: Proposal) -> None:
        """Apply a proposal through the optimizer (so it can keep its own record of what was applied)."""
        self.optimizer.update(self.params.by_node(proposal.update))

    def _step_event(self, parent: str, child: str | None, runs: Sequence[Run], applied: Values,
                    log: list[dict[str, Any]], note: str | None, graph: dict[str, Any] | None = None) -> None:
        last = log[-1] if log else {}
        data: dict[str, Any] = {
            "step": self.step, "epoch": self.epoch, "parent_id": parent, "candidate_id": child,
            "prompt": _text(last.get("prompt")), "reply": _text(last.get("reply")), "applied": applied,
            "rejected": _rejected(last.get("rejected")),
            "score": sum(r.score for r in runs) / len(runs) if runs else None,
            "instances": [self.train.key(r.example) for r in runs],
        }
        if note:
            data["note"] = note
        if graph is not None:
            data["graph"] = graph
        self.recorder.event("step", data)


def _graph(target: Node) -> dict[str, Any] | None:
    """The step's trace graph for the run store (opto.trace.summary), or None if it cannot be described."""
    try:
        return graph_summary(target)
    except Exception:  # noqa: BLE001 - a picture for the report must never stop a training run
        return None


def _takes_score(optimizer: Any) -> bool:
    """True when the optimizer's backward names a ``score`` parameter (OPRO); others never get one."""
    try:
        return "score" in inspect.signature(optimizer.backward).parameters
    except (TypeError, ValueError):
        return False


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # chat messages
        return "\n\n".join(str(m.get("content", m)) if isinstance(m, dict) else str(m) for m in value)
    return str(value)


def _rejected(value: Any) -> list[dict[str, Any]]:
    if not value:
        return []
    out = []
    for item in value if isinstance(value, list) else [value]:
        out.append({"param": str(item.get("param", "")), "reason": str(item.get("reason", ""))}
                   if isinstance(item, dict) else {"param": "", "reason": str(item)})
    return out


def _meta(log: list[dict[str, Any]]) -> dict[str, Any]:
    last = log[-1] if log else {}
    thought = last.get("reasoning") or last.get("thought")
    return {"thought": str(thought)} if thought else {}
