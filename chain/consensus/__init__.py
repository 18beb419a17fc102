"""Consensus configurations: who seals which block, and when."""

from chain.consensus.poa import ProofOfAuthority

__all__ = ["ProofOfAuthority"]
