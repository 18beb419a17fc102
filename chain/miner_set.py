"""Miner-set changes on a proof-of-work chain (seed 000 §3.1, Algorithm 1).

Seed 000 repeats its miner selection every period ("thresholds change and
selection is repeated"), so the set of miners that seal and agree on blocks
changes while the chain runs. The change is recorded on the chain itself: a
``miner_set`` transaction, signed by the chain's *miner-set authority* (the
public key named by the genesis param ``miner_set_authority``; in a run, the grid
operator, which runs Algorithm 1), from and to itself with amount 0, whose payload
lists the new miners' public keys and hash rates::

    {"period": 3, "miners": ["<hex>", ...], "hash_rates_hps": [120000, ...]}

The new set takes effect at the block after the one that carries the record: that
block's proposer must be one of the new miners and its certificate must hold the
agreement of all of them. The genesis set (``genesis.validators`` with the
``hash_rates_hps`` param) is in force from height 1 until the first change.

A record is valid when the chain is proof of work with a ``miner_set_authority``,
the sender is that authority, the amount is 0 and the receiver the sender, the
miners are distinct 64-hex keys, each with one integer hash rate >= 1, at least
one, and, on a chain with a certificate authority, every miner holds a
certificate. Everything the record commits to is signed with it, so a tampered
set fails the transaction's hash and signature checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chain.errors import InvalidTransaction, short_hex
from chain.keys import PUBLIC_KEY_HEX_CHARS, Identity
from chain.transaction import SignedTransaction, Transaction, sign_transaction

#: Transaction kind of a miner-set record.
MINER_SET_KIND = "miner_set"
#: Genesis param naming the key allowed to change the miner set.
AUTHORITY_PARAM = "miner_set_authority"


class InvalidMinerSet(InvalidTransaction):
    """A ``miner_set`` record breaks a rule (sender, miners, rates, registration)."""


@dataclass(frozen=True)
class MinerSet:
    """A set of miners with their hash rates, in force from ``from_height``.

    Attributes:
        from_height: First block height sealed under this set.
        miners: Public keys in order (a miner's index is its position).
        hash_rates_hps: Each miner's hash rate, hashes per simulated second.
        period: Selection period that chose the set (0 for the genesis set).
    """

    from_height: int
    miners: tuple[str, ...]
    hash_rates_hps: tuple[int, ...]
    period: int = 0


def _hex_key(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) == PUBLIC_KEY_HEX_CHARS
        and all(c in "0123456789abcdef" for c in value)
    )


def genesis_miner_set(genesis: Any) -> MinerSet:
    """The set in force from height 1: the genesis validators and their rates."""
    text = str(genesis.params.get("hash_rates_hps", ""))
    rates = tuple(int(part) for part in text.split(",")) if text else ()
    return MinerSet(1, tuple(genesis.validators), rates, 0)


def miner_set_transaction(
    authority: Identity,
    chain_id: str,
    nonce: int,
    timestamp_ms: int,
    miners: Sequence[str],
    hash_rates_hps: Sequence[int],
    period: int,
) -> SignedTransaction:
    """The authority's signed record of a new miner set (see the module docstring)."""
    tx = Transaction(
        chain_id=chain_id,
        sender=authority.public_hex,
        receiver=authority.public_hex,
        amount=0,
        nonce=nonce,
        kind=MINER_SET_KIND,
        payload={
            "period": int(period),
            "miners": [str(m) for m in miners],
            "hash_rates_hps": [int(r) for r in hash_rates_hps],
        },
        timestamp_ms=int(timestamp_ms),
    )
    return sign_transaction(authority, tx)


def parse_miner_set(
    stx: SignedTransaction, genesis: Any, registry: Any, from_height: int
) -> MinerSet:
    """Check a ``miner_set`` record against the chain's rules; return the new set.

    Args:
        stx: A transaction of kind :data:`MINER_SET_KIND` (hash and signature are
            checked by the generic rules).
        genesis: The chain's genesis (consensus and ``miner_set_authority``).
        registry: The certificate registry, or None for an open chain.
        from_height: Height from which the set would be in force.

    Raises:
        InvalidMinerSet: The first rule the record breaks.
    """
    tx = stx.tx
    authority = genesis.params.get(AUTHORITY_PARAM)
    if genesis.consensus != "pow" or not authority:
        raise InvalidMinerSet(
            f"miner_set record on a {genesis.consensus} chain without a {AUTHORITY_PARAM}"
        )
    if tx.sender != authority:
        raise InvalidMinerSet(
            f"miner_set sender {short_hex(tx.sender)} is not the miner-set authority "
            f"{short_hex(str(authority))}"
        )
    if tx.amount != 0 or tx.receiver != tx.sender:
        raise InvalidMinerSet("miner_set must move 0 coins from the authority to itself")
    payload: Mapping[str, Any] = tx.payload
    miners, rates, period = (
        payload.get("miners"),
        payload.get("hash_rates_hps"),
        payload.get("period"),
    )
    if set(payload) != {"period", "miners", "hash_rates_hps"}:
        raise InvalidMinerSet("miner_set payload must hold exactly period, miners, hash_rates_hps")
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise InvalidMinerSet(f"miner_set period must be an int >= 1 (got {period!r})")
    if not isinstance(miners, Sequence) or not miners or not all(_hex_key(m) for m in miners):
        raise InvalidMinerSet("miner_set miners must be a non-empty list of 64-hex public keys")
    if len(set(miners)) != len(miners):
        raise InvalidMinerSet("miner_set miners must be distinct")
    if (
        not isinstance(rates, Sequence)
        or len(rates) != len(miners)
        or any(isinstance(r, bool) or not isinstance(r, int) or r < 1 for r in rates)
    ):
        raise InvalidMinerSet("miner_set hash_rates_hps must give one int >= 1 per miner")
    if registry is not None:
        unregistered = [m for m in miners if m not in registry]
        if unregistered:
            raise InvalidMinerSet(f"miner {short_hex(unregistered[0])} holds no certificate")
    return MinerSet(from_height, tuple(miners), tuple(int(r) for r in rates), int(period))


class MinerSchedule:
    """The miner sets of a chain by height: the genesis set, then every change."""

    def __init__(self, genesis: Any) -> None:
        self.sets: list[MinerSet] = [genesis_miner_set(genesis)]

    def at(self, height: int) -> MinerSet:
        """The set that seals block ``height``."""
        for miner_set in reversed(self.sets):
            if miner_set.from_height <= height:
                return miner_set
        return self.sets[0]

    @property
    def latest(self) -> MinerSet:
        """The most recent set (in force from its ``from_height`` on)."""
        return self.sets[-1]

    def add(self, miner_set: MinerSet) -> None:
        """Record a change (in height order)."""
        self.sets.append(miner_set)
