"""Opening runs: resume, config changes, and clear errors for locked, corrupt or foreign files."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pydantic
import pytest
from store_helpers import make_candidates, ok_result

from opto.store import (
    ConfigMismatchError,
    RunStore,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
)

CONFIG = {"model": "m", "search": {"islands": 4, "rate": 0.1}}


def test_reopen_with_the_same_config_resumes(tmp_path):
    path = tmp_path / "run.db"
    with RunStore.open(path, config=CONFIG, seed=7) as s:
        s.add_candidates(make_candidates(2))
        run_id = s.info().run_id
    with RunStore.open(path, config=CONFIG, seed=7) as s:
        assert s.info().run_id == run_id and s.counts()["candidates"] == 2
    with RunStore.open(path) as s:  # no config: take the stored one
        assert s.info().config == CONFIG


def test_config_mismatch_names_each_difference_and_the_ways_out(tmp_path):
    path = tmp_path / "run.db"
    RunStore.open(path, config=CONFIG, seed=7).close()
    new = {"model": "m", "search": {"islands": 8}, "budget": 10}
    with pytest.raises(ConfigMismatchError) as info:
        RunStore.open(path, config=new, seed=8)
    message = str(info.value)
    for line in ("search.islands: stored 4, now 8", "search.rate: stored 0.1, now (absent)",
                 "budget: stored (absent), now 10", "seed: stored 7, now 8"):
        assert line in message
    assert "on_config_change='continue'" in message and "on_config_change='fork'" in message
    assert [d[0] for d in info.value.differences] == ["budget", "search.islands", "search.rate", "seed"]
    with RunStore.open(path) as s:  # the failed open left the run untouched and unlocked
        assert s.info().config == CONFIG


def test_continue_adopts_the_new_config_and_records_it(tmp_path):
    path = tmp_path / "run.db"
    RunStore.open(path, config=CONFIG).close()
    new = {"model": "m2", "search": {"islands": 4, "rate": 0.1}}
    with RunStore.open(path, config=new, on_config_change="continue") as s:
        assert s.info().config == new
        (event,) = s.events("config_changed")
        assert event.data["changes"] == [{"key": "model", "stored": "m", "new": "m2"}]


def test_fork_copies_the_run_into_a_new_file(tmp_path):
    path = tmp_path / "run.db"
    with RunStore.open(path, config=CONFIG) as s:
        s.add_candidates(make_candidates(3))
        s.record_evaluation(ok_result("c0", 1.0))
        old_id = s.info().run_id
    new = dict(CONFIG, model="m2")
    with RunStore.open(path, config=new, on_config_change="fork") as fork:
        assert fork.path == tmp_path / "run.fork1.db"
        info = fork.info()
        assert info.config == new and info.forked_from == str(path.resolve()) and info.run_id != old_id
        assert fork.counts()["evaluations"] == 1 and fork.counts()["candidates"] == 3
        assert fork.events("forked")
    with RunStore.open(path, config=new, on_config_change="fork", fork_path=tmp_path / "b.db") as fork2:
        assert fork2.path.name == "b.db"
    with RunStore.open(path) as original:
        assert original.info().config == CONFIG
    with pytest.raises(FileExistsError, match="fork_path"):
        RunStore.open(path, config=new, on_config_change="fork", fork_path=tmp_path / "b.db")


def test_dataclass_and_pydantic_configs(tmp_path):
    @dataclasses.dataclass(frozen=True)
    class Cfg:
        islands: int = 4
        rate: float = 0.1

    class Model(pydantic.BaseModel):
        islands: int = 4
        rate: float = 0.1

    RunStore.open(tmp_path / "a.db", config=Cfg()).close()
    RunStore.open(tmp_path / "a.db", config=Model()).close()  # same content: no mismatch
    with pytest.raises(ConfigMismatchError, match="rate: stored 0.1, now 0.2"):
        RunStore.open(tmp_path / "a.db", config=Cfg(rate=0.2))


def test_a_second_writer_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "run.db"
    with RunStore.open(path):
        with pytest.raises(StoreLockedError, match=rf"pid {os.getpid()}.*readonly=True"):
            RunStore.open(path)
        with RunStore.open(path, readonly=True) as reader:
            assert reader.counts()["candidates"] == 0
    RunStore.open(path).close()  # released on close


def test_a_writer_killed_with_sigkill_leaves_no_stale_lock(tmp_path):
    path = tmp_path / "run.db"
    code = ("import sys, time; from opto.store import RunStore; s = RunStore.open(sys.argv[1]); "
            "print('open', flush=True); time.sleep(60)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "open"
    with pytest.raises(StoreLockedError, match=f"pid {proc.pid}"):
        RunStore.open(path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.05)
    RunStore.open(path).close()


def test_garbage_file_is_reported_as_corrupt(tmp_path):
    path = tmp_path / "run.db"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(StoreCorruptError, match="not an SQLite database"):
        RunStore.open(path)
    with pytest.raises(StoreCorruptError):
        RunStore.open(path, readonly=True)


def test_damaged_pages_are_reported_as_corrupt(tmp_path):
    path = tmp_path / "run.db"
    with RunStore.open(path) as s:
        s.add_candidates(make_candidates(300))  # closing checkpoints the WAL into the file
    data = bytearray(path.read_bytes())
    data[4096 * 3 : 4096 * 5] = b"\xff" * 8192  # smash two pages in the middle
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError, match="damaged"):
        RunStore.open(path)


def test_foreign_sqlite_file_and_newer_schema_are_version_errors(tmp_path):
    foreign = tmp_path / "other.db"
    with sqlite3.connect(foreign) as c:
        c.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreVersionError, match="not an opto run store"):
        RunStore.open(foreign)
    path = tmp_path / "run.db"
    RunStore.open(path).close()
    with sqlite3.connect(path) as c:
        c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreVersionError, match="schema version 99, newer.*upgrade opto"):
        RunStore.open(path)
    with pytest.raises(StoreVersionError, match="upgrade opto"):
        RunStore.open(path, readonly=True)


def test_missing_files_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run store"):
        RunStore.open(tmp_path / "none.db", readonly=True)
    with pytest.raises(FileNotFoundError):
        RunStore.open(tmp_path / "none.db", create=False)
    with pytest.raises(ValueError, match="on_config_change"):
        RunStore.open(tmp_path / "x.db", on_config_change="merge")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config must be JSON"):
        RunStore.open(tmp_path / "y.db", config={"f": object()})


def test_empty_file_from_a_run_killed_at_birth(tmp_path):
    path = tmp_path / "run.db"
    path.touch()
    with pytest.raises(StoreError, match="no run in it yet"):
        RunStore.open(path, readonly=True)
    with RunStore.open(path, config={"a": 1}) as s:
        assert s.info().config == {"a": 1}


def test_closed_store_says_so_for_reads_and_writes(tmp_path):
    from opto.store import RunStore, StoreError

    store = RunStore.open(tmp_path / "run.db", config={"a": 1})
    store.close()
    store.close()  # idempotent
    for use in (store.counts, store.candidates, store.best, lambda: store.add_event("x"),
                lambda: store.add_candidates(make_candidates(1)), lambda: store.record_llm_call({}, "r")):
        with pytest.raises(StoreError, match=r"is closed; open it again with RunStore.open\("):
            use()


def test_a_missing_folder_is_named_with_the_fix_and_nothing_is_created(tmp_path):
    path = tmp_path / "runs" / "today" / "run.db"
    for kwargs in ({}, {"readonly": True}, {"create": False}):
        with pytest.raises(FileNotFoundError, match=rf"the folder {path.parent} does not exist; create it first"
                                                    r" \(mkdir -p") as err:
            RunStore.open(path, **kwargs)
        assert "-lock" not in str(err.value)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        RunStore.open(tmp_path / "afile" / "run.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.mark.parametrize("kind", ["text", "foreign_sqlite"])
def test_a_file_that_is_not_a_run_store_is_left_exactly_as_it_was(tmp_path, kind):
    path = tmp_path / "notes.db"
    if kind == "text":
        path.write_text("not a database, just notes\n" * 50)
    else:
        with sqlite3.connect(path) as c:
            c.execute("CREATE TABLE t (x)")
    before = path.read_bytes()
    with pytest.raises((StoreCorruptError, StoreVersionError)):
        RunStore.open(path, config={"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"], "no -lock, -wal or -shm file left behind"
    assert path.read_bytes() == before  # not even switched to WAL mode


def test_a_creation_that_fails_leaves_no_files(tmp_path):
    with pytest.raises(TypeError, match="config must be JSON"):
        RunStore.open(tmp_path / "run.db", config={"f": object()})
    assert list(tmp_path.iterdir()) == []


def test_a_failed_reopen_keeps_the_run_and_its_lock_file(tmp_path):
    path = tmp_path / "run.db"
    RunStore.open(path, config={"a": 1}).close()
    with pytest.raises(ConfigMismatchError):
        RunStore.open(path, config={"a": 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.db", "run.db-lock"]
    with RunStore.open(path) as store:
        assert store.info().config == {"a": 1}
