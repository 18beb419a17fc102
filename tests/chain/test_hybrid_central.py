"""Hybrid consensus of seed 002 (bookkeepers by strength + PBFT) and the central baseline."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import pytest

from chain import BadCertificate, Central, Certificate, Genesis, Hybrid, Ledger, NotAValidator
from chain.certificate import sign_vote
from chain.consensus.hybrid import bookkeepers
from tests.chain.builders import forge_block, validators
from tests.chain.consensus_helpers import EXACT_NETWORK, consensus_chain, submit_payments

AREAS = [-1, 0, 1, 0, 1, 0]  # substation, two stations, then feeder buses


@pytest.mark.parametrize(
    ("strength", "expected"),
    [
        ([], [1, 2]),  # equal: the lowest index of each area
        ([9, 1, 1, 5, 1, 5], [3, 2]),  # area 0: 3 and 5 tie at 5 -> 3
        ([0, 1, 2, 3, 4, 5], [5, 4]),
        ([0, 7, 7, 7, 7, 7], [1, 2]),
    ],
)
def test_bookkeepers_by_response_strength(strength: list[float], expected: list[int]) -> None:
    assert bookkeepers(AREAS, strength) == expected


def test_hybrid_needs_the_validators_areas() -> None:
    hybrid = Hybrid(n_validators=6)
    with pytest.raises(ValueError, match="^validator_areas must name the station area"):
        consensus_chain(hybrid)
    with pytest.raises(ValueError, match=r"^validator_areas must give one area per validator"):
        Hybrid(validator_areas=[0, 1])
    with pytest.raises(ValueError, match=r"^response_strength must hold finite numbers"):
        Hybrid(response_strength=[1, 2, float("nan"), 0])
    assert hybrid.with_validator_areas(AREAS).params()["validator_areas"] == "-1,0,1,0,1,0"
    assert hybrid.with_validator_areas(AREAS).n_areas == 2


def test_bookkeepers_of_two_areas_commit_with_both_votes() -> None:
    hybrid = Hybrid(n_validators=6, validator_areas=AREAS, network=EXACT_NETWORK)
    chain = consensus_chain(hybrid)
    submit_payments(chain, 8, spacing_ms=2000)
    blocks = chain.advance_to(20_000)
    vals = [v.public_hex for v in validators(6)]
    # The two bookkeepers (1 and 2) take turns proposing.
    assert [vals.index(b.header.proposer) for b in blocks] == [1, 2, 1, 2, 1, 2, 1, 2]
    for certificate in chain.certificates:
        assert sorted(vals.index(s) for s in certificate.signers) == [1, 2]
    metrics = chain.metrics()
    assert metrics["committee_size"] == 2 and metrics["quorum"] == 2 and metrics["n_areas"] == 2
    # The committee exchanges 1 + 1 + 2 votes per block; the 4 others receive the block.
    assert metrics["messages_pre_prepare"] == 8 and metrics["messages_commit"] == 16
    assert metrics["messages_block"] == 8 * 4


def test_a_driver_can_move_the_bookkeeping_right() -> None:
    hybrid = Hybrid(n_validators=6, validator_areas=AREAS)
    chain = consensus_chain(hybrid)
    submit_payments(chain, 1)
    chain.advance_to(2000)
    chain.engine.set_response_strength([0, 0, 0, 3, 5, 0])
    submit_payments(chain, 2, start_ms=2500)
    chain.advance_to(10_000)
    vals = [v.public_hex for v in validators(6)]
    assert sorted(vals.index(s) for s in chain.certificates[-1].signers) == [3, 4]
    with pytest.raises(ValueError, match="one value per validator"):
        chain.engine.set_response_strength([1, 2])


def test_hybrid_certificates_need_distinct_areas() -> None:
    chain = consensus_chain(Hybrid(n_validators=6, validator_areas=AREAS))
    submit_payments(chain, 1)
    [block] = chain.advance_to(2000)
    good = chain.certificates[0]
    # Bookkeeper 1 and another node of the same area (3) do not make a quorum of areas.
    same_area = [sign_vote(validators(6)[i], chain.chain_id, 1, block.block_hash, "commit", 0)
                 for i in (1, 3)]  # fmt: skip
    fields = (good.chain_id, good.height, good.block_hash, good.phase, good.view)
    fresh = Ledger(chain.genesis)
    with pytest.raises(BadCertificate, match="distinct station areas"):
        fresh.apply_block(block, certificate=Certificate(*fields, votes=tuple(same_area)))
    with pytest.raises(BadCertificate, match="quorum is 2"):
        fresh.apply_block(block, certificate=Certificate(*fields, votes=good.votes[:1]))
    fresh.apply_block(block, certificate=good)


def test_a_silent_bookkeeper_is_skipped_by_a_view_change() -> None:
    # Three areas tolerate one faulty bookkeeper.
    areas = [-1, 0, 1, 2]
    chain = consensus_chain(Hybrid(validator_areas=areas, faulty_replicas={2: "silent"}))
    submit_payments(chain, 6, spacing_ms=2000)
    chain.advance_to(60_000)
    metrics = chain.metrics()
    assert metrics["committed_tx"] == 6 and metrics["view_changes"] >= 1
    assert validators(4)[2].public_hex not in {b.header.proposer for b in chain.blocks}


def test_central_operator_seals_without_messages() -> None:
    chain = consensus_chain(Central(network=EXACT_NETWORK))
    submit_payments(chain, 5)
    blocks = chain.advance_to(10_000)
    operator = validators(1)[0].public_hex
    assert {b.header.proposer for b in blocks} == {operator}
    metrics = chain.metrics()
    assert metrics["consensus_messages"] == 0 and metrics["consensus_bytes"] == 0
    # Commit at the slot: tx 0, 500, 1000, 1500 in slot 2000; tx 2000 in slot 4000.
    assert metrics["commit_latency_mean_ms"] == pytest.approx((2000 + 1500 + 1000 + 500 + 2000) / 5)
    assert chain.certificates == []


def test_central_needs_one_operator_and_rejects_others() -> None:
    with pytest.raises(ValueError, match=r"^n_validators must be 1 for central"):
        Central(n_validators=2)
    v0, v1 = validators(2)
    ledger = Ledger(Genesis("grid-a", "central", {}, (v0.public_hex, v1.public_hex), {}))
    with pytest.raises(NotAValidator, match="not the central operator"):
        ledger.apply_block(forge_block(ledger, [], v1))
    ledger.apply_block(forge_block(ledger, [], v0))
