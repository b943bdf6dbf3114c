# ruff: noqa  -- a trace-opt program kept as published, not restyled
# trace-opt docs/tutorials/custom_optimizers.ipynb: back-propagation and gradient descent written as a
# Trace Optimizer (version 1, on the Trace graph) and as a Propagator + Optimizer (version 2).
# Changed: the notebook differentiates torch tensors with torch.autograd.grad; torch is not installed
# here, so values are floats and `grad(child, g)` below applies the chain rule of the three ops used.
# Every Trace call (bundle, node, Optimizer._step, trace_graph, Propagator.init_feedback/_propagate,
# default_propagator, zero_feedback/backward/step) is as in the notebook.
from opto.trace import bundle, node
from opto.trace.propagators.propagators import Propagator


def grad(child, g):
    """d child / d parents, times g, for the ops in forward() (stands in for torch.autograd.grad)."""
    name = child.name.split(":")[0]
    a = [p.data for p in child.parents]
    if name == "abs":
        return [g * (1.0 if a[0] >= 0 else -1.0)]
    if name == "square":
        return [g * 2 * a[0]]
    if name == "multiply":
        return [g * a[1], g * a[0]]
    if name == "add":
        return [g, g]
    raise NotImplementedError(name)


stepsize = 0.1

@bundle()
def abs(x):
    return x if x >= 0 else -x

@bundle()
def square(x):
    return x * x

param  = node(1.0, trainable=True)
def forward():
    x = param
    return abs(x) + square(x) * 0.5

forward().backward(visualize=True)

from opto.optimizers.optimizer import Optimizer
from collections import defaultdict


class BackPropagationGradientDescent(Optimizer):

    def __init__(self, parameters, stepsize, *args, **kwargs):
        super().__init__(parameters, *args, **kwargs)
        self.stepsize = stepsize

    def _step(self, *args, **kwargs):
        """Return the new data of parameter nodes based on the feedback."""
        trace_graph = self.trace_graph   # aggregate the trace graphes into one.
        grads = defaultdict(lambda: 0.0)
        # trace_graph.graph is a list of nodes sorted according to the topological order
        for i, ( _, x) in enumerate(reversed(trace_graph.graph)):  # back-propagation starts from the last node
            if len(x.parents) == 0:
                continue
            g = trace_graph.user_feedback if i == 0 else grads[x]
            propagated_grads = grad(x, g)  # propagate the gradient
            for p, pg in zip(x.parents, propagated_grads):
                grads[p] += pg  #  accumulate gradient
        return {p: p.data - self.stepsize * grads[p] for p in self.parameters}  # propose new update


losses_v1 = []
bp = BackPropagationGradientDescent([param], stepsize=stepsize)
print('Version 1 gradient descent implementation using Trace')

for i in range(10):
    y = forward()
    bp.zero_feedback()
    bp.backward(y, 1.0)
    bp.step()
    print(f'  Loss at iter {i}: {y.data}')
    losses_v1.append(y.data)


print('Implementation by Propagator')


# We create a custom propagator that back-propagates the gradient
class BackPropagator(Propagator):

    def init_feedback(self, node, feedback):
        return feedback

    def _propagate(self, child):
        grad_ = sum(sum(v) for v in child.feedback.values())
        propagated_grads = grad(child, grad_)
        return {p: pg for p, pg in zip(child.parents, propagated_grads)}


class GradientDescent(Optimizer):

    def __init__(self, parameters, stepsize, *args, **kwargs):
        super().__init__(parameters, *args, **kwargs)
        self.stepsize = stepsize

    def default_propagator(self):
        # use the custom propagator instead of the default one, which propagates Trace graph
        return BackPropagator()

    def _step(self, *args, **kwargs):
        # simpel gradient descent
        return {p: p.data - self.stepsize * sum(sum(v) for v in p.feedback.values()) for p in self.parameters}  # propose new update


losses_v2 = []
param  = node(1.0, trainable=True)  # reset
bp = GradientDescent([param], stepsize=stepsize)
print('Version 2 gradient descent implementation using Trace')

for i in range(10):
    y = forward()
    bp.zero_feedback()
    bp.backward(y, 1.0)
    bp.step()
    print(f'  Loss at iter {i}: {y.data}')
    losses_v2.append(y.data)
