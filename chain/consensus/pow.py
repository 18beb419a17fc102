"""Proof of work with unanimous miner agreement (seed 000 SSG, §3.2 and Algorithm 2).

Miners are the validators (their selection, Algorithm 1 of seed 000, lives
with the agents; the chain takes the miner set and each miner's hash rate).
For each block:

1. **Race.** Every miner searches for a nonce. In simulated time miner ``i``
   solves after an exponential time with rate ``hash_rate_i / 2^D_sim``
   (``D_sim = simulated_difficulty_bits``), drawn from a generator seeded by
   the genesis hash, the height and the attempt; the first to solve wins.
   For real, the winner then searches nonces until the block hash (``hash``:
   SHA-256, or SHA-1 for the paper's 160-bit digest) has ``difficulty_bits``
   leading zero bits. ``difficulty_bits`` is kept low so runs stay fast; the
   summary reports both difficulties and both hash counts.
2. **Agreement.** The winner broadcasts the block; every miner recomputes the
   hash and checks the block, and returns a signed AGREE vote; the winner
   notifies everyone once all agreed. Seed 000 requires *every* miner to agree
   ("if all of them reach an agreement ... otherwise the block will be
   abandoned"): one refusal drops the block (counted) and its transactions go
   back to the pool. The unanimous votes are the block's certificate.
3. **Finality.** A block counts as final after ``confirmations`` blocks (its
   own included). Miners keep mining, with empty blocks if need be, while a
   transaction-carrying block is not final; otherwise they idle until new
   transactions arrive (keeps day-long runs small).

Miner-set changes (seed 000 Algorithm 1 repeats the selection every period): a
committed ``miner_set`` record (:mod:`chain.miner_set`) replaces the miners and
their hash rates from the next block on; the chain switches its validators and
links and calls :meth:`PowEngine.validators_changed`, and the next race is run by
the new set. Faulty behaviours stay with the genesis miners' keys.

A miner that also solves before the winner's block reaches it has found a
competing block: that fork is counted (``fork_races``) and resolved at once in
favour of the block all miners agreed on. Deeper forks and longest-chain
reorganisations are not modelled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from chain.block import Block, leading_zero_bits
from chain.certificate import make_certificate, sign_vote
from chain.consensus.base import Host, as_behaviours, as_network, check_int
from chain.consensus.bft_round import vote_size_bytes
from chain.encoding import BLOCK_HASH_HEX_CHARS, block_digest_hex, canonical_bytes_unchecked
from chain.keys import verify_signature_hex
from chain.merkle import merkle_root
from chain.network import NetworkModel

#: Faulty miner behaviours: ``veto`` refuses every block, ``forge`` broadcasts
#: blocks whose seal does not verify when it wins (the others refuse them).
MINER_FAULTS = ("veto", "forge")


def _hash_rates(value: object, n: int, default: int) -> tuple[int, ...]:
    if value is None or (isinstance(value, Sequence) and not isinstance(value, str) and not value):
        return (default,) * n
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(f"hash_rates_hps must be a list of ints >= 1 (got {value!r})")
    rates = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise ValueError(f"hash_rates_hps must hold ints >= 1 hashes/s (got {item!r})")
        rates.append(int(item))
    if len(rates) != n:
        raise ValueError(f"hash_rates_hps must give one rate per miner ({n}) (got {len(rates)})")
    return tuple(rates)


def mine(
    header_fields: dict[str, Any], hash_function: str, difficulty_bits: int
) -> tuple[int, int]:
    """Search the smallest nonce whose header hash has ``difficulty_bits`` leading zero bits.

    The canonical header bytes are rendered once around the nonce, so each try
    costs one hash.

    Args:
        header_fields: The nine header fields (``nonce`` is replaced).
        hash_function: ``"sha256"`` or ``"sha1"``.
        difficulty_bits: Required leading zero bits.

    Returns:
        ``(nonce, number of hashes computed)``.
    """
    fields = dict(header_fields, nonce=0)
    canonical = canonical_bytes_unchecked(fields)
    marker = b'"nonce":0,'
    cut = canonical.index(marker) + len(b'"nonce":')
    prefix, suffix = canonical[:cut], canonical[cut + 1 :]
    nonce = 0
    while True:
        digest = block_digest_hex(hash_function, prefix + str(nonce).encode() + suffix)
        if leading_zero_bits(digest) >= difficulty_bits:
            return nonce, nonce + 1
        nonce += 1


@dataclass(frozen=True)
class ProofOfWork:
    """Proof-of-work configuration (seed 000 SSG).

    Attributes:
        n_validators: Number of miners.
        difficulty_bits: Real leading zero bits every block hash must have
            (recorded in headers and checked by validators); low so runs are fast.
        simulated_difficulty_bits: Difficulty used for the simulated solve
            times (our default 24: about 42 s per block with 4 miners).
        hash_rate_hps: Each miner's hash rate in hashes per simulated second
            (default 100,000 for every miner; our assumption).
        hash_rates_hps: Explicit rate per miner (overrides ``hash_rate_hps``).
        hash: Block hash function, ``sha256`` or ``sha1`` (seed 000's 160-bit digest).
        confirmations: Blocks (its own included) after which a block is final
            (6, Bitcoin's custom).
        max_block_tx: Maximum transactions per block.
        faulty_miners: ``{miner index: "veto" | "forge"}``.
        network: Links between miners.
        miner_set_authority: Public key (64 hex) allowed to record miner-set changes
            (:mod:`chain.miner_set`), written to the genesis; empty (default): the
            genesis miners stay.
    """

    n_validators: int = 4
    difficulty_bits: int = 8
    simulated_difficulty_bits: int = 24
    hash_rate_hps: int = 100_000
    hash_rates_hps: Any = ()
    hash: str = "sha256"
    confirmations: int = 6
    max_block_tx: int = 5000
    faulty_miners: Any = ()
    network: Any = field(default_factory=NetworkModel)
    miner_set_authority: str = ""

    name: ClassVar[str] = "pow"

    def __post_init__(self) -> None:
        check_int("n_validators", self.n_validators, 1)
        if self.hash not in BLOCK_HASH_HEX_CHARS:
            raise ValueError(
                f"hash must be one of {', '.join(sorted(BLOCK_HASH_HEX_CHARS))} (got {self.hash!r})"
            )
        max_bits = 4 * BLOCK_HASH_HEX_CHARS[self.hash]
        check_int("difficulty_bits", self.difficulty_bits, 0)
        if self.difficulty_bits > 32:
            raise ValueError(
                f"difficulty_bits must be <= 32 so wall-clock mining stays feasible "
                f"(got {self.difficulty_bits}); raise simulated_difficulty_bits instead"
            )
        check_int("simulated_difficulty_bits", self.simulated_difficulty_bits, 0)
        if self.simulated_difficulty_bits > max_bits:
            raise ValueError(
                f"simulated_difficulty_bits must be <= {max_bits} for {self.hash} "
                f"(got {self.simulated_difficulty_bits})"
            )
        check_int("hash_rate_hps", self.hash_rate_hps, 1)
        rates = _hash_rates(self.hash_rates_hps, self.n_validators, self.hash_rate_hps)
        object.__setattr__(self, "hash_rates_hps", rates)
        check_int("confirmations", self.confirmations, 1)
        check_int("max_block_tx", self.max_block_tx, 1)
        faulty = as_behaviours("faulty_miners", self.faulty_miners, self.n_validators, MINER_FAULTS)
        object.__setattr__(self, "faulty_miners", faulty)
        object.__setattr__(self, "network", as_network(self.network))
        authority = self.miner_set_authority
        if not isinstance(authority, str) or (
            authority and (len(authority) != 64 or authority.strip("0123456789abcdef"))
        ):
            raise ValueError(
                f"miner_set_authority must be empty or a 64-hex public key (got {authority!r})"
            )

    @property
    def expected_block_interval_ms(self) -> float:
        """Mean simulated time to the first solution: ``2^D_sim / sum(rates)``."""
        return 2.0**self.simulated_difficulty_bits / sum(self.hash_rates_hps) * 1000.0

    @property
    def block_period_s(self) -> float:
        """The expected block interval in seconds (what drivers step the clock by)."""
        return self.expected_block_interval_ms / 1000.0

    def params(self) -> dict[str, int | str]:
        """Genesis parameters: difficulties, hash function, finality and miners' rates."""
        authority = self.miner_set_authority
        return {
            "difficulty_bits": self.difficulty_bits,
            "simulated_difficulty_bits": self.simulated_difficulty_bits,
            "block_hash_function": self.hash,
            "confirmations": self.confirmations,
            "max_block_tx": self.max_block_tx,
            "n_validators": self.n_validators,
            "hash_rates_hps": ",".join(str(r) for r in self.hash_rates_hps),
            **({"miner_set_authority": authority} if authority else {}),
        }

    def engine(self, host: Host) -> PowEngine:
        """The running mining race for one chain."""
        return PowEngine(self, host)


class PowEngine:
    """Mining races, unanimous agreement and k-confirmation finality."""

    def __init__(self, config: ProofOfWork, host: Host) -> None:
        """Idle until transactions arrive."""
        self.config, self.host = config, host
        self.race_start_ms: float | None = None
        self.attempt = 0
        self.last_tx_height = 0
        self.blocks_dropped = 0
        self.fork_races = 0
        self.hashes_computed = 0
        self.rates = np.asarray(config.hash_rates_hps, dtype=float)
        genesis_keys = [identity.public_hex for identity in host.validators]
        self.faults_by_key = {genesis_keys[i]: b for i, b in config.faulty_miners}
        self.faults = dict(config.faulty_miners)
        self.seed = int.from_bytes(host.seed[:8], "big")
        self.miner_set_changes = 0

    def validators_changed(self) -> None:
        """Take the miner set and hash rates in force at the next height."""
        ledger = self.host.ledger
        miner_set = ledger.miner_schedule.at(ledger.height + 1)
        self.rates = np.asarray(miner_set.hash_rates_hps, dtype=float)
        self.faults = {
            i: self.faults_by_key[key]
            for i, key in enumerate(miner_set.miners)
            if key in self.faults_by_key
        }
        self.miner_set_changes += 1

    def _active(self) -> bool:
        """Miners work while transactions wait or a non-empty block is not final yet."""
        height = self.host.ledger.height
        unfinal = (
            self.last_tx_height > 0 and height < self.last_tx_height + self.config.confirmations - 1
        )
        return len(self.host.mempool) > 0 or unfinal

    def _solve_times(self, height: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, height, self.attempt])
        scale = 2.0**self.config.simulated_difficulty_bits / self.rates * 1000.0
        return rng.exponential(scale)

    def run_until(self, time_ms: int) -> None:
        """Mine and agree on every block solved by ``time_ms``."""
        host = self.host
        while True:
            if not self._active():
                self.race_start_ms = None
                break
            if self.race_start_ms is None:
                oldest = host.mempool.peek()
                last = host.recorder.commit_times_ms[-1] if host.recorder.commit_times_ms else 0.0
                start = last if oldest is None else max(last, float(oldest.tx.timestamp_ms))
                self.race_start_ms = start
            height = host.ledger.height + 1
            times = self._solve_times(height)
            winner = int(np.argmin(times))
            solved_ms = self.race_start_ms + float(times[winner])
            if solved_ms > time_ms:
                break
            self._round(height, winner, solved_ms, times)

    def _round(self, height: int, winner: int, solved_ms: float, times: np.ndarray) -> None:
        config, host = self.config, self.host
        n = len(host.validators)
        stamp = math.ceil(solved_ms)
        stxs = host.mempool.take(config.max_block_tx, stamp - 1)
        draft = host.draft_header(winner, stamp, stxs, difficulty_bits=config.difficulty_bits)
        nonce, hashes = mine(draft.body(), host.ledger.hash_function, config.difficulty_bits)
        self.hashes_computed += hashes
        block = host.build_block(
            winner, stamp, stxs, nonce=nonce, difficulty_bits=config.difficulty_bits
        )
        if self.faults.get(winner) == "forge":
            # A forged block: its seal does not sign this header.
            bogus = host.validators[winner].sign(b"forged:" + block.header.canonical()).hex()
            block = Block(block.header, block.block_hash, bogus, block.transactions)
        valid = (
            leading_zero_bits(block.block_hash) >= config.difficulty_bits
            and merkle_root([s.tx_hash for s in block.transactions]) == block.header.merkle_root
            and verify_signature_hex(
                block.header.proposer, block.proposer_signature, block.header.canonical()
            )
        )
        links = host.links
        arrivals = links.arrivals(winner, solved_ms, block.size_bytes)
        vote_size = vote_size_bytes(host.chain_id, height, 0)
        host.recorder.message("block", n - 1, block.size_bytes)
        host.recorder.signatures_verified += n - 1
        # Competing solutions found before the winner's block arrived.
        others = [i for i in range(n) if i != winner]
        self.fork_races += sum(
            1 for i in others if self.race_start_ms + float(times[i]) < arrivals[i]
        )
        refusals = [i for i in range(n) if self.faults.get(i) == "veto" or not valid]
        agreeing = [i for i in range(n) if i not in refusals]
        votes = [
            sign_vote(host.validators[i], host.chain_id, height, block.block_hash, "agree", 0)
            for i in agreeing
        ]
        host.recorder.signatures_signed += len(votes)
        replies = [arrivals[i] + links.delay_ms(i, winner, vote_size) for i in others]
        host.recorder.message("agree", n - 1, vote_size)
        host.recorder.signatures_verified += n - 1
        decided_ms = max(replies, default=solved_ms)
        notified_ms = float(links.arrivals(winner, decided_ms, vote_size * n).max())
        host.recorder.message("notify", n - 1, vote_size * n)
        if refusals:
            # Seed 000: without every miner's agreement the block is abandoned.
            host.mempool.restore(stxs)
            self.blocks_dropped += 1
            self.attempt += 1
            self.race_start_ms = decided_ms
            return
        certificate = make_certificate(
            host.chain_id, height, block.block_hash, "agree", 0, votes, host.validator_index
        )
        host.commit(block, notified_ms, certificate)
        if block.n_tx:
            self.last_tx_height = height
        self.attempt = 0
        self.race_start_ms = notified_ms

    def metrics(self) -> dict[str, float | int]:
        """Both difficulties and hash counts, drops and fork races."""
        config = self.config
        blocks = self.host.ledger.height
        return {
            "difficulty_bits": config.difficulty_bits,
            "simulated_difficulty_bits": config.simulated_difficulty_bits,
            "hashes_computed": self.hashes_computed,
            "simulated_hashes": float(
                2.0**config.simulated_difficulty_bits * (blocks + self.blocks_dropped)
            ),
            "expected_block_interval_ms": config.expected_block_interval_ms,
            "blocks_dropped": self.blocks_dropped,
            "fork_races": self.fork_races,
            "miner_set_changes": self.miner_set_changes,
        }
