"""PBFT: phases, quorums, certificates, view changes, and faults up to and beyond f."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import BadCertificate, Certificate, Ledger, NetworkModel, Pbft, Vote
from chain.certificate import vote_bytes
from chain.consensus.bft_round import vote_size_bytes
from chain.consensus_rules import fault_tolerance, quorum
from chain.keys import verify_signature_hex
from tests.chain.builders import validators
from tests.chain.consensus_helpers import EXACT_NETWORK, consensus_chain, submit_payments


@pytest.mark.parametrize(
    ("n", "f", "q"), [(1, 0, 1), (2, 0, 2), (3, 0, 2), (4, 1, 3), (5, 1, 4), (7, 2, 5), (10, 3, 7)]
)
def test_fault_tolerance_and_quorum(n: int, f: int, q: int) -> None:
    assert fault_tolerance(n) == f and quorum(n) == q
    # Two quorums always share an honest replica.
    assert 2 * q - n >= f + 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"view_timeout_s": 0}, r"^view_timeout_s must be > 0"),
        ({"faulty_replicas": {4: "silent"}}, r"^faulty_replicas keys must be validator indices"),
        (
            {"faulty_replicas": {0: "lazy"}},
            r"^faulty_replicas\[0\] must be one of silent, equivocate",
        ),
        ({"faulty_replicas": "0"}, r"^faulty_replicas must map"),
        ({"network": {"latency_ms": -1}}, r"^network.latency_ms must be a number >= 0"),
    ],
)
def test_invalid_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Pbft(**kwargs)


def test_params_and_string_keys_from_config() -> None:
    pbft = Pbft(faulty_replicas={"2": "silent"})
    assert pbft.faulty_replicas == ((2, "silent"),)
    assert pbft.params() == {
        "block_period_ms": 2000, "max_block_tx": 5000, "n_validators": 4,
        "seal_empty_blocks": 0, "view_timeout_ms": 1000,
    }  # fmt: skip


def test_normal_case_timing_messages_and_certificate() -> None:
    chain = consensus_chain(Pbft(network=EXACT_NETWORK))
    submit_payments(chain, 3, spacing_ms=100)
    [block] = chain.advance_to(2000)
    vote = vote_size_bytes(chain.chain_id, 1, 0)
    # pre-prepare (block + vote), then one vote hop for prepares and one for commits.
    decide = 2000 + 10 + (block.size_bytes + vote) / 1000 + 2 * (10 + vote / 1000)
    metrics = chain.metrics()
    assert metrics["commit_latency_mean_ms"] == pytest.approx(decide - 100)
    # n = 4: (n - 1) pre-prepares, (n - 1)^2 prepares, n (n - 1) commits.
    assert metrics["messages_pre_prepare"] == 3
    assert metrics["messages_prepare"] == 9
    assert metrics["messages_commit"] == 12
    assert metrics["consensus_messages"] == 24
    assert metrics["bytes_commit"] == 12 * vote
    assert metrics["view_changes"] == 0 and metrics["quorum"] == 3
    [certificate] = chain.certificates
    vals = validators(4)
    assert block.header.proposer == vals[0].public_hex  # the primary of view 0
    assert certificate.phase == "commit" and certificate.view == 0
    assert certificate.block_hash == block.block_hash
    assert len(certificate.votes) == 3
    assert list(certificate.signers) == sorted(
        certificate.signers, key=[v.public_hex for v in vals].index
    )
    message = vote_bytes(chain.chain_id, 1, block.block_hash, "commit", 0)
    assert all(verify_signature_hex(v.signer, v.signature, message) for v in certificate.votes)


def test_silent_primary_triggers_a_view_change() -> None:
    chain = consensus_chain(Pbft(faulty_replicas={0: "silent"}, network=EXACT_NETWORK))
    submit_payments(chain, 2, spacing_ms=100)
    [block] = chain.advance_to(10_000)
    vote = vote_size_bytes(chain.chain_id, 1, 1)
    # View 0 times out at 2000 + 1000; the new primary (1) starts once it holds q = 3
    # VIEW-CHANGEs: its own and the two that travel one hop.
    new_view = 3000 + 10 + vote / 1000
    assert block.header.timestamp_ms == 3011  # ceil(new_view)
    assert block.header.proposer == validators(4)[1].public_hex
    [certificate] = chain.certificates
    assert certificate.view == 1
    assert validators(4)[0].public_hex not in certificate.signers
    metrics = chain.metrics()
    assert metrics["view_changes"] == 1 and metrics["view"] == 1
    assert metrics["messages_view_change"] == 3 * 3 and metrics["messages_new_view"] == 3
    assert new_view < metrics["commit_latency_mean_ms"] + 50 < new_view + 100


def test_the_new_primary_stays_for_later_blocks() -> None:
    chain = consensus_chain(Pbft(faulty_replicas={0: "silent"}, network=EXACT_NETWORK))
    submit_payments(chain, 4, spacing_ms=2500)
    blocks = chain.advance_to(20_000)
    assert sum(b.n_tx for b in blocks) == 4 and len(blocks) == 3  # the first two wait for view 1
    assert {b.header.proposer for b in blocks} == {validators(4)[1].public_hex}
    assert chain.metrics()["view_changes"] == 1


def test_equivocating_primary_is_replaced_and_safety_holds() -> None:
    chain = consensus_chain(Pbft(faulty_replicas={0: "equivocate"}, network=EXACT_NETWORK))
    submit_payments(chain, 6, spacing_ms=1000)
    chain.advance_to(30_000)
    metrics = chain.metrics()
    assert metrics["committed_tx"] == 6 and metrics["safety_violations"] == 0
    assert metrics["view_changes"] >= 1
    # After the view change the honest primary 1 proposes.
    assert chain.blocks[-1].header.proposer == validators(4)[1].public_hex


def test_f_faulty_backups_do_not_stop_the_chain() -> None:
    for behaviour in ("silent", "equivocate"):
        chain = consensus_chain(Pbft(n_validators=7, faulty_replicas={2: behaviour, 5: behaviour}))
        submit_payments(chain, 8)
        chain.advance_to(20_000)
        metrics = chain.metrics()
        assert metrics["committed_tx"] == 8 and metrics["view_changes"] == 0, behaviour


def test_more_than_f_silent_replicas_lose_liveness_but_never_commit() -> None:
    chain = consensus_chain(Pbft(faulty_replicas={1: "silent", 2: "silent"}))
    submit_payments(chain, 5)
    assert chain.advance_to(3_600_000) == []
    metrics = chain.metrics()
    assert metrics["blocks"] == 0 and metrics["mempool_size"] == 5
    assert metrics["liveness_lost"] == 1 and metrics["safety_violations"] == 0
    # Timers double: a handful of view changes in an hour, not one per slot.
    assert 5 <= metrics["view_changes"] <= 15


def test_more_than_f_equivocators_never_commit_conflicting_blocks() -> None:
    chain = consensus_chain(Pbft(faulty_replicas={0: "equivocate", 1: "equivocate"}))
    submit_payments(chain, 5)
    assert chain.advance_to(600_000) == []
    metrics = chain.metrics()
    assert metrics["blocks"] == 0
    assert metrics["safety_violations"] == 1 and metrics["halted"] == 1


@settings(max_examples=20, deadline=None)
@given(
    st.sampled_from([4, 5, 7]),
    st.data(),
)
def test_up_to_f_faults_commit_everything_safely(n: int, data: st.DataObject) -> None:
    f = fault_tolerance(n)
    faulty = data.draw(st.lists(st.integers(0, n - 1), max_size=f, unique=True))
    behaviours = data.draw(
        st.lists(
            st.sampled_from(["silent", "equivocate"]), min_size=len(faulty), max_size=len(faulty)
        )
    )
    chain = consensus_chain(
        Pbft(n_validators=n, faulty_replicas=dict(zip(faulty, behaviours, strict=True)))
    )
    submit_payments(chain, 6, spacing_ms=700)
    chain.advance_to(120_000)
    metrics = chain.metrics()
    assert metrics["committed_tx"] == 6 and metrics["safety_violations"] == 0
    assert len(chain.certificates) == chain.ledger.height


def test_ledger_rejects_bad_certificates() -> None:
    chain = consensus_chain(Pbft())
    submit_payments(chain, 1)
    [block] = chain.advance_to(2000)
    good = chain.certificates[0]
    vals = validators(4)
    fresh = Ledger(chain.genesis)

    def rejected(certificate: Certificate | None, match: str) -> None:
        with pytest.raises(BadCertificate, match=match):
            fresh.apply_block(block, certificate=certificate)
        assert fresh.height == 0

    rejected(None, "no commit certificate")
    rejected(Certificate(*_fields(good), votes=good.votes[:2]), "quorum is 3")
    rejected(Certificate(*_fields(good), votes=(*good.votes[:2], good.votes[0])), "twice")
    forged = Vote(good.votes[2].signer, good.votes[1].signature)
    rejected(Certificate(*_fields(good), votes=(*good.votes[:2], forged)), "forged")
    outsider = Vote(validators(5)[4].public_hex, good.votes[0].signature)
    rejected(Certificate(*_fields(good), votes=(*good.votes, outsider)), "not a validator")
    wrong_view = Certificate(good.chain_id, good.height, good.block_hash, "commit", 1, good.votes)
    rejected(wrong_view, "forged")
    fresh.apply_block(block, certificate=good)
    assert fresh.certificates[1] == good and vals[0].public_hex in good.signers


def _fields(certificate: Certificate) -> tuple:
    return (certificate.chain_id, certificate.height, certificate.block_hash, certificate.phase,
            certificate.view)  # fmt: skip


def test_a_prepared_block_is_carried_into_the_next_view() -> None:
    # A 100 ms timer expires after the replicas prepared (about 81 ms) but before they
    # commit (about 121 ms): the next primary re-proposes the prepared block, and the
    # doubled timer lets it commit.
    network = NetworkModel(latency_ms=40.0, bandwidth_mbps=8.0)
    chain = consensus_chain(Pbft(view_timeout_s=0.1, network=network))
    submit_payments(chain, 1)
    assert chain.advance_to(2000) == []  # the view change happens at 2100
    [block] = chain.advance_to(3000)
    vals = validators(4)
    assert block.header.proposer == vals[0].public_hex and block.header.timestamp_ms == 2000
    [certificate] = chain.certificates
    assert certificate.view == 1 and vals[1].public_hex in certificate.signers
    metrics = chain.metrics()
    assert metrics["view_changes"] == 1 and metrics["views_started"] == 2
    assert 2100 + 40 < metrics["commit_latency_mean_ms"] < 2100 + 200
