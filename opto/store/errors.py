"""Errors a run store raises; each says what is wrong and what to do about it."""

from __future__ import annotations

from typing import Any


class StoreError(Exception):
    """Base class for run-store errors."""


class StoreVersionError(StoreError):
    """The file was written by an incompatible opto version, or is not an opto run store."""


class StoreLockedError(StoreError):
    """Another process (or another RunStore in this one) has the run open for writing."""


class StoreCorruptError(StoreError):
    """SQLite says the file is damaged or is not a database."""


class ConfigMismatchError(StoreError):
    """The run was created with a different config; ``differences`` lists (key, stored, new)."""

    def __init__(self, path: str, differences: list[tuple[str, Any, Any]]) -> None:
        self.path = path
        self.differences = differences
        lines = [f"  {key}: stored {_show(old)}, now {_show(new)}" for key, old, new in differences]
        super().__init__(
            f"run store {path} was created with a different config:\n" + "\n".join(lines) + "\n"
            "Open it with on_config_change='continue' to keep this run under the new config, or "
            "on_config_change='fork' to start a new run file that copies its candidates and evaluations."
        )


_ABSENT = object()


def _show(value: Any) -> str:
    return "(absent)" if value is _ABSENT else repr(value)
