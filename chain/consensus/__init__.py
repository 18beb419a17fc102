"""Consensus plug-ins: who proposes which block, when, and what agreeing on it costs.

Each configuration class is a Hydra target (``conf/chain/<name>.yaml``) and
builds an engine for one :class:`chain.node.Chain`:

=========  =================================  ==========================================
name       class                              source
=========  =================================  ==========================================
poa        :class:`ProofOfAuthority`          seed 001 ch. 4, Clique (EIP-225)
pow        :class:`ProofOfWork`               seed 000 SSG §3.2, Algorithm 2
pbft       :class:`Pbft`                      Castro and Liskov (OSDI 1999)
hybrid     :class:`Hybrid`                    seed 002 §4.1
central    :class:`Central`                   the trusted-operator baseline
=========  =================================  ==========================================
"""

from chain.consensus.central import Central
from chain.consensus.hybrid import Hybrid
from chain.consensus.pbft import Pbft
from chain.consensus.poa import ProofOfAuthority
from chain.consensus.pow import ProofOfWork

CONSENSUS_CLASSES = {
    cls.name: cls for cls in (ProofOfAuthority, ProofOfWork, Pbft, Hybrid, Central)
}

__all__ = ["CONSENSUS_CLASSES", "Central", "Hybrid", "Pbft", "ProofOfAuthority", "ProofOfWork"]
