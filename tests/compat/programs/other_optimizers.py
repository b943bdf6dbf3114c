# ruff: noqa  -- a trace-opt program kept as published, not restyled
# trace-opt's other optimizers on the program of the optimization tutorial, with the constructor
# arguments trace-opt documents: OptoPrimeMulti(num_responses=, temperature_range=, selector=),
# OPRO(params), TextGrad(params, llm=..., max_tokens=...).
from opto.trace import bundle, node, GRAPH
from opto.optimizers import OptoPrimeMulti, OPRO, TextGrad
from opto.utils.llm import LLM


@bundle()
def bar(x):
    "This is a test function, which does negative scaling."
    return -x * 2


def foobar(x):
    y = bar(x)
    return y * (y + 1)


def user(x):
    if x < 50:
        return "The number needs to be larger."
    else:
        return "Success."


results = {}
for make in (lambda p: OptoPrimeMulti(p, num_responses=3, temperature_range=[1.3, 0.0]),
             lambda p: OPRO(p),
             lambda p: TextGrad(p, llm=LLM(), max_tokens=1024)):
    GRAPH.clear()
    x = node(-1.0, trainable=True)
    optimizer = make([x])
    feedback = ""
    steps = 0
    while feedback != "Success." and steps < 5:
        output = foobar(x)
        feedback = user(output.data)
        if feedback == "Success.":
            break
        optimizer.zero_feedback()
        optimizer.backward(output, feedback)
        optimizer.step()
        steps += 1
    results[type(optimizer).__name__] = (x.data, steps, optimizer)
    print(type(optimizer).__name__, x.data, steps)
