"""Small synthetic run stores written through the RunStore API, following NAMES.md's conventions.

The figures are fixed so tests can check the report's numbers against them.
"""

from __future__ import annotations

from pathlib import Path

from opto.records import Candidate, EvalResult
from opto.store import RunStore

START_CODE = "def priority(item, bins):\n    return -(bins - item)\n"
BEST_CODE = "def priority(item, bins):\n    gap = bins - item\n    return -gap + 0.5 * (gap == 0)\n"


SPEED = {"seed0000": 1.0, "b1": 0.9, "a1": 0.6, "b2": 0.5, "a3": 0.4, "best": 0.2}  # a second objective


def _ok(cid: str, score: float) -> EvalResult:
    return EvalResult(cid, ok=True, score=score, scores={"score": score, "speed": SPEED.get(cid, 0.0)},
                      duration_s=0.1)


def evolution_store(path: Path) -> Path:
    """Two islands, LLM and non-LLM operators, gates, failures of two reasons, held-out rows, 4 LLM calls."""
    with RunStore.open(path, {"kind": "evolution", "islands": 2, "budget": 12}, seed=7) as s:
        seed = Candidate({"priority": START_CODE}, id="seed0000", operator="seed", generation=0)
        s.add_candidate(seed)
        s.record_evaluation(_ok("seed0000", -5.0), "train")
        for i in range(3):
            s.record_llm_call({"messages": [{"role": "user", "content": f"improve {i}"}]}, f"reply {i}",
                              {"prompt_tokens": 100, "completion_tokens": 50, "cost_usd": 0.001},
                              model="gpt-4o-mini", latency_s=0.5, call_id=f"call{i}")
        s.record_llm_call({"messages": []}, "cached reply", {"prompt_tokens": 100, "completion_tokens": 50},
                          model="gpt-4o-mini", cached=True, call_id="call3")
        children = [  # id, parent, operator, island, generation, score or failure reason, llm call
            ("a1", "seed0000", "E1", 0, 1, -4.0, "call0"),
            ("b1", "seed0000", "ast_perturb", 1, 1, -4.5, None),
            ("a2", "a1", "M1", 0, 2, "timeout", "call1"),
            ("b2", "b1", "M2", 1, 2, -3.5, "call2"),
            ("a3", "a1", "ast_perturb", 0, 3, -3.0, None),
            ("b3", "b2", "ast_perturb", 1, 3, "exception", None),
            ("best", "a3", "M1", 0, 4, -2.0, "call3"),
        ]
        for cid, parent, op, island, gen, outcome, call in children:
            code = BEST_CODE if cid == "best" else START_CODE.replace("item", f"item_{cid}")
            s.add_candidate(Candidate({"priority": code}, id=cid, parent_ids=(parent,), operator=op, island=island,
                                      generation=gen, llm_call_id=call, meta={"thought": f"idea of {cid}"}))
            if isinstance(outcome, str):
                s.record_evaluation(EvalResult.failed(cid, outcome, f"{outcome} in {cid}",  # type: ignore[arg-type]
                                                      stderr_tail=f"Traceback of {cid}"), "train")
            else:
                s.record_evaluation(_ok(cid, outcome), "train")
        s.record_evaluation(_ok("best", -2.6), "heldout")  # not a selection score: must not be "best"
        s.record_evaluation(_ok("a3", -1.0), "cascade")  # neither
        s.add_event("migration", {"generation": 4, "moves": [[0, 1, "best"]]})
        s.add_event("reset", {"generation": 4, "islands": [1]})
        s.add_event("reset", {"generation": 5, "islands": []})  # nothing reset: no mark
        s.add_event("gate", {"gate": "duplicate", "passed": False, "reason": "same code as a1"})
        s.add_event("gate", {"gate": "syntax", "passed": False, "reason": "invalid syntax at line 2"})
        s.add_event("gate", {"gate": "behaviour", "passed": True, "reason": ""})
        s.add_event("rejected", {"operator": "E1", "reason": "duplicate", "detail": "same code as a1"})
        s.add_event("rejected", {"operator": "M1", "reason": "syntax", "detail": "invalid syntax at line 2"})
        s.add_event("rejected", {"operator": "M1", "reason": "syntax", "detail": "unexpected indent"})
        for op, prop, valid, imp, gain, tok in (("E1", 2, 1, 1, 1.0, 150), ("M1", 4, 1, 1, 1.0, 300),
                                                ("M2", 1, 1, 1, 1.0, 150), ("ast_perturb", 3, 2, 2, 0.75, 0)):
            s.add_event("operator", {"operator": op, "proposals": prop, "valid": valid, "improved": imp,
                                     "mean_gain": gain, "llm_tokens": tok})
        s.add_event("gates", {"counts": {"duplicate": {"passed": 9, "rejected": 1},
                                         "syntax": {"passed": 8, "rejected": 1}}})
        s.add_event("heldout", {"candidate_id": "best", "selection_score": -2.0, "heldout_score": -2.6})
        s.add_event("heldout", {"candidate_id": "a3", "selection_score": -3.0, "heldout_score": -2.5})
        s.add_event("pareto", {"objectives": ["score", "speed"],
                               "front": [{"candidate_id": cid, "scores": {"score": sc, "speed": SPEED[cid]}}
                                         for cid, sc in (("best", -2.0), ("a3", -3.0), ("b1", -4.5))]})
        s.add_event("best", {"candidate_id": "best", "score": -2.0, "evaluations": 8})
        s.add_event("stopped", {"reason": "budget", "evaluations": 8})
    return path


