"""``opto evolve FILE.py --function NAME --objective module:function``: evolve one function's code.

The function's source (with the file's top-level imports) becomes a code parameter; the search
evaluates each candidate by calling the objective in sandboxed workers, with every step in the run
store, so ``opto resume run.db`` continues a killed run to the same result. Everything needed to
resume (file, function, objective, LM, settings) is kept in the store's run config.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

# Settings that may change between a run and its resume (kept out of the compared run config).
_RUN_ONLY = ("budget", "time_limit", "progress", "output")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the Python file holding the function to evolve")
    parser.add_argument("--function", required=True, help="name of the top-level function to evolve")
    parser.add_argument("--objective", required=True,
                        help="'module:function' scoring a candidate: fn(values[, input]) -> score, (score, "
                             "feedback) or a dict; importable from the current directory or FILE's directory")
    parser.add_argument("--budget", type=int, default=100, help="evaluations to spend (default 100)")
    parser.add_argument("--workers", type=int, default=2, help="sandboxed worker processes (default 2)")
    parser.add_argument("--store", required=True, help="run store file (SQLite); an existing one is resumed")
    parser.add_argument("--config", default=None, help="evolve.toml with EvolutionConfig fields (see docs/evolution.md)")
    parser.add_argument("--executor", choices=("local", "ray"), default="local", help="where workers run")
    parser.add_argument("--lm", default="none",
                        help="LM for the LLM operators: none (default), local (embedded SmolLM2), auto "
                             "(OPTO_LLM_MODEL etc., else embedded), scripted:REPLIES.json (tests), or a model "
                             "name for an OpenAI-compatible API (with --lm-base-url for other servers)")
    parser.add_argument("--lm-base-url", default=None, help="base URL of an OpenAI-compatible server")
    parser.add_argument("--operators", default=None,
                        help="comma-separated operator names (overrides the config), e.g. M1,E1,ast_perturb")
    parser.add_argument("--seed", type=int, default=None, help="random seed (overrides the config)")
    parser.add_argument("--task", default=None, help="task description shown to LLM operators "
                        "(default: the function's docstring)")
    parser.add_argument("--input", default=None, help="input passed to the objective (JSON or a string)")
    parser.add_argument("--heldout", default=None, help="held-out input for re-scoring the top candidates")
    parser.add_argument("--cascade", default=None, help="cheap first-stage input (needs cascade_threshold)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per evaluation (default 60)")
    parser.add_argument("--time-limit", type=float, default=None, help="stop after this many seconds")
    parser.add_argument("--output", default=None, help="write the best function's source to this file")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no live progress line")


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
    except (ValueError, OSError) as err:
        print(f"opto evolve: {err}", file=sys.stderr)
        return 2
    return execute(settings, {k: getattr(args, k) for k in _RUN_ONLY})


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The resumable settings of a run (what ``opto resume`` reads back), validated now."""
    from opto.optimizers.evolution.config import ConfigError, EvolutionConfig

    file = Path(args.file).resolve()
    code, doc = function_source(file, args.function)
    if args.budget < 1 or args.workers < 1:
        raise ValueError("--budget and --workers must be at least 1")
    try:
        config = EvolutionConfig.from_toml(args.config) if args.config else EvolutionConfig()
        changes: dict[str, Any] = {}
        if args.operators:
            changes["operators"] = tuple(o.strip() for o in args.operators.split(",") if o.strip())
        if args.seed is not None:
            changes["seed"] = args.seed
        if changes:
            config = config.merged(**changes)
    except ConfigError as err:
        raise ValueError(str(err)) from None
    return {
        "file": str(file), "function": args.function, "code": code,
        "code_sha": hashlib.sha256(code.encode()).hexdigest()[:16],
        "objective": args.objective, "workers": args.workers, "executor": args.executor,
        "lm": args.lm, "lm_base_url": args.lm_base_url, "task": args.task if args.task is not None else doc,
        "input": _value(args.input), "heldout": _value(args.heldout), "cascade": _value(args.cascade),
        "timeout": args.timeout, "store": str(Path(args.store).resolve()),
        "evolution": config.model_dump(mode="json"),
    }


