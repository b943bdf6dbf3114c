"""Resource limits and the environment a sandbox worker gets.

Defaults are chosen so that one bad candidate cannot take the machine down: a memory cap that
leaves room for every worker, secrets removed from the environment, bounded captured output.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping

# Environment variables that hold credentials (names compared upper-cased):
# - the name contains PASSWORD, PASSWD, SECRET, TOKEN (not TOKENIZER...), APIKEY, API_KEY,
#   PRIVATE_KEY, PRIVATEKEY or CREDENTIAL: MYSECRET, PGPASSWORD, GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY;
# - a "_"-separated word is KEY, KEYS, AUTH, PRIVATE, COOKIE, DSN, PWD or PAT: AWS_ACCESS_KEY_ID,
#   SENTRY_DSN, MYSQL_PWD, GITHUB_PAT (so KEYBOARD_LAYOUT, PATH and TOKENIZERS_PARALLELISM survive);
#   PWD and OLDPWD themselves are the working directory and are kept;
# - or the value holds a URL with a password: postgres://user:pass@host/db, redis://:pass@host.
_SECRET_PART = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN(?!IZ)|API_?KEY|PRIVATE_?KEY|CREDENTIAL")
_SECRET_WORD = re.compile(r"(^|_)(KEYS?|AUTH|PRIVATE|COOKIE|DSN|PWD|PAT)($|_)")
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:]*:[^\s/@]*@")
_ALWAYS_KEEP = {"PWD", "OLDPWD"}
# Parallel BLAS threads in every worker oversubscribe the cores and inflate virtual memory.
_SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def total_memory_mb() -> int | None:
    """Physical memory of this machine in MiB, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        return None


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        return max(1, os.cpu_count() or 1)


def default_memory_mb(workers: int) -> int | None:
    """80 % of physical memory shared among the workers, but at least 1 GiB each."""
    total = total_memory_mb()
    return None if total is None else max(1024, int(total * 0.8 / max(1, workers)))


@dataclasses.dataclass(frozen=True)
class Limits:
    """Per-evaluation limits enforced by the sandbox.

    timeout_s: wall-clock seconds per evaluation; past it the worker and its children are killed.
    memory_mb: address-space cap per worker (RLIMIT_AS); None = default_memory_mb(workers), 0 = none.
    output_bytes: how much of the tail of stdout and of stderr is kept per evaluation.
    scrub_env: drop credential-looking variables (API keys, tokens, passwords, URLs with a password;
      see is_secret) from the workers' environment; env_keep lists names to keep anyway, env adds
      or overrides variables.
    """

    timeout_s: float = 60.0
    memory_mb: int | None = None
    output_bytes: int = 16_384
    scrub_env: bool = True
    env_keep: tuple[str, ...] = ()
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0 seconds, got {self.timeout_s}")
        if self.memory_mb is not None and self.memory_mb < 0:
            raise ValueError(f"memory_mb must be >= 0 (0 = no cap), got {self.memory_mb}")
        if self.output_bytes < 0:
            raise ValueError(f"output_bytes must be >= 0, got {self.output_bytes}")

    def memory_cap_mb(self, workers: int) -> int | None:
        """The cap actually applied, None for no cap."""
        if self.memory_mb == 0:
            return None
        return self.memory_mb if self.memory_mb is not None else default_memory_mb(workers)


def is_secret_name(name: str) -> bool:
    """True for environment variable names that look like credentials (rule above)."""
    upper = name.upper()
    return upper not in _ALWAYS_KEEP and bool(_SECRET_PART.search(upper) or _SECRET_WORD.search(upper))


def is_secret(name: str, value: str) -> bool:
    """True for a variable that a worker must not see: a secret name, or a URL with a password."""
    return is_secret_name(name) or bool(_URL_PASSWORD.search(value))


def worker_env(limits: Limits, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a worker: base (default os.environ) minus secrets, plus limits.env."""
    env = dict(os.environ if base is None else base)
    if limits.scrub_env:
        keep = set(limits.env_keep)
        env = {k: v for k, v in env.items() if k in keep or not is_secret(k, v)}
    for key, value in _SINGLE_THREAD.items():
        env.setdefault(key, value)
    env.pop("PYTHONSTARTUP", None)
    env.update({str(k): str(v) for k, v in limits.env.items()})
    return env
