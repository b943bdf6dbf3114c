"""A training run for the kill-and-resume test: ``python resume_script.py STORE ALGORITHM [HANG_AT_CALL]``.

With HANG_AT_CALL the LM writes ``STORE.hang`` and sleeps at that call (mid-epoch), so the test can
SIGKILL the process at a known point. The result is printed as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from trainer_fakes import FakeOptimizer, Shift, nudge, shift_data, shift_guide  # noqa: E402

from opto.llm import ScriptedLM  # noqa: E402
from opto.trainer import train  # noqa: E402


def main() -> int:
    store, algorithm = sys.argv[1], sys.argv[2]
    hang_at = int(sys.argv[3]) if len(sys.argv) > 3 else None
    calls = [0]

    def reply(request):
        calls[0] += 1
        if calls[0] == hang_at:
            Path(store + ".hang").write_text(str(calls[0]))
            time.sleep(120)
        return nudge(request)

    model = Shift(-2.0)
    opt = FakeOptimizer(model.parameters(), ScriptedLM(reply))
    result = train(model, shift_data(8), shift_guide, optimizer=opt, algorithm=algorithm, epochs=2, batch_size=2,
                   val_set=shift_data(3, start=10), test_set=shift_data(3, start=20), store=store, seed=5,
                   progress=False)
    out = result.to_dict()
    out["final_x"] = model.x.data
    out["memory"] = opt.memory
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
