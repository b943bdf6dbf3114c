"""An agent of several bundled steps, each with its own trainable prompt: feedback on the final answer
reaches both prompts through the trace (examples/data/capitals.json).

Run:  python examples/05_agent_prompts.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

from opto import trace
from opto.llm import Request, resolve_lm
from opto.optimizers import OptoPrime
from opto.trainer import train

DATA = Path(__file__).parent / "data" / "capitals.json"
LM = None


def ask(prompt: str, max_tokens: int) -> str:
    return LM.complete(Request.of(prompt, max_tokens=max_tokens, temperature=0.0, seed=0)).text.strip()


@trace.bundle()
def extract_country(prompt, question):
    """Step 1: the model names the country the question is about."""
    return ask(f"{prompt}\n\nQuestion: {question}\nCountry:", 8)


@trace.bundle()
def answer_capital(prompt, country):
    """Step 2: the model names the capital of the country from step 1."""
    return ask(f"{prompt}\n\nCountry: {country}\nCapital:", 8)


@trace.model
class CapitalAgent:
    def __init__(self) -> None:
        self.extract_prompt = trace.node("Which country?", trainable=True,
                                         description="instruction for step 1 (find the country)")
        self.answer_prompt = trace.node("Name it.", trainable=True,
                                        description="instruction for step 2 (give the capital city)")

    def forward(self, question):
        country = extract_country(self.extract_prompt, question)
        return answer_capital(self.answer_prompt, country)


def guide(question, answer, city):
    words = re.findall(r"[a-z]+", str(answer).lower())
    if city.lower() in words:
        return 1.0, "Correct."
    return 0.0, f"Wrong: the capital is {city}; the agent answered {str(answer)[:60]!r}."


def main() -> int:
    global LM
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (also: OPTO_EXAMPLE_QUICK=1)")
    args = parser.parse_args()
    quick = args.quick or os.environ.get("OPTO_EXAMPLE_QUICK") == "1"

    LM = resolve_lm()
    print(f"LM: {LM.model}")
    data = json.loads(DATA.read_text())
    if quick:
        data = {k: {"inputs": v["inputs"][:3], "infos": v["infos"][:3]} for k, v in data.items()}
    agent = CapitalAgent()
    reply_tokens = 160 if quick else 300  # the short mode keeps replies short
    optimizer = OptoPrime(agent.parameters(), lm=LM, max_tokens=reply_tokens,
                          memory_size=2, temperature=0.0, seed=0)
    result = train(agent, data["train"], guide, optimizer=optimizer, epochs=1, batch_size=3 if quick else 4,
                   val_set=data["val"], test_set=data["test"], progress=False)
    print()
    print(result)
    touched = {name for e in optimizer.log for name in e.get("proposed", {})}
    print(f"\nprompts the optimizer proposed changes to: {sorted(touched) or 'none'}")
    print(f"step 1 prompt: {agent.extract_prompt.data!r}\nstep 2 prompt: {agent.answer_prompt.data!r}")
    if result.seed_score >= 1.0:
        print("The starting prompts already answer every validation question: nothing to improve there.")
    elif result.best_score <= result.seed_score:
        print("No prompt pair scored better on validation than the starting one.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