def step_dot() -> str:
    """The DOT text of a real trace (what a trainer step would log as ``graph_dot``)."""
    from opto import trace, viz

    x = trace.node(2.0, trainable=True, name="scale")
    y = x * 3 + 1
    return str(viz.to_digraph(y).source)


def step_graph() -> dict:
    """The JSON description of a real trace, as the trainer stores it in a step event's ``graph``."""
    from opto import trace
    from opto.trace.summary import graph_summary

    prompt = trace.node("Answer.", trainable=True, name="prompt")
    return graph_summary(prompt + " The question: what is 2 + 2?")


def _instance(cid: str, key: str, score: float) -> EvalResult:
    return EvalResult(cid, ok=True, scores={"score": score}, artifacts={"input_key": key})


def _split(cid: str, split: str, mean: float, selection: bool = True) -> EvalResult:
    """The trainer's summary row of a split: the mean, with the number of instances (not a run itself)."""
    return EvalResult(cid, ok=True, score=mean if selection else None, scores={split: mean},
                      artifacts={"input_key": split, "n": 1})


def training_store(path: Path) -> Path:
    """Three OptoPrime steps (two applied, one rejected); per-instance rows and split summaries as the
    trainer writes them (4 instance evaluations); one held-out row."""
    with RunStore.open(path, {"kind": "training", "algorithm": "minibatch", "epochs": 1}, seed=3) as s:
        s.add_candidate(Candidate({"prompt": "Answer."}, id="p0", operator="seed"))
        s.record_evaluation(_instance("p0", "val:0", 0.25), "val:0")
        s.record_evaluation(_split("p0", "val", 0.25), "val")
        s.record_llm_call({"messages": [{"role": "user", "content": "#Variables ..."}]}, "{\"suggestion\": 1}",
                          {"prompt_tokens": 400, "completion_tokens": 80}, model="smollm2-135m", call_id="c1")
        s.add_candidate(Candidate({"prompt": "Answer with one word."}, id="p1", parent_ids=("p0",),
                                  operator="optoprime", llm_call_id="c1"))
        s.record_evaluation(_instance("p1", "val:0", 0.5), "val:0")
        s.record_evaluation(_split("p1", "val", 0.5), "val")
        s.add_event("step", {"step": 1, "epoch": 0, "candidate_id": "p1", "prompt": "#Variables\nprompt = Answer.",
                             "reply": "{\"prompt\": \"Answer with one word.\"}",
                             "applied": {"prompt": "Answer with one word."}, "rejected": [], "score": 0.3,
                             "graph_dot": step_dot()})
        s.add_event("step", {"step": 2, "epoch": 0, "candidate_id": None, "prompt": "p", "reply": "r", "applied": {},
                             "rejected": [{"param": "prompt", "reason": "reply contains <think> leakage"}],
                             "score": 0.4, "note": "the optimizer proposed no change", "graph": step_graph()})
        s.add_candidate(Candidate({"prompt": "One word only."}, id="p2", parent_ids=("p1",), operator="optoprime"))
        s.record_evaluation(_instance("p2", "val:0", 0.75), "val:0")
        s.record_evaluation(_split("p2", "val", 0.75), "val")
        s.add_event("step", {"step": 3, "epoch": 0, "candidate_id": "p2", "prompt": "p", "reply": "r",
                             "applied": {"prompt": "One word only."}, "rejected": [], "score": 0.6,
                             "graph_dot": "digraph { this is not dot"})
        s.record_evaluation(_instance("p2", "test:0", 0.7), "test:0")
        s.record_evaluation(_split("p2", "test", 0.7, selection=False), "test")
        s.add_event("heldout", {"candidate_id": "p2", "selection_score": 0.75, "heldout_score": 0.7})
    return path
