# ruff: noqa  -- a trace-opt program kept as published, not restyled
# trace-opt docs/tutorials/optimization_tutorial.ipynb, its OptoPrime cells: one step on a numeric
# input of a function with a black-box part, then the loop until the simulated user is satisfied.
# Changed: the notebook's first version built `FunctionOptimizer([x], config_list=...)` and imported
# node_to_function_feedback from opto.optimizers.function_optimizer, a module trace-opt 0.1.3.8 no longer
# has; the current names (`OptoPrime([x])`, opto.optimizers.optoprime) are used.
import opto
from opto.trace import bundle, node
from opto.optimizers import OptoPrime
from opto.trace.nodes import GRAPH


def blackbox(x):
    return -x * 2


@bundle()
def bar(x):
    "This is a test function, which does negative scaling."
    return blackbox(x)


def foo(x):
    y = x + 1
    return x * y


# foobar is a composition of custom function and built-in functions


def foobar(x):
    return foo(bar(x))


def user(x):
    if x < 50:
        return "The number needs to be larger."
    else:
        return "Success."


# One-step optimization example
x = node(-1.0, trainable=True)
optimizer = OptoPrime([x])
output = foobar(x)
feedback = user(output.data)
optimizer.zero_feedback()
optimizer.backward(output, feedback, visualize=True)  # this is equivalent to the line below
# output.backward(feedback, propagator=optimizer.propagator, visualize=visualize)

from opto.optimizers.optoprime import node_to_function_feedback

print("Function Feedback")
for k, v in x.feedback.items():
    v = v[0]
    f_feedback = node_to_function_feedback(v)
    print("Graph:")
    for kk, vv in f_feedback.graph:
        print(f"  {kk}: {vv}")
    print("Roots:")
    for kk, vv in f_feedback.roots.items():
        print(f"  {kk}: {vv}")
    print("Others:")
    for kk, vv in f_feedback.others.items():
        print(f"  {kk}: {vv}")
    print("Documentation:")
    for kk, vv in f_feedback.documentation.items():
        print(f"  {kk}: {vv}")
    print("Output:")
    for kk, vv in f_feedback.output.items():
        print(f"  {kk}: {vv}")
    print("User Feedback:")
    print(f"  {f_feedback.user_feedback}")

old_variable = x.data
optimizer.step(verbose=True)

print("\nAfter step")
print("old variable", old_variable)
print("new variable", x.data)

# A small example of how to use the optimizer in a loop
GRAPH.clear()
x = node(-1.0, trainable=True)
optimizer = OptoPrime([x])

history = [x.data]
feedback = ""
while feedback.lower() != "Success.".lower():
    output = foobar(x)
    feedback = user(output.data)
    optimizer.zero_feedback()
    optimizer.backward(output, feedback)
    print(f"variable={x.data}, output={output.data}, feedback={feedback}")  # logging
    optimizer.step()
    history.append(x.data)  # logging

print("History")
for i, v in enumerate(history):
    print(f"  {i}: {v}")
