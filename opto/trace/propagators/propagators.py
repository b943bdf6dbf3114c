"""Propagators: how feedback on a child becomes feedback on its parents.

Rules are data: ``Propagator.register(op_name, fn)`` overrides the rule for one operator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opto.trace.nodes import MessageNode, Node, get_op_name


class AbstractFeedback:
    """Feedback that can be summed (``sum()`` starts from 0)."""

    def __add__(self, other: Any) -> Any:
        raise NotImplementedError

    def __radd__(self, other: Any) -> Any:
        if isinstance(other, int) and other == 0:
            return self
        return self.__add__(other)


class AbstractPropagator:
    def __call__(self, child: MessageNode) -> dict[Node, Any]:
        if not isinstance(child, MessageNode):
            raise TypeError(f"only MessageNodes propagate feedback, got {type(child).__name__}")
        propagated = self.propagate(child)
        if not isinstance(propagated, dict):
            raise TypeError(f"{type(self).__name__}.propagate must return a dict parent -> feedback")
        return propagated

    def propagate(self, child: MessageNode) -> dict[Node, Any]:
        raise NotImplementedError


class Propagator(AbstractPropagator):
    """Dispatches on the child's operator name; ``register`` overrides one operator's rule."""

    def __init__(self) -> None:
        self.override: dict[str, Callable[[MessageNode], dict[Node, Any]]] = {}

    def register(self, operator_name: str, propagate_function: Callable[[MessageNode], dict[Node, Any]]) -> None:
        self.override[operator_name] = propagate_function

    def propagate(self, child: MessageNode) -> dict[Node, Any]:
        if self.override:
            name = get_op_name(child.description)
            if name in self.override:
                return self.override[name](child)
        return self._propagate(child)

    def init_feedback(self, node: Node, feedback: Any) -> Any:
        """Turn the user's raw feedback into what this propagator passes around."""
        raise NotImplementedError

    def _propagate(self, child: MessageNode) -> dict[Node, Any]:
        raise NotImplementedError


class SumPropagator(Propagator):
    """Parents receive the sum (or concatenation, for strings) of the child's feedback."""

    def init_feedback(self, node: Node, feedback: Any = None) -> Any:
        # trace-opt's signature is init_feedback(feedback); accept both call forms.
        return node if feedback is None and not isinstance(node, Node) else feedback

    def _propagate(self, child: MessageNode) -> dict[Node, Any]:
        items = [v[0] for v in child.feedback.values()]
        if not items:
            raise ValueError(f"{child.name} has no feedback to propagate")
        if "user" in child.feedback:
            total = child.feedback["user"][0]
        elif isinstance(items[0], str):
            total = "".join(items)
        else:
            total = sum(items)
        return {parent: total for parent in child.parents}
