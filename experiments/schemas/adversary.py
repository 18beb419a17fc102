"""Schemas of the ``adversary/`` config group (``agents.adversary.AdversaryConfig``).

``docs/security.md`` describes each attack kind and what stops it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AdversarySchema:
    """Adversarial agents, faulty validators and a PoW private-fork attacker."""

    _target_: str = "agents.adversary.AdversaryConfig"
    share: float = 0.0
    kinds: list[str] = field(default_factory=list)
    sybil_identities: int = 3
    registration_quota: int = 1
    faulty_validators: int = 0
    validator_behaviour: str = "silent"
    fork_hash_share: float = 0.0
    fork_trials: int = 2000
    market_hook: Any = None
    lie_factor: float = 2.0
    breach_delivery_fraction: float = 0.0


SCHEMAS = {"adversary_schema": AdversarySchema}
