"""trace-opt programs run unchanged: its README quick start, its LLM objects, its call names."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import opto
from opto import trace
from opto.llm import Request, ScriptedLM
from opto.optimizers import OptoPrime
from opto.trace import ExecutionError

# ---- trace-opt's README quick start, as published (only the model behind it is scripted) ----


@trace.model
class Agent:

    def __init__(self, system_prompt):
        self.system_prompt = system_prompt
        self.instruct1 = trace.node("Decide the language", trainable=True)
        self.instruct2 = trace.node("Extract name if it's there", trainable=True)

    def __call__(self, user_query):
        response = trace.operators.call_llm(self.system_prompt,
                                            self.instruct1, user_query)
        en_or_es = self.decide_lang(response)

        user_name = trace.operators.call_llm(self.system_prompt,
                                             self.instruct2, user_query)
        greeting = self.greet(en_or_es, user_name)

        return greeting

    @trace.bundle(trainable=True)
    def decide_lang(self, response):
        """Map the language into a variable"""
        return

    @trace.bundle(trainable=True)
    def greet(self, lang, user_name):
        """Produce a greeting based on the language"""
        greeting = "Hola"
        return f"{greeting}, {user_name}!"


def feedback_fn(generated_response, gold_label='en'):
    if gold_label == 'en' and 'Hello' in generated_response:
        return "Correct"
    elif gold_label == 'es' and 'Hola' in generated_response:
        return "Correct"
    else:
        return "Incorrect"


def train(query="Hola, soy Juan.", gold_label='es'):
    epoch = 3
    agent = Agent("You are a sales assistant.")
    optimizer = OptoPrime(agent.parameters())

    for i in range(epoch):
        print(f"Training Epoch {i}")
        try:
            greeting = agent(query)
            feedback = feedback_fn(greeting.data, gold_label)
        except ExecutionError as e:
            greeting = e.exception_node
            feedback, terminal, reward = greeting.data, False, 0  # noqa: F841

        print(feedback)
        if feedback == "Correct":
            break
        optimizer.zero_feedback()
        optimizer.backward(greeting, feedback)

        optimizer.step(verbose=False)

    return agent, optimizer
# ---- end of the quick start ----


GREET_EN = ('def greet(self, lang, user_name):\n    """Produce a greeting based on the language"""\n'
            '    return f"Hello, {user_name}!"\n')


def _model(request: Request) -> str:
    """The agent's own calls get a name; the optimizer's call gets a new greet()."""
    system = str(request.messages[0]["content"])
    if "#Variables" not in system:
        return "Juan"
    user = str(request.messages[-1]["content"])
    name = re.search(r"\(code\) (\w+):def greet", user).group(1)
    return json.dumps({"reasoning": "The feedback wants an English greeting.", "suggestion": {name: GREET_EN}})


def test_quick_start_runs_unchanged_and_learns() -> None:
    lm = ScriptedLM(_model)
    with opto.context(lm=lm):
        agent, optimizer = train("Hello, I'm Juan.", gold_label="en")
        assert feedback_fn(agent("Hello, I'm Juan.").data, "en") == "Correct"
    assert len(optimizer.log) == 1
    prompt = optimizer.log[0]["prompt"]
    assert prompt.count("= call_llm(") == 2 and "def greet(self, lang, user_name):" in prompt
    assert optimizer.log[0]["applied"]


def test_quick_start_as_published_stops_at_once() -> None:
    with opto.context(lm=ScriptedLM(_model)):
        agent, optimizer = train()
    assert optimizer.log == []  # 'Hola' is already correct for a Spanish query


def test_traceopt_llm_object_as_llm() -> None:
    from opto.utils.llm import LLM

    x = trace.node(-1.0, trainable=True)
    llm = LLM(lm=ScriptedLM(['{"reasoning": "r", "suggestion": {"float0": 2.0}}']))
    optimizer = OptoPrime([x], llm=llm, memory_size=3)
    assert len(optimizer.parameters) == 1 and optimizer.parameters[0] is x
    optimizer.zero_feedback()
    optimizer.backward(x * 2, "bigger")
    optimizer.step(verbose=True)
    assert x.data == 2.0


def test_abstract_model_callable_as_llm() -> None:
    from opto.utils.llm import AbstractModel

    seen = []

    def factory():
        def create(**kwargs):
            seen.append(kwargs)
            msg = SimpleNamespace(content='{"suggestion": {"float0": 4.0}}')
            return SimpleNamespace(choices=[SimpleNamespace(message=msg)], usage=None)
        return create

    x = trace.node(1.0, trainable=True)
    optimizer = OptoPrime([x], AbstractModel(factory))  # positional, as trace-opt allows
    optimizer.zero_feedback()
    optimizer.backward(x + 1, "bigger")
    optimizer.step()
    assert x.data == 4.0 and seen[0]["response_format"] == {"type": "json_object"}
    assert seen[0]["messages"][0]["role"] == "system" and seen[0]["max_tokens"] == 4096


def test_traceopt_module_paths() -> None:
    import opto.optimizers as optimizers
    from opto.optimizers.opro import OPRO
    from opto.optimizers.optoprime import OptoPrime as Direct
    from opto.optimizers.optoprimemulti import OptoPrimeMulti
    from opto.optimizers.textgrad import TextGrad

    assert Direct is OptoPrime and optimizers.OptoPrimeMulti is OptoPrimeMulti
    assert optimizers.OPRO is OPRO and optimizers.TextGrad is TextGrad
