"""Scoped settings: tracing on/off, the default LM, name scopes.

Settings live in a ``contextvars.ContextVar`` so that threads and asyncio tasks each see their own
values and nothing is a mutable module global (STYLE.md 4). Change them with ``opto.context``::

    with opto.context(lm=my_lm, tracing=False):
        ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any


@dataclasses.dataclass(frozen=True)
class Settings:
    """The values a ``with opto.context(...)`` block may override.

    tracing: record operations on nodes into the graph (``with trace.stop_tracing():`` turns it off
        for a block; trace-opt's ``GRAPH.TRACE = False`` sets it for the current thread/task only).
    lm: the default language model used when an optimizer is built without one.
    name_scope: prefixes joined with ``/`` in front of new node names.
    """

    tracing: bool = True
    lm: Any = None
    name_scope: tuple[str, ...] = ()


_SETTINGS: ContextVar[Settings] = ContextVar("opto_settings", default=Settings())  # noqa: B039 - frozen


def settings() -> Settings:
    """The settings in force in the current thread / task."""
    return _SETTINGS.get()


@contextmanager
def context(**overrides: Any) -> Iterator[Settings]:
    """Override settings inside a ``with`` block; the previous values come back on exit."""
    fields = {f.name for f in dataclasses.fields(Settings)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise TypeError(
            f"opto.context() got unknown setting(s) {unknown}; valid settings are {sorted(fields)}"
        )
    new = dataclasses.replace(_SETTINGS.get(), **overrides)
    token = _SETTINGS.set(new)
    try:
        yield new
    finally:
        _SETTINGS.reset(token)


def reset() -> None:
    """Restore default settings (tests call this between cases)."""
    _SETTINGS.set(Settings())
