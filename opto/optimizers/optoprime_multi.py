"""OptoPrimeMulti: N OptoPrime proposals at once, one of them chosen by a selector.

The N requests go out concurrently, either spread over a temperature range (``sampling="temperature"``,
trace-opt's behaviour) or as N samples of one request with distinct seeds (``sampling="samples"``).
Every candidate passes the same checks as OptoPrime's single proposal. The selector picks one:
trace-opt's default (the last valid candidate, i.e. the coolest), any ``selector(candidates) ->
candidate`` function, or ``BestOf(objective)``, which scores each candidate with your objective and
keeps the best (or no change, when nothing beats the current values).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from opto.optimizers.memory import jsonable
from opto.optimizers.optoprime import OptoPrime
from opto.trace.nodes import ParameterNode

Candidate = dict[ParameterNode, Any]


@contextlib.contextmanager
def temporarily(values: Mapping[ParameterNode, Any]) -> Iterator[None]:
    """Parameters set to ``values`` inside the block and restored after (even on error)."""
    saved = [(p, p._data) for p in values]
    try:
        for p, v in values.items():
            p._set(v)
        yield
    finally:
        for p, old in saved:
            p._set(old)


class BestOf:
    """Selector that evaluates each candidate with ``objective`` and keeps the highest score.

    objective: ``objective()`` reading the parameters (they are set to the candidate while it runs),
        or ``objective(candidate)``; returns a number, higher is better. An objective that raises
        scores that candidate as the worst.
    keep_current: also score the current values; when they win, the selection is "no change".
    """

    def __init__(self, objective: Callable[..., float], keep_current: bool = True) -> None:
        self.objective = objective
        self.keep_current = keep_current
        try:
            self._takes_candidate = len(inspect.signature(objective).parameters) > 0
        except (TypeError, ValueError):
            self._takes_candidate = False
        self.scores: list[float | None] = []
        self.current_score: float | None = None

    def score(self, candidate: Candidate) -> float | None:
        with temporarily(candidate):
            try:
                value = self.objective(candidate) if self._takes_candidate else self.objective()
                return float(value)
            except Exception:
                return None

    def __call__(self, candidates: Sequence[Candidate]) -> Candidate:
        self.scores = [self.score(c) if c else None for c in candidates]
        self.current_score = self.score({}) if self.keep_current else None
        best: Candidate = {}
        best_score = self.current_score
        for candidate, s in zip(candidates, self.scores, strict=True):
            if s is not None and (best_score is None or s > best_score):
                best, best_score = candidate, s
        return best


def last_valid(candidates: Sequence[Candidate]) -> Candidate:
    """trace-opt's choice: the last candidate (lowest temperature), skipping empty ones."""
    for candidate in reversed(candidates):
        if candidate:
            return candidate
    return {}


