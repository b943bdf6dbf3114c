"""The code behind ``opto demo``: a bundled bin-packing task, a traced training task, and the run.

It ships inside the package (with the OR3 instances as package data) so the demo works from an
installed ``opto`` with no checkout and no network.
"""
