"""OptoPrime: one LLM call reads the whole trace plus the feedback and rewrites the parameters.

    optimizer = OptoPrime([x], llm=LLM(), memory_size=3)   # trace-opt's call, unchanged
    optimizer.zero_feedback(); optimizer.backward(y, "y should be larger"); optimizer.step()

The prompt has trace-opt's sections (#Instruction … #Feedback, see ``problem``), optional memory
of past rounds, and the proposals rejected earlier with their reasons. The reply is requested as a
structured object (the LLM layer's schema support); trace-opt's JSON reply, the XML-tag layout and
``TERMINATE`` (no change) are read too. Every suggestion is checked (``checks``) before it can be
applied, and every step is logged.
"""

from __future__ import annotations

import contextlib
import gc
import re
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from opto.optimizers import prompt as prompts
from opto.optimizers.checks import Rejected, check_value
from opto.optimizers.function_feedback import FunctionFeedback, node_to_function_feedback  # noqa: F401 (trace-opt path)
from opto.optimizers.memory import RejectionMemory, RoundMemory, jsonable
from opto.optimizers.optimizer import Optimizer
from opto.optimizers.problem import DEFAULT_VALUE_LIMIT, Problem, is_code_name, render, shorten, summarize
from opto.optimizers.prompt_format import PromptFormat, resolve_format
from opto.optimizers.reply import OptimizerReply, ParsedReply, for_variables, in_process, parse, reply_tokens
from opto.trace.nodes import ParameterNode


