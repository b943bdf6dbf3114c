"""RunStore: one SQLite file per run holding candidates, evaluations, LLM calls and events.

Every write is its own committed transaction, made the moment the thing it records completes, so a
run killed at any instant loses nothing that finished. Reopening a run for writing re-queues the
candidates that were in flight. Readers (reports, the CLI) may open the file while it is written.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from opto.records import Candidate, EvalResult, dumps, new_id, to_jsonable
from opto.store.connection import (
    WriterLock,
    connect,
    remove_run_files,
    require_folder,
    transaction,
    translate_errors,
)
from opto.store.errors import _ABSENT, ConfigMismatchError, StoreCorruptError, StoreError
from opto.store.rows import (
    Event,
    LLMCallRecord,
    RunInfo,
    candidate_from_row,
    candidate_row,
    evaluation_from_row,
)
from opto.store.schema import DDL, FORMAT, SCHEMA_VERSION, check_format, tables
from opto.store.serialize import config_diff, digest, redact

OnConfigChange = Literal["error", "continue", "fork"]
_TAIL_CHARS = 4000  # per stream, per evaluation: enough to read a traceback, small enough for 1e6 rows


def _code_version() -> dict[str, Any]:
    """opto's version plus the git revision of the working directory, when there is one."""
    from opto import __version__

    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=2)
        git_rev = rev.stdout.strip() if rev.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        git_rev = None
    return {"opto": __version__, "git_rev": git_rev}


