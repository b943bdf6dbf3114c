#!/usr/bin/env bash
# Install everything (dev tools, embedded model, Ray) and run the whole test suite, lint included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --all
.venv/bin/ruff check opto tests bench examples
.venv/bin/mypy   # [tool.mypy] in pyproject.toml: all of opto/, zero errors
bash scripts/docs.sh   # the docs site, --strict (docs/, mkdocs.yml)
.venv/bin/python -m pytest -q "$@"
