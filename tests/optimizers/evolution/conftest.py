"""Make the objective modules here importable by name (sandbox workers import objectives by reference)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