def function_source(file: Path, name: str) -> tuple[str, str]:
    """The file's top-level imports plus the function's source, and its docstring."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(f"cannot read {file}: {err}") from None
    try:
        tree = ast.parse(text, filename=str(file))
    except SyntaxError as err:
        raise ValueError(f"{file} does not parse: {err.msg} (line {err.lineno})") from None
    fns = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if not fns:
        defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        raise ValueError(f"{file} has no top-level function {name!r}; it defines {defined}; pass --function")
    imports = [ast.get_source_segment(text, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    fn = fns[-1]
    start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
    source = "\n".join(text.splitlines()[start - 1 : fn.end_lineno])
    code = "\n".join([*(i for i in imports if i), *([""] if imports else []), source]) + "\n"
    return code, ast.get_docstring(fn) or ""


def _value(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def make_lm(spec: str, base_url: str | None = None) -> Any:
    """The LM a spec names (see --lm); None for "none"."""
    if spec == "none":
        return None
    if spec == "local":
        from opto.llm import LocalLM

        return LocalLM()
    if spec == "auto":
        from opto.llm import resolve_lm

        return resolve_lm()
    if spec.startswith("scripted:"):
        return scripted_lm(Path(spec.partition(":")[2]))
    from opto.llm import OpenAICompatible

    return OpenAICompatible(spec, base_url=base_url)


def scripted_lm(path: Path) -> Any:
    """A ScriptedLM answering from a JSON list of replies, chosen by a hash of the prompt and seed,
    so a replayed (resumed) run gets the same reply to the same request."""
    from opto.llm import ScriptedLM

    replies = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(replies, list) or not replies or not all(isinstance(r, str) for r in replies):
        raise ValueError(f"{path} must hold a non-empty JSON list of reply strings")

    def answer(request: Any) -> str:
        text = json.dumps([dict(m) for m in request.messages], sort_keys=True) + str(request.seed)
        return str(replies[int(hashlib.sha256(text.encode()).hexdigest(), 16) % len(replies)])

    return ScriptedLM(answer)


def run_config(opt: Any, settings: dict[str, Any]) -> dict[str, Any]:
    return opt.config.to_run_config(space=opt.space.to_dict(), task=opt.task, cli=settings)


def execute(settings: dict[str, Any], run_only: dict[str, Any]) -> int:
    """Run (or resume) the search a settings dict describes; prints the result; exit status."""
    from opto.cli.evolve_progress import Progress
    from opto.optimizers.evolution import Evolution
    from opto.optimizers.evolution.loop import SearchError
    from opto.store import RunStore
    from opto.store.errors import StoreError
    from opto.trace.nodes import ParameterNode

    here = [str(Path.cwd()), str(Path(settings["file"]).parent)]
    for p in reversed(here):
        if p not in sys.path:
            sys.path.insert(0, p)
    try:
        from opto.runtime import Objective

        Objective(settings["objective"]).validate()
        lm = make_lm(settings["lm"], settings.get("lm_base_url"))
    except (ValueError, OSError) as err:
        print(f"opto evolve: {err}", file=sys.stderr)
        return 2
    code: ParameterNode[str] = ParameterNode(settings["code"], name="__code", trainable=True)
    opt = Evolution({settings["function"]: code}, lm=lm, config=settings["evolution"], task=settings["task"] or "")
    given = {k: settings[k] for k in ("input", "heldout", "cascade") if settings.get(k) is not None}
    options = {"timeout_s": settings["timeout"], "extra_sys_path": here}
    try:
        store = RunStore.open(settings["store"], config=run_config(opt, settings), seed=opt.config.seed)
    except (StoreError, OSError) as err:  # a locked/foreign/mismatched store, or a missing folder
        print(f"opto evolve: {err}", file=sys.stderr)
        return 2
    with store:
        store.add_event("cli", {k: v for k, v in run_only.items() if k != "progress"})
        progress = Progress(store.path, run_only.get("budget")) if run_only.get("progress", True) else None
        try:
            if progress is not None:
                progress.__enter__()
            try:
                result = opt.search(settings["objective"], budget=int(run_only["budget"]),
                                    time_limit=run_only.get("time_limit"), executor=settings["executor"],
                                    store=store, workers=settings["workers"], executor_options=options, **given)
            finally:
                if progress is not None:
                    progress.__exit__(None, None, None)
        except (SearchError, ValueError) as err:
            print(f"opto evolve: {err}", file=sys.stderr)
            return 1
    print_result(result, settings, run_only.get("output"))
    return 0


def print_result(result: Any, settings: dict[str, Any], output: str | None) -> None:
    code = result.values[settings["function"]]
    print(f"best score {result.score + 0.0:.6g} after {result.evaluations} evaluations "
          f"({result.generations} generations, stopped: {result.stopped})")
    for row in result.heldout:
        print(f"  held-out: candidate {row['candidate_id']} selection {row['selection_score']} "
              f"held-out {row['heldout_score']}")
    for name, s in sorted(result.operators.items()):
        print(f"  operator {name}: {s.get('proposals', 0)} proposals, {s.get('valid', 0)} valid, "
              f"{s.get('improved', 0)} improved, {s.get('llm_tokens', 0)} LLM tokens")
    if result.failures:
        print("  failed evaluations: " + ", ".join(f"{k} {v}" for k, v in sorted(result.failures.items())))
    rejected = rejected_counts(settings["store"])
    if rejected:  # e.g. "diff apply_failed 3": the apply-failure rate is this over diff's proposals
        print("  rejected children: " + ", ".join(f"{op} {reason} {n}" for (op, reason), n in rejected))
    print(f"run store: {settings['store']}  (opto resume {settings['store']})")
    print(code.rstrip("\n"))
    if output:
        Path(output).write_text(code, encoding="utf-8")
        print(f"wrote {output}")


def rejected_counts(path: str) -> list[tuple[tuple[str, str], int]]:
    """(operator, reason) -> count of rejected children, most frequent first."""
    from collections import Counter

    from opto.store import RunStore

    with RunStore.open(path, readonly=True) as store:
        counts = Counter((str(e.data.get("operator", "?")), str(e.data.get("reason", "?")))
                         for e in store.events("rejected"))
    return counts.most_common()
