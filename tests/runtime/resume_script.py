"""A run process for the kill -9 tests: `python resume_script.py start|resume STORE LOG N [RAY_ADDRESS]`.

While starting, it appends its sandbox workers' pids to LOG.pids after each result.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from opto.evaluate import evaluate_pending, run_batch  # noqa: E402
from opto.runtime import Candidate, make_executor  # noqa: E402
from opto.store import RunStore  # noqa: E402


def main() -> None:
    mode, store_path, log, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    config = {"objective": "logged_sleep", "n": n}
    kind, options = "local", {}
    if len(sys.argv) > 5:  # join the test's Ray instance; its CPUs are taken by the test's own pool
        kind, options = "ray", {"address": sys.argv[5], "actor_options": {"num_cpus": 0}}
    with RunStore.open(store_path, config=config, seed=0) as store, \
            make_executor(kind, "sandbox_objectives:logged_sleep", workers=2, timeout_s=30, **options) as ex:
        if mode == "start":
            cands = [Candidate({"seconds": 0.3, "log": log, "name": f"c{i:02d}", "i": i}, id=f"c{i:02d}")
                     for i in range(n)]

            def note_workers(_: object) -> None:  # the test checks that these die with this run
                with open(log + ".pids", "a") as f:
                    f.write(" ".join(map(str, ex.worker_pids())) + "\n")  # type: ignore[attr-defined]

            run_batch(store, ex, cands, on_result=note_workers)
        else:
            evaluate_pending(store, ex)
    print("finished", mode, flush=True)


if __name__ == "__main__":
    main()
