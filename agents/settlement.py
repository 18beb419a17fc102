"""Money for energy: turning a step's trades into per-area payment batches.

The driver decides who pays whom; each area signs its own agents' payments (their
keys never leave the area, which on Ray is a different process).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agents.market_feedback import MarketFeedback
from agents.netting import AreaNetLegs


def _no_ints() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


# Trade kinds as stored in trades.parquet and mapped to transaction kinds.
TRADE_KINDS = ("p2p_local", "p2p_cross", "grid_import", "grid_export")
TX_KIND_OF_TRADE = ("p2p_payment", "p2p_payment", "grid_purchase", "grid_feed_in")
P2P_LOCAL, P2P_CROSS, GRID_IMPORT, GRID_EXPORT = range(4)
GRID_OPERATOR_ID = 0
"""Global agent id of the grid operator."""


def price_micro(price_coins_per_kwh: np.ndarray) -> np.ndarray:
    """Prices in whole micro-coins per kWh, the unit signed into payments."""
    return np.rint(np.asarray(price_coins_per_kwh) * 1_000_000).astype(np.int64)


def payment_micro(energy_wh: np.ndarray, price_micro_per_kwh: np.ndarray) -> np.ndarray:
    """Payment for ``energy_wh`` at ``price_micro_per_kwh``, rounded half up to micro-coins.

    Integer arithmetic only, so every party (and the verifier) computes the same amount.
    """
    return (
        np.asarray(energy_wh, dtype=np.int64) * np.asarray(price_micro_per_kwh, dtype=np.int64)
        + 500
    ) // 1000


@dataclass(frozen=True)
class SettlementBatch:
    """What one area must pay and receive for one step.

    Attributes:
        step: The market step settled.
        timestamp_ms: Simulated time the payments are submitted to the chain.
        trade_id: Ids of the trades this area's agents pay for, ascending.
        payer: Global id of each paying agent.
        receiver_key: Public key (hex) of each payee.
        amount_micro: Each payment in micro-coins.
        kind: Transaction kind of each payment.
        energy_wh: Energy paid for.
        price_micro: Price in micro-coins per kWh.
        receipt_agent: Global ids of this area's agents that are paid.
        receipt_micro: Amount each receipt brings.
        receipt_energy_wh: Energy each receipt paid for (energy the agent sold).
        chain_id: Chain each payment is signed for; None: the area's own chain
            (``AreaSpec.chain_id``). The ``dual`` layout puts payments on two chains.
        transfer_id: Ids of the market transfers (penalties, incentives) this area's
            agents pay, ascending; they follow the step's trades in the chain order.
        transfer_payer: Global id of each paying agent.
        transfer_receiver_key: Public key (hex) of each receiver.
        transfer_amount_micro: Each transfer in micro-coins.
        transfer_kind: Transaction kind of each transfer (``market_penalty``, ...).
        transfer_receipt_agent: Global ids of this area's agents that receive transfers.
        transfer_receipt_micro: Amount of each of those receipts.
        transfer_chain_id: Chain of each transfer (as ``chain_id``; None: home chain).
        feedback: Market-state changes from the cross-area clearing.
        sign_trades: Whether each trade is paid by its own signed transaction
            (``settlement.mode: per_trade``); under net settlement the trades are only
            booked and ``net`` carries the window's legs when a window settles.
        net: The area's net settlement legs (:mod:`agents.netting`), or None.
    """

    step: int
    timestamp_ms: int
    trade_id: np.ndarray
    payer: np.ndarray
    receiver_key: list[str]
    amount_micro: np.ndarray
    kind: list[str]
    energy_wh: np.ndarray
    price_micro: np.ndarray
    receipt_agent: np.ndarray
    receipt_micro: np.ndarray
    receipt_energy_wh: np.ndarray
    chain_id: list[str] | None = None
    transfer_id: np.ndarray = field(default_factory=_no_ints)
    transfer_payer: np.ndarray = field(default_factory=_no_ints)
    transfer_receiver_key: list[str] = field(default_factory=list)
    transfer_amount_micro: np.ndarray = field(default_factory=_no_ints)
    transfer_kind: list[str] = field(default_factory=list)
    transfer_receipt_agent: np.ndarray = field(default_factory=_no_ints)
    transfer_receipt_micro: np.ndarray = field(default_factory=_no_ints)
    transfer_chain_id: list[str] | None = None
    feedback: MarketFeedback = field(default_factory=MarketFeedback.empty)
    sign_trades: bool = True
    net: AreaNetLegs | None = None

    def __len__(self) -> int:
        return len(self.trade_id)
