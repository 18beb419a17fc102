"""Commands that reproduce the papers' chain figures and tabulate the attack sweep.

Each module is runnable (``python -m experiments.repro.<name> [--quick]``), prints a
table and saves a plot; the tables are in ``docs/consensus.md`` and ``docs/security.md``.
"""
