"""The loop's tests run real sandbox workers on the runtime tests' objectives (made importable by name)."""

import os
import sys

RUNTIME_TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "runtime")
if RUNTIME_TESTS not in sys.path:
    sys.path.insert(0, RUNTIME_TESTS)
