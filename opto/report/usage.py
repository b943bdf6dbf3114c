"""LLM usage and cost of a run, per model, from the store's llm_calls table.

Cost is what the LLM layer recorded with each call (``usage.cost_usd``); for a call recorded
without it, the list price of a known model is used, and a call whose price is unknown is counted
as such rather than as free. Cached replies cost nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict

from opto.llm.usage import price_for
from opto.report.data import RunData
from opto.store.rows import LLMCallRecord


@dataclasses.dataclass(frozen=True)
class UsageRow:
    model: str
    calls: int
    cached: int
    failed: int
    prompt_tokens: int
    completion_tokens: int
    mean_latency_s: float | None
    cost_usd: float
    unpriced: int  # calls whose cost is unknown (not in cost_usd)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def call_cost(call: LLMCallRecord) -> float | None:
    recorded = call.usage.get("cost_usd") if isinstance(call.usage, dict) else None
    if isinstance(recorded, (int, float)) and math.isfinite(recorded):
        return float(recorded)
    if call.cached:
        return 0.0
    price = price_for(call.model or "")
    if price is None:
        return None
    return price.cost(int(call.prompt_tokens or 0), int(call.completion_tokens or 0))


def _row(model: str, calls: list[LLMCallRecord]) -> UsageRow:
    latencies = [c.latency_s for c in calls if c.latency_s is not None and not c.cached]
    costs = [call_cost(c) for c in calls]
    failed = sum(1 for c in calls if isinstance(c.usage, dict) and c.usage.get("failure"))
    return UsageRow(model, len(calls), sum(c.cached for c in calls), failed,
                    sum(int(c.prompt_tokens or 0) for c in calls), sum(int(c.completion_tokens or 0) for c in calls),
                    sum(latencies) / len(latencies) if latencies else None,
                    sum(x for x in costs if x is not None), sum(x is None for x in costs))


def usage_table(run: RunData) -> tuple[list[UsageRow], UsageRow | None]:
    """One row per model and the total (None when the run made no LLM call)."""
    if not run.llm_calls:
        return [], None
    by_model: dict[str, list[LLMCallRecord]] = defaultdict(list)
    for c in run.llm_calls:
        by_model[c.model or "(unnamed)"].append(c)
    rows = sorted((_row(m, cs) for m, cs in by_model.items()), key=lambda r: (-r.calls, r.model))
    return rows, _row("all models", list(run.llm_calls))
