"""Static HTML reports of run stores (evolution or training runs, finished or still being written).

    from opto.report import build_report
    build_report("run.db")                   # -> run.html (+ run_files/ with each chart as PNG and SVG)

or from the shell: ``opto report run.db [-o report.html]``. The page embeds every picture, so it
can be mailed or archived as one file; nothing needs to be served.
"""

from opto.report.build import build_report, default_out_path
from opto.report.data import RunData, load_run

__all__ = ["RunData", "build_report", "default_out_path", "load_run"]
