"""Golden values of the worked example in docs/ledger-format.md (the format must not drift)."""

# ruff: noqa: D103  (test names describe the behaviour)

from __future__ import annotations

from chain import (
    BlockHeader,
    Identity,
    ProofOfAuthority,
    Transaction,
    make_genesis,
    merkle_root,
    sign_transaction,
)

ALICE = Identity.derive(1, "alice")
BOB = Identity.derive(1, "bob")
VALIDATOR = Identity.derive(1, "validator/0")

TX_CANONICAL = (
    '{"amount":1250000,"chain_id":"grid-a","kind":"trade_settlement","nonce":0,'
    '"payload":{"energy_wh":1500,"price_ucoin_per_kwh":833333,"site":"Zürich","trade_id":"T-17"},'
    '"receiver":"8ccaa9fb32895acb8b5ee65db997ec7a515dd325d5ecd6db9dda67e89ebcc599",'
    '"sender":"d3f6a54944a15c4aa447cd5cd239a615fd7593005fad6939c37af58b213a06c9",'
    '"timestamp_ms":61000}'
)


def example_transactions() -> list[Transaction]:
    payload = {
        "trade_id": "T-17",
        "energy_wh": 1500,
        "price_ucoin_per_kwh": 833333,
        "site": "Zürich",
    }
    a, b = ALICE.public_hex, BOB.public_hex
    return [
        Transaction("grid-a", a, b, 1_250_000, 0, "trade_settlement", payload, 61_000),
        Transaction("grid-a", b, a, 0, 0, "transfer", {}, 61_500),
        Transaction("grid-a", a, b, 5, 1, "transfer", {"note": "x"}, 61_900),
    ]


def test_keys() -> None:
    assert ALICE.public_hex == "d3f6a54944a15c4aa447cd5cd239a615fd7593005fad6939c37af58b213a06c9"
    assert BOB.public_hex == "8ccaa9fb32895acb8b5ee65db997ec7a515dd325d5ecd6db9dda67e89ebcc599"
    assert VALIDATOR.public_hex == (
        "cad597624d690e20d8a407e2662c5cb0f0b33949a62393a747ab3de80f358d48"
    )


def test_transaction_bytes_hash_and_signature() -> None:
    tx = example_transactions()[0]
    assert tx.canonical() == TX_CANONICAL.encode("utf-8")
    assert len(tx.canonical()) == 342
    assert tx.tx_hash == "14ec67275cf83eafc6f7883c82319c9d0842ea6bbc2df1940215e44ee4d4a9d4"
    assert sign_transaction(ALICE, tx).signature == (
        "c80dc07972d76b07b2949051c3b34e404a2b88c477302a5ff75ca6a4f29c1101"
        "30269143635c6d4a77a7c242d3bc7d098fb21e396fbab8fb2a5b7b463452c904"
    )


def test_merkle_genesis_and_header() -> None:
    hashes = [tx.tx_hash for tx in example_transactions()]
    assert hashes[1:] == [
        "6429a26c3f8185ce30f9a7161ce5d41bf2b3a4b61363f914cab319459a3210f3",
        "626a8853570f08cbee8aa3e8395ef53e81b35c2d335689eb78de88dfdcf4c90a",
    ]
    root = merkle_root(hashes)
    assert root == "ee9b15874490a0319f79d37650ad6c379f5622352e1ac52063dba6132449e217"
    genesis = make_genesis(
        "grid-a", ProofOfAuthority(n_validators=1), {ALICE.public_hex: 10_000_000}, [VALIDATOR]
    )
    assert genesis.hash == "8b0a7fd8134fbe338a0cec9ccec36c70a59361bb9d90251f39b8ccae54c04ff2"
    header = BlockHeader("grid-a", 1, genesis.hash, root, 62_000, VALIDATOR.public_hex, "poa", 0, 0)
    assert header.block_hash == "3ebcb1770ed3e86a7a776da8aa3f3f20b7918be61d2052ba3ac127fcd194ca7c"
