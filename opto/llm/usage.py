"""Usage accounting and budget caps, per LM and per run.

Every LM owns a UsageTracker (its lifetime totals). ``with track_usage(budget=...) as run:`` opens a
run: every call made inside the block, by any LM, is also recorded in ``run`` and checked against its
budget. Budgets count what is spent: cache hits are free and never count. The call cap is strict even
under concurrency (calls are reserved before they start); token and cost caps are checked before each
call, so calls already in flight may go over by their own size.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from opto.llm.errors import BudgetExceeded, LMConfigError
from opto.llm.protocol import Request


@dataclasses.dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1e6


# List prices (USD per 1M tokens) of a few OpenAI models; exact names only. Pass price= to override.
KNOWN_PRICES: dict[str, Price] = {
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
}


def price_for(model: str) -> Price | None:
    return KNOWN_PRICES.get(model)


@dataclasses.dataclass(frozen=True)
class Budget:
    """Caps for a run or an LM; None means no cap. Checked before every non-cached call."""

    max_calls: int | None = None
    max_tokens: int | None = None
    max_cost_usd: float | None = None


@dataclasses.dataclass(frozen=True)
class CallRecord:
    """One transport exchange (a repair request is its own record).

    ``request`` (what was sent, schema instruction and repair turn included) and ``reply`` (the raw
    text, "" after a failure) go to subscribers as the call completes, e.g. to a run store (see
    opto.llm.recording); ``UsageTracker.records`` keeps the record without them, so a long run does
    not hold every prompt in memory. ``call_id`` is also in the Response's ``Choice.call_id``.
    """

    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_s: float
    cached: bool
    failure: str | None = None
    at: float = dataclasses.field(default_factory=time.time)
    call_id: str = ""
    request: Request | None = dataclasses.field(default=None, repr=False, compare=False)
    reply: str = dataclasses.field(default="", repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class UsageSummary:
    calls: int = 0
    cached_calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cost_complete: bool = True  # False when some call's price was unknown
    latency_s: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def spent_calls(self) -> int:
        return self.calls - self.cached_calls

    def __str__(self) -> str:
        if self.cost_complete:
            cost = f"${self.cost_usd:.4f}"
        elif self.cost_usd:
            cost = f"${self.cost_usd:.4f} + calls with unknown price"
        else:
            cost = "cost unknown (no price for the model)"
        return (
            f"{self.calls} calls ({self.cached_calls} cached, {self.failed_calls} failed), "
            f"{self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion tokens, "
            f"{cost}, {self.latency_s:.2f} s in calls"
        )


def summarize(records: list[CallRecord]) -> UsageSummary:
    spent = [r for r in records if not r.cached]
    return UsageSummary(
        calls=len(records),
        cached_calls=len(records) - len(spent),
        failed_calls=sum(r.failure is not None for r in records),
        prompt_tokens=sum(r.prompt_tokens for r in spent),
        completion_tokens=sum(r.completion_tokens for r in spent),
        cost_usd=sum(r.cost_usd or 0.0 for r in spent),
        cost_complete=all(r.cost_usd is not None for r in spent),
        latency_s=sum(r.latency_s for r in records),
    )


class UsageTracker:
    """Thread-safe log of CallRecords with an optional Budget; ``subscribe`` lets a run store listen."""

    def __init__(self, budget: Budget | None = None, name: str = "run") -> None:
        self.budget = budget
        self.name = name
        self.records: list[CallRecord] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self._listeners: list[Callable[[CallRecord], None]] = []
        self._totals = UsageSummary()
        self.stopped_by: BudgetExceeded | None = None  # set by track_usage when this budget ended the run

    def __getstate__(self) -> dict:
        # A copy sent to a worker process keeps the totals; locks and listeners stay behind.
        state = self.__dict__.copy()
        state.update(_lock=None, _listeners=[], _in_flight=0, stopped_by=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[CallRecord], None]) -> Callable[[], None]:
        """Call ``listener(record)`` after every call this tracker records; returns the unsubscribe.

        Listeners run in the calling thread, after the record is counted; an exception from one is
        raised from the LM call once every listener (and every tracker of the call) had its turn.
        """
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def reserve(self, price_known: bool) -> None:
        """Claim one call against the budget, or raise BudgetExceeded before it is made."""
        with self._lock:
            b, t = self.budget, self._totals
            if b is not None:
                if b.max_calls is not None and t.spent_calls + self._in_flight >= b.max_calls:
                    self._stop(f"{b.max_calls} calls")
                if b.max_tokens is not None and t.total_tokens >= b.max_tokens:
                    self._stop(f"{b.max_tokens:,} tokens (used {t.total_tokens:,})")
                if b.max_cost_usd is not None:
                    if not price_known:
                        raise LMConfigError(
                            f"budget max_cost_usd={b.max_cost_usd} needs the model's price; pass "
                            "price=Price(input_per_mtok, output_per_mtok) to the LM"
                        )
                    if t.cost_usd >= b.max_cost_usd:
                        self._stop(f"${b.max_cost_usd} (spent ${t.cost_usd:.4f})")
            self._in_flight += 1

    def release(self) -> None:
        """Give back a reservation whose call was never made (e.g. a config error)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def _stop(self, limit: str) -> None:
        raise BudgetExceeded(
            f"LM budget of {self.name!r} reached: {limit}. Usage so far: {self._totals}. "
            "Everything done so far is saved (cached replies replay for free on a rerun); "
            "raise the cap in Budget(...) to continue.",
            tracker=self,
        )

    def record(self, rec: CallRecord, reserved: bool) -> None:
        kept = dataclasses.replace(rec, request=None, reply="") if rec.request is not None or rec.reply else rec
        with self._lock:
            if reserved:
                self._in_flight = max(0, self._in_flight - 1)
            self.records.append(kept)
            self._totals = _add(self._totals, rec)
            listeners = list(self._listeners)
        errors = []
        for listener in listeners:
            try:
                listener(rec)
            except Exception as e:
                errors.append(e)
        if errors:
            raise errors[0]

    def summary(self) -> UsageSummary:
        with self._lock:
            return self._totals

    def by_model(self) -> dict[str, UsageSummary]:
        with self._lock:
            records = list(self.records)
        models = sorted({r.model for r in records})
        return {m: summarize([r for r in records if r.model == m]) for m in models}

    def report(self) -> str:
        lines = [f"opto LM usage [{self.name}]: {self.summary()}"]
        per_model = self.by_model()
        if len(per_model) > 1:
            lines += [f"  {m}: {s}" for m, s in per_model.items()]
        return "\n".join(lines)


