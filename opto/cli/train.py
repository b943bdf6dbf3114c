"""``opto train MODEL --data FILE``: train a traced model from the command line (or plan it with --dry-run).

MODEL is ``module:name`` or ``path/to/file.py:name``; ``name`` is a model instance (a @trace.model
object or a trainable @bundle function), or a class/function called with no arguments to build one.
FILE is JSON: a list of [input, info] pairs, ``{"inputs": [...], "infos": [...]}``, or the three splits
``{"train": ..., "val": ..., "test": ...}`` (as in examples/data/). The guide is ``exact`` (exact match)
or ``module:function`` / ``file.py:function`` with the signature (input, output, info) -> (score, feedback).
With ``--store`` a rerun of the same command resumes where the last one stopped.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="module:name or file.py:name of the model (or of a function building it)")
    parser.add_argument("--data", required=True, help="JSON dataset: pairs, {inputs, infos}, or {train, val, test}")
    parser.add_argument("--val", default=None, help="JSON validation set (default: the data file's 'val' split)")
    parser.add_argument("--test", default=None, help="JSON held-out test set (default: the data file's 'test')")
    parser.add_argument("--guide", default="exact", help="'exact' or module:function / file.py:function")
    parser.add_argument("--optimizer", default="optoprime", help="optoprime, optoprime_multi, opro or textgrad")
    parser.add_argument("--algorithm", default="minibatch", help="minibatch, beam, priority or pareto")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--budget", type=int, default=None, help="most proposals (optimizer steps)")
    parser.add_argument("--max-llm-calls", type=int, default=None, help="most LLM calls in all")
    parser.add_argument("--patience", type=int, default=None, help="stop after this many validations without a new best")
    parser.add_argument("--store", default=None, help="run store file; a rerun resumes it")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None, help="write the best parameter values to this JSON file")
    parser.add_argument("--dry-run", action="store_true", help="print the planned LLM calls, evaluations and cost")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def load_object(spec: str) -> Any:
    """``module:name`` or ``file.py:name`` -> the object (an error names the form when it is wrong)."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise ValueError(f"{spec!r} must be module:name or path/to/file.py:name")
    if where.endswith(".py"):
        path = Path(where).resolve()
        if not path.is_file():
            raise ValueError(f"no such file: {where}")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        if module_spec is None or module_spec.loader is None:
            raise ValueError(f"cannot import {where}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[path.stem] = module
        sys.path.insert(0, str(path.parent))
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    try:
        return getattr(module, name)
    except AttributeError:
        raise ValueError(f"{where} has no attribute {name!r}") from None


def build_model(obj: Any) -> Any:
    """An instance as it is; a class or a factory function (not itself traced) is called to build one."""
    if isinstance(obj, type) or (callable(obj) and not hasattr(obj, "parameters")):
        return obj()
    return obj


def read_splits(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    data = json.loads(Path(args.data).read_text())
    if isinstance(data, dict) and "train" in data:
        train_set, val_set, test_set = data["train"], data.get("val"), data.get("test")
    else:
        train_set, val_set, test_set = data, None, None
    if args.val:
        val_set = json.loads(Path(args.val).read_text())
    if args.test:
        test_set = json.loads(Path(args.test).read_text())
    return train_set, val_set, test_set


def run(args: argparse.Namespace) -> int:
    from opto.trainer import TrainBudget, exact_match, train

    try:
        model = build_model(load_object(args.model))
        guide = exact_match if args.guide == "exact" else load_object(args.guide)
        train_set, val_set, test_set = read_splits(args)
    except (ValueError, OSError, json.JSONDecodeError, ImportError) as err:
        print(f"opto train: {err}", file=sys.stderr)
        return 2
    budget = None
    if args.budget is not None or args.max_llm_calls is not None:
        budget = TrainBudget(max_proposals=args.budget, max_llm_calls=args.max_llm_calls)
    try:
        result = train(model, train_set, guide, optimizer=args.optimizer, algorithm=args.algorithm,
                       epochs=args.epochs, batch_size=args.batch_size, val_set=val_set, test_set=test_set,
                       budget=budget, store=args.store, seed=args.seed, dry_run=args.dry_run,
                       patience=args.patience, progress=args.progress)
    except (ValueError, TypeError) as err:
        print(f"opto train: {err}", file=sys.stderr)
        return 2
    if args.dry_run:
        return 0
    print(result)
    if args.output:
        Path(args.output).write_text(json.dumps(result.best_values, indent=1) + "\n")  # type: ignore[union-attr]
        print(f"best parameters written to {args.output}")
    return 0
