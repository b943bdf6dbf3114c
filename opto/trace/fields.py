"""A node's fields: the one list of them, and reading/writing them all at once.

Every way a node comes to be (``Node(...)``, the bundle hot path ``MessageNode._fast``, a detached
``deepcopy``, unpickling in ``serialize``) sets its fields through ``init_fields``.
"""

from __future__ import annotations

from typing import Any

from opto.trace.graph import GRAPH


def init_fields(n: Any, data: Any, base: str, trainable: bool, description: str, constraint: str | None,
                 info: Any) -> None:
    """Set every field a node has: the one list of them.

    Constructors, the hot path (``MessageNode._fast``), detached copies and unpickling all call
    this, so a new field is one edit here (plus its slot in ``nodes.AbstractNode``). Copies and
    unpickled nodes then overwrite the fields not in ``GRAPH_FIELDS`` with the original's values.
    """
    n._data = data
    n._parents = []
    n._children = []
    n._level = 0
    n._name = GRAPH.register(n, base)
    n.trainable = trainable
    n._feedback = None
    n._description = description
    n._constraint = constraint
    n._backwarded = False
    n._info = info


# Fields tied to one graph: a detached copy or an unpickled node gets them fresh from init_fields
# (unpickling then relinks parents and inputs); every other field is copied from the original.
GRAPH_FIELDS = frozenset({"_parents", "_children", "_level", "_name", "_feedback", "_info", "_inputs"})


def base_name(name: str) -> str:
    return name.split(":")[0].split("/")[-1]


_GRAPH_INFO_KEYS = ("inputs", "output", "exception", "fun", "external_dependencies")


def detached_info(n: Any) -> Any:
    """A node's info without references into its graph (names, docs and source stay)."""
    info = n._info
    if info is None or isinstance(info, dict) and not any(k in info for k in _GRAPH_INFO_KEYS):
        return info
    if not isinstance(info, dict):
        info = info.materialize(n)
    return {k: v for k, v in info.items() if k not in _GRAPH_INFO_KEYS}


_SLOTS: dict[type, tuple[str, ...]] = {}  # per-class cache of slot names (derived data, not state)


def _slot_names(cls: type) -> tuple[str, ...]:
    names = _SLOTS.get(cls)
    if names is None:
        names = tuple(slot for klass in cls.__mro__ for slot in klass.__dict__.get("__slots__", ())
                      if slot not in ("__dict__", "__weakref__"))
        _SLOTS[cls] = names
    return names


def node_state(n: Any) -> dict[str, Any]:
    """Every attribute of a node (slots and any extra ``__dict__`` entries)."""
    state: dict[str, Any] = {}
    missing = object()
    for slot in _slot_names(type(n)):
        value = getattr(n, slot, missing)
        if value is not missing:
            state[slot] = value
    extra = getattr(n, "__dict__", None)
    if extra:
        state.update(extra)
    return state


def set_node_state(n: Any, state: dict[str, Any]) -> None:
    for key, value in state.items():
        setattr(n, key, value)
