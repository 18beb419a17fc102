"""Net settlement: one signed payment per agent per settlement window.

By default every cleared trade is paid by its own signed transaction
(``settlement.mode: per_trade``). With ``settlement.mode: net`` trades are still
cleared, booked and logged per step, but money moves on the chain only every
``settlement.period_steps`` steps (and at the last step of the run), through the
clearing accounts of the areas' aggregators, which run the market contract
(the task's "aggregators ... collect orders, run the market contract"):

* leg 0 ``net_payment``: every agent whose receipts in the window fall short of its
  payments pays the shortfall to its area's clearing account (signed in its area);
* leg 1 ``clearing_transfer``: an area's clearing account that took in more than it
  owes its own agents pays the surplus to the grid operator (signed in the area);
* leg 2 ``clearing_transfer``: the grid operator covers every area's deficit
  (signed on the driver, where its key lives);
* leg 3 ``net_payout``: every clearing account pays each of its net receivers.

The grid operator's own net position is exactly the sum of the areas' surpluses
minus their deficits, so it is settled by legs 1-2 and every clearing account ends
each window where it started (zero). Submitted in leg order the window is admissible
under the mempool's balance rule: an agent that could pay its trades one by one can
pay their net (its start balance covers payments minus receipts), a clearing account
pays out only what legs 0 and 2 brought in. Market transfers (penalties,
incentives) are not netted; they stay one transaction each.

Per-area clearing accounts (rather than one market account) keep the payouts' signing
on the areas, i.e. on the Ray workers in parallel, and cost ``n_areas`` extra
transactions per window at most; see ``docs/markets.md`` ("Net settlement").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np

from agents.params import check, is_integer
from chain.keyring import KeyRing
from chain.keys import Identity
from chain.transaction import SignedTransaction, Transaction

SETTLEMENT_MODES = ("per_trade", "net")
NET_PAYMENT, CLEARING_TRANSFER, NET_PAYOUT = "net_payment", "clearing_transfer", "net_payout"
NET_KINDS = (NET_PAYMENT, CLEARING_TRANSFER, NET_PAYOUT)
LEG_PAY, LEG_SURPLUS, LEG_DEFICIT, LEG_PAYOUT = range(4)


@dataclass(frozen=True)
class SettlementConfig:
    """How cleared trades are paid on the chain (config group ``settlement``).

    Attributes:
        mode: ``per_trade`` (one signed payment per trade) or ``net`` (one signed
            transaction per agent per window, through the areas' clearing accounts).
        period_steps: Steps per net settlement window (the last window ends with the run).
    """

    mode: str = "per_trade"
    period_steps: int = 1

    def __post_init__(self) -> None:
        check(self.mode in SETTLEMENT_MODES, "settlement.mode", "one of per_trade, net", self.mode)
        check(
            is_integer(self.period_steps) and self.period_steps >= 1,
            "settlement.period_steps",
            "an integer >= 1",
            self.period_steps,
        )

    @property
    def net(self) -> bool:
        """Whether trades are settled by net positions."""
        return self.mode == "net"


def clearing_identity(run_seed: int, area: int) -> Identity:
    """Key pair of area ``area``'s clearing account (derived like every run key)."""
    return Identity.derive(run_seed, f"clearing/{area}")


def trades_sha256(trade_ids: np.ndarray) -> str:
    """Commitment to a set of trades: SHA-256 of their ascending ids, comma-separated ASCII."""
    ids = np.sort(np.asarray(trade_ids, dtype=np.int64))
    return hashlib.sha256(",".join(map(str, ids.tolist())).encode("ascii")).hexdigest()


def _run_digests(ids: np.ndarray):
    """``digest(first, end)``: :func:`trades_sha256` of ``ids[first:end]``, an ascending run.

    The ids are written out once as one comma-separated ASCII string; a run's text is a
    slice of it (character offsets from the cumulative id lengths), so each agent's
    commitment costs one slice and one hash instead of a sort and a join of its own.
    """
    words = list(map(str, ids.tolist()))
    text = ",".join(words)
    # offsets[k]: where id k starts in ``text`` (each id is followed by one comma).
    offsets = [0, *accumulate(len(word) + 1 for word in words)]
    sha256 = hashlib.sha256

    def digest(first: int, end: int) -> str:
        # Run [first, end) spans text[offsets[first] : offsets[end] - 1] (no trailing comma).
        last = offsets[end] - 1 if end > first else offsets[first]
        return sha256(text[offsets[first] : last].encode("ascii")).hexdigest()

    return digest


def net_positions(n_agents: int, buyer, seller, amount_micro) -> np.ndarray:
    """Receipts minus payments of every agent (micro-coins, exact integers)."""
    position = np.zeros(n_agents, dtype=np.int64)
    np.add.at(position, np.asarray(seller, np.int64), np.asarray(amount_micro, np.int64))
    np.subtract.at(position, np.asarray(buyer, np.int64), np.asarray(amount_micro, np.int64))
    return position


def _sum_by_area(values: np.ndarray, area: np.ndarray, n_areas: int) -> np.ndarray:
    out = np.zeros(n_areas, dtype=np.int64)
    np.add.at(out, area, values)
    return out


@dataclass(frozen=True)
class AreaNetLegs:
    """What one area signs when a window settles.

    Attributes:
        payer: Global ids of the area's net payers, ascending (leg 0).
        pay_micro: What each pays its clearing account.
        pay_payload: Each payment's payload.
        payee: Global ids of the area's net receivers, ascending (leg 3).
        payout_micro: What the clearing account pays each.
        payout_payload: Each payout's payload.
        surplus_micro: What the clearing account pays the grid operator (leg 1; 0: none).
        surplus_payload: That transfer's payload.
        grid_key: Public key of the grid operator.
    """

    payer: np.ndarray
    pay_micro: np.ndarray
    pay_payload: list[dict]
    payee: np.ndarray
    payout_micro: np.ndarray
    payout_payload: list[dict]
    surplus_micro: int
    surplus_payload: dict
    grid_key: str


@dataclass(frozen=True)
class NetPlan:
    """One window's settlement: the areas' legs and the grid operator's (leg 2)."""

    areas: list[AreaNetLegs]
    deficit_area: np.ndarray
    deficit_micro: np.ndarray
    deficit_payload: list[dict]
    party_of_trade: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def plan_window(
    window: dict[str, int],
    trade_id: np.ndarray,
    buyer: np.ndarray,
    seller: np.ndarray,
    amount_micro: np.ndarray,
    agent_area: np.ndarray,
    n_areas: int,
    grid_key: str,
) -> NetPlan:
    """The legs that settle one window's trades (pure: same trades, same plan).

    Args:
        window: ``window``, ``first_step``, ``last_step``, ``first_trade_id`` and
            ``end_trade_id`` of the window, copied into every payload.
        trade_id: Ids of the window's trades.
        buyer: Global id of each trade's buyer.
        seller: Global id of each trade's seller.
        amount_micro: Each trade's amount in micro-coins.
        agent_area: Area of every global agent id (-1: the grid operator).
        n_areas: Number of station areas.
        grid_key: Public key of the grid operator.
    """
    position = net_positions(len(agent_area), buyer, seller, amount_micro)
    held = agent_area >= 0
    # Trades of each agent (as buyer or seller), for the per-agent commitment.
    party = np.concatenate([buyer, seller]).astype(np.int64)
    ids = np.concatenate([trade_id, trade_id]).astype(np.int64)
    order = np.lexsort((ids, party))
    party, ids = party[order], ids[order]
    bounds = np.searchsorted(party, np.arange(len(agent_area) + 1))
    digest_of = _run_digests(ids)

    def agent_payload(agent: int, leg: int) -> dict:
        first, end = int(bounds[agent]), int(bounds[agent + 1])
        return {
            **window,
            "leg": leg,
            "agent": agent,
            "n_trades": end - first,
            "trades_sha256": digest_of(first, end),
        }

    surplus = -_sum_by_area(position[held], agent_area[held], n_areas)
    areas = []
    for a in range(n_areas):
        mine = np.flatnonzero((agent_area == a) & (position != 0))
        payer, payee = mine[position[mine] < 0], mine[position[mine] > 0]
        areas.append(
            AreaNetLegs(
                payer=payer,
                pay_micro=-position[payer],
                pay_payload=[agent_payload(int(i), LEG_PAY) for i in payer],
                payee=payee,
                payout_micro=position[payee],
                payout_payload=[agent_payload(int(i), LEG_PAYOUT) for i in payee],
                surplus_micro=int(max(surplus[a], 0)),
                surplus_payload={**window, "leg": LEG_SURPLUS, "area": a},
                grid_key=grid_key,
            )
        )
    deficit_area = np.flatnonzero(surplus < 0)
    return NetPlan(
        areas=areas,
        deficit_area=deficit_area,
        deficit_micro=-surplus[deficit_area],
        deficit_payload=[{**window, "leg": LEG_DEFICIT, "area": int(a)} for a in deficit_area],
        party_of_trade=np.where(buyer != 0, buyer, seller).astype(np.int64),
    )


class ClearingAccount:
    """An area's clearing account, held by its aggregator: key and next nonce.

    The key (a one-row :class:`chain.keyring.KeyRing` with the label
    ``clearing/<area>``, the key of :func:`clearing_identity`) is derived on first use,
    so runs that never net derive nothing.
    """

    def __init__(self, run_seed: int, area: int) -> None:
        self.run_seed, self.area = run_seed, area
        self.nonce = 0
        self._ring: KeyRing | None = None

    @property
    def ring(self) -> KeyRing:
        """The account's key (one row)."""
        if self._ring is None:
            self._ring = KeyRing(self.run_seed, self.area, 1, prefix="clearing/")
        return self._ring

    @property
    def identity(self) -> Identity:
        """The account's key pair as an :class:`Identity`."""
        return self.ring.identity(0)

    @property
    def public_hex(self) -> str:
        """The account's public key (64 lowercase hex chars)."""
        return self.ring.public_hexes[0]

    def sign(self, chain_id, receiver, amount, kind, payload, timestamp_ms) -> SignedTransaction:
        """Sign one transfer out of the account with its next nonce."""
        return self.sign_many(chain_id, [receiver], [int(amount)], kind, [payload], timestamp_ms)[0]

    def sign_many(
        self, chain_id, receivers, amounts, kind, payloads, timestamp_ms
    ) -> list[SignedTransaction]:
        """Sign transfers out of the account, one nonce each, in order.

        Args:
            chain_id: The chain of every transfer.
            receivers: Receiver public keys (hex, the run's own keys).
            amounts: Micro-coins of each transfer (plain ints).
            kind: Transaction kind of every transfer.
            payloads: Each transfer's flat payload.
            timestamp_ms: Simulated submission time.

        Raises:
            RuntimeError: If a signature does not verify.
        """
        ring, sender = self.ring, self.public_hex
        trusted, signed = Transaction.trusted, []
        for receiver, amount, payload in zip(receivers, amounts, payloads, strict=True):
            # The simulator's own fields: the unchecked constructor (Transaction.trusted).
            tx = trusted(
                chain_id, sender, receiver, amount, self.nonce, kind, payload, timestamp_ms
            )
            self.nonce += 1
            canonical = tx.canonical()
            signature = ring.sign(0, canonical)
            # Verified where it is signed, like the area's payments: the chain admits the
            # model's settlement with verified=True (docs/consensus.md, trust boundary).
            if not ring.verify(0, signature, canonical):
                raise RuntimeError(f"clearing account {self.area}: its signature does not verify")
            signed.append(SignedTransaction(tx, tx.tx_hash, signature.hex()))
        return signed


def sign_area_legs(area, legs: AreaNetLegs, timestamp_ms: int) -> list[SignedTransaction]:
    """Sign an area's legs of a window: its net payers' payments and its clearing account's.

    Args:
        area: The :class:`agents.area.Area` (its wallets sign leg 0, its clearing
            account legs 1 and 3).
        legs: What the area signs.
        timestamp_ms: Simulated submission time.
    """
    offset, clearing = area.spec.id_offset, area.clearing
    payer_rows = legs.payer - offset
    clearing_key = clearing.public_hex
    signed = area._sign_payments(
        payer_rows,
        None,
        [clearing_key] * len(payer_rows),
        legs.pay_micro,
        [NET_PAYMENT] * len(payer_rows),
        legs.pay_payload,
        timestamp_ms,
    )
    chain_id = area.spec.chain_id
    if legs.surplus_micro:
        signed.extend(
            clearing.sign_many(
                chain_id,
                [legs.grid_key],
                [int(legs.surplus_micro)],
                CLEARING_TRANSFER,
                [legs.surplus_payload],
                timestamp_ms,
            )
        )
    keys = area.public_keys
    signed.extend(
        clearing.sign_many(
            chain_id,
            [keys[row] for row in (legs.payee - offset).tolist()],
            legs.payout_micro.tolist(),
            NET_PAYOUT,
            legs.payout_payload,
            timestamp_ms,
        )
    )
    return signed


def net_order(payload: dict) -> tuple[int, int]:
    """Chain order of a net settlement transaction: by leg, then agent or area."""
    return (payload["leg"], payload.get("agent", payload.get("area", 0)))


class NetWindow:
    """The driver's open settlement window: trades since the last net settlement.

    Args:
        period_steps: Steps per window.
        n_steps: Steps of the run (the window open at the last step settles then).
    """

    def __init__(self, period_steps: int, n_steps: int) -> None:
        self.period_steps, self.n_steps = period_steps, n_steps
        self.index = 0
        self.first_step: int | None = None
        self._trades: list[tuple[np.ndarray, ...]] = []
        self._entries: list[dict] = []
        self._closing: NetPlan | None = None

    def add(self, step: int, trade_id, buyer, seller, amount_micro) -> None:
        """Add one step's trades to the window."""
        if self.first_step is None:
            self.first_step = step
        self._trades.append((trade_id, buyer, seller, amount_micro))

    def due(self, step: int) -> bool:
        """Whether the window settles at the end of ``step``."""
        return (step + 1) % self.period_steps == 0 or step + 1 >= self.n_steps

    def close(self, step: int, agent_area: np.ndarray, n_areas: int, grid_key: str) -> NetPlan:
        """The window's plan; a new window opens with the next step."""
        trade_id, buyer, seller, amount = (
            np.concatenate([t[k] for t in self._trades]).astype(np.int64) for k in range(4)
        )
        first_id = int(trade_id[0]) if len(trade_id) else -1
        window = {
            "window": self.index,
            "first_step": int(self.first_step if self.first_step is not None else step),
            "last_step": int(step),
            "first_trade_id": first_id,
            "end_trade_id": int(trade_id[-1]) + 1 if len(trade_id) else -1,
        }
        plan = plan_window(window, trade_id, buyer, seller, amount, agent_area, n_areas, grid_key)
        self.index += 1
        self.first_step = None
        self._trades = []
        self._closing = plan
        return plan

    @property
    def open_entries(self) -> int:
        """Trade-log entries recorded whose ``tx_hash`` is not final yet (window open)."""
        return len(self._entries)

    def record(self, entry: dict, signed) -> None:
        """Keep a step's trade-log entry; when its window settled, name each trade's tx.

        A trade's ``tx_hash`` is the settlement transaction of its buyer (of its
        seller when the grid operator buys); "" when that agent's net was zero.
        """
        self._entries.append(entry)
        plan, self._closing = self._closing, None
        if plan is None:
            return
        hash_of: dict[int, str] = {}
        for stx in signed:
            payload = stx.tx.payload
            if stx.tx.kind in NET_KINDS and "agent" in payload:
                hash_of[payload["agent"]] = stx.tx_hash
        party = plan.party_of_trade
        # Hash of each agent's settlement transaction, by agent id ("" for none).
        by_agent = np.full(int(party.max()) + 1 if len(party) else 0, "", dtype=object)
        for agent, tx_hash in hash_of.items():
            if agent < len(by_agent):
                by_agent[agent] = tx_hash
        k = 0
        for old in self._entries:
            n = len(old["trade_id"])
            old["tx_hash"] = by_agent[party[k : k + n]]
            k += n
        self._entries = []
