"""Per-consensus block rules: who may propose, timing, work and certificates.

These are the rules every validator (and :func:`chain.verify.verify_run`,
independently) checks on top of the generic ledger rules. They depend only on
the genesis and the chain so far, never on simulator state, so an exported
ledger can be re-checked. See ``docs/ledger-format.md`` section 8 for the
normative list and ``docs/consensus.md`` for where each rule comes from.
"""

from __future__ import annotations

from collections.abc import Sequence

from chain.block import Block
from chain.certificate import Certificate
from chain.encoding import DEFAULT_BLOCK_HASH
from chain.errors import (
    BadCertificate,
    BlockTooEarly,
    InsufficientWork,
    InvalidBlock,
    NotAValidator,
    SignerTooRecent,
    short_hex,
)
from chain.genesis import Genesis

#: Consensus protocols with rules defined here.
CONSENSUS_NAMES = ("poa", "pow", "pbft", "hybrid", "central")
#: Protocols whose blocks must carry a certificate, and its phase.
CERTIFICATE_PHASE = {"pow": "agree", "pbft": "commit", "hybrid": "commit"}


def fault_tolerance(n: int) -> int:
    """Byzantine replicas ``f`` that ``n`` replicas tolerate: ``floor((n - 1) / 3)``."""
    return max(n - 1, 0) // 3


def quorum(n: int) -> int:
    """BFT quorum of ``n`` replicas: ``ceil((n + f + 1) / 2)``.

    Any two quorums share at least ``f + 1`` replicas, hence an honest one. For
    ``n = 3f + 1`` (the PBFT paper's setting) this is ``2f + 1``; for other
    ``n`` it is the smallest size that keeps that intersection property (e.g.
    2 of 2, 2 of 3, 4 of 5).
    """
    return (n + fault_tolerance(n)) // 2 + 1


def parse_index_list(text: str) -> tuple[int, ...]:
    """Parse a genesis param like ``"0,1,-1"`` into integers (empty string: none)."""
    return tuple(int(part) for part in text.split(",")) if text else ()


def block_hash_function(genesis: Genesis) -> str:
    """The genesis's declared block hash function (SHA-256 unless it says otherwise)."""
    value = genesis.params.get("block_hash_function", DEFAULT_BLOCK_HASH)
    return str(value)


def check_block_rules(
    genesis: Genesis,
    chain: Sequence[Block],
    block: Block,
    certificate: Certificate | None,
    validators: Sequence[str] | None = None,
) -> None:
    """Check the consensus rules of ``block`` appended to ``chain``.

    Args:
        genesis: The chain's genesis (consensus name, validators, params).
        chain: The committed blocks before ``block``.
        block: The new block; its generic header checks already passed.
        certificate: The block's certificate, if any.
        validators: The validator set in force at the block's height (proof of work
            after a miner-set change, :mod:`chain.miner_set`); default the genesis's.

    Raises:
        InvalidBlock: Or a subclass naming the rule that failed.
    """
    consensus = genesis.consensus
    header = block.header
    height = header.height
    validators = tuple(genesis.validators if validators is None else validators)
    if consensus not in CONSENSUS_NAMES:
        raise InvalidBlock(f"block {height}: unknown consensus {consensus!r}")
    if header.proposer not in validators:
        raise NotAValidator(
            f"block {height} proposer {short_hex(header.proposer)} is not a {consensus} validator"
        )
    for index, stx in enumerate(block.transactions):
        if stx.tx.timestamp_ms > header.timestamp_ms:
            raise BlockTooEarly(
                f"block {height} tx {index} is stamped {stx.tx.timestamp_ms} ms, after the "
                f"block's {header.timestamp_ms} ms"
            )
    required_bits = int(genesis.params.get("difficulty_bits", 0)) if consensus == "pow" else 0
    if header.difficulty_bits != required_bits:
        raise InsufficientWork(
            f"block {height} difficulty_bits is {header.difficulty_bits}, {consensus} requires "
            f"{required_bits}"
        )
    if consensus == "poa":
        _check_clique(genesis, chain, block)
    elif consensus == "central" and header.proposer != validators[0]:
        raise NotAValidator(
            f"block {height} proposer {short_hex(header.proposer)} is not the central operator"
        )
    phase = CERTIFICATE_PHASE.get(consensus)
    if phase is not None:
        _check_certificate(genesis, block, certificate, phase, validators)
    elif certificate is not None:
        raise BadCertificate(f"block {height}: {consensus} blocks carry no certificate")