class OptoPrimeMulti(OptoPrime):
    """OptoPrime with ``num_responses`` concurrent proposals and a selector (trace-opt's arguments kept).

    temperature_range: [max, min] spread over the N requests (default [1.3, 0.0]).
    sampling: "temperature" (spread) or "samples" (N samples of one request at ``temperature``).
    selector: ``f(candidates) -> candidate`` or ``BestOf(objective)``; default: the last valid one.
    concurrency: requests in flight at once (default: all N).
    """

    def __init__(self, *args: Any, num_responses: int = 5, temperature_range: Sequence[float] | None = None,
                 selector: Callable[[list[Candidate]], Candidate] | None = None, sampling: str = "temperature",
                 concurrency: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if num_responses < 1:
            raise ValueError(f"num_responses must be >= 1, got {num_responses}")
        if sampling not in ("temperature", "samples"):
            raise ValueError(f"sampling must be 'temperature' or 'samples', got {sampling!r}")
        self.num_responses = num_responses
        self.temperature_range = list(temperature_range) if temperature_range is not None else [1.3, 0.0]
        self.selector = selector
        self.sampling = sampling
        self.concurrency = concurrency
        self.candidates: list[Candidate] = []
        self.selected_candidate: Candidate | None = None

    def temperatures(self, n: int | None = None) -> list[float]:
        n = n or self.num_responses
        hi, lo = max(self.temperature_range), min(self.temperature_range)
        return [hi - i * (hi - lo) / max(1, n - 1) for i in range(n)]

    def propose(self, *args: Any, verbose: Any = False, mask: Collection[str] | None = None,
                num_responses: int | None = None, selector: Callable[[list[Candidate]], Candidate] | None = None,
                **kwargs: Any) -> dict[ParameterNode, Any]:
        begun = self._begin(mask, verbose)
        if begun is None:
            return {}
        summary, prompt, entry = begun
        n = num_responses or self.num_responses
        parts = self._sample(prompt, n, entry)
        self.candidates = []
        details: list[dict[str, Any]] = []
        for sub, reply in parts:
            values, rejected = self._check(reply)
            self._remember(rejected, sub)
            self.candidates.append(values)
            sub.update(proposed={p.py_name: jsonable(v) for p, v in values.items()},
                       rejected=[{"param": r["param"], "value": jsonable(r["value"]), "reason": r["reason"]}
                                 for r in rejected], terminate=reply.terminate)
            details.append(sub)
        chooser = selector or self.selector or last_valid
        chosen = chooser(self.candidates)
        self.selected_candidate = chosen
        index = next((i for i, c in enumerate(self.candidates) if c is chosen), None)
        if isinstance(chooser, BestOf):
            for sub, score in zip(details, chooser.scores, strict=True):
                sub["score"] = score
            entry["current_score"] = chooser.current_score
        if verbose:
            print("LLM responses:\n", [d.get("reply", "") for d in details])
        entry.update(candidates=details, selected=index, reply=details[index]["reply"] if index is not None else "")
        self.memory.add({e.name: self._current(e.name) for e in summary.variables}, summary.feedback)
        selected_reply = parts[index][1] if index is not None else None
        entry["usage"] = _total_usage(details)
        return self._record_multi(entry, dict(chosen), selected_reply)

    def _record_multi(self, entry: dict[str, Any], values: Candidate, reply: Any) -> Candidate:
        entry.update(reasoning=reply.reasoning if reply else "", terminate=not values,
                     proposed={p.py_name: jsonable(v) for p, v in values.items()}, applied={},
                     rejected=[r for d in entry["candidates"] for r in d["rejected"]])
        if self.keep_log:
            self.log.append(entry)
        self._pending = entry
        return values

    def _sample(self, prompt: Any, n: int, entry: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
        """N (sub-entry, parsed reply) pairs; the calls run concurrently."""
        from opto.llm import BudgetExceeded, complete_many

        if self.sampling == "temperature":
            requests = [self.request(prompt, temperature=t) for t in self.temperatures(n)]
        else:
            seed = self.seed if self.seed is not None else 0
            requests = [self.request(prompt, n=n, seed=seed)]
        responses: list[Any]
        try:
            responses = complete_many(self.lm, requests, concurrency=self.concurrency or n)
        except BudgetExceeded:
            raise
        except Exception:  # one broken call: ask one by one so the others still count
            responses = []
            for r in requests:
                try:
                    responses.append(self.lm.complete(r))
                except BudgetExceeded:
                    raise
                except Exception as e:
                    responses.append(e)
        out: list[tuple[dict[str, Any], Any]] = []
        for i, response in enumerate(responses):
            if isinstance(response, Exception):
                from opto.optimizers.reply import ParsedReply

                failed: dict[str, Any] = {"reply": "", "model_error": f"{type(response).__name__}: {response}"}
                out.append((failed, ParsedReply(error=f"the model call failed ({failed['model_error']})")))
                continue
            for k in range(len(response.choices)):
                sub: dict[str, Any] = {"temperature": requests[i].temperature}
                out.append((sub, self._read(response, sub, k)))
                if k:  # samples of one response share its usage; count it once
                    sub["usage"] = {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": None}
        return out


def _total_usage(details: list[dict[str, Any]]) -> dict[str, Any]:
    prompt = sum(d.get("usage", {}).get("prompt_tokens", 0) for d in details)
    completion = sum(d.get("usage", {}).get("completion_tokens", 0) for d in details)
    costs = [d.get("usage", {}).get("cost_usd") for d in details if "usage" in d]
    cost = sum(costs) if costs and all(c is not None for c in costs) else None
    return {"prompt_tokens": prompt, "completion_tokens": completion, "cost_usd": cost}
