"""The SQLite schema of a run store (one file per run, WAL), its version, and the check for both."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from opto.store.errors import StoreError, StoreVersionError

SCHEMA_VERSION = 1
FORMAT = "opto-run-store"

DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    run_id TEXT NOT NULL,
    config TEXT NOT NULL,
    code_version TEXT NOT NULL,
    seed INTEGER,
    created_at REAL NOT NULL,
    forked_from TEXT
);
CREATE TABLE candidates (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    param_values TEXT NOT NULL,
    parent_ids TEXT NOT NULL DEFAULT '[]',
    operator TEXT,
    llm_call_id TEXT,
    generation INTEGER NOT NULL DEFAULT 0,
    island INTEGER,
    meta TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'in_flight', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE INDEX candidates_status ON candidates (status);
CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    candidate_id TEXT NOT NULL REFERENCES candidates (id),
    ok INTEGER NOT NULL,
    score REAL,
    scores TEXT NOT NULL DEFAULT '{}',
    feedback TEXT NOT NULL DEFAULT '',
    failure_reason TEXT,
    failure_message TEXT,
    duration_s REAL NOT NULL,
    stdout_tail TEXT NOT NULL DEFAULT '',
    stderr_tail TEXT NOT NULL DEFAULT '',
    artifacts TEXT NOT NULL DEFAULT '{}',
    input_key TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX evaluations_candidate ON evaluations (candidate_id);
CREATE INDEX evaluations_score ON evaluations (score);
CREATE TABLE llm_calls (
    id TEXT PRIMARY KEY,
    request_digest TEXT NOT NULL,
    model TEXT,
    request TEXT,
    reply TEXT NOT NULL,
    usage TEXT NOT NULL DEFAULT '{}',
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    latency_s REAL,
    cached INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE INDEX llm_calls_digest ON llm_calls (request_digest);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL
);
"""


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def check_format(conn: sqlite3.Connection, path: Path, readonly: bool) -> None:
    """Raise StoreVersionError unless the file is an opto run store of the schema version this opto reads."""
    found = tables(conn)
    if not found and readonly:
        raise StoreError(f"run store {path} has no run in it yet (being created?); open it again in a moment")
    if "meta" not in found:
        raise StoreVersionError(f"{path} is an SQLite file but not an opto run store; pick another path")
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("format") != FORMAT:
        raise StoreVersionError(f"{path} is not an opto run store (format {meta.get('format')!r})")
    version = int(meta.get("schema_version", "0"))
    if version > SCHEMA_VERSION:
        raise StoreVersionError(
            f"run store {path} has schema version {version}, newer than this opto supports "
            f"({SCHEMA_VERSION}); upgrade opto to read it"
        )
    if version < SCHEMA_VERSION:
        raise StoreVersionError(
            f"run store {path} has schema version {version}; this opto reads version {SCHEMA_VERSION} "
            "only; open it with the opto version that wrote it"
        )
