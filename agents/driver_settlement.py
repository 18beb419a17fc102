"""The driver's side of a step's settlement: batches for the areas, the grid's payments.

:func:`settle_step` splits a step's cleared trades and market transfers into one
:class:`agents.settlement.SettlementBatch` per area (each area signs and verifies its
agents' payments, :meth:`agents.area.Area.settle`), while the driver signs the grid
operator's own payments on its threads (:class:`agents.signing.BatchSigner`); under net
settlement it closes the window (:mod:`agents.netting`) and signs leg 2. The functions
take the :class:`agents.model.GridModel` whose state they use (its layout, keys,
runtime, nonce and id counters); they were its methods and behave exactly as before.
"""

from __future__ import annotations

import os

import numpy as np

from agents.netting import CLEARING_TRANSFER, NET_KINDS, net_order
from agents.settlement import GRID_OPERATOR_ID, TX_KIND_OF_TRADE, SettlementBatch
from agents.signing import BatchSigner, gc_paused
from chain.transaction import Transaction


@gc_paused()  # no reference cycles are made while signing (agents.signing.gc_paused)
def settle_step(
    model,
    step,
    timestamp_ms,
    trades,
    kind,
    trade_id,
    prices,
    amounts,
    chain_tag,
    transfers,
    feedback,
):
    """Have every area sign its agents' payments; the driver signs the grid's.

    The layout names the chain of each payment and its receiver (a
    cross-shard payment locks into the payer shard's escrow). Market transfers
    (penalties, incentives) are routed like payments and follow the step's trades
    in the chain order; the cross-area clearing's ``feedback`` goes to every
    area's market state. The cyclic garbage collector is paused meanwhile
    (:func:`agents.signing.gc_paused`).

    Args:
        model: The :class:`agents.model.GridModel` (advances its transfer ids, grid
            nonces and net settlement window).
        step: The step.
        timestamp_ms: Simulated submission time of the payments.
        trades: The step's settled trades (local, cross-area, with the grid).
        kind: Each trade's kind (index into ``TX_KIND_OF_TRADE``).
        trade_id: Each trade's id.
        prices: Each trade's price, micro-coins per kWh.
        amounts: Each trade's payment, micro-coins.
        chain_tag: Each trade's chain tag (dual layout).
        transfers: The market's transfers (penalties, incentives).
        feedback: The cross-area clearing's feedback to the areas' market state.

    Returns:
        The signed transactions in chain order (:func:`chain_order`) and each area's
        sample of agent state.
    """
    layout = model.ledger_layout
    payer_area = model.agent_area[trades.buyer]
    payee_area = model.agent_area[trades.seller]
    tx_kind = np.array(TX_KIND_OF_TRADE, dtype=object)[kind]
    keys = np.array(model.public_keys, dtype=object)
    payee_keys = keys[trades.seller]
    receiver_keys = np.array(
        layout.receivers(payer_area, payee_area, payee_keys.tolist()), dtype=object
    )
    chain_ids = np.array(layout.chain_ids(payer_area, payee_area, chain_tag), dtype=object)
    multi_chain = model.layout_config.layout == "dual"
    net = None
    if model.netting is not None:
        model.netting.add(step, trade_id, trades.buyer, trades.seller, amounts)
        if model.netting.due(step):
            grid_key = model.public_keys[GRID_OPERATOR_ID]
            net = model.netting.close(step, model.agent_area, model.n_areas, grid_key)
    transfer_id = model._next_transfer_id + np.arange(len(transfers), dtype=np.int64)
    model._next_transfer_id += len(transfers)
    t_payer_area = model.agent_area[transfers.payer]
    t_payee_area = model.agent_area[transfers.payee]
    t_receivers = np.array(
        layout.receivers(t_payer_area, t_payee_area, keys[transfers.payee].tolist()),
        dtype=object,
    )
    t_chain_ids = np.array(
        layout.chain_ids(t_payer_area, t_payee_area, np.zeros(len(transfers), np.int64)),
        dtype=object,
    )
    batches = []
    for a in range(model.n_areas):
        pays, gets = payer_area == a, payee_area == a
        t_pays, t_gets = t_payer_area == a, t_payee_area == a
        batches.append(
            SettlementBatch(
                step=step,
                timestamp_ms=timestamp_ms,
                trade_id=trade_id[pays],
                payer=trades.buyer[pays],
                receiver_key=receiver_keys[pays].tolist(),
                amount_micro=amounts[pays],
                kind=tx_kind[pays].tolist(),
                energy_wh=trades.quantity_wh[pays],
                price_micro=prices[pays],
                receipt_agent=trades.seller[gets],
                receipt_micro=amounts[gets],
                receipt_energy_wh=trades.quantity_wh[gets],
                chain_id=chain_ids[pays].tolist() if multi_chain else None,
                transfer_id=transfer_id[t_pays],
                transfer_payer=transfers.payer[t_pays],
                transfer_receiver_key=t_receivers[t_pays].tolist(),
                transfer_amount_micro=transfers.amount_micro[t_pays],
                transfer_kind=transfers.kind[t_pays].tolist(),
                transfer_receipt_agent=transfers.payee[t_gets],
                transfer_receipt_micro=transfers.amount_micro[t_gets],
                transfer_chain_id=t_chain_ids[t_pays].tolist() if multi_chain else None,
                feedback=feedback.take(model.agent_area[feedback.agent] == a),
                sign_trades=model.netting is None,
                net=net.areas[a] if net is not None else None,
            )
        )
    # The grid operator's payments are signed (and verified) on the driver's
    # threads while the areas sign theirs.
    grid_txs = [
        grid_tx(
            model,
            chain_ids[i],
            receiver_keys[i],
            int(amounts[i]),
            tx_kind[i],
            {
                "trade_id": int(trade_id[i]),
                "step": step,
                "energy_wh": int(trades.quantity_wh[i]),
                "price_micro_per_kwh": int(prices[i]),
            },
            timestamp_ms,
        )
        for i in (np.flatnonzero(payer_area == -1) if model.netting is None else ())
    ]
    grid_txs += [
        grid_tx(
            model,
            t_chain_ids[i],
            t_receivers[i],
            int(transfers.amount_micro[i]),
            transfers.kind[i],
            {"transfer_id": int(transfer_id[i]), "step": step},
            timestamp_ms,
        )
        for i in np.flatnonzero(t_payer_area == -1)
    ]
    if net is not None:
        grid_txs += grid_covers_deficits(model, net, timestamp_ms)
    grid_signer = BatchSigner(
        [model.grid_operator.identity] * len(grid_txs), grid_txs, driver_threads(model.runtime)
    )
    results = model.runtime.settle(batches)
    signed = [stx for txs, _ in results for stx in txs]
    samples = [sample for _, sample in results]
    grid_signed = grid_signer.result()
    if any(stx is None for stx in grid_signed):
        raise RuntimeError("a signature of the grid operator does not verify")
    signed.extend(grid_signed)  # type: ignore[arg-type]
    signed.sort(key=chain_order)
    return signed, samples


