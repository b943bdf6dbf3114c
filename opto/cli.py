"""The ``opto`` command. Subcommands register in ``COMMANDS`` (name -> (help, add_arguments, run))."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Sequence

AddArgs = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]


def _serve_llm_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    p.add_argument("--model", default=None, help="a .gguf file (default: the embedded SmolLM2-135M-Instruct)")
    p.add_argument("--n-ctx", type=int, default=4096, help="context window in tokens (default 4096)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: half the cores)")
    p.add_argument("--dry-run", action="store_true", help="print the server command instead of running it")


def _serve_llm(args: argparse.Namespace) -> int:
    """Replace this process with llama_cpp.server so signals reach the server directly."""
    from opto.llm.server import serve_command
    from opto.llm.types import LMConfigError

    try:
        cmd = serve_command(
            args.port, host=args.host, model_path=args.model, n_ctx=args.n_ctx, threads=args.threads
        )
    except LMConfigError as e:
        print(f"opto serve-llm: {e}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(" ".join(cmd))
        return 0
    print(f"opto serve-llm: serving on http://{args.host}:{args.port}/v1", file=sys.stderr, flush=True)
    if os.name == "posix":
        os.execv(cmd[0], cmd)
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0


COMMANDS: dict[str, tuple[str, AddArgs, Run]] = {
    "serve-llm": ("serve the embedded offline model (OpenAI-compatible API)", _serve_llm_args, _serve_llm),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opto", description="opto: optimize programs with LLM feedback")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, add_args, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
        p.set_defaults(_run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return 2
    return args._run(args)


if __name__ == "__main__":
    sys.exit(main())
