"""The ``opto`` command: one module per subcommand, imported only when that subcommand runs.

``opto --help`` and ``opto --version`` import no command module (so a broken or heavy command
cannot slow down or break the others). Nothing else in opto imports this package.

Adding a command is one line in :data:`COMMANDS` plus its module. The module
(``opto/cli/<name>.py``) exposes two functions::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...   # its options
    def run(args: argparse.Namespace) -> int: ...                     # the exit status

and ``COMMANDS`` gets ``"name": Command("opto.cli.<name>", "one-line help"),``.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType

import opto


@dataclass(frozen=True)
class Command:
    """Where a subcommand lives and the line ``opto --help`` shows for it."""

    module: str
    help: str


COMMANDS: dict[str, Command] = {
    "serve-llm": Command("opto.cli.serve_llm", "serve the embedded offline model (OpenAI-compatible API)"),
    "report": Command("opto.cli.report", "write the static HTML report of a run store (run.db -> run.html)"),
    "evolve": Command("opto.cli.evolve", "evolve a function's code with a population search"),
    "resume": Command("opto.cli.resume", "resume an `opto evolve` run from its store"),
    "demo": Command("opto.cli.demo", "the main job offline: evolve a heuristic, train, report"),
    "train": Command("opto.cli.train", "train a traced model's parameters on a dataset (or --dry-run to plan it)"),
}


class CommandModuleError(RuntimeError):
    """A module named in COMMANDS lacks ``add_arguments`` or ``run``."""


def load_command(name: str) -> ModuleType:
    """Import the module behind ``name`` and check that it has the two functions a command needs."""
    module = importlib.import_module(COMMANDS[name].module)
    missing = [f for f in ("add_arguments", "run") if not callable(getattr(module, f, None))]
    if missing:
        raise CommandModuleError(
            f"command {name!r}: module {module.__name__} must define {' and '.join(missing)}() "
            "(see the docstring of opto.cli)"
        )
    return module


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser; only ``command``'s module (if any) is imported to add its options."""
    parser = argparse.ArgumentParser(
        prog="opto",
        description="opto: trace programs, give feedback, and optimize their parameters.",
        epilog="Run `opto COMMAND --help` for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"opto {opto.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, entry in COMMANDS.items():
        p = sub.add_parser(name, help=entry.help, description=entry.help)
        if name == command:
            module = load_command(name)
            module.add_arguments(p)
            run: Callable[[argparse.Namespace], int] = module.run
            p.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``opto`` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if not a.startswith("-")), None)
    if command is not None and command not in COMMANDS:
        close = difflib.get_close_matches(command, COMMANDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        print(
            f"opto: unknown command {command!r}{hint}. Commands: {', '.join(COMMANDS)}; see `opto --help`.",
            file=sys.stderr,
        )
        return 2
    parser = build_parser(command)
    args = parser.parse_args(args_list)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 2
    return int(run(args))
