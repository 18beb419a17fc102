"""Genesis and the ledger's block rules: one test per typed error, plus atomicity."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import (
    BadBlockHash,
    BadCertificate,
    BadHeight,
    BadMerkleRoot,
    BadPrevHash,
    BadProposerSignature,
    BlockTooEarly,
    FutureNonce,
    Genesis,
    InsufficientWork,
    InvalidBlock,
    InvalidSignature,
    InvalidTransaction,
    Ledger,
    NotAValidator,
    Overdraft,
    StaleNonce,
    TimestampRegression,
    Transaction,
    sign_transaction,
)
from chain.merkle import merkle_root
from tests.chain.builders import (
    CHAIN_ID,
    COIN,
    agree_certificate,
    forge_block,
    pay,
    users,
    validators,
)

ALICE, BOB, CAROL = users(3)
V0, V1, V2, V3 = validators(4)


def ledger_genesis(consensus: str = "poa") -> Genesis:
    return Genesis(
        chain_id=CHAIN_ID,
        consensus=consensus,
        balances={ALICE.public_hex: 10 * COIN, BOB.public_hex: 5 * COIN},
        validators=(V0.public_hex, V1.public_hex, V2.public_hex, V3.public_hex),
        params={"block_period_ms": 2000, "note": "test"},
    )


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(ledger_genesis())


def snapshot(ledger: Ledger) -> tuple[object, ...]:
    return (dict(ledger.balances), dict(ledger.nonces), len(ledger.blocks), ledger.head_hash)


# --- Genesis -----------------------------------------------------------------------------


def test_genesis_dict_hash_and_supply() -> None:
    genesis = ledger_genesis()
    data = genesis.to_dict()
    assert set(data) == {"chain_id", "consensus", "balances", "validators", "params"}
    assert isinstance(data["validators"], list)
    assert Genesis.from_dict(data) == genesis
    assert Genesis.from_dict(data).hash == genesis.hash
    assert genesis.total_supply == 15 * COIN
    assert pickle.loads(pickle.dumps(genesis)).hash == genesis.hash
    edited = dict(data, balances={**data["balances"], ALICE.public_hex: 1})
    assert Genesis.from_dict(edited).hash != genesis.hash


@pytest.mark.parametrize(
    "change",
    [
        {"balances": {"ab" * 32: -1}},
        {"balances": {"ab" * 32: 1.0}},
        {"balances": {"nothex": 1}},
        {"validators": ("ab" * 32, "ab" * 32)},
        {"params": {"period_s": 2.0}},
        {"params": {"flag": True}},
        {"chain_id": ""},
    ],
)
def test_genesis_rejects_bad_fields(change: dict) -> None:
    data = ledger_genesis().to_dict()
    data.update(change)
    with pytest.raises((TypeError, ValueError)):
        Genesis.from_dict(data)


def test_genesis_from_dict_rejects_extra_fields() -> None:
    with pytest.raises(ValueError, match="exactly"):
        Genesis.from_dict({**ledger_genesis().to_dict(), "extra": 1})


# --- Valid blocks --------------------------------------------------------------------------


def test_empty_ledger(ledger: Ledger) -> None:
    assert ledger.height == 0
    assert ledger.head_hash == ledger.genesis.hash
    assert ledger.total_supply() == 15 * COIN
    assert ledger.next_nonce(ALICE.public_hex) == 0


def test_apply_valid_blocks(ledger: Ledger) -> None:
    block1 = forge_block(ledger, [pay(ALICE, BOB, 3 * COIN, 0), pay(BOB, CAROL, 8 * COIN, 0)], V0)
    ledger.apply_block(block1)
    assert ledger.height == 1 and ledger.head_hash == block1.block_hash
    assert ledger.balances[ALICE.public_hex] == 7 * COIN
    assert ledger.balances[BOB.public_hex] == 0
    assert ledger.balances[CAROL.public_hex] == 8 * COIN
    assert ledger.nonces == {ALICE.public_hex: 1, BOB.public_hex: 1}
    ledger.apply_block(forge_block(ledger, [], V1))
    assert ledger.height == 2 and ledger.total_supply() == 15 * COIN


def test_incoming_funds_earlier_in_the_block_can_be_spent(ledger: Ledger) -> None:
    stxs = [pay(ALICE, CAROL, 2 * COIN, 0), pay(CAROL, BOB, 2 * COIN, 0)]
    ledger.apply_block(forge_block(ledger, stxs, V0))
    assert ledger.balance_of(CAROL.public_hex) == 0


def test_zero_amount_and_self_payment_are_valid(ledger: Ledger) -> None:
    ledger.apply_block(
        forge_block(ledger, [pay(ALICE, BOB, 0, 0), pay(ALICE, ALICE, 10 * COIN, 1)], V0)
    )
    assert ledger.balance_of(ALICE.public_hex) == 10 * COIN


# --- Transaction rules ----------------------------------------------------------------------


def assert_rejected(ledger: Ledger, block, error: type[Exception], match: str) -> None:
    before = snapshot(ledger)
    with pytest.raises(error, match=match):
        ledger.apply_block(block)
    assert snapshot(ledger) == before


def test_bad_signature(ledger: Ledger) -> None:
    stx = pay(ALICE, BOB, 1, 0)
    forged = replace(stx, signature=BOB.sign(stx.tx.canonical()).hex())
    assert_rejected(ledger, forge_block(ledger, [forged], V0), InvalidSignature, "tx 0.*signature")
    with pytest.raises(InvalidSignature):
        ledger.check_transaction(forged)


def test_stale_nonce(ledger: Ledger) -> None:
    ledger.apply_block(forge_block(ledger, [pay(ALICE, BOB, 1, 0)], V0))
    replay = pay(ALICE, BOB, 1, 0, timestamp_ms=5)
    assert_rejected(
        ledger, forge_block(ledger, [replay], V1), StaleNonce, "nonce 0 .* stale: expected 1"
    )


def test_future_nonce(ledger: Ledger) -> None:
    assert_rejected(
        ledger, forge_block(ledger, [pay(ALICE, BOB, 1, 2)], V0), FutureNonce, "expected 0"
    )


def test_overdraft(ledger: Ledger) -> None:
    stxs = [pay(BOB, ALICE, 3 * COIN, 0), pay(BOB, ALICE, 3 * COIN, 1)]
    assert_rejected(
        ledger,
        forge_block(ledger, stxs, V0),
        Overdraft,
        "tx 1.*cannot pay 3000000.*balance is 2000000",
    )


def test_unknown_sender_has_zero_balance(ledger: Ledger) -> None:
    assert_rejected(
        ledger, forge_block(ledger, [pay(CAROL, BOB, 1, 0)], V0), Overdraft, "balance is 0"
    )


def test_wrong_chain(ledger: Ledger) -> None:
    stx = pay(ALICE, BOB, 1, 0, chain_id="grid-b")
    assert_rejected(
        ledger, forge_block(ledger, [stx], V0), InvalidTransaction, "'grid-b', not 'grid-a'"
    )


def test_tx_hash_mismatch(ledger: Ledger) -> None:
    stx = pay(ALICE, BOB, 1, 0)
    other = pay(ALICE, BOB, 2, 0)
    mixed = replace(stx, tx=other.tx)
    assert_rejected(ledger, forge_block(ledger, [mixed], V0), InvalidTransaction, "does not match")


def test_duplicate_tx_with_identical_merkle_root_is_rejected(ledger: Ledger) -> None:
    # [a, b, c] and [a, b, c, c] share a Merkle root (duplication rule); the
    # nonce rule is what rejects the padded block.
    stxs = [pay(ALICE, BOB, 1, n) for n in range(3)]
    padded = [*stxs, stxs[-1]]
    assert merkle_root([s.tx_hash for s in padded]) == merkle_root([s.tx_hash for s in stxs])
    assert_rejected(ledger, forge_block(ledger, padded, V0), StaleNonce, "tx 3")


def test_check_transaction_uses_committed_state(ledger: Ledger) -> None:
    ledger.check_transaction(pay(ALICE, BOB, 10 * COIN, 0))
    with pytest.raises(Overdraft):
        ledger.check_transaction(pay(ALICE, BOB, 10 * COIN + 1, 0))
    with pytest.raises(FutureNonce):
        ledger.check_transaction(pay(ALICE, BOB, 1, 1))


# --- Header rules ---------------------------------------------------------------------------


def test_bad_merkle_root(ledger: Ledger) -> None:
    block = forge_block(ledger, [pay(ALICE, BOB, 1, 0)], V0, merkle_root="ab" * 32)
    assert_rejected(ledger, block, BadMerkleRoot, "merkle_root")


def test_bad_prev_hash(ledger: Ledger) -> None:
    assert_rejected(
        ledger, forge_block(ledger, [], V0, prev_hash="cd" * 32), BadPrevHash, "prev_hash"
    )


@pytest.mark.parametrize("height", [2, 5])
def test_bad_height(ledger: Ledger, height: int) -> None:
    assert_rejected(
        ledger, forge_block(ledger, [], V0, height=height), BadHeight, f"height {height}"
    )


def test_replaying_a_committed_block_is_a_bad_height(ledger: Ledger) -> None:
    block = forge_block(ledger, [], V0)
    ledger.apply_block(block)
    assert_rejected(ledger, block, BadHeight, "height 1")


def test_tampered_block_hash(ledger: Ledger) -> None:
    block = forge_block(ledger, [], V0, block_hash="ef" * 32)
    assert_rejected(ledger, block, BadBlockHash, "claims hash")


def test_bad_proposer_signature(ledger: Ledger) -> None:
    assert_rejected(
        ledger, forge_block(ledger, [], V0, signer=V1), BadProposerSignature, "signature"
    )


def test_non_validator_proposer(ledger: Ledger) -> None:
    assert_rejected(ledger, forge_block(ledger, [], ALICE), NotAValidator, "not a poa validator")


def test_every_consensus_needs_a_validator_proposer() -> None:
    for consensus in ("pow", "central", "poa"):
        ledger = Ledger(ledger_genesis(consensus))
        assert_rejected(ledger, forge_block(ledger, [], ALICE), NotAValidator, "not a")


def test_unknown_consensus_is_refused() -> None:
    with pytest.raises(ValueError, match="consensus must be one of"):
        Ledger(ledger_genesis("raft"))


def test_timestamp_regression() -> None:
    ledger = Ledger(ledger_genesis("central"))
    ledger.apply_block(forge_block(ledger, [], V0, timestamp_ms=4000))
    ledger.apply_block(forge_block(ledger, [], V0, timestamp_ms=4000))
    assert_rejected(
        ledger, forge_block(ledger, [], V0, timestamp_ms=3999), TimestampRegression, "3999"
    )


def test_poa_blocks_are_a_period_apart(ledger: Ledger) -> None:
    assert_rejected(ledger, forge_block(ledger, [], V0, timestamp_ms=1999), BlockTooEarly, "2000")
    ledger.apply_block(forge_block(ledger, [], V0, timestamp_ms=2000))
    assert_rejected(ledger, forge_block(ledger, [], V1, timestamp_ms=3999), BlockTooEarly, "period")


def test_a_block_cannot_hold_a_transaction_from_its_future(ledger: Ledger) -> None:
    late = pay(ALICE, BOB, 1, 0, timestamp_ms=2001)
    block = forge_block(ledger, [late], V0, timestamp_ms=2000)
    assert_rejected(ledger, block, BlockTooEarly, "after the block")


def test_insufficient_work() -> None:
    genesis = Genesis(
        chain_id=CHAIN_ID, consensus="pow", balances={}, validators=(V0.public_hex,),
        params={"difficulty_bits": 8},
    )  # fmt: skip
    ledger = Ledger(genesis)
    nonce = 0
    while True:  # find a nonce whose hash has < 8 zero bits, then one with >= 8
        block = forge_block(ledger, [], V0, difficulty_bits=8, nonce=nonce)
        if int(block.block_hash[:2], 16) != 0:
            break
        nonce += 1
    assert_rejected(ledger, block, InsufficientWork, "difficulty_bits requires 8")
    assert_rejected(ledger, forge_block(ledger, [], V0), InsufficientWork, "pow requires 8")
    while int(block.block_hash[:2], 16) != 0:
        nonce += 1
        block = forge_block(ledger, [], V0, difficulty_bits=8, nonce=nonce)
    assert_rejected(ledger, block, BadCertificate, "no agree certificate")
    ledger.apply_block(block, certificate=agree_certificate(block, [V0]))
    assert ledger.height == 1


def test_wrong_chain_or_consensus_in_header(ledger: Ledger) -> None:
    assert_rejected(ledger, forge_block(ledger, [], V0, chain_id="grid-b"), InvalidBlock, "grid-b")
    assert_rejected(ledger, forge_block(ledger, [], V0, consensus="pbft"), InvalidBlock, "pbft")


def test_atomicity_later_tx_failure_undoes_earlier_ones(ledger: Ledger) -> None:
    ledger.apply_block(forge_block(ledger, [pay(ALICE, BOB, 1, 0)], V0))
    stxs = [pay(ALICE, CAROL, COIN, 1), pay(BOB, CAROL, COIN, 0), pay(CAROL, ALICE, 5 * COIN, 0)]
    assert_rejected(ledger, forge_block(ledger, stxs, V1), Overdraft, "tx 2")
    assert CAROL.public_hex not in ledger.balances
    ledger.apply_block(forge_block(ledger, stxs[:2], V1))
    assert ledger.balance_of(CAROL.public_hex) == 2 * COIN


# --- Verified-signature cache ---------------------------------------------------------------


def test_cached_signature_is_trusted_only_for_the_exact_signature(ledger: Ledger) -> None:
    stx = pay(ALICE, BOB, 1, 0)
    bogus = replace(stx, signature="00" * 64)
    ledger.verified_signatures[stx.tx_hash] = stx.signature
    # A different signature for a cached hash is still verified.
    assert_rejected(ledger, forge_block(ledger, [bogus], V0), InvalidSignature, "signature")
    # The cache is what lets a (pretend-)verified entry skip the Ed25519 check.
    ledger.verified_signatures[stx.tx_hash] = bogus.signature
    ledger.apply_block(forge_block(ledger, [bogus], V0))
    assert stx.tx_hash not in ledger.verified_signatures  # dropped on commit


# --- Properties -----------------------------------------------------------------------------

PEOPLE = users(4)
HOLDERS = {p.public_hex: 3 * COIN for p in PEOPLE[:2]}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 4 * COIN)),
        max_size=25,
    )
)
def test_supply_is_conserved_by_any_sequence_of_valid_payments(
    payments: list[tuple[int, int, int]],
) -> None:
    genesis = Genesis(CHAIN_ID, "poa", HOLDERS, (V0.public_hex,), {})
    ledger = Ledger(genesis)
    for sender_i, receiver_i, amount in payments:
        sender, receiver = PEOPLE[sender_i], PEOPLE[receiver_i]
        tx = Transaction(
            CHAIN_ID, sender.public_hex, receiver.public_hex, amount,
            ledger.next_nonce(sender.public_hex), "transfer", {}, 0,
        )  # fmt: skip
        stx = sign_transaction(sender, tx)
        try:
            ledger.check_transaction(stx)
        except Overdraft:
            continue
        ledger.apply_block(forge_block(ledger, [stx], V0))
        assert ledger.total_supply() == genesis.total_supply
        assert min(ledger.balances.values()) >= 0
