"""Pareto search (GEPA-style): keep every candidate that is best on some validation instance.

- The frontier: for each validation instance, the candidates with the top score on it; a
  candidate dominated by another frontier candidate on every instance is dropped from it.
- A parent is sampled with probability proportional to the number of instances it wins.
- Its child must beat it on the step's minibatch before it pays for a full validation.
- Every ``merge_every`` steps, two frontier candidates that share an ancestor are merged: each
  parameter comes from the side that changed it since the ancestor (the better-scoring side when
  both did), and the merge is kept when it scores at least as well as both on the minibatch.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from opto.trainer.algorithms.base import Algorithm, StepCost
from opto.trainer.dataset import Example
from opto.trainer.params import Values
from opto.trainer.session import Session


class ParetoSearch(Algorithm):
    name = "pareto"

    def __init__(self, merge_every: int | None = 3) -> None:
        if merge_every is not None and merge_every < 1:
            raise ValueError(f"merge_every must be >= 1 or None, got {merge_every}")
        self.merge_every = merge_every
        # cid -> {"values", "parents": [cid], "val": {instance index (str): score}}
        self.pool: dict[str, dict[str, Any]] = {}
        self.tried_merges: list[list[str]] = []

    # -- pool ------------------------------------------------------------------------------------
    def _add(self, s: Session, cid: str, values: Values, parents: Sequence[str]) -> None:
        scored = s.score(values)
        self.pool[cid] = {"values": values, "parents": list(parents),
                          "val": {str(i): v for i, v in scored.per_instance.items()}}

    def start(self, s: Session, seed_id: str, seed_values: Values) -> None:
        self.pool = {}
        self.tried_merges = []
        self._add(s, seed_id, seed_values, [])

    def mean(self, cid: str) -> float:
        val = self.pool[cid]["val"]
        return sum(val.values()) / len(val)

    def wins(self) -> dict[str, int]:
        """Frontier candidates -> number of validation instances they are (jointly) best on."""
        ids = list(self.pool)
        instances = list(self.pool[ids[0]]["val"])
        counts = dict.fromkeys(ids, 0)
        for i in instances:
            best = max(self.pool[c]["val"][i] for c in ids)
            for c in ids:
                if self.pool[c]["val"][i] == best:
                    counts[c] += 1
        frontier = {c: n for c, n in counts.items() if n > 0}
        return {c: n for c, n in frontier.items() if not any(self._dominates(d, c) for d in frontier if d != c)}

    def _dominates(self, a: str, b: str) -> bool:
        va, vb = self.pool[a]["val"], self.pool[b]["val"]
        return all(va[i] >= vb[i] for i in va) and any(va[i] > vb[i] for i in va)

    def ancestors(self, cid: str) -> set[str]:
        seen: set[str] = set()
        stack = list(self.pool[cid]["parents"]) if cid in self.pool else []
        while stack:
            c = stack.pop()
            if c in seen or c not in self.pool:
                continue
            seen.add(c)
            stack.extend(self.pool[c]["parents"])
        return seen

    # -- one step --------------------------------------------------------------------------------
    def step(self, s: Session, batch: Sequence[Example]) -> None:
        rng = random.Random(f"{s.seed}:pareto:{s.step}")
        if self.merge_every and s.step > 0 and s.step % self.merge_every == 0 and self._merge(s, batch, rng):
            return
        wins = self.wins()
        ids = sorted(wins)  # a fixed order, so the seeded draw is the same after a resume
        parent = rng.choices(ids, weights=[wins[c] for c in ids])[0]
        values = self.pool[parent]["values"]
        s.load(values)
        runs = s.forward_batch(parent, batch)
        parent_score = sum(r.score for r in runs) / len(runs)
        proposal = s.propose(runs, parent)
        if proposal is None or proposal.child_id in self.pool:
            return
        child_score = s.score(proposal.values, s.train, batch).mean
        if child_score <= parent_score:
            s.recorder.event("rejected", {"operator": s.operator, "reason": "minibatch",
                                          "detail": f"child {proposal.child_id} scored {child_score:g} <= "
                                                    f"parent {parent_score:g} on the minibatch"})
            return
        self._add(s, proposal.child_id, proposal.values, [parent])

    def merge_pair(self) -> tuple[str, str, str] | None:
        """Two frontier candidates with a common ancestor (and the nearest such ancestor), not yet tried."""
        front = sorted(self.wins(), key=lambda c: (-self.mean(c), c))
        for i, a in enumerate(front):
            for b in front[i + 1 :]:
                if sorted([a, b]) in self.tried_merges:
                    continue
                anc_a, anc_b = self.ancestors(a), self.ancestors(b)
                if a in anc_b or b in anc_a:
                    continue
                common = [c for c in self.pool if c in anc_a and c in anc_b]
                if common:
                    return a, b, common[-1]  # the most recent one (pool keeps insertion order)
        return None

    def merged_values(self, a: str, b: str, ancestor: str) -> Values:
        va, vb, vg = (self.pool[c]["values"] for c in (a, b, ancestor))
        better_a = self.mean(a) >= self.mean(b)
        out = {}
        for k in vg:
            if va[k] == vg[k]:
                out[k] = vb[k]
            elif vb[k] == vg[k]:
                out[k] = va[k]
            else:
                out[k] = va[k] if better_a else vb[k]
        return out

    def _merge(self, s: Session, batch: Sequence[Example], rng: random.Random) -> bool:
        pair = self.merge_pair()
        if pair is None:
            return False
        a, b, anc = pair
        self.tried_merges.append(sorted([a, b]))
        values = self.merged_values(a, b, anc)
        cid = s.candidate(values, [a, b], operator="merge")
        if cid in self.pool:
            return False
        need = max(s.score(self.pool[c]["values"], s.train, batch).mean for c in (a, b))
        got = s.score(values, s.train, batch).mean
        if got < need:
            s.recorder.event("rejected", {"operator": "merge", "reason": "minibatch",
                                          "detail": f"merge of {a} and {b} scored {got:g} < {need:g}"})
            return True
        self._add(s, cid, values, [a, b])
        return True

    def current(self) -> tuple[str, Values]:
        cid = max(self.pool, key=self.mean)  # ties: the older candidate
        return cid, self.pool[cid]["values"]

    def cost(self, batch_size: int, n_val: int) -> StepCost:
        return StepCost(1, 2 * batch_size + n_val)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "merge_every": self.merge_every}

    def state_dict(self) -> dict[str, Any]:
        return {"pool": [[cid, e["values"], e["parents"], e["val"]] for cid, e in self.pool.items()],
                "tried_merges": self.tried_merges}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pool = {cid: {"values": v, "parents": list(p), "val": dict(val)} for cid, v, p, val in state["pool"]}
        self.tried_merges = [list(pair) for pair in state.get("tried_merges", [])]
