"""``python -m opto.cli`` runs the ``opto`` command (same as the console script)."""

import sys

from opto.cli import main

sys.exit(main())
