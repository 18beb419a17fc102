"""Per-signature Ed25519 costs, measured in the run that uses them as a baseline.

The issue's signature floor of a simulated day is ``payments x (sign + verify) / cores``:
what the day must cost at least if every cleared payment is signed and verified once
and the work spreads over every core. The per-signature times come from signing and
verifying real message bytes (canonical payment transactions) with the project's own
primitives: OpenSSL through :class:`chain.keys.Identity` and
:func:`chain.keys.verify_signature` (what the chain and the verifier use), and
libsodium through :class:`chain.keys.KeyRing` (what the agents sign with and the
areas' aggregators verify with, when PyNaCl is installed). The floor charges the
fastest of them (:func:`floor_signature_cost`), so that a faster primitive in the
simulator cannot make the day look closer to its floor than it is.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from chain.keyring import KeyRing
from chain.keys import Identity, verify_signature
from experiments.bench.common import best_of


@dataclass(frozen=True)
class SignatureCost:
    """Seconds per Ed25519 signature.

    Attributes:
        sign_s: Wall time to sign one message.
        verify_s: Wall time to verify one signature (public key already parsed and
            cached, as it is for every agent after its first payment).
        messages: How many messages the times were averaged over.
        sign_cpu_s: CPU time of this process to sign one message.
        verify_cpu_s: CPU time of this process to verify one signature. On a machine
            shared with other work the CPU times move less than the wall times.
    """

    sign_s: float
    verify_s: float
    messages: int
    sign_cpu_s: float = float("nan")
    verify_cpu_s: float = float("nan")

    @property
    def sign_verify_s(self) -> float:
        """Sign plus verify: the cost the floor charges per payment."""
        return self.sign_s + self.verify_s


def bench_identities(count: int, seed: int = 7) -> list[Identity]:
    """``count`` deterministic benchmark keys (labels outside the run's agent namespace)."""
    return [Identity.derive(seed, f"bench/{i}") for i in range(count)]


def measure_signature_cost(
    messages: Sequence[bytes], identities: Sequence[Identity], repeats: int = 3
) -> SignatureCost:
    """Time signing and verifying ``messages``, message ``i`` with key ``i % len(identities)``.

    Args:
        messages: Message bytes (e.g. canonical transactions of a real run).
        identities: Signing keys; a few hundred are enough to keep the key cache honest.
        repeats: Each pass is repeated and the fastest kept.

    Raises:
        ValueError: If ``messages`` or ``identities`` is empty.
    """
    if not messages or not identities:
        raise ValueError("messages and identities must not be empty")
    signers = [identities[i % len(identities)] for i in range(len(messages))]
    keys = [signer.public_hex for signer in signers]
    signatures = [signer.sign(message) for signer, message in zip(signers, messages, strict=True)]
    if not all(map(verify_signature, keys, signatures, messages)):  # also warms the key cache
        raise RuntimeError("a freshly made signature did not verify")

    def sign_all() -> None:
        for signer, message in zip(signers, messages, strict=True):
            signer.sign(message)

    def verify_all() -> None:
        list(map(verify_signature, keys, signatures, messages))

    return _timed(sign_all, verify_all, len(messages), repeats)


def _timed(sign_all, verify_all, n: int, repeats: int) -> SignatureCost:
    """Per-signature wall and CPU time of two passes over ``n`` messages (best of repeats)."""
    return SignatureCost(
        sign_s=best_of(repeats, sign_all) / n,
        verify_s=best_of(repeats, verify_all) / n,
        messages=n,
        sign_cpu_s=best_of(repeats, sign_all, clock=time.process_time) / n,
        verify_cpu_s=best_of(repeats, verify_all, clock=time.process_time) / n,
    )


def measure_ring_signature_cost(
    messages: Sequence[bytes], ring: KeyRing, repeats: int = 3
) -> SignatureCost:
    """Like :func:`measure_signature_cost`, with :meth:`KeyRing.sign` and :meth:`KeyRing.verify`.

    Message ``i`` is signed by row ``i % len(ring)``.

    Raises:
        ValueError: If ``messages`` or ``ring`` is empty.
    """
    if not messages or not len(ring):
        raise ValueError("messages and ring must not be empty")
    rows = [i % len(ring) for i in range(len(messages))]
    signatures = [ring.sign(row, message) for row, message in zip(rows, messages, strict=True)]
    if not all(map(ring.verify, rows, signatures, messages)):
        raise RuntimeError("a freshly made signature did not verify")

    def sign_all() -> None:
        for row, message in zip(rows, messages, strict=True):
            ring.sign(row, message)

    def verify_all() -> None:
        list(map(ring.verify, rows, signatures, messages))

    return _timed(sign_all, verify_all, len(messages), repeats)


def floor_signature_cost(
    messages: Sequence[bytes], keys: int = 256, seed: int = 7
) -> tuple[SignatureCost, dict[str, SignatureCost]]:
    """The per-signature cost the floor charges, and what each primitive measured.

    Both primitives sign and verify the same messages; the floor takes the faster sign
    and the faster verify (wall and CPU each), i.e. the cheapest Ed25519 this machine
    offers the simulator. Returns ``(floor, {"openssl": ..., "keyring": ...})``; the
    key ring is libsodium with PyNaCl installed (OpenSSL otherwise).
    """
    by_primitive = {
        "openssl": measure_signature_cost(messages, bench_identities(keys, seed)),
        "keyring": measure_ring_signature_cost(messages, KeyRing(seed, 0, keys, prefix="bench/")),
    }
    costs = list(by_primitive.values())
    floor = SignatureCost(
        sign_s=min(c.sign_s for c in costs),
        verify_s=min(c.verify_s for c in costs),
        messages=costs[0].messages,
        sign_cpu_s=min(c.sign_cpu_s for c in costs),
        verify_cpu_s=min(c.verify_cpu_s for c in costs),
    )
    return floor, by_primitive
