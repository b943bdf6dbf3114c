"""Resource limits and the environment a sandbox worker gets.

Defaults are chosen so that one bad candidate cannot take the machine down: a memory cap that
leaves room for every worker, secrets removed from the environment, bounded captured output.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from typing import Any

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
    """The sandbox options every executor takes: per-evaluation limits and the workers' setup.

    One frozen object, so LocalExecutor and RayExecutor (and make_executor) accept the same
    settings with the same meaning; each field may also be passed to an executor as a keyword
    (``LocalExecutor(obj, timeout_s=10)`` is ``LocalExecutor(obj, limits=Limits(timeout_s=10))``).

    timeout_s: wall-clock seconds per evaluation; past it the worker and its children are killed.
    memory_mb: address-space cap per worker (RLIMIT_AS); None = default_memory_mb(workers), 0 = none.
    output_bytes: how much of the tail of stdout and of stderr is kept per evaluation.
    scrub_env: drop credential-looking variables (API keys, tokens, passwords, URLs with a password;
      see is_secret) from the workers' environment; env_keep lists names to keep anyway, env adds
      or overrides variables.
    extra_sys_path: directories put in front of the workers' sys.path (the run's own sys.path
      follows), for objectives that live outside it.
    """

    timeout_s: float = 60.0
    memory_mb: int | None = None
    output_bytes: int = 16_384
    scrub_env: bool = True
    env_keep: tuple[str, ...] = ()
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    extra_sys_path: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.timeout_s, bool) or not isinstance(self.timeout_s, (int, float)) or not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be a number of seconds > 0, got {self.timeout_s!r}")
        if self.memory_mb is not None and self.memory_mb < 0:
            raise ValueError(f"memory_mb must be >= 0 (0 = no cap), got {self.memory_mb}")
        if self.output_bytes < 0:
            raise ValueError(f"output_bytes must be >= 0, got {self.output_bytes}")
        if not isinstance(self.env, Mapping):
            raise TypeError(f"env must be a mapping of variable name -> value, got {type(self.env).__name__}")
        for name in ("env_keep", "extra_sys_path"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(f"{name} must be a sequence of str, got the str {value!r}; wrap it: ({value!r},)")
            object.__setattr__(self, name, tuple(value))

    @classmethod
    def merged(cls, limits: Limits | None = None, **options: Any) -> Limits:
        """``limits`` (default: the defaults) with the keyword options an executor was given applied.

        A keyword given as None is left out (the value from ``limits`` stands), as before options
        were one object.
        """
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError(f"limits must be an opto.runtime.Limits, got {type(limits).__name__}")
        fields = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(options) - set(fields))
        if unknown:
            raise TypeError(f"unknown executor option(s) {unknown}; the sandbox options are {fields} "
                            "(see opto.runtime.Limits)")
        base = limits if limits is not None else cls()
        given = {k: v for k, v in options.items() if v is not None}
        return dataclasses.replace(base, **given) if given else base

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