def _add(t: UsageSummary, r: CallRecord) -> UsageSummary:
    spent = not r.cached
    return UsageSummary(
        calls=t.calls + 1,
        cached_calls=t.cached_calls + (not spent),
        failed_calls=t.failed_calls + (r.failure is not None),
        prompt_tokens=t.prompt_tokens + (r.prompt_tokens if spent else 0),
        completion_tokens=t.completion_tokens + (r.completion_tokens if spent else 0),
        cost_usd=t.cost_usd + ((r.cost_usd or 0.0) if spent else 0.0),
        cost_complete=t.cost_complete and (r.cost_usd is not None or not spent),
        latency_s=t.latency_s + r.latency_s,
    )


_RUNS: ContextVar[tuple[UsageTracker, ...]] = ContextVar("opto_llm_runs", default=())


def active_runs() -> tuple[UsageTracker, ...]:
    return _RUNS.get()


@contextmanager
def track_usage(
    budget: Budget | None = None,
    name: str = "run",
    report: bool | Callable[[str], None] = True,
    stop_on_budget: bool = True,
) -> Iterator[UsageTracker]:
    """Record every LM call in the block; print the report at the end.

    When this run's own budget is reached the block ends cleanly (the BudgetExceeded is swallowed,
    its message printed, and kept in ``run.stopped_by``); with ``stop_on_budget=False`` it propagates.
    """
    run = UsageTracker(budget=budget, name=name)
    token = _RUNS.set(_RUNS.get() + (run,))
    emit: Callable[[str], None] | None
    if report is True:
        emit = lambda text: print(text, file=sys.stderr)  # noqa: E731
    else:
        emit = report or None
    try:
        yield run
    except BudgetExceeded as e:
        if e.tracker is not run or not stop_on_budget:
            raise
        run.stopped_by = e
        if emit:
            emit(f"opto: run {name!r} stopped: {e}")
    finally:
        _RUNS.reset(token)
        if emit:
            emit(run.report())
