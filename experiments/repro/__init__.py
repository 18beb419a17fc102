"""Reproductions of the source papers' experiments.

Each module reproduces one paper's figure or table with one command and writes a
``replication.md`` (the paper's number, ours, the difference and why) next to its
plots. The modules are listed in ``docs/experiments.md``. The chain figures
(``poa_sealers``, ``pow_trades``) and the attack-sweep table (``attack_sweep``) are
runnable as ``python -m experiments.repro.<name> [--quick]``: each prints its tables
and saves a plot; the tables are in ``docs/consensus.md`` and ``docs/security.md``.
"""
