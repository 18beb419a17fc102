"""Seed 001's demand-response settlement protocol (Eqs 4.21-4.25)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from chain.dr_protocol import (
    NO_RECORD,
    DrMessage,
    DrProtocol,
    ForgedToken,
    InsufficientCredit,
    ReplayedToken,
    StaleToken,
    TokenMismatch,
    write_dr_messages,
)
from chain.export import write_ledger
from chain.verify import verify_run
from tests.chain.builders import COIN, pay
from tests.chain.security_builders import registered_chain


def _payment(people, nonce=0, amount=COIN, kind="p2p_payment", ts=1000):
    stx = pay(people[0], people[1], amount, nonce, timestamp_ms=ts)
    if kind != stx.tx.kind:
        from chain.transaction import Transaction, sign_transaction

        tx = stx.tx
        stx = sign_transaction(
            people[0],
            Transaction(tx.chain_id, tx.sender, tx.receiver, tx.amount, tx.nonce, kind,
                        tx.payload, tx.timestamp_ms),
        )  # fmt: skip
    return stx


def _protocol(chain, ttl=5000):
    return DrProtocol(chain.chain_id, chain.registry, ttl, n_validators=4)


def test_honest_flow_is_accepted_and_counted() -> None:
    chain, _, people = registered_chain()
    dr = _protocol(chain)
    stx = _payment(people)
    message = dr.issue(people[0], people[1], stx, credit=10 * COIN, pre_record=NO_RECORD,
                       now_ms=1000)  # fmt: skip
    dr.validate(message, stx, credit=10 * COIN, pre_record=NO_RECORD, now_ms=1500)
    dr.record_messages(message)
    assert message.token["verified"] == 1 and message.token["credit"] == 10 * COIN
    assert message.ev_id == "user/0" and message.wallet.startswith("W")
    # request + response + DR message + one broadcast per validator
    assert dr.metrics()["dr_messages"] == 3 + 4
    with pytest.raises(ReplayedToken):
        dr.validate(message, stx, credit=10 * COIN, pre_record=NO_RECORD, now_ms=1500)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("forged", ForgedToken),
        ("stale", StaleToken),
        ("future", StaleToken),
        ("pre_record", TokenMismatch),
        ("credit", TokenMismatch),
        ("other_payment", TokenMismatch),
    ],
)
def test_bad_messages_are_rejected(change, error) -> None:
    chain, _, people = registered_chain()
    dr = _protocol(chain, ttl=5000)
    stx = _payment(people)
    message = dr.issue(people[0], people[1], stx, credit=10 * COIN, pre_record=NO_RECORD,
                       now_ms=1000)  # fmt: skip
    kwargs = {"credit": 10 * COIN, "pre_record": NO_RECORD, "now_ms": 1000}
    payment = stx
    if change == "forged":
        message = DrMessage(
            message.token, message.ev_id, message.wallet, message.request_signature,
            people[0].sign(b"x").hex(), message.dr_signature, message.broadcast_signature,
        )  # fmt: skip
    elif change == "stale":
        kwargs["now_ms"] = 1000 + 5001
    elif change == "future":
        kwargs["now_ms"] = 999
    elif change == "pre_record":
        kwargs["pre_record"] = "ab" * 32
    elif change == "credit":
        kwargs["credit"] = 9 * COIN
    else:
        payment = _payment(people, amount=2 * COIN)
    with pytest.raises(error):
        dr.validate(message, payment, **kwargs)


def test_sp_refuses_insufficient_credit() -> None:
    chain, _, people = registered_chain()
    with pytest.raises(InsufficientCredit):
        _protocol(chain).issue(people[0], people[1], _payment(people), credit=COIN - 1,
                               pre_record=NO_RECORD, now_ms=1000)  # fmt: skip


def test_gate_chains_pre_records_and_export_verifies(tmp_path) -> None:
    chain, _, people = registered_chain()
    dr = _protocol(chain)
    ids = {p.public_hex: p for p in people}
    batch = [_payment(people, nonce=0), _payment(people, nonce=1, kind="grid_purchase"),
             _payment(people, nonce=2)]  # fmt: skip
    passed, rejected = dr.gate(
        batch, identity_of=ids.__getitem__, balance_of=chain.mempool.pending_balance, now_ms=1000
    )
    assert passed == batch and rejected == []
    assert [m.token["pre_record"] for m in dr.messages] == [NO_RECORD, batch[1].tx_hash]
    assert [m.token["credit"] for m in dr.messages] == [10 * COIN, 8 * COIN]
    assert chain.submit(passed) == []
    dr.note_admitted(passed)
    chain.advance_to(4000)
    params = chain.genesis.params
    assert "dr_kinds" not in params  # this test chain records no DR params: add them
    from chain import Chain, make_genesis

    genesis = make_genesis(
        "grid-a", chain.consensus, dict(chain.genesis.balances), chain.validators,
        extra_params={**dict(params), **dr.genesis_params()},
    )  # fmt: skip
    dr_chain = Chain(genesis, chain.consensus, chain.validators, chain.registry)
    dr_chain.submit(passed)
    dr_chain.advance_to(4000)
    dr.chain_id = "grid-a"
    write_ledger(tmp_path, [dr_chain])
    write_dr_messages(tmp_path, dr.messages)
    report = verify_run(tmp_path)
    assert report.ok, report.problems
    assert report.chains["grid-a"]["dr_messages"] == 2
    # Tamper: a token's pre_record, then a dropped message.
    frame = pq.read_table(tmp_path / "dr_messages.parquet").to_pandas()
    frame.loc[1, "credit"] = 1
    frame.to_parquet(tmp_path / "dr_messages.parquet")
    assert any("token_id" in p for p in verify_run(tmp_path).problems)
    frame.iloc[:1].to_parquet(tmp_path / "dr_messages.parquet")
    assert any("without a DR message" in p for p in verify_run(tmp_path).problems)
