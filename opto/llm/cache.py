"""Response cache in SQLite (WAL): a rerun of a seeded optimization replays exactly and costs nothing.

Keyed by model + messages + settings + sample index + the backend's identity (its server URL and
extra body fields, as ``BaseLM._cache_identity`` reports them), never by anything secret: requests
carry no keys and identities leave the API key out. Location, in order: ``cache=`` argument, ``OPTO_LLM_CACHE`` (a file path, or ``off``),
``$OPTO_CACHE_DIR/llm_cache.sqlite``, ``$XDG_CACHE_HOME/opto/llm_cache.sqlite``,
``~/.cache/opto/llm_cache.sqlite``. Environment variables are read when an LM is built.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union

from opto.llm.errors import LMConfigError
from opto.llm.protocol import Request
from opto.llm.structured import schema_json
from opto.llm.transport import RawReply

CacheSpec = Union["ResponseCache", str, os.PathLike, bool, None]
_OFF = {"0", "off", "false", "no", "none", "disable", "disabled"}
_KEY_VERSION = 2  # 2: the backend identity joined the key


def default_cache_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where the cache lives when nothing is passed; None when ``OPTO_LLM_CACHE=off``."""
    env = os.environ if environ is None else environ
    explicit = env.get("OPTO_LLM_CACHE", "").strip()
    if explicit.lower() in _OFF and explicit:
        return None
    if explicit and explicit.lower() not in ("1", "on", "true", "yes"):
        return Path(explicit).expanduser()
    if env.get("OPTO_CACHE_DIR"):
        return Path(env["OPTO_CACHE_DIR"]).expanduser() / "llm_cache.sqlite"
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "opto" / "llm_cache.sqlite"


def cache_key(model: str, request: Request, backend: Mapping[str, Any] | None = None) -> str:
    """Stable digest of everything that determines a sample's text.

    backend: what else about the LM shapes the reply (server URL, extra body fields, ...); two LMs
    that share a cache but differ there must not answer for each other. Never put a key in it.
    """
    payload = {
        "v": _KEY_VERSION,
        "backend": dict(backend or {}),
        "model": model,
        "messages": list(request.messages),
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "stop": list(request.stop),
        "schema": schema_json(request.schema) if request.schema is not None else None,
        "json_mode": request.json_mode,
        "sample_index": request.sample_index,
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """A thread-safe SQLite store of raw replies; several processes may share one file (WAL)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, model TEXT NOT NULL, "
                    "reply TEXT NOT NULL, created REAL NOT NULL)"
                )
            except (OSError, sqlite3.Error) as e:
                raise LMConfigError(
                    f"cannot open the LLM response cache at {self.path} ({e}); pass cache=<writable path>, "
                    "set OPTO_LLM_CACHE=<path>, or disable it with cache=False / OPTO_LLM_CACHE=off"
                ) from e
            self._conn = conn
        return self._conn

    def get(self, key: str) -> RawReply | None:
        with self._lock:
            row = self._connect().execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return RawReply(**json.loads(row[0]))

    def put(self, key: str, reply: RawReply) -> None:
        blob = json.dumps(dataclasses.asdict(reply), ensure_ascii=False)
        with self._lock:
            self._connect().execute(
                "INSERT OR REPLACE INTO replies (key, model, reply, created) VALUES (?, ?, ?, ?)",
                (key, reply.model, blob, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._connect().execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def clear(self) -> None:
        with self._lock:
            self._connect().execute("DELETE FROM replies")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __getstate__(self) -> dict[str, Any]:
        # Connections do not pickle; a worker process reopens the same file.
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"


def open_cache(spec: CacheSpec) -> ResponseCache | None:
    """Turn an LM's ``cache=`` argument into a cache: True = default location, False/None = off."""
    if isinstance(spec, ResponseCache):
        return spec
    if spec is None or spec is False:
        return None
    if spec is True:
        path = default_cache_path()
        return None if path is None else ResponseCache(path)
    if isinstance(spec, (str, os.PathLike)):
        return ResponseCache(spec)
    raise LMConfigError(f"cache= must be True, False, a path or a ResponseCache; got {spec!r}")
