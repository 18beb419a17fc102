"""Block headers, sealing and proof-of-work bit counting."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from chain import BlockHeader, seal_block
from chain.block import leading_zero_bits
from chain.encoding import sha256_hex
from chain.keys import verify_signature_hex
from chain.merkle import merkle_root
from tests.chain.builders import CHAIN_ID, pay, users, validators

ALICE, BOB, _ = users(3)
PROPOSER = validators(1)[0]


def make_header(**overrides: Any) -> BlockHeader:
    fields: dict[str, Any] = {
        "chain_id": CHAIN_ID,
        "height": 1,
        "prev_hash": "11" * 32,
        "merkle_root": "00" * 32,
        "timestamp_ms": 2000,
        "proposer": PROPOSER.public_hex,
        "consensus": "poa",
        "nonce": 0,
        "difficulty_bits": 0,
    }
    fields.update(overrides)
    return BlockHeader(**fields)


def test_header_canonical_bytes_and_hash() -> None:
    header = make_header()
    assert set(header.body()) == {
        "chain_id", "height", "prev_hash", "merkle_root", "timestamp_ms",
        "proposer", "consensus", "nonce", "difficulty_bits",
    }  # fmt: skip
    expected = json.dumps(header.body(), sort_keys=True, separators=(",", ":"))
    assert header.canonical() == expected.encode()
    assert header.block_hash == sha256_hex(header.canonical())
    assert pickle.loads(pickle.dumps(header)).block_hash == header.block_hash


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("height", 0),
        ("prev_hash", "xyz"),
        ("merkle_root", "AB" * 32),
        ("timestamp_ms", 2.0),
        ("nonce", -1),
        ("difficulty_bits", 257),
        ("consensus", ""),
    ],
)
def test_invalid_header_fields(field: str, value: object) -> None:
    with pytest.raises((TypeError, ValueError), match=field):
        make_header(**{field: value})


def test_seal_block_signs_the_header() -> None:
    stxs = [pay(ALICE, BOB, 5, 0), pay(ALICE, BOB, 6, 1)]
    header = make_header(merkle_root=merkle_root([s.tx_hash for s in stxs]))
    block = seal_block(header, PROPOSER, stxs)
    assert block.block_hash == header.block_hash
    assert block.n_tx == 2 and block.height == 1
    assert isinstance(block.transactions, tuple)
    assert verify_signature_hex(PROPOSER.public_hex, block.proposer_signature, header.canonical())
    assert block.size_bytes == len(header.canonical()) + 64 + sum(
        len(s.tx.canonical()) + 64 for s in stxs
    )
    assert pickle.loads(pickle.dumps(block)) == block


def test_seal_block_rejects_a_foreign_proposer() -> None:
    with pytest.raises(ValueError, match="cannot seal"):
        seal_block(make_header(), ALICE, [])


@pytest.mark.parametrize(
    ("hash_hex", "bits"),
    [
        ("f" + "0" * 63, 0),
        ("1" + "0" * 63, 3),
        ("0" * 63 + "1", 255),
        ("0" * 64, 256),
        ("08" + "f" * 62, 4),
    ],
)
def test_leading_zero_bits(hash_hex: str, bits: int) -> None:
    assert leading_zero_bits(hash_hex) == bits
