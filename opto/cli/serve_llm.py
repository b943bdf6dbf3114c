"""``opto serve-llm``: serve the embedded offline model over an OpenAI-compatible API."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument(
        "--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)"
    )
    parser.add_argument(
        "--model", default=None, help="a .gguf file (default: the embedded SmolLM2-135M-Instruct)"
    )
    parser.add_argument("--n-ctx", type=int, default=4096, help="context window in tokens (default 4096)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: half the cores)")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the server command instead of running it"
    )


def run(args: argparse.Namespace) -> int:
    """Replace this process with llama_cpp.server so signals reach the server directly."""
    from opto.llm import LMConfigError
    from opto.llm.server import serve_command

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
