"""Batch admission (``Mempool.add_many``) is sequential admission (``Mempool.add``), faster."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import Genesis, Ledger, Mempool
from chain.authority import registry_for_run
from chain.errors import LedgerError
from chain.keys import Identity
from tests.chain.builders import CHAIN_ID, forge_block, pay, users, validators

PEOPLE = users(5)  # the last one holds no certificate on the registered chain
V0 = validators(1)[0]
_, REGISTRY = registry_for_run(
    3,
    [(f"user/{i}", "user", p.public_hex) for i, p in enumerate(PEOPLE[:4])]
    + [("validator/0", "validator", V0.public_hex)],
)
BALANCES = {p.public_hex: 50 for p in PEOPLE}

# One drawn transaction: sender, receiver, amount, nonce offset from the sender's
# count in the draw so far, and a defect (none, wrong chain, tampered hash, forged
# signature, repeat of the previous transaction).
TX = st.tuples(
    st.integers(0, 4),
    st.integers(0, 4),
    st.integers(0, 60),
    st.sampled_from([0, 0, 0, 0, -1, 1]),
    st.sampled_from([""] * 12 + ["chain", "hash", "signature", "repeat"]),
)

# The same, every defect as likely as none.
BAD_TX = st.tuples(
    st.integers(0, 4),
    st.integers(0, 4),
    st.integers(0, 60),
    st.sampled_from([0, 0, -1, 1]),
    st.sampled_from(["", "chain", "hash", "signature", "repeat"]),
)


def _ledger(registered: bool) -> Ledger:
    params = REGISTRY.genesis_params() if registered else {}
    genesis = Genesis(CHAIN_ID, "poa", BALANCES, (V0.public_hex,), params)
    return Ledger(genesis, REGISTRY if registered else None)


def _draw_to_stxs(draws: list) -> list:
    counts = [0] * len(PEOPLE)
    stxs: list = []
    for k, (s, r, amount, offset, defect) in enumerate(draws):
        if defect == "repeat" and stxs:
            stxs.append(stxs[-1])
            continue
        nonce = max(0, counts[s] + offset)
        chain_id = "elsewhere" if defect == "chain" else CHAIN_ID
        stx = pay(PEOPLE[s], PEOPLE[r], amount, nonce, timestamp_ms=k, chain_id=chain_id)
        if defect == "hash":
            stx = replace(stx, tx_hash="ab" * 32)
        elif defect == "signature":
            stx = replace(stx, signature="00" * 64)
        counts[s] += not defect  # a defective one does not use up the nonce
        stxs.append(stx)
    return stxs


def _sequential(pool: Mempool, stxs: list, verified: bool) -> list:
    rejected = []
    for stx in stxs:
        try:
            pool.add(stx, verified=verified)
        except LedgerError as err:
            rejected.append((stx, err))
    return rejected


def _state(pool: Mempool, ledger: Ledger) -> tuple:
    keys = [p.public_hex for p in PEOPLE]
    return (
        list(pool),
        dict(pool._pending_count),
        dict(pool._pending_delta),
        dict(ledger.verified_signatures),
        [pool.pending_nonce(k) for k in keys],
        [pool.pending_balance(k) for k in keys],
    )


def _errors(rejected: list) -> list:
    return [(stx, type(err), str(err)) for stx, err in rejected]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    draws=st.lists(TX, min_size=6, max_size=30),
    split=st.integers(0, 12),
    registered=st.booleans(),
    verified=st.booleans(),
    committed=st.integers(0, 3),
)
def test_batch_admission_equals_sequential_admission(
    draws: list, split: int, registered: bool, verified: bool, committed: int
) -> None:
    stxs = _draw_to_stxs(draws)
    split %= len(stxs) // 2 + 1  # a prefix of history, the rest is the batch
    pools = []
    for _ in range(2):
        ledger = _ledger(registered)
        pool = Mempool(ledger)
        # Earlier history: some admitted, some committed in a block.
        _sequential(pool, stxs[:split], verified)
        taken = pool.take(committed, 10**6)
        if taken:
            ledger.apply_block(forge_block(ledger, taken, V0))
        pools.append((pool, ledger))
    (seq_pool, seq_ledger), (batch_pool, batch_ledger) = pools
    expected = _sequential(seq_pool, stxs[split:], verified)
    got = batch_pool.add_many(iter(stxs[split:]), verified=verified)
    assert _errors(got) == _errors(expected)
    assert [stx for stx, _ in got] == [stx for stx, _ in expected]
    assert _state(batch_pool, batch_ledger) == _state(seq_pool, seq_ledger)
    # And the pool still takes the same blocks with the same accounting.
    for n in (3, 1, 100):
        assert batch_pool.take(n, 10**6) == seq_pool.take(n, 10**6)
        assert _state(batch_pool, batch_ledger) == _state(seq_pool, seq_ledger)


def _tally(pool: Mempool) -> tuple[dict, dict]:
    counts: dict = {}
    deltas: dict = {}
    for stx in pool:
        tx = stx.tx
        counts[tx.sender] = counts.get(tx.sender, 0) + 1
        deltas[tx.sender] = deltas.get(tx.sender, 0) - tx.amount
        deltas[tx.receiver] = deltas.get(tx.receiver, 0) + tx.amount
    return counts, {k: v for k, v in deltas.items() if v}


@settings(max_examples=40, deadline=None)
@given(draws=st.lists(TX, max_size=20), takes=st.lists(st.integers(0, 8), max_size=5))
def test_pending_state_is_the_tally_of_the_queue_after_every_take(draws: list, takes: list) -> None:
    pool = Mempool(_ledger(False))
    pool.add_many(_draw_to_stxs(draws), verified=True)
    assert (pool._pending_count, pool._pending_delta) == _tally(pool)
    for n in takes:
        taken = pool.take(n, 10**6)
        assert (pool._pending_count, pool._pending_delta) == _tally(pool)
        pool.restore(taken)
        assert (pool._pending_count, pool._pending_delta) == _tally(pool)
        pool.take(n, 10**6)


def test_batch_admission_refuses_what_is_not_a_transaction() -> None:
    ledger = _ledger(True)
    pool = Mempool(ledger)
    good = pay(PEOPLE[0], PEOPLE[1], 5, 0)
    rejected = pool.add_many(["not a tx", good, pay(PEOPLE[4], PEOPLE[0], 1, 0)])
    assert [type(err).__name__ for _, err in rejected] == [
        "InvalidTransaction",
        "UnregisteredSender",
    ]
    assert list(pool) == [good]


def test_registry_unregistered_follows_the_snapshot_not_later_registrations() -> None:
    from chain.authority import CertificateAuthority

    ca_identity = Identity.derive(9, "authority/ca")
    authority = CertificateAuthority(ca_identity, 1, ca_identity.public_bytes)
    authority.register("a", "user", PEOPLE[0].public_hex)
    before = authority.registry()
    assert before.unregistered([PEOPLE[0].public_hex, PEOPLE[1].public_hex, 7]) == {
        PEOPLE[1].public_hex,
        7,
    }
    authority.register("b", "user", PEOPLE[1].public_hex)  # after the snapshot
    assert before.unregistered([PEOPLE[0].public_hex, PEOPLE[1].public_hex]) == {
        PEOPLE[1].public_hex
    }
    assert before.keys.unregistered([PEOPLE[1].public_hex]) == {PEOPLE[1].public_hex}
    assert authority.registry().unregistered([PEOPLE[1].public_hex]) == set()


def _reference_apply(ledger: Ledger, stxs: list) -> tuple[dict, dict] | tuple[type, str]:
    """Every rule function on every transaction, one after the other (no fast path)."""
    from chain.rules import check_funds, check_integrity, check_nonce, check_registered

    balances, nonces = dict(ledger.balances), dict(ledger.nonces)
    for index, stx in enumerate(stxs):
        tx = stx.tx
        try:
            check_integrity(stx, ledger.chain_id, ledger.verified_signatures)
            check_registered(stx, ledger.registered)
            check_nonce(stx, nonces.get(tx.sender, 0))
            check_funds(stx, balances.get(tx.sender, 0))
        except LedgerError as err:
            return type(err), f"block {ledger.height + 1} tx {index}: {err}"
        nonces[tx.sender] = tx.nonce + 1
        balances[tx.sender] = balances.get(tx.sender, 0) - tx.amount
        balances[tx.receiver] = balances.get(tx.receiver, 0) + tx.amount
    return balances, nonces


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 4), st.integers(0, 12)), max_size=8
    ),
    last=st.lists(BAD_TX, min_size=1, max_size=2),
    registered=st.booleans(),
    cached=st.sampled_from(["all", "all", "none", "some"]),
)
def test_block_validation_fast_path_equals_every_rule_in_turn(
    prefix: list, last: list, registered: bool, cached: str
) -> None:
    # A valid run of payments, then one or two drawn ones (possibly defective).
    stxs = _draw_to_stxs([(s, r, amount, 0, "") for s, r, amount in prefix] + last)
    ledger = _ledger(registered)
    for k, stx in enumerate(stxs):
        # What admission caches (a forged signature is never cached by it; here it may
        # be, which the exact-signature rule then accepts in both paths alike).
        if cached == "all" or (cached == "some" and k % 2):
            ledger.verified_signatures[stx.tx_hash] = stx.signature
    expected = _reference_apply(ledger, stxs)
    block = forge_block(ledger, stxs, V0)
    try:
        ledger.apply_block(block)
    except LedgerError as err:
        assert (type(err), str(err)) == expected
        assert ledger.height == 0 and ledger.balances == BALANCES and ledger.nonces == {}
    else:
        assert (ledger.balances, ledger.nonces) == expected