def _check_clique(genesis: Genesis, chain: Sequence[Block], block: Block) -> None:
    """Clique (EIP-225): period between blocks, and no sealer twice in floor(n/2)+1 blocks."""
    header = block.header
    period = int(genesis.params.get("block_period_ms", 0))
    parent_ms = chain[-1].header.timestamp_ms if chain else 0
    if header.timestamp_ms < parent_ms + period:
        raise BlockTooEarly(
            f"block {header.height} timestamp {header.timestamp_ms} ms is less than one "
            f"block period ({period} ms) after its parent's {parent_ms} ms"
        )
    recent = len(genesis.validators) // 2
    if recent and header.proposer in {b.header.proposer for b in chain[-recent:]}:
        raise SignerTooRecent(
            f"block {header.height} sealer {short_hex(header.proposer)} also sealed one of the "
            f"last {recent} blocks"
        )


def _check_certificate(
    genesis: Genesis,
    block: Block,
    certificate: Certificate | None,
    phase: str,
    validators: Sequence[str],
) -> None:
    height = block.height
    if certificate is None:
        raise BadCertificate(f"block {height} has no {phase} certificate")
    if (
        certificate.chain_id != genesis.chain_id
        or certificate.height != height
        or certificate.block_hash != block.block_hash
        or certificate.phase != phase
    ):
        raise BadCertificate(
            f"block {height} certificate is for chain {certificate.chain_id!r} height "
            f"{certificate.height} block {short_hex(certificate.block_hash)} phase "
            f"{certificate.phase!r}, not this block's {phase!r}"
        )
    signers = certificate.signers
    if len(set(signers)) != len(signers):
        raise BadCertificate(f"block {height} certificate has a signer twice")
    outsiders = [s for s in signers if s not in validators]
    if outsiders:
        raise BadCertificate(
            f"block {height} certificate signer {short_hex(outsiders[0])} is not a validator"
        )
    bad = certificate.invalid_votes()
    if bad:
        raise BadCertificate(f"block {height} certificate vote of {short_hex(bad[0])} is forged")
    consensus = genesis.consensus
    if consensus == "pow":
        if certificate.view != 0 or set(signers) != set(validators):
            raise BadCertificate(
                f"block {height} needs the agreement of all {len(validators)} miners "
                f"(view 0), has {len(signers)}"
            )
        return
    if consensus == "pbft":
        needed = quorum(len(genesis.validators))
    else:  # hybrid: one bookkeeper per station area
        areas = parse_index_list(str(genesis.params.get("validator_areas", "")))
        index = {key: i for i, key in enumerate(genesis.validators)}
        signer_areas = [areas[index[s]] if index[s] < len(areas) else -1 for s in signers]
        proposer = index[block.header.proposer]
        if proposer >= len(areas) or areas[proposer] < 0:
            raise NotAValidator(
                f"block {height} proposer {short_hex(block.header.proposer)} is in no station "
                f"area, so it cannot be a bookkeeper"
            )
        if any(area < 0 for area in signer_areas) or len(set(signer_areas)) != len(signers):
            raise BadCertificate(
                f"block {height} certificate signers must be bookkeepers of distinct station "
                f"areas (areas {signer_areas})"
            )
        needed = quorum(int(genesis.params.get("n_areas", 0)))
    if len(signers) < needed:
        raise BadCertificate(
            f"block {height} certificate has {len(signers)} votes, the quorum is {needed}"
        )
