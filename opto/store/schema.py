"""The SQLite schema of a run store (one file per run, WAL) and its version."""

from __future__ import annotations

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