def grid_covers_deficits(model, net, timestamp_ms: int) -> list[Transaction]:
    """Net settlement leg 2: the grid operator pays each area's clearing deficit."""
    return [
        grid_tx(
            model,
            model.chain.chain_id,
            model.clearing_keys[a],
            amount,
            CLEARING_TRANSFER,
            payload,
            timestamp_ms,
        )
        for a, amount, payload in zip(
            net.deficit_area.tolist(),
            net.deficit_micro.tolist(),
            net.deficit_payload,
            strict=True,
        )
    ]


def grid_tx(model, chain_id, receiver, amount, kind, payload, timestamp_ms) -> Transaction:
    """A payment of the grid operator, to be signed on the driver (one nonce per chain)."""
    nonce = model._grid_nonces.get(chain_id, 0)
    model._grid_nonces[chain_id] = nonce + 1
    # The simulator's own fields (run keys, plain ints): the unchecked constructor.
    return Transaction.trusted(
        chain_id,
        model.public_keys[GRID_OPERATOR_ID],
        receiver,
        amount,
        nonce,
        kind,
        payload,
        timestamp_ms,
    )


def driver_threads(runtime) -> int:
    """Threads for the driver's own signing: the local runtime's, else one per core."""
    threads = getattr(runtime, "n_threads", None)
    return threads if threads is not None else max(1, os.cpu_count() or 1)


def routing(model, signed, trades, trade_id, transfers) -> tuple[np.ndarray, np.ndarray]:
    """Payer and payee agent of each signed transaction (trades, then transfers)."""
    first = int(trade_id[0]) if len(trade_id) else 0
    first_transfer = model._next_transfer_id - len(transfers)
    payer = np.empty(len(signed), np.int64)
    payee = np.empty(len(signed), np.int64)
    for k, stx in enumerate(signed):
        payload = stx.tx.payload
        if "trade_id" in payload:
            i = payload["trade_id"] - first
            payer[k], payee[k] = trades.buyer[i], trades.seller[i]
        else:
            i = payload["transfer_id"] - first_transfer
            payer[k], payee[k] = transfers.payer[i], transfers.payee[i]
    return payer, payee


def chain_order(stx) -> tuple[int, int, int]:
    """Trades in trade-id order, market transfers in transfer-id order, then net legs."""
    payload = stx.tx.payload
    if "trade_id" in payload:
        return (0, payload["trade_id"], 0)
    if stx.tx.kind in NET_KINDS:  # net settlement legs (agents.netting), after the transfers
        return (2, *net_order(payload))
    return (1, payload["transfer_id"], 0)
