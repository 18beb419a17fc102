"""Adversaries in the simulation (config group ``adversary/``): who attacks and how often.

:class:`AdversaryConfig` is the Hydra plug-in: a share of the wallet holders is
adversarial and tries the configured attack kinds every step
(:mod:`chain.attacks`); a number of validators can be faulty (silent or
equivocating PBFT replicas, silent PoA sealers, vetoing or forging PoW miners);
a proof-of-work attacker's hash share is analysed for a private fork. The
:class:`AttackInjector` builds the attacks from the chain's state each step, offers
them to the chain and counts every outcome by kind. Market-level adversaries
(``contract_breaker``, ``surplus_liar``, ``market_sybil``) are drawn and metered by
:mod:`agents.market_adversary` and counted by :mod:`agents.market_security`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.market_adversary import MARKET_KINDS
from agents.params import ParameterError, check, is_integer
from chain import attacks
from chain.authority import CertificateAuthority, RegistrationRefused
from chain.dr_protocol import NO_RECORD
from chain.keys import Identity
from chain.transaction import SignedTransaction

VALIDATOR_BEHAVIOURS = ("silent", "equivocate", "veto", "forge")
_CONSENSUS_FAULTS = {
    "pbft": ("silent", "equivocate"),
    "hybrid": ("silent", "equivocate"),
    "poa": ("silent",),
    "pow": ("veto", "forge"),
    "central": (),
}


@dataclass(frozen=True)
class AdversaryConfig:
    """Which attacks a run suffers (``conf/adversary/*.yaml``).

    Attributes:
        share: Fraction of wallet holders that are adversarial, in [0, 1]; with
            ``share > 0`` at least one agent is.
        kinds: Attack kinds from :data:`chain.attacks.ATTACK_KINDS`, or ``["all"]``
            (every chain attack), and market kinds from
            :data:`agents.market_adversary.MARKET_KINDS`.
            Block attacks come from one rogue validator or outsider per step,
            whatever the share; DR attacks need the DR protocol on.
        sybil_identities: Extra identities each adversarial agent asks the
            authority for (``sybil``).
        registration_quota: The authority's identities per real-world entity (>= 1).
        faulty_validators: How many validators misbehave (the last ones).
        validator_behaviour: ``silent`` or ``equivocate`` (pbft, hybrid),
            ``silent`` (poa), ``veto`` or ``forge`` (pow).
        fork_hash_share: Proof of work: the private-fork attacker's hash share in [0, 1).
        fork_trials: Monte Carlo trials of the private-fork race.
        market_hook: Reserved (unused; the market kinds live in ``kinds``).
        lie_factor: A surplus liar offers this many times its real surplus (> 1).
        breach_delivery_fraction: Share of a sale a contract breaker delivers, in [0, 1).
    """

    share: float = 0.0
    kinds: Any = ()
    sybil_identities: int = 3
    registration_quota: int = 1
    faulty_validators: int = 0
    validator_behaviour: str = "silent"
    fork_hash_share: float = 0.0
    fork_trials: int = 2000
    market_hook: Any = None
    lie_factor: float = 2.0
    breach_delivery_fraction: float = 0.0

    def __post_init__(self) -> None:
        check(
            isinstance(self.share, int | float) and 0.0 <= self.share <= 1.0,
            "share", "a number in [0, 1]", self.share,
        )  # fmt: skip
        kinds = tuple(self.kinds or ())
        if "all" in kinds:  # every chain attack, in place of "all"; market kinds stay
            at = kinds.index("all")
            kinds = (*kinds[:at], *attacks.ATTACK_KINDS, *kinds[at + 1 :])
        known = (*attacks.ATTACK_KINDS, *MARKET_KINDS)
        unknown = [k for k in kinds if k not in known]
        check(not unknown, "kinds", f"a list of {', '.join(known)} or all", unknown)
        object.__setattr__(self, "kinds", tuple(dict.fromkeys(kinds)))
        for name, minimum in (
            ("sybil_identities", 0), ("registration_quota", 1), ("faulty_validators", 0),
            ("fork_trials", 1),
        ):  # fmt: skip
            value = getattr(self, name)
            check(is_integer(value) and value >= minimum, name, f"an integer >= {minimum}", value)
        check(
            self.validator_behaviour in VALIDATOR_BEHAVIOURS,
            "validator_behaviour", f"one of {', '.join(VALIDATOR_BEHAVIOURS)}",
            self.validator_behaviour,
        )  # fmt: skip
        check(
            isinstance(self.fork_hash_share, int | float) and 0.0 <= self.fork_hash_share < 1.0,
            "fork_hash_share", "a number in [0, 1)", self.fork_hash_share,
        )  # fmt: skip
        check(
            isinstance(self.lie_factor, int | float) and self.lie_factor > 1.0,
            "lie_factor", "a number > 1", self.lie_factor,
        )  # fmt: skip
        check(
            isinstance(self.breach_delivery_fraction, int | float)
            and 0.0 <= self.breach_delivery_fraction < 1.0,
            "breach_delivery_fraction", "a number in [0, 1)", self.breach_delivery_fraction,
        )  # fmt: skip

    @property
    def chain_kinds(self) -> tuple[str, ...]:
        """The configured attacks on the chain (:data:`chain.attacks.ATTACK_KINDS`)."""
        return tuple(k for k in self.kinds if k in attacks.ATTACK_KINDS)

    @property
    def market_kinds(self) -> tuple[str, ...]:
        """The configured market adversaries (:data:`agents.market_adversary.MARKET_KINDS`)."""
        return tuple(k for k in self.kinds if k in MARKET_KINDS)

    def with_faulty_validators(self, consensus: Any) -> Any:
        """``consensus`` with the last ``faulty_validators`` validators misbehaving.

        Raises:
            ParameterError: The consensus has no such fault, or too many validators.
        """
        k = self.faulty_validators
        if k == 0:
            return consensus
        allowed = _CONSENSUS_FAULTS.get(consensus.name, ())
        check(
            self.validator_behaviour in allowed,
            "validator_behaviour",
            f"one of {', '.join(allowed) or 'nothing'} for chain={consensus.name}",
            self.validator_behaviour,
        )
        n = consensus.n_validators
        check(k <= n, "faulty_validators", f"at most n_validators ({n})", k)
        faulty = list(range(n - k, n))
        behaviour = self.validator_behaviour
        if consensus.name == "poa":
            return dataclasses.replace(consensus, silent_validators=faulty)
        if consensus.name == "pow":
            return dataclasses.replace(consensus, faulty_miners={i: behaviour for i in faulty})
        return dataclasses.replace(consensus, faulty_replicas={i: behaviour for i in faulty})


class AttackInjector:
    """Builds, offers and counts the configured attacks of one run.

    Args:
        config: The adversary configuration.
        run_seed: The run's seed (attackers are drawn from their own generator,
            so an honest run's randomness is untouched).
        public_keys: Public key of every global agent id (0 is the grid operator).
        authority: The certificate authority (sybil registrations go to it).
    """

    def __init__(
        self,
        config: AdversaryConfig,
        run_seed: int,
        public_keys: list[str],
        authority: CertificateAuthority | None,
    ) -> None:
        self.config, self.run_seed = config, run_seed
        self.public_keys = public_keys
        self.rng = np.random.default_rng([run_seed, 0xAD7])
        holders = len(public_keys) - 1
        n = min(holders, max(1, round(config.share * holders))) if config.share > 0 else 0
        chosen = np.sort(self.rng.choice(np.arange(1, holders + 1), size=n, replace=False))
        self.kinds = config.chain_kinds
        self.attackers: list[int] = [int(i) for i in chosen] if self.kinds else []
        self.attacker_set = set(self.attackers)
        self.honest = np.array([i for i in range(1, holders + 1) if i not in self.attacker_set])
        self.log = attacks.AttackLedger()
        self._identities: dict[int, Identity] = {}
        self.last_sent: dict[str, SignedTransaction] = {}
        self.last_received: dict[str, SignedTransaction] = {}
        self.sybil_keys: list[Identity] = []
        if "sybil" in self.kinds and authority is not None:
            self._register_sybils(authority)

    def identity(self, agent: int) -> Identity:
        """The key pair of global agent ``agent`` (derived from the public run seed)."""
        identity = self._identities.get(agent)
        if identity is None:
            identity = Identity.derive(self.run_seed, f"agent/{agent}")
            self._identities[agent] = identity
        return identity

    def _register_sybils(self, authority: CertificateAuthority) -> None:
        for agent in self.attackers:
            for k in range(self.config.sybil_identities):
                sybil = Identity.derive(self.run_seed, f"sybil/{agent}/{k}")
                try:
                    authority.register(
                        f"sybil/{agent}/{k}", "user", sybil.public_hex, entity=f"agent/{agent}"
                    )
                except RegistrationRefused as err:
                    self.log.record("sybil", f"RegistrationRefused_{err.reason}")
                    self.sybil_keys.append(sybil)
                else:
                    self.log.record("sybil", None)

    # ------------------------------------------------------------------ per step
    def observe(self, admitted: list[SignedTransaction]) -> None:
        """Remember honest admitted payments (the material of double spends and replays)."""
        if not self.attackers:
            return
        keys = {self.public_keys[a] for a in self.attackers}
        for stx in admitted:
            if stx.tx.sender in keys:
                self.last_sent[stx.tx.sender] = stx
            if stx.tx.receiver in keys:
                self.last_received[stx.tx.receiver] = stx

    def inject(self, chain: Any, now_ms: int, dr: Any = None) -> None:
        """Build this step's attacks from the chain's state, offer them and count."""
        kinds = self.kinds
        if not kinds:
            return
        chain_id, mempool = chain.chain_id, chain.mempool
        batch: list[tuple[str, SignedTransaction]] = []
        for agent in self.attackers:
            me = self.identity(agent)
            key = me.public_hex
            other = self.public_keys[int(self.rng.choice(self.honest))] if len(self.honest) else key
            if "double_spend" in kinds and key in self.last_sent:
                batch.append(
                    ("double_spend", attacks.double_spend(me, self.last_sent[key], other, now_ms))
                )
            if "replay" in kinds and key in self.last_received:
                batch.append(("replay", attacks.replay(self.last_received[key])))
            if "forge" in kinds and other != key:
                nonce = mempool.pending_nonce(other)
                batch.append(("forge", attacks.forge(me, chain_id, other, nonce, 1000, now_ms)))
            if "overdraft" in kinds:
                nonce, balance = mempool.pending_nonce(key), mempool.pending_balance(key)
                batch.append(
                    ("overdraft", attacks.overdraft(me, chain_id, other, nonce, balance, now_ms))
                )
            if "unregistered" in kinds:
                outsider = Identity.derive(self.run_seed, f"outsider/{agent}")
                batch.append(
                    ("unregistered", attacks.unregistered(outsider, chain_id, other, now_ms))
                )
        if "sybil" in kinds:
            for sybil in self.sybil_keys:
                target = self.public_keys[0]
                batch.append(("sybil", attacks.unregistered(sybil, chain_id, target, now_ms)))
        if batch:
            attacks.submit_attacks(chain, batch, self.log)
        self._block_attacks(chain, now_ms)
        if dr is not None:
            self._dr_attacks(chain, dr, now_ms)

    def _block_attacks(self, chain: Any, now_ms: int) -> None:
        kinds = self.kinds
        consensus = chain.ledger.genesis.consensus
        if "tampered_block" in kinds and len(self.honest):
            victim = self.public_keys[int(self.rng.choice(self.honest))]
            block = attacks.tampered_block(chain, victim, now_ms)
            self.log.record("tampered_block", attacks.try_apply(chain, block))
        if "rogue_sealer" in kinds:
            outsider = Identity.derive(self.run_seed, "rogue-sealer")
            block = attacks.rogue_sealer_block(chain, outsider)
            self.log.record("rogue_sealer", attacks.try_apply(chain, block))
        if "too_frequent_sealer" in kinds and consensus == "poa":
            block = attacks.too_frequent_block(chain)
            if block is not None:
                self.log.record("too_frequent_sealer", attacks.try_apply(chain, block))

    def _dr_attacks(self, chain: Any, dr: Any, now_ms: int) -> None:
        kinds = self.kinds
        if not any(k in kinds for k in attacks.DR_ATTACKS) or not len(self.honest):
            return
        mempool = chain.mempool
        for agent in self.attackers:
            me = self.identity(agent)
            key = me.public_hex
            sp_agent = int(self.rng.choice(self.honest))
            sp = self.identity(sp_agent)
            credit = mempool.pending_balance(key)
            record = dr.last_record.get(key, NO_RECORD)
            nonce = mempool.pending_nonce(key)
            tx = attacks.make_tx(chain.chain_id, key, sp.public_hex, 0, nonce, now_ms)
            payment = attacks.sign_transaction(me, tx)
            context = {"credit": credit, "pre_record": record, "now_ms": now_ms}
            if "dr_forged_token" in kinds:
                genuine = dr.issue(me, sp, payment, credit=credit, pre_record=record, now_ms=now_ms)
                forged = attacks.dr_forged(dr, genuine, me)
                self.log.record("dr_forged_token", attacks.try_dr(dr, forged, payment, **context))
            if "dr_stale_token" in kinds:
                old = now_ms - dr.token_ttl_ms - 1
                stale = dr.issue(me, sp, payment, credit=credit, pre_record=record, now_ms=old)
                self.log.record("dr_stale_token", attacks.try_dr(dr, stale, payment, **context))
            if "dr_replay" in kinds and dr.messages:
                used = dr.messages[int(self.rng.integers(len(dr.messages)))]
                self.log.record("dr_replay", attacks.try_dr(dr, used, payment, **context))

    # ------------------------------------------------------------------ reporting
    def metric_keys(self) -> list[str]:
        """model.parquet columns: totals and ``attack_<kind>_attempted/_rejected``."""
        keys = ["attacks_attempted", "attacks_rejected", "attacks_accepted"]
        for kind in self.kinds:
            keys += [f"attack_{kind}_attempted", f"attack_{kind}_rejected"]
        return keys

    def metrics(self) -> dict[str, float]:
        """Cumulative counts so far (one row of model.parquet)."""
        log = self.log
        row = {
            "attacks_attempted": float(sum(log.attempted.values())),
            "attacks_rejected": float(sum(log.rejected.values())),
            "attacks_accepted": float(sum(log.accepted.values())),
        }
        for kind in self.kinds:
            row[f"attack_{kind}_attempted"] = float(log.attempted.get(kind, 0))
            row[f"attack_{kind}_rejected"] = float(log.rejected.get(kind, 0))
        return row

    def summary(self, chain: Any) -> dict[str, Any]:
        """The ``security`` section of summary.json."""
        config = self.config
        metrics = chain.metrics()
        validators = {
            "faulty": config.faulty_validators,
            "behaviour": config.validator_behaviour if config.faulty_validators else "none",
            "n_validators": len(chain.validators),
            **{
                key: metrics[key]
                for key in (
                    "fault_tolerance_f", "liveness_lost", "safety_violations", "halted",
                    "view_changes", "stalled", "blocks_dropped", "blocks", "committed_tx",
                )
                if key in metrics
            },
        }  # fmt: skip
        out: dict[str, Any] = {
            "share": config.share,
            "adversarial_agents": len(self.attackers),
            "attacks": self.log.summary(self.kinds),
            "accepted_total": sum(self.log.accepted.values()),
            "validators": validators,
        }
        if config.fork_hash_share > 0:
            k = int(chain.ledger.genesis.params.get("confirmations", 1))
            out["pow_private_fork"] = {
                "hash_share": config.fork_hash_share,
                "table": attacks.fork_table(
                    (config.fork_hash_share,),
                    tuple(range(1, max(k, 6) + 1)),
                    config.fork_trials,
                    self.run_seed,
                ),  # fmt: skip
                "confirmations": k,
            }
        return out


__all__ = ["AdversaryConfig", "AttackInjector", "ParameterError"]
