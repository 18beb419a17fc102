"""Each attack is refused with its typed error; the PoW private-fork race."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import Identity, Pbft, attacks
from tests.chain.builders import COIN, SEED, pay
from tests.chain.security_builders import registered_chain


def _chain_with_history():
    chain, ca, people = registered_chain()
    first = pay(people[0], people[1], COIN, 0, timestamp_ms=100)
    assert chain.submit([first]) == []
    chain.advance_to(4000)
    return chain, people, first


def test_transaction_attacks_rejected_with_their_errors() -> None:
    chain, people, first = _chain_with_history()
    me, victim = people[1], people[2]
    log = attacks.AttackLedger()
    batch = [
        ("double_spend", attacks.double_spend(people[0], first, victim.public_hex, 5000)),
        ("replay", attacks.replay(first)),
        ("forge", attacks.forge(me, chain.chain_id, victim.public_hex, 0, 1000, 5000)),
        ("overdraft", attacks.overdraft(me, chain.chain_id, victim.public_hex, 0,
                                        chain.mempool.pending_balance(me.public_hex), 5000)),
        ("unregistered", attacks.unregistered(Identity.derive(SEED, "x"), chain.chain_id,
                                              victim.public_hex, 5000)),
    ]  # fmt: skip
    admitted = attacks.submit_attacks(chain, batch, log)
    assert admitted == []
    summary = log.summary(attacks.TX_ATTACKS)
    assert {k: v["errors"] for k, v in summary.items()} == {
        "double_spend": {"StaleNonce": 1},
        "replay": {"StaleNonce": 1},
        "forge": {"InvalidSignature": 1},
        "overdraft": {"Overdraft": 1},
        "unregistered": {"UnregisteredSender": 1},
    }
    assert sum(log.accepted.values()) == 0


def test_block_attacks_on_poa() -> None:
    chain, people, _ = _chain_with_history()
    head = chain.head_hash
    tampered = attacks.tampered_block(chain, people[3].public_hex, 5000)
    assert type(attacks.try_apply(chain, tampered)).__name__ == "InvalidSignature"
    rogue = attacks.rogue_sealer_block(chain, Identity.derive(SEED, "rogue"))
    assert type(attacks.try_apply(chain, rogue)).__name__ == "NotAValidator"
    again = attacks.too_frequent_block(chain)
    assert type(attacks.try_apply(chain, again)).__name__ == "SignerTooRecent"
    assert chain.head_hash == head  # nothing was applied


def test_a_lone_rogue_pbft_validator_cannot_certify() -> None:
    chain, _, people = registered_chain(consensus=Pbft(n_validators=4))
    block = attacks.tampered_block(chain, people[0].public_hex, 5000)
    assert type(attacks.try_apply(chain, block)).__name__ == "BadCertificate"


def test_private_fork_exact_values() -> None:
    # k = 1: no attacker block yet (w.p. p): behind by 1, overtakes w.p. (q/p)^2; one block
    # (w.p. pq): level, overtakes w.p. q/p; two or more (w.p. q^2): already ahead.
    q = 0.1
    expected = (1 - q) * (q / (1 - q)) ** 2 + (1 - q) * q * (q / (1 - q)) + q * q
    assert attacks.private_fork_success_probability(q, 1) == pytest.approx(expected)
    assert expected == pytest.approx(0.0311111111)
    assert attacks.private_fork_success_probability(0.5, 6) == 1.0
    assert attacks.private_fork_success_probability(0.0, 1) == 0.0
    with pytest.raises(ValueError, match="confirmations"):
        attacks.private_fork_success_probability(0.1, 0)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.01, 0.45), st.integers(1, 10))
def test_private_fork_more_confirmations_protect_more(q, k) -> None:
    p_k = attacks.private_fork_success_probability(q, k)
    assert 0.0 <= attacks.private_fork_success_probability(q, k + 1) <= p_k <= 1.0


@pytest.mark.parametrize(("q", "k"), [(0.1, 1), (0.3, 2), (0.3, 6)])
def test_monte_carlo_matches_the_closed_form(q, k) -> None:
    trials = 4000
    rate = attacks.simulate_private_fork(q, k, trials, np.random.default_rng(7))
    expected = attacks.private_fork_success_probability(q, k)
    sigma = max(np.sqrt(expected * (1 - expected) / trials), 1e-3)
    assert abs(rate - expected) < 4 * sigma
