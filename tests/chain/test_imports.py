"""The chain library stays a library: no simulator, orchestration or config imports."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import chain

FORBIDDEN = ("agents", "experiments", "market", "mesa", "ray", "hydra")
ALLOWED_THIRD_PARTY = {"numpy", "pandas", "pyarrow", "cryptography"}
CHAIN_DIR = Path(chain.__file__).parent
REPO_ROOT = CHAIN_DIR.parent


def test_importing_chain_loads_no_forbidden_module() -> None:
    code = (
        "import sys, chain, chain.replay, chain.verify\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


def test_source_imports_only_stdlib_and_allowed_packages() -> None:
    for path in CHAIN_DIR.rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from") and not line.startswith(" "):
                top = words[1].split(".")[0]
                assert top not in FORBIDDEN, f"{path.name}: {line}"
                if top not in sys.stdlib_module_names and top not in ("chain", "__future__"):
                    assert top in ALLOWED_THIRD_PARTY, f"{path.name}: {line}"


def test_verifier_is_independent_of_the_ledger_implementation() -> None:
    verifier = (
        "verify.py",
        "verify_base.py",
        "verify_consensus.py",
        "verify_layout.py",
        "verify_protocols.py",
        "verify_miner_set.py",
        "verify_netting.py",
    )
    for name in verifier:
        for line in (CHAIN_DIR / name).read_text(encoding="utf-8").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from") and "chain" in words[1]:
                module = words[1]
                allowed = (
                    "chain.verify_base",
                    "chain.verify_consensus",
                    "chain.verify_layout",
                    "chain.verify_protocols",
                    "chain.verify_miner_set",
                    "chain.verify_netting",
                )
                assert module in allowed, (name, line)
