"""Genesis: the initial state and rules of one chain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chain.encoding import (
    FrozenDict,
    canonical_bytes_unchecked,
    require_hex,
    require_int,
    require_str,
    sha256_hex,
)
from chain.keys import PUBLIC_KEY_HEX_CHARS

GENESIS_FIELDS = ("chain_id", "consensus", "balances", "validators", "params")


@dataclass(frozen=True)
class Genesis:
    """Initial balances, validator set and consensus parameters of a chain.

    Attributes:
        chain_id: Chain identifier carried by every transaction and block.
        consensus: Consensus name, e.g. ``"poa"``.
        balances: Public key hex -> initial micro-coins (1 coin = 1,000,000).
        validators: Validator public keys in proposer order.
        params: Consensus parameters, integers or strings only.
    """

    chain_id: str
    consensus: str
    balances: Mapping[str, int]
    validators: tuple[str, ...]
    params: Mapping[str, int | str]

    def __post_init__(self) -> None:
        require_str("chain_id", self.chain_id)
        require_str("consensus", self.consensus)
        if not isinstance(self.balances, Mapping):
            raise TypeError("balances must be a mapping of public key hex to micro-coins")
        for account, amount in self.balances.items():
            require_hex("balances key", account, PUBLIC_KEY_HEX_CHARS)
            require_int(f"balance of {account[:12]}…", amount)
        validators = tuple(self.validators)
        for validator in validators:
            require_hex("validator", validator, PUBLIC_KEY_HEX_CHARS)
        if len(set(validators)) != len(validators):
            raise ValueError("validators must be distinct")
        if not isinstance(self.params, Mapping):
            raise TypeError("params must be a mapping")
        for key, value in self.params.items():
            require_str("params key", key)
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise TypeError(
                    f"params[{key!r}] must be an int or str (got {type(value).__name__})"
                )
        object.__setattr__(self, "balances", FrozenDict(self.balances))
        object.__setattr__(self, "validators", validators)
        object.__setattr__(self, "params", FrozenDict(self.params))
        canonical = canonical_bytes_unchecked(self.to_dict())
        object.__setattr__(self, "_canonical", canonical)
        object.__setattr__(self, "_hash", sha256_hex(canonical))

    def to_dict(self) -> dict[str, Any]:
        """The genesis object as written to ``genesis.json``."""
        return {
            "chain_id": self.chain_id,
            "consensus": self.consensus,
            "balances": dict(self.balances),
            "validators": list(self.validators),
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Genesis:
        """Rebuild a genesis from its ``to_dict`` form.

        Raises:
            ValueError: If fields are missing or extra (extra fields would
                change the genesis hash without being modelled here).
        """
        if set(data) != set(GENESIS_FIELDS):
            raise ValueError(f"genesis must have exactly the fields {GENESIS_FIELDS}")
        return cls(**{name: data[name] for name in GENESIS_FIELDS})

    def canonical(self) -> bytes:
        """Canonical bytes of :meth:`to_dict`."""
        return self._canonical  # type: ignore[attr-defined,no-any-return]

    @property
    def hash(self) -> str:
        """Genesis hash: SHA-256 hex of the canonical bytes (``prev_hash`` of block 1)."""
        return self._hash  # type: ignore[attr-defined,no-any-return]

    @property
    def total_supply(self) -> int:
        """Sum of the initial balances in micro-coins."""
        return sum(self.balances.values())

    def __hash__(self) -> int:
        return hash(self._hash)  # type: ignore[attr-defined]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Genesis.from_dict, (self.to_dict(),))
