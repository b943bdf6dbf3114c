"""Feedback propagation rules."""

from opto.trace.propagators.graph_propagator import GraphPropagator, TraceGraph
from opto.trace.propagators.propagators import AbstractFeedback, AbstractPropagator, Propagator, SumPropagator

__all__ = ["Propagator", "SumPropagator", "GraphPropagator", "TraceGraph", "AbstractFeedback",
           "AbstractPropagator"]
