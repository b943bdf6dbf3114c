# ruff: noqa  -- a trace-opt program kept as published, not restyled
# A @trace.model agent as trace-opt's docs write one (docs/quickstart "agent" pattern): trainable
# prompt nodes, bundled methods (one trainable), trace.operators.call_llm, OptoPrime(memory_size=...),
# and the optimizer's log/summary_log read after training.
from opto import trace
from opto.trace import node, bundle, model
from opto.optimizers import OptoPrime
from opto.utils.llm import LLM


@model
class Classifier:

    def __init__(self):
        self.instruction = node("Answer with one word.", trainable=True, description="the task instruction")

    def __call__(self, question):
        answer = trace.operators.call_llm("You are a helpful assistant.", self.instruction, question)
        return self.postprocess(answer)

    @bundle(trainable=True)
    def postprocess(self, answer):
        """Normalize the model's answer."""
        return answer.strip()


agent = Classifier()
optimizer = OptoPrime(agent.parameters(), llm=LLM(), memory_size=3)

dataset = [("What is the capital of France?", "paris"), ("What is 2+2? Spell it.", "four")]
for epoch in range(2):
    for question, target in dataset:
        output = agent(question)
        correct = output.data == target
        feedback = "Correct" if correct else f"Expected the lowercase answer {target!r}, got {output.data!r}"
        optimizer.zero_feedback()
        optimizer.backward(output, feedback)
        optimizer.step()

for i, entry in enumerate(optimizer.log):
    print(i, entry["response"][:60])
print(len(optimizer.summary_log), "problem instances logged")
print(agent.instruction.data)
