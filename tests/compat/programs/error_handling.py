# ruff: noqa  -- a trace-opt program kept as published, not restyled
# trace-opt docs/tutorials/error_handling_tutorial.ipynb, both code cells, unchanged.
from opto import trace
from opto.optimizers import OptoPrime


def check_input(a):
    if a <0.1:
        raise ValueError("Input must be greater than 0.1")

@trace.bundle()
def func_with_input_checking(a):
    check_input(a)
    return True


param = trace.node(-1., trainable=True)  # Note; setting the initial value to -1. makes it a float;
optimizer = OptoPrime([param], memory_size=5)

for _ in range(5):
    try:
        success = func_with_input_checking(param)
        print(f'\nSuccess, Parameter: {param.data}')
        break
    except trace.ExecutionError as e:
        print(f'\nIter {_}, Failed, Parameter {param.data}\n')
        target = e.exception_node
        optimizer.zero_feedback()
        optimizer.backward(target, target.create_feedback())
        optimizer.step(verbose=True)

first_optimizer = optimizer  # (not in the notebook: kept for the test, the next cell rebinds the name)

from opto import trace
from opto.optimizers import OptoPrime

trace.GRAPH.clear()

def check_input(a):
    if a <0.1:
        raise ValueError("Input must be greater than 0.1")

@trace.bundle()
def objective(a):
    """ Computes (a+1)**2. """
    check_input(a)
    return (a+1)**2


param = trace.node(-1., trainable=True)  # Note; setting the initial value to -1. makes it a float;
optimizer = OptoPrime([param], memory_size=5)

for _ in range(10):
    try:
        target = objective(param)
        feedback = 'Minimize the objective.'
        print(f'\nIter {_}, Objective {target.data}, Parameter {param.data}\n')

    except trace.ExecutionError as e:
        print(f'\nIter {_}, Not satisfying constraint, Parameter {param.data}\n')
        target = e.exception_node
        feedback = e.exception_node.create_feedback()

    optimizer.zero_feedback()
    optimizer.backward(target, feedback)
    optimizer.step()
