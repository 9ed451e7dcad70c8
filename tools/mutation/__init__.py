"""Mutation testing of chosen modules, one mutant at a time, in one test process per module.

A mutant is swapped in by patching the code objects of the module's existing functions (and the values
of its changed module-level names, wherever they were imported), so the app and its stores stay up
between mutants: a mutant costs only the tests it runs, not a server start. `python -m tools.mutation`
runs it and prints a table; `make mutation MODULES=ingest/vellum.py` is the usual way in.
"""
