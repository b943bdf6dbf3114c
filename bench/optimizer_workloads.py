"""Optimizer workloads written against trace-opt's public API, so the same file runs under both.

Run under opto (repo on the path) or under trace-opt 0.1.3.8 (its own venv); prints one JSON line.
The model is a plain callable in trace-opt's ``llm(messages=..., ...)`` form that answers at once,
so the timings are the optimizer's own work (prompt building, parsing, updating), not model latency.

    python bench/optimizer_workloads.py step --k 10 --depth 2000
    python bench/optimizer_workloads.py converge --max-steps 30
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from types import SimpleNamespace
from typing import Any

from opto import trace
from opto.optimizers import OptoPrime


def _completion(text: str) -> Any:
    message = SimpleNamespace(content=text, role="assistant")
    return SimpleNamespace(choices=[SimpleNamespace(message=message, finish_reason="stop")], usage=None)


class Instant:
    """trace-opt style model: ``__call__(messages=..., **kw)``; ``policy(system, user) -> reply``."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.prompts: list[str] = []
        self.systems: list[str] = []

    def __call__(self, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
        user = messages[-1]["content"]
        self.prompts.append(user)
        self.systems.append(messages[0]["content"])
        return _completion(self.policy(messages[0]["content"], user))

    create = __call__


def _section(prompt: str, title: str, following: str) -> str:
    return prompt.split(title + "\n", 1)[1].split("\n\n" + following, 1)[0]


@trace.bundle()
def mix(state, weight):
    """Combine the running state with a weight."""
    return state * 0.5 + weight


def step_workload(k: int, depth: int, repeats: int, dump: str | None = None) -> dict[str, Any]:
    """K parameters, a chain of ``depth`` bundled calls each reading one of them (round robin)."""

    best: dict[str, Any] | None = None
    from opto.trace.nodes import GRAPH

    for _ in range(repeats):
        GRAPH.clear()  # same node names in every repeat and in both libraries
        params = [trace.node(float(i), trainable=True) for i in range(k)]
        y = trace.node(1.0)
        for i in range(depth):
            y = mix(y, params[i % k])

        def policy(system: str, user: str) -> str:
            match = re.search(r"\(float\) (\w+)=", user)
            return json.dumps({"reasoning": "shift one weight", "suggestion": {match.group(1): 0.25}})

        model = Instant(policy)
        opt = OptoPrime(params, llm=model)
        t0 = time.perf_counter()
        opt.zero_feedback()
        opt.backward(y, "the output should be larger")
        t1, c1 = time.perf_counter(), time.process_time()
        opt.step()
        t2, c2 = time.perf_counter(), time.process_time()
        prompt = model.prompts[-1]
        if dump:
            with open(dump, "w") as f:
                f.write(model.systems[-1] + "\n<<<USER>>>\n" + prompt)
        code = _section(prompt, "#Code", "#Documentation")
        calls = sum(1 for line in code.splitlines() if "= mix(" in line)
        applied = sum(1 for p in params if p.data == 0.25)
        result = {"k": k, "depth": depth, "backward_s": round(t1 - t0, 5), "step_s": round(t2 - t1, 5), "step_cpu_s": round(c2 - c1, 5),
                  "prompt_chars": len(model.systems[-1]) + len(prompt), "calls_in_code": calls, "applied": applied}
        if best is None or result["step_s"] < best["step_s"]:
            best = result
    assert best is not None
    return best


def converge_workload(start: float, max_steps: int, lr: float, tolerance: float) -> dict[str, Any]:
    """Minimize (x-3)^2 from ``start``; the scripted model reads x, the output and past rounds.

    Its rule uses only what the prompt shows: with one earlier round it estimates the slope from the
    two (x, output) pairs and steps against it by ``lr``; with none it probes x + 1.
    """
    x = trace.node(start, trainable=True)

    def policy(system: str, user: str) -> str:
        name, value = re.search(r"\(float\) (\w+)=(\S+)", _section(user, "#Variables", "#Constraints")).groups()
        current_x = float(value)
        current_y = float(re.search(r"The output is (\S+?);", _section(user, "#Feedback", "=")).group(1))
        past = re.findall(r'"' + name + r'": (-?[\d.e+-]+)\s*\}?,?\s*"feedback": "The output is (\S+?);', user)
        if not past:
            new_x = current_x + 1.0
        else:
            px, py = float(past[-1][0]), float(past[-1][1])
            slope = (current_y - py) / (current_x - px) if current_x != px else 0.0
            new_x = current_x - lr * slope
        return json.dumps({"reasoning": "follow the slope", "suggestion": {name: new_x}})

    model = Instant(policy)
    opt = OptoPrime([x], llm=model, memory_size=1)
    trajectory = [x.data]
    for step in range(1, max_steps + 1):
        y = (x - 3.0) * (x - 3.0)
        opt.zero_feedback()
        opt.backward(y, f"The output is {y.data:.6g}; it should be as small as possible (minimize it).")
        opt.step()
        trajectory.append(round(float(x.data), 6))
        if (x.data - 3.0) ** 2 < tolerance:
            return {"converged": True, "steps": step, "trajectory": trajectory}
    return {"converged": False, "steps": max_steps, "trajectory": trajectory}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="workload", required=True)
    step = sub.add_parser("step")
    step.add_argument("--k", type=int, required=True)
    step.add_argument("--depth", type=int, required=True)
    step.add_argument("--repeats", type=int, default=3)
    step.add_argument("--dump", help="write the last prompt (system + user) to this file")
    conv = sub.add_parser("converge")
    conv.add_argument("--start", type=float, default=-7.3)
    conv.add_argument("--max-steps", type=int, default=30)
    conv.add_argument("--lr", type=float, default=0.25)
    conv.add_argument("--tolerance", type=float, default=1e-2)
    args = parser.parse_args()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    if args.workload == "step":
        result = step_workload(args.k, args.depth, args.repeats, args.dump)
    else:
        result = converge_workload(args.start, args.max_steps, args.lr, args.tolerance)
    import opto

    result["opto_file"] = opto.__file__
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
