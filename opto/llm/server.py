"""The embedded model as an OpenAI-compatible server (``llama_cpp.server``) on 127.0.0.1.

``opto serve-llm --port P`` runs it in the foreground; ``LocalServer`` starts it as a child process
for tests, benchmarks or scripts and stops it on exit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from opto.llm.errors import LMError
from opto.llm.local import default_threads, find_embedded_model, require_llama_cpp


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve_command(
    port: int,
    host: str = "127.0.0.1",
    model_path: str | os.PathLike | None = None,
    n_ctx: int = 4096,
    threads: int | None = None,
    extra_args: tuple[str, ...] = (),
) -> list[str]:
    """The ``python -m llama_cpp.server`` command line for the embedded (or given) model.

    ``threads`` (default: half the cores) is used for decoding and prompt processing alike; see
    ``opto.llm.local.default_threads`` for why.
    """
    require_llama_cpp()
    path = Path(model_path) if model_path is not None else find_embedded_model()
    threads = threads or default_threads()
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(path),
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        *extra_args,
    ]


class LocalServer:
    """``with LocalServer() as srv: OpenAICompatible("smollm2", base_url=srv.base_url)``.

    Starts ``opto serve-llm`` on a free port and waits until ``/v1/models`` answers.
    """

    def __init__(
        self,
        port: int | None = None,
        model_path: str | os.PathLike | None = None,
        n_ctx: int = 4096,
        startup_timeout_s: float = 120.0,
    ) -> None:
        self.port = port or free_port()
        self.model_path = model_path
        self.n_ctx = n_ctx
        self.startup_timeout_s = startup_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LocalServer:
        require_llama_cpp()
        cmd = [sys.executable, "-m", "opto.cli", "serve-llm", "--port", str(self.port), "--n-ctx", str(self.n_ctx)]
        if self.model_path is not None:
            cmd += ["--model", str(self.model_path)]
        self._log = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise LMError(f"the LLM server exited with {self._proc.returncode}:\n{self._tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise LMError(f"the LLM server did not answer within {self.startup_timeout_s:g} s:\n{self._tail()}")

    def _tail(self, n: int = 3000) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-n:]

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
