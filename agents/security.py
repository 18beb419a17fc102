"""The driver's security wiring: identity registry, DR settlement and attack injection.

:class:`RunSecurity` registers every node of a run with a certificate authority
(``chain.authority``: the grid operator, the validators, every wallet holder and
one regulator), runs seed 001's demand-response protocol in front of the mempool
for the configured payment kinds (``chain.dr_protocol``), and hands each step to the
:class:`~agents.adversary.AttackInjector`. ``GridModel`` calls it at three points:
building the genesis, submitting the step's payments, and recording metrics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.adversary import AdversaryConfig, AttackInjector
from agents.market_security import MarketSecurity
from agents.params import check
from chain.authority import CertificateAuthority
from chain.dr_protocol import DrProtocol, DrRejected
from chain.keys import Identity
from chain.transaction import SignedTransaction

DR_MODES = ("auto", "on", "off")
#: Markets whose payments go through the DR protocol under ``dr_protocol: auto``.
DR_MARKETS = ("double_auction",)


def dr_enabled(mode: str, market_name: str) -> bool:
    """Whether the DR protocol settles payments (``auto``: for the double auction).

    Raises:
        ParameterError: For an unknown mode.
    """
    check(mode in DR_MODES, "dr_protocol", f"one of {', '.join(DR_MODES)}", mode)
    return mode == "on" or (mode == "auto" and market_name in DR_MARKETS)


class RunSecurity:
    """Registry, DR protocol and attacks of one run.

    Args:
        run_seed: The run's seed.
        chain_id: The chain's id.
        public_keys: Public key per global agent id (0: grid operator).
        validators: Validator identities.
        standby_validators: Identities that may become validators later (proof-of-work
            miners of later periods, :mod:`chain.miner_set`); registered as validators.
        adversary: The adversary configuration (None: no adversary).
        dr_protocol: ``auto``, ``on`` or ``off``.
        market_name: The market's name (for ``auto``).
        dr_token_ttl_ms: How long a DR token is valid.
        market: Tallies of the market adversaries (their sybils register here).
        clearing_keys: Public keys of the areas' clearing accounts (net settlement,
            :mod:`agents.netting`), registered as ``clearing/<area>`` users.
    """

    def __init__(
        self,
        *,
        run_seed: int,
        chain_id: str,
        public_keys: list[str],
        validators: list[Identity],
        adversary: AdversaryConfig | None,
        standby_validators: list[Identity] = (),  # type: ignore[assignment]
        dr_protocol: str = "auto",
        market_name: str = "",
        dr_token_ttl_ms: int = 60_000,
        market: MarketSecurity | None = None,
        clearing_keys: list[str] = (),  # type: ignore[assignment]
    ) -> None:
        adversary = adversary if adversary is not None else AdversaryConfig()
        self.adversary = adversary
        ca_identity = Identity.derive(run_seed, "authority/ca")
        self.authority = CertificateAuthority(
            ca_identity, adversary.registration_quota, ca_identity.public_bytes
        )
        register = self.authority.register
        register("agent/0", "grid_operator", public_keys[0])
        for k, identity in enumerate([*validators, *standby_validators]):
            register(f"validator/{k}", "validator", identity.public_hex)
        for agent in range(1, len(public_keys)):
            register(f"agent/{agent}", "user", public_keys[agent])
        self.regulator = Identity.derive(run_seed, "regulator/0")
        register("regulator/0", "regulator", self.regulator.public_hex)
        for area, key in enumerate(clearing_keys):  # net settlement (agents.netting)
            register(f"clearing/{area}", "user", key)
        self.injector = AttackInjector(adversary, run_seed, public_keys, self.authority)
        self.market = market
        if market is not None:
            market.register_sybils(self.authority, run_seed, adversary.sybil_identities)
        self.registry = self.authority.registry()
        self.public_keys = public_keys
        self.run_seed = run_seed
        self.dr: DrProtocol | None = None
        if dr_enabled(dr_protocol, market_name):
            self.dr = DrProtocol(
                chain_id, self.registry, dr_token_ttl_ms, n_validators=len(validators)
            )
        self._keys: dict[str, int] | None = None  # key -> agent id, built on first use
        self._identities: dict[str, Identity] = {}
        self.chain: Any = None

    def wallets(self, agents: np.ndarray) -> np.ndarray:
        """Wallet address of each global agent id in ``agents`` (object array of str)."""
        keys = self.public_keys
        return np.array([self.registry.wallet_of(keys[int(a)]) for a in agents], dtype=object)

    def genesis_params(self) -> dict[str, int | str]:
        """Params binding the genesis to the registry (and recording the DR protocol)."""
        params: dict[str, int | str] = dict(self.registry.genesis_params())
        if self.dr is not None:
            params.update(self.dr.genesis_params())
        return params

    def _identity(self, key: str) -> Identity:
        identity = self._identities.get(key)
        if identity is None:
            if self._keys is None:
                self._keys = {k: i for i, k in enumerate(self.public_keys)}
            identity = Identity.derive(self.run_seed, f"agent/{self._keys[key]}")
            self._identities[key] = identity
        return identity

    def submit(
        self, chain: Any, signed: list[SignedTransaction], now_ms: int, *, verified: bool = False
    ) -> list:
        """Settle the step's payments: DR protocol, mempool, then the attacks.

        ``verified``: the honest payments' signatures were verified where they were
        signed (the areas, the driver for the grid operator), so the mempool admits
        them without a second Ed25519 check. The attacks' transactions are always
        submitted unverified: forged or replayed signatures are checked in full.

        Returns:
            The honest transactions rejected (by the DR protocol or the mempool)
            with their errors, as ``Chain.submit`` returns them.
        """
        dr_rejected: list[tuple[SignedTransaction, DrRejected]] = []
        passed = signed
        if self.dr is not None:
            passed, dr_rejected = self.dr.gate(
                signed,
                identity_of=self._identity,
                balance_of=chain.mempool.pending_balance,
                now_ms=now_ms,
            )
        rejected = chain.submit(passed, verified=verified)
        refused = {id(stx) for stx, _ in rejected}
        admitted = [stx for stx in passed if id(stx) not in refused]
        if self.dr is not None:
            self.dr.note_admitted(admitted)
        self.injector.observe(admitted)
        self.injector.inject(chain, now_ms, self.dr)
        return [*dr_rejected, *rejected]

    def metric_keys(self) -> list[str]:
        """model.parquet columns this adds."""
        keys = self.injector.metric_keys()
        if self.market is not None:
            keys += self.market.metric_keys()
        if self.dr is not None:
            keys += ["dr_messages", "dr_bytes", "dr_payments"]
        return keys

    def metrics(self) -> dict[str, float]:
        """Cumulative counts for this step's row."""
        row = self.injector.metrics()
        if self.market is not None:
            row.update(self.market.metrics())
        if self.dr is not None:
            dr = self.dr.metrics()
            row.update({key: float(dr[key]) for key in ("dr_messages", "dr_bytes", "dr_payments")})
        return row

    def summary(self, chain: Any) -> dict[str, Any]:
        """summary.json's ``security`` section."""
        out = self.injector.summary(chain)
        out["identities"] = {
            "registered": len(self.registry),
            "registration_quota": self.adversary.registration_quota,
            "refused": dict(sorted(self.authority.refused.items())),
            "ca_public_key": self.registry.ca_public_key,
            "registry_root": self.registry.root,
        }
        out["dr_protocol"] = self.dr.metrics() if self.dr is not None else None
        out["market"] = self.market.summary() if self.market is not None else None
        return out
