"""A registered PoA chain for the identity, DR, attack and query tests."""

from __future__ import annotations

from chain import Chain, Identity, ProofOfAuthority, make_genesis
from chain.authority import CertificateAuthority
from tests.chain.builders import COIN, SEED, users, validators


def registered_chain(
    n_users: int = 4, balance: int = 10 * COIN, quota: int = 1, consensus=None
) -> tuple[Chain, CertificateAuthority, list[Identity]]:
    """A chain whose genesis names an authority that certified the users and validators."""
    consensus = consensus or ProofOfAuthority(block_period_s=2.0, n_validators=4)
    people = users(n_users)
    vals = validators(consensus.n_validators)
    ca_identity = Identity.derive(SEED, "authority/ca")
    ca = CertificateAuthority(ca_identity, quota, b"test")
    for i, user in enumerate(people):
        ca.register(f"user/{i}", "user", user.public_hex)
    for k, val in enumerate(vals):
        ca.register(f"validator/{k}", "validator", val.public_hex)
    regulator = Identity.derive(SEED, "regulator/0")
    ca.register("regulator/0", "regulator", regulator.public_hex)
    registry = ca.registry()
    genesis = make_genesis(
        "grid-a", consensus, {u.public_hex: balance for u in people}, vals,
        extra_params=registry.genesis_params(),
    )  # fmt: skip
    return Chain(genesis, consensus, vals, registry), ca, people
