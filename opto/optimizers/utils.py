"""trace-opt's ``opto.optimizers.utils.print_color``, used by its examples to colour their logs."""

from __future__ import annotations

from typing import Any

_COLOURS = {"red": "\033[91m", "green": "\033[92m", "yellow": "\033[93m", "blue": "\033[94m",
            "magenta": "\033[95m", "cyan": "\033[96m"}


def print_color(message: Any, color: str | None = None, logger: Any = None) -> None:
    """Print ``message`` in ``color`` (unknown or None: no colour); also ``logger.log(message)`` if given."""
    print(f"{_COLOURS.get(color or '', '')}{message}\033[0m")
    if logger is not None:
        logger.log(message)