class OptoPrime(Optimizer):
    """The trace-reading LLM optimizer (trace-opt's constructor arguments are accepted unchanged).

    memory_size: past (variables, feedback) rounds shown in the prompt.
    max_tokens: completion tokens per reply.
    prompt_format: "json" (trace-opt's layout), "xml" (tags, as OptoPrimeV2), or a PromptFormat;
        ``prompt_symbols`` renames sections as in trace-opt.
    value_limit: characters of one input/intermediate/output value before it is shortened (None: never).
    max_prompt_tokens: cap on the whole prompt; #Others is trimmed first (None: no cap).
    structured: ask for the reply through the LLM layer's schema support (JSON layout only).
    rejected_memory_size: rejected proposals remembered (shown to the model, refused if repeated).
    compact_reply: the reply schema puts ``suggestion`` before a reasoning of at most
        ``max_reasoning_chars``, so a small model's reply that runs out of tokens still carries the values;
        None: on for the in-process model (LocalLM), off (reasoning first, uncapped) for the others.
    """

    def __init__(
        self,
        parameters: Any,
        lm: Any = None,
        *args: Any,
        llm: Any = None,
        propagator: Any = None,
        objective: str | None = None,
        ignore_extraction_error: bool = True,
        include_example: bool = False,
        memory_size: int = 0,
        max_tokens: int = 4096,
        log: bool = True,
        prompt_symbols: Mapping[str, str] | None = None,
        prompt_format: str | PromptFormat | None = None,
        value_limit: int | None = DEFAULT_VALUE_LIMIT,
        max_prompt_tokens: int | None = None,
        structured: bool = True,
        rejected_memory_size: int = 20,
        temperature: float | None = None,
        seed: int | None = None,
        count_tokens: Callable[[str], int] = prompts.estimate_tokens,
        compact_reply: bool | None = None,
        max_reasoning_chars: int = 400,
        **kwargs: Any,
    ) -> None:
        super().__init__(parameters, lm, *args, llm=llm, propagator=propagator, **kwargs)
        self.format = resolve_format(prompt_format, prompt_symbols)
        self.objective = objective if objective is not None else self.format.fill(self.format.objective)
        self.ignore_extraction_error = ignore_extraction_error
        self.include_example = include_example
        self.max_tokens = max_tokens
        self.keep_log = log
        self.value_limit = value_limit
        self.max_prompt_tokens = max_prompt_tokens
        self.structured = structured and self.format.layout == "json"
        self.temperature = temperature
        self.seed = seed
        self.count_tokens = count_tokens
        self.compact_reply = compact_reply
        self.max_reasoning_chars = max_reasoning_chars
        self.memory = RoundMemory(memory_size)
        self.rejections = RejectionMemory(rejected_memory_size)
        self.steps = 0
        self._pending: dict[str, Any] | None = None
        # trace-opt's per-step {"problem_instance", "summary"} list (render_opt_step reads it); None: log=False
        self.summary_log: list[dict[str, Any]] | None = [] if log else None

    # -- reading the trace ----------------------------------------------------------------------
    def summarize(self) -> Problem:
        """The problem instance for the feedback now held by the trainable parameters."""
        trainable = [p for p in self.parameters if p.trainable]
        nodes, feedback = self._feedback_nodes(trainable)
        return summarize(nodes, {id(p) for p in trainable}, feedback, self.objective, self.value_limit)

    def _feedback_nodes(self, trainable: list[ParameterNode]) -> tuple[list[tuple[int, Any]], Any]:
        """The level-sorted nodes the feedback flowed through, and the user feedback."""
        from opto.trace.propagators import GraphPropagator

        if not isinstance(self.propagator, GraphPropagator):
            raise TypeError(f"{type(self).__name__} reads the trace through GraphPropagator feedback; "
                            f"got {type(self.propagator).__name__}. Build it without propagator=...")
        return _union(feedback_graphs(trainable))

    def construct_prompt(self, summary: Problem, mask: Collection[str] | None = None, *args: Any,
                         **kwargs: Any) -> tuple[str, str]:
        """(system prompt, user prompt), as trace-opt returns them."""
        built = self._build_prompt(summary, mask)
        return built.system, built.user

    def problem_instance(self, summary: Problem, mask: Collection[str] | None = None) -> ProblemText:
        """The problem as text (trace-opt's ProblemInstance: ``str()`` it, read ``.feedback``)."""
        return ProblemText(render(summary, self.format, mask or ()), summary.feedback)

    def extract_llm_suggestion(self, response: str) -> dict[str, Any]:
        """trace-opt's parser entry point: {variable name: suggested value} read from a reply text."""
        return dict(parse(response or "", self.format).suggestion)

    def construct_update_dict(self, suggestion: Mapping[str, Any]) -> dict[ParameterNode, Any]:
        """trace-opt's name: the suggestions that pass the checks, keyed by parameter."""
        values, _ = self._check(ParsedReply(suggestion=dict(suggestion)))
        return values

    def call_llm(self, system_prompt: str, user_prompt: str, verbose: Any = False,
                 max_tokens: int | None = None) -> str:
        """trace-opt's helper: one call with these prompts, the reply text back (raises on a failed call)."""
        from opto.llm import Request

        if verbose not in (False, "output"):
            print("Prompt\n", system_prompt + user_prompt)
        request = Request(messages=({"role": "system", "content": system_prompt},
                                    {"role": "user", "content": user_prompt}),
                          max_tokens=max_tokens or self.max_tokens, json_mode=self.format.layout == "json")
        text = self.lm.complete(request).raise_for_failure().text or ""
        if verbose:
            print("LLM response:\n", text)
        return text

    def _build_prompt(self, summary: Problem, mask: Collection[str] | None) -> prompts.Prompt:
        return prompts.build(summary, self.format, memory=self.memory.state(), rejected=self.rejections.state(),
                             mask=mask or (), example=self._example() if self.include_example else "",
                             max_prompt_tokens=self.max_prompt_tokens, count_tokens=self.count_tokens)

    # -- one step -------------------------------------------------------------------------------
    def propose(self, *args: Any, verbose: Any = False, mask: Collection[str] | None = None,
                **kwargs: Any) -> dict[ParameterNode, Any]:
        """Ask the model, check its suggestions; returns the values that passed (nothing applied)."""
        begun = self._begin(mask, verbose)
        if begun is None:
            return {}
        summary, prompt, entry = begun
        reply = self._ask(self.request(prompt), entry)
        if verbose:
            print("LLM response:\n", entry.get("reply", ""))
        values, rejected = self._check(reply)
        return self._finish(summary, entry, values, rejected, reply)

    def _begin(self, mask: Collection[str] | None, verbose: Any) -> tuple[Problem, prompts.Prompt, dict[str, Any]] | None:
        """Read the trace and build the prompt; None (after a warning) when no parameter has feedback."""
        self.steps += 1
        with gc_paused():
            summary = self.summarize()
            prompt = self._build_prompt(summary, mask) if summary.variables else None
        if prompt is None:
            warnings.warn(f"{type(self).__name__}.step(): no trainable parameter has feedback; call "
                          "optimizer.backward(output, feedback) first. Nothing was changed.", stacklevel=4)
            self._record({"step": self.steps, "skipped": "no feedback"}, {}, [])
            return None
        if verbose not in (False, "output"):
            print("Prompt\n", prompt.system + prompt.user)
        entry: dict[str, Any] = {"step": self.steps, "system_prompt": prompt.system, "prompt": prompt.user,
                                 "user_prompt": prompt.user, "prompt_tokens_estimate": prompt.tokens,
                                 "trimmed": prompt.trimmed, "over_cap": prompt.over_cap}
        if self.summary_log is not None and self.keep_log:  # kept beside log: same index, same step
            self.summary_log.append({"problem_instance": self.problem_instance(summary), "summary": summary})
        return summary, prompt, entry

    def _finish(self, summary: Problem, entry: dict[str, Any], values: dict[ParameterNode, Any],
                rejected: list[dict[str, Any]], reply: ParsedReply | None) -> dict[ParameterNode, Any]:
        self.memory.add({e.name: self._current(e.name) for e in summary.variables}, summary.feedback)
        return self._record(entry, values, rejected, reply)

    def request(self, prompt: prompts.Prompt, **settings: Any) -> Any:
        """The Request for ``prompt`` (``settings`` override temperature, seed, n, ...)."""
        from opto.llm import Request

        schema = self.reply_schema(prompt.variables) if self.structured else None
        max_tokens = self.max_tokens
        if schema is not None:  # room for every value the schema requires, whatever max_tokens says
            max_tokens = max(max_tokens, reply_tokens(schema.model_json_schema(), self._values(prompt.variables)))
        fields: dict[str, Any] = dict(max_tokens=max_tokens, temperature=self.temperature, seed=self.seed,
                                      schema=schema, json_mode=self.format.layout == "json" and not self.structured)
        fields.update(settings)
        messages = ({"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user})
        return Request(messages=messages, **fields)

    def reply_schema(self, names: Collection[str] = ()) -> type[OptimizerReply]:
        """The reply model for a prompt showing ``names`` (all trainable parameters when empty)."""
        compact = self.compact_reply if self.compact_reply is not None else in_process(self.lm)
        values = self._values(names)
        return for_variables([(n, v, is_code_name(n)) for n, v in values.items()], suggestion_first=compact,
                             max_reasoning_chars=self.max_reasoning_chars if compact else None)

    def _values(self, names: Collection[str]) -> dict[str, Any]:
        trainable = {p.py_name: p._data for p in self.parameters if p.trainable}
        return {n: trainable[n] for n in names if n in trainable} if names else trainable

    def _ask(self, request: Any, entry: dict[str, Any]) -> ParsedReply:
        """One model call; failures become a ParsedReply with an error (a run never dies of a reply)."""
        from opto.llm import BudgetExceeded

        try:
            response = self.lm.complete(request)
        except BudgetExceeded:
            raise
        except Exception as e:  # a broken model object must not end the run
            entry.update(reply="", model_error=f"{type(e).__name__}: {e}")
            return ParsedReply(error=f"the model call failed ({type(e).__name__}: {e})")
        return self._read(response, entry)

    def _read(self, response: Any, entry: dict[str, Any], index: int = 0) -> ParsedReply:
        """Sample ``index`` of ``response`` parsed; what came back is written into ``entry``."""
        choice = response.choices[index]
        failure = choice.failure
        text = choice.text or (failure.raw_text if failure is not None else "")
        usage = response.usage
        entry.update(reply=text, response=text, model=response.model, cached=response.cached,
                     latency_s=response.latency_s, call_id=choice.call_id,
                     usage={"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
                            "cost_usd": usage.cost_usd})
        if failure is not None and failure.kind != "schema":
            entry["model_error"] = failure.feedback()
            return ParsedReply(error=failure.feedback())
        return parse(text, self.format, finish_reason=choice.finish_reason, parsed=choice.parsed)

    def _check(self, reply: ParsedReply) -> tuple[dict[ParameterNode, Any], list[dict[str, Any]]]:
        """Suggestions that pass every check, and [{"param", "value", "reason"}] for those that do not."""
        if reply.error is not None:
            return {}, [{"param": None, "value": None, "reason": reply.error}]
        by_name = {p.py_name: p for p in self.parameters if p.trainable}
        by_base: dict[str, list[ParameterNode]] = {}
        for p in by_name.values():  # models often drop the index: "__code" for "__code0"
            by_base.setdefault(p.name.split(":")[0].split("/")[-1], []).append(p)
        values: dict[ParameterNode, Any] = {}
        rejected: list[dict[str, Any]] = []
        for name, raw in reply.suggestion.items():
            key = str(name).strip()
            param = by_name.get(key)
            if param is None and len(by_base.get(key, ())) == 1:
                param = by_base[key][0]
            if param is None:
                rejected.append({"param": name, "value": raw, "reason": (
                    f"{name!r} is not a variable you can change; the variables are {sorted(by_name)}")})
                continue
            before = self.rejections.find(param.py_name, raw)
            if before is None:
                try:
                    value = check_value(param._data, raw, is_code=is_code_name(param.py_name),
                                        fence_required=self.format.code_fence)
                except Rejected as e:
                    rejected.append({"param": param.py_name, "value": raw, "reason": str(e)})
                    continue
            if before is not None:
                first = _REPEATED.sub("", before["reason"])  # the original reason, not a chain of repeats
                rejected.append({"param": param.py_name, "value": raw, "reason": (
                    f"this value was already rejected at step {before['step']}: {first}")})
                continue
            if _same(value, param._data):
                continue
            values[param] = value
        if rejected and not self.ignore_extraction_error:
            raise ValueError("suggestions rejected: " + "; ".join(f"{r['param']}: {r['reason']}" for r in rejected))
        return values, rejected

    def _record(self, entry: dict[str, Any], values: dict[ParameterNode, Any], rejected: list[dict[str, Any]],
                reply: ParsedReply | None = None) -> dict[ParameterNode, Any]:
        self._remember(rejected, entry)
        entry.update(
            reasoning=reply.reasoning if reply else "", answer=jsonable(reply.answer) if reply else None,
            terminate=bool(reply and reply.terminate and not values),
            proposed={p.py_name: jsonable(v) for p, v in values.items()}, applied={},
            rejected=[{"param": r["param"], "value": jsonable(r["value"]), "reason": r["reason"]} for r in rejected],
        )
        if self.keep_log:
            self.log.append(entry)
        self._pending = entry
        return values

    def _remember(self, rejected: list[dict[str, Any]], entry: dict[str, Any]) -> None:
        """Keep rejected proposals (shown next step, refused if repeated); not our transport trouble."""
        if "model_error" in entry:
            return
        for item in rejected:
            value = item["value"] if item["param"] is not None else shorten(entry.get("reply", ""), 2000)
            self.rejections.add(self.steps, item["param"], value, item["reason"])

    def update(self, values: Mapping[Any, Any]) -> None:
        """Apply ``values``; the step that proposed them records what was applied."""
        super().update(values)
        if self._pending is not None:
            self._pending["applied"] = {self._lookup(k).py_name: jsonable(v) for k, v in values.items()}
            self._pending = None

    def _current(self, name: str) -> Any:
        for p in self.parameters:
            if p.py_name == name:
                return p._data
        return None

    def _example(self) -> str:
        """A worked example in this format (trace-opt's include_example)."""
        from opto.optimizers.problem import Entry, render

        example = Problem(
            instruction=self.objective, code=["y0 = add(x=a0, y=b0)", "z0 = subtract(x=y0, y=c0)"],
            documentation={"add": "[add] add x and y", "subtract": "[subtract] subtract y from x"},
            variables=[Entry("a0", "int", "5", "a0 > 0")], inputs=[Entry("b0", "int", "1"), Entry("c0", "int", "5")],
            others=[Entry("y0", "int", "6")], outputs=[Entry("z0", "int", "1")],
            feedback="The result should be 10, but the code returns 1.",
        )
        if self.format.layout == "xml":
            answer = (f"<{self.format.reasoning_tag}>z0 = a0 + 1 - 5, so a0 = 14 gives 10.</{self.format.reasoning_tag}>"
                      f"\n<{self.format.variable_tag}><{self.format.name_tag}>a0</{self.format.name_tag}>"
                      f"<{self.format.value_tag}>14</{self.format.value_tag}></{self.format.variable_tag}>")
        else:
            answer = '{"reasoning": "z0 = a0 + 1 - 5, so a0 = 14 gives 10.", "answer": "", "suggestion": {"a0": 14}}'
        return (f"An example problem and a good response:\n\n{prompts.SEPARATOR}\n{render(example, self.format)}\n"
                f"{prompts.SEPARATOR}\n\nResponse:\n{answer}")

    # -- checkpoints ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state.update(steps=self.steps, memory=self.memory.state(), rejections=self.rejections.state())
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self.steps = int(state.get("steps", 0))
        self.memory.load(list(state.get("memory", [])))
        self.rejections.load(list(state.get("rejections", [])))


class ProblemText(str):
    """A rendered problem that also carries its feedback, as trace-opt's ProblemInstance does."""

    feedback: str

    def __new__(cls, text: str, feedback: Any) -> ProblemText:
        obj = super().__new__(cls, text)
        obj.feedback = "" if feedback is None else str(feedback)
        return obj


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic GC while a prompt is built: its passes over a large live graph would dominate."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_REPEATED = re.compile(r"^(?:this value was already rejected at step \d+: )+")


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:
        return False


def feedback_graphs(params: list[ParameterNode]) -> list[Any]:
    """Every feedback graph the parameters received (one per child that sent feedback)."""
    return [g for p in params for items in p.feedback.values() for g in items if not g.empty()]


def _union(graphs: list[Any]) -> tuple[list[tuple[int, Any]], Any]:
    """The nodes of all feedback graphs (level-sorted, each once) and the user feedback they carry.

    One lazy union read once, so the cost is linear in the distinct nodes however many graphs
    share them. Graphs from separate backward calls may carry different feedback: the texts are joined.
    """
    from opto.trace.propagators import TraceGraph

    graphs = [g for g in graphs if not g.empty()]
    if not graphs:
        return [], None
    texts: list[str] = []
    feedback: Any = None
    for g in graphs:
        fb = g.user_feedback
        if fb is None or fb is feedback:
            continue
        if feedback is None:
            feedback = fb
        text = str(fb)
        if text not in texts:
            texts.append(text)
    if len(texts) > 1:
        feedback = "\n\n".join(texts)
    return TraceGraph(user_feedback=None, _parts=tuple(graphs)).graph, feedback