class RunStore:
    """A run on disk. Build it with ``RunStore.open``; use it as a context manager or ``close()`` it."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock: WriterLock | None) -> None:
        self.path = path
        self.readonly = lock is None
        self._db: sqlite3.Connection | None = conn
        self._writer_lock = lock
        self._lock = threading.RLock()

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: str | Path,
        config: Any = None,
        *,
        seed: int | None = None,
        code_version: Mapping[str, Any] | None = None,
        readonly: bool = False,
        create: bool = True,
        on_config_change: OnConfigChange = "error",
        fork_path: str | Path | None = None,
    ) -> RunStore:
        """Create the run file, or reopen it to resume (in-flight candidates are re-queued).

        config: a dict, dataclass or pydantic model; when reopening it is compared with the stored
          one and a difference raises ConfigMismatchError (on_config_change='error'), is recorded
          and adopted ('continue'), or starts a copy of the run in a new file ('fork', at fork_path
          or ``<name>.fork<N><suffix>``). None means: take the stored config as it is.
        readonly: for readers (reports, CLI) while another process writes the run.
        """
        path = Path(path)
        if on_config_change not in ("error", "continue", "fork"):
            raise ValueError(f"on_config_change must be 'error', 'continue' or 'fork', got {on_config_change!r}")
        require_folder(path)
        existed = path.exists()
        exists = existed and path.stat().st_size > 0
        if (readonly or not create) and not existed:
            raise FileNotFoundError(f"no run store at {path}; open it without readonly=True/create=False to create it")
        if readonly or exists:  # read-only first: a file that is not a run store is left exactly as it was
            reader = cls(path, connect(path, readonly=True), None)
            try:
                if readonly or reader._guard(reader._tables):  # an empty file is left by a run killed at birth
                    reader._guard(reader._check_format)
            except BaseException:
                reader.close()
                raise
            if readonly:
                return reader
            reader.close()
        initial = to_jsonable({} if config is None else config, "config")  # before anything is created
        lock = WriterLock(path)
        try:
            store = cls(path, connect(path), lock)
        except BaseException:
            lock.release(remove=True)
            raise
        try:
            if exists and store._guard(store._tables):
                store._guard(store._check_format)
                store._check_integrity()
            else:
                store._initialize(initial, seed, code_version)
                return store
            if config is not None or seed is not None:
                store = store._reconcile(config, seed, on_config_change, fork_path)
            store.requeue_in_flight()
            return store
        except BaseException:
            store.close(remove=not existed)
            raise

    def _initialize(self, config: Any, seed: int | None, code_version: Mapping[str, Any] | None) -> None:
        with self._tx() as c:
            for statement in DDL.split(";"):
                if statement.strip():
                    c.execute(statement)
            c.executemany("INSERT INTO meta VALUES (?, ?)",
                          [("format", FORMAT), ("schema_version", str(SCHEMA_VERSION))])
            c.execute(
                "INSERT INTO run VALUES (1, ?, ?, ?, ?, ?, NULL)",
                (new_id(), dumps(config, "config"), dumps(dict(code_version or _code_version())), seed, time.time()),
            )

    def _tables(self) -> set[str]:
        return tables(self._conn)

    def _check_format(self) -> None:
        check_format(self._conn, self.path, self.readonly)

    def _check_integrity(self) -> None:
        with translate_errors(self.path):
            problem = self._conn.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise StoreCorruptError(f"run store {self.path} is damaged ({problem}); restore it from a copy")

    def _reconcile(self, config: Any, seed: int | None, mode: OnConfigChange, fork_path: str | Path | None) -> RunStore:
        info = self.info()
        new_config = info.config if config is None else to_jsonable(config, "config")
        diff = config_diff(info.config, new_config)
        if seed is not None and seed != info.seed:
            diff.append(("seed", info.seed, seed))
        if not diff:
            return self
        if mode == "error":
            raise ConfigMismatchError(str(self.path), diff)
        changes = [{"key": k, "stored": _plain(a), "new": _plain(b)} for k, a, b in diff]
        target = self if mode == "continue" else self._fork(fork_path)
        with target._tx() as c:
            c.execute("UPDATE run SET config = ?, seed = ? WHERE id = 1",
                      (dumps(new_config, "config"), info.seed if seed is None else seed))
        target.add_event("config_changed" if mode == "continue" else "forked",
                         {"changes": changes, "from": str(self.path)})
        return target

    def _fork(self, fork_path: str | Path | None) -> RunStore:
        if fork_path is None:
            n = 1
            while (fork := self.path.with_name(f"{self.path.stem}.fork{n}{self.path.suffix}")).exists():
                n += 1
        else:
            fork = Path(fork_path)
            if fork.exists():
                raise FileExistsError(f"fork_path {fork} exists; pick a new file name")
        lock = WriterLock(fork)
        try:
            dst = sqlite3.connect(str(fork))
            with self._lock:
                self._conn.backup(dst)
            dst.close()
            store = RunStore(fork, connect(fork), lock)
        except BaseException:
            lock.release()
            raise
        with store._tx() as c:
            c.execute("UPDATE run SET forked_from = ?, run_id = ?", (str(self.path.resolve()), new_id()))
        self.close()
        return store

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def _conn(self) -> sqlite3.Connection:
        db = self._db
        if db is None:
            raise StoreError(f"run store {self.path} is closed; open it again with RunStore.open({str(self.path)!r})")
        return db

    def _tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        if self.readonly:
            raise StoreError(f"run store {self.path} was opened read-only; open it without readonly=True to write")
        return transaction(self._lock, self._conn, self.path)

    def _guard(self, fn: Any, *args: Any) -> Any:
        with self._lock, translate_errors(self.path):
            return fn(*args)

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock, translate_errors(self.path):
            cur = self._conn.execute(sql, tuple(params))
            cur.row_factory = sqlite3.Row
            return cur.fetchall()

    def close(self, *, remove: bool = False) -> None:
        """Close the connection and release the writer lock (idempotent).

        remove (for an open that failed): delete the run file and a lock file this store created.
        """
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
            if remove:
                remove_run_files(self.path)
            if self._writer_lock is not None:
                self._writer_lock.release(remove=remove)
                self._writer_lock = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------
    def add_candidates(self, candidates: Iterable[Candidate], skip_existing: bool = False) -> int:
        """Insert candidates (pending) in one transaction; returns how many were new."""
        rows = [candidate_row(c) for c in candidates]
        verb = "INSERT OR IGNORE" if skip_existing else "INSERT"
        try:
            with self._tx() as c:
                before = c.total_changes
                c.executemany(f"{verb} INTO candidates (id, param_values, parent_ids, operator, llm_call_id, "
                              "generation, island, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                return c.total_changes - before
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"a candidate id is already in the store ({exc}); pass skip_existing=True "
                             "to ignore known candidates") from None

    def add_candidate(self, candidate: Candidate) -> None:
        self.add_candidates([candidate])

    def mark_in_flight(self, candidate_ids: Iterable[str]) -> None:
        """Mark candidates as being evaluated; a run that dies leaves them to be re-queued."""
        with self._tx() as c:
            c.executemany("UPDATE candidates SET status = 'in_flight', attempts = attempts + 1 "
                          "WHERE id = ? AND status != 'done'", [(i,) for i in candidate_ids])

    def requeue_in_flight(self) -> int:
        """Put in-flight candidates back to pending (done on every reopen); returns how many."""
        with self._tx() as c:
            n = c.execute("UPDATE candidates SET status = 'pending' WHERE status = 'in_flight'").rowcount
        if n:
            self.add_event("resume", {"requeued": n})
        return n

    def record_evaluation(self, result: EvalResult, input_key: str | None = None) -> int:
        """Commit one evaluation and mark its candidate done; returns the evaluation's row id."""
        f = result.failure
        row = (result.candidate_id, int(result.ok), result.score, dumps(dict(result.scores), "scores"),
               result.feedback, f.reason if f else None, f.message if f else None, result.duration_s,
               result.stdout_tail[-_TAIL_CHARS:], result.stderr_tail[-_TAIL_CHARS:],
               dumps(dict(result.artifacts), "artifacts"), input_key, time.time())
        try:
            with self._tx() as c:
                cur = c.execute("INSERT INTO evaluations (candidate_id, ok, score, scores, feedback, failure_reason, "
                                "failure_message, duration_s, stdout_tail, stderr_tail, artifacts, input_key, "
                                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                c.execute("UPDATE candidates SET status = 'done' WHERE id = ?", (result.candidate_id,))
                return int(cur.lastrowid or 0)
        except sqlite3.IntegrityError:
            raise ValueError(f"candidate {result.candidate_id!r} is not in the store; add_candidates() it "
                             "before recording its evaluation") from None

    def record_llm_call(self, request: Any, reply: str, usage: Mapping[str, Any] | None = None, *,
                        model: str | None = None, latency_s: float | None = None, cached: bool = False,
                        call_id: str | None = None) -> str:
        """Commit one LLM call; credential-looking fields and values are redacted first."""
        clean = redact(to_jsonable(request, "request"))
        use = to_jsonable(dict(usage or {}), "usage")
        call_id = call_id or new_id()
        with self._tx() as c:
            c.execute("INSERT INTO llm_calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (call_id, digest(clean), model, dumps(clean, "request"), redact(str(reply)), dumps(use),
                       use.get("prompt_tokens"), use.get("completion_tokens"), latency_s, int(cached), time.time()))
        return call_id

    def add_event(self, kind: str, data: Mapping[str, Any] | None = None) -> int:
        with self._tx() as c:
            cur = c.execute("INSERT INTO events (kind, data, created_at) VALUES (?, ?, ?)",
                            (kind, dumps(to_jsonable(dict(data or {}), "event data")), time.time()))
            return int(cur.lastrowid or 0)

    # -- reading -----------------------------------------------------------------------------
    def info(self) -> RunInfo:
        r = self._rows("SELECT * FROM run WHERE id = 1")[0]
        return RunInfo(str(self.path), r["run_id"], json.loads(r["config"]), json.loads(r["code_version"]),
                       r["seed"], r["created_at"], r["forked_from"], SCHEMA_VERSION)

    def candidate(self, candidate_id: str) -> Candidate:
        rows = self._rows("SELECT * FROM candidates WHERE id = ?", (candidate_id,))
        if not rows:
            raise KeyError(f"no candidate {candidate_id!r} in {self.path}")
        return candidate_from_row(rows[0])

    def candidates(self, status: str | None = None) -> list[Candidate]:
        """All candidates in insertion order, optionally only those with a status."""
        if status is None:
            return [candidate_from_row(r) for r in self._rows("SELECT * FROM candidates ORDER BY seq")]
        return [candidate_from_row(r) for r in self._rows("SELECT * FROM candidates WHERE status = ? ORDER BY seq", (status,))]

    def pending(self) -> list[Candidate]:
        """Candidates with no evaluation yet (pending, or in flight in this process)."""
        return [candidate_from_row(r) for r in self._rows("SELECT * FROM candidates WHERE status != 'done' ORDER BY seq")]

    def evaluations(self, candidate_id: str | None = None) -> list[EvalResult]:
        if candidate_id is None:
            return [evaluation_from_row(r) for r in self._rows("SELECT * FROM evaluations ORDER BY id")]
        return [evaluation_from_row(r) for r in self._rows("SELECT * FROM evaluations WHERE candidate_id = ? ORDER BY id",
                                                   (candidate_id,))]

    def latest_evaluations(self, candidate_ids: Iterable[str]) -> dict[str, EvalResult]:
        """The most recent evaluation of each of these candidates that has one."""
        ids, out = list(candidate_ids), {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._rows(f"SELECT * FROM evaluations WHERE candidate_id IN ({marks}) ORDER BY id", chunk):
                out[r["candidate_id"]] = evaluation_from_row(r)
        return out

    def best(self, n: int = 1, metric: str | None = None) -> list[tuple[Candidate, EvalResult]]:
        """The n best candidates by their best successful evaluation (primary score or ``metric``)."""
        key = "e.score" if metric is None else "json_extract(e.scores, ?)"
        params: list[Any] = [] if metric is None else [f'$."{metric}"']
        rows = self._rows(f"SELECT e.*, {key} AS k FROM evaluations e WHERE e.ok AND {key} IS NOT NULL "
                          f"ORDER BY k DESC, e.id", params * 2)
        out: list[tuple[Candidate, EvalResult]] = []
        seen: set[str] = set()
        for r in rows:
            if r["candidate_id"] not in seen:
                seen.add(r["candidate_id"])
                out.append((self.candidate(r["candidate_id"]), evaluation_from_row(r)))
                if len(out) == n:
                    break
        return out

    def counts(self) -> dict[str, Any]:
        """Sizes at a glance: candidates by status, evaluations (failed by reason), LLM calls, events."""
        status: dict[str, int] = {r[0]: r[1] for r in self._rows("SELECT status, count(*) FROM candidates GROUP BY 1")}
        reasons: dict[str, int] = {r[0]: r[1] for r in self._rows(
            "SELECT failure_reason, count(*) FROM evaluations WHERE NOT ok GROUP BY 1")}
        (evals,), (calls,), (events,) = (self._rows(f"SELECT count(*) FROM {t}") for t in
                                          ("evaluations", "llm_calls", "events"))
        return {"candidates": sum(status.values()), "pending": status.get("pending", 0),
                "in_flight": status.get("in_flight", 0), "done": status.get("done", 0), "evaluations": evals[0],
                "failed": sum(reasons.values()), "failures": reasons, "llm_calls": calls[0], "events": events[0]}

    def llm_calls(self) -> list[LLMCallRecord]:
        return [LLMCallRecord(r["id"], r["request_digest"], r["model"], json.loads(r["request"]), r["reply"],
                              json.loads(r["usage"]), r["prompt_tokens"], r["completion_tokens"], r["latency_s"],
                              bool(r["cached"]), r["created_at"])
                for r in self._rows("SELECT * FROM llm_calls ORDER BY created_at, rowid")]

    def events(self, kind: str | None = None) -> list[Event]:
        rows = self._rows("SELECT * FROM events" + (" WHERE kind = ?" if kind else "") + " ORDER BY id",
                          (kind,) if kind else ())
        return [Event(r["id"], r["kind"], json.loads(r["data"]), r["created_at"]) for r in rows]

    def check(self) -> list[str]:
        """Consistency problems (empty when the store is sound): integrity and status invariants."""
        problems = [r[0] for r in self._rows("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"candidate {r[0]} is done but has no evaluation" for r in self._rows(
            "SELECT id FROM candidates c WHERE status = 'done' AND NOT EXISTS "
            "(SELECT 1 FROM evaluations e WHERE e.candidate_id = c.id)")]
        problems += [f"candidate {r[0]} has an evaluation but is {r[1]}" for r in self._rows(
            "SELECT id, status FROM candidates c WHERE status != 'done' AND EXISTS "
            "(SELECT 1 FROM evaluations e WHERE e.candidate_id = c.id)")]
        return problems

    def copy_to(self, dest: str | Path) -> Path:
        """A consistent snapshot of the run in another file (safe while the run is written)."""
        dest = Path(dest)
        dst = sqlite3.connect(str(dest))
        with self._lock:
            self._conn.backup(dst)
        dst.close()
        return dest


def _plain(value: Any) -> Any:
    return None if value is _ABSENT else value
