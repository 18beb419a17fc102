"""Schemas of the ``chain/`` config group."""

from __future__ import annotations

from dataclasses import dataclass


# ---------------------------------------------------------------- chain/
@dataclass
class ProofOfAuthoritySchema:
    """Proof-of-authority sealing (seed 001 ch. 4, Clique-style round robin)."""

    _target_: str = "chain.consensus.poa.ProofOfAuthority"
    block_period_s: float = 2.0
    max_block_tx: int = 5000
    n_validators: int = 4
    seal_empty_blocks: bool = False


SCHEMAS = {
    "poa_schema": ProofOfAuthoritySchema,
}
