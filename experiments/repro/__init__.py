"""Reproductions of the source papers' experiments.

Each module reproduces one paper's figure or table with one command and writes a
``replication.md`` (the paper's number, ours, the difference and why) next to its
plots. The modules are listed in ``docs/experiments.md``.
"""
