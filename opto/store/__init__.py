"""The run store: one SQLite file (WAL) per run, so long searches survive being interrupted.

    from opto.store import RunStore

    with RunStore.open("runs/binpack.db", config={"islands": 4}, seed=0) as store:
        store.add_candidates(candidates)
        ...
        print(store.counts(), store.best(3))

See docs/runtime.md for the schema, resume and the errors.
"""

from opto.store.errors import (
    ConfigMismatchError,
    StoreCorruptError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
)
from opto.store.rows import Event, LLMCallRecord, RunInfo
from opto.store.run_store import RunStore
from opto.store.schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "ConfigMismatchError",
    "Event",
    "LLMCallRecord",
    "RunInfo",
    "RunStore",
    "StoreCorruptError",
    "StoreError",
    "StoreLockedError",
    "StoreVersionError",
]
