#!/usr/bin/env bash
# Build the documentation site into site/ (or the folder given as $1) with mkdocs --strict:
# any warning (a broken link or anchor, a page missing from the nav, an API name that no longer
# exists) fails the build. Installs nothing: the tools come with `scripts/setup.sh --all` (or --dev).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c "import mkdocs, mkdocstrings, material" >/dev/null 2>&1; then
  echo "scripts/docs.sh: mkdocs is not installed in .venv; run: bash scripts/setup.sh --dev" >&2
  exit 2
fi
export NO_MKDOCS_2_WARNING=1   # Material's banner about its end of life, printed on every build
exec .venv/bin/python -m mkdocs build --strict --site-dir "${1:-site}"
