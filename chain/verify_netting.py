"""Verifier of net settlement: the chain's net transfers against the trade log.

Part of the independent verifier (:mod:`chain.verify`), written without other
gridledger modules. A run with ``settlement.mode: net`` pays its trades once per
window (``docs/ledger-format.md``, "Net settlement"): ``net_payment`` (agent to its
area's clearing account), ``clearing_transfer`` (clearing account to or from the grid
operator) and ``net_payout`` (clearing account to agent). The rule checked here, for
every window: each trade's amount is its energy times its price; the trade ids of the
window are exactly its declared range; each agent's net transfer on the chain equals
the sum of its trades' amounts (receipts minus payments) and its leg commits to
exactly its trades (count and SHA-256 of their sorted ids); the grid operator's net
over the clearing transfers equals its trades; every clearing account nets to zero;
and every trade's ``tx_hash`` names its payer's leg (its seller's when the grid
operator buys).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from chain.verify_base import Problems, is_uint, parse_json, read_rows

NET_PAYMENT, CLEARING_TRANSFER, NET_PAYOUT = "net_payment", "clearing_transfer", "net_payout"
NET_KINDS = (NET_PAYMENT, CLEARING_TRANSFER, NET_PAYOUT)
TRADES_FILE = "trades.parquet"
TRADE_COLUMNS = (
    "trade_id", "step", "buyer", "seller", "quantity_wh", "price_micro_per_kwh",
    "amount_micro", "tx_hash",
)  # fmt: skip
WINDOW_KEYS = ("window", "first_step", "last_step", "first_trade_id", "end_trade_id", "leg")
GRID_OPERATOR = 0


def _commitment(ids: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode("ascii")).hexdigest()


def check_net_settlement(directory: Path, tx_rows: list[dict], problems: Problems) -> dict:
    """Check every net settlement window of a run against its ``trades.parquet``.

    Returns:
        ``{"windows": n, "net_transactions": m}``, or an empty dict when the run has no
        net settlement transactions.
    """
    legs_by_window: dict[int, list[tuple[dict, dict]]] = {}
    bounds: dict[int, tuple] = {}
    n_net = 0
    for row in tx_rows:
        if row.get("kind") not in NET_KINDS:
            continue
        n_net += 1
        payload = parse_json(row["payload"])
        where = f"net settlement tx {str(row.get('tx_hash'))[:16]}"
        if not isinstance(payload, dict) or not all(
            is_uint(payload.get(k)) or payload.get(k) == -1 for k in WINDOW_KEYS
        ):
            problems.add(f"{where}: payload lacks the window fields {WINDOW_KEYS}")
            continue
        w = payload["window"]
        claimed = tuple(payload[k] for k in WINDOW_KEYS[1:5])
        if bounds.setdefault(w, claimed) != claimed:
            problems.add(f"{where}: window {w} bounds {claimed} differ from {bounds[w]}")
        legs_by_window.setdefault(w, []).append((row, payload))
    if not n_net:
        return {}
    if not (directory / TRADES_FILE).is_file():
        problems.add(f"net settlement: {TRADES_FILE} is missing")
        return {"windows": len(legs_by_window), "net_transactions": n_net}
    trades = read_rows(directory / TRADES_FILE, TRADE_COLUMNS, problems)
    if trades is None:
        return {"windows": len(legs_by_window), "net_transactions": n_net}
    for t in trades:
        expected = (t["quantity_wh"] * t["price_micro_per_kwh"] + 500) // 1000
        if t["amount_micro"] != expected:
            problems.add(
                f"trade {t['trade_id']}: amount_micro {t['amount_micro']} is not "
                f"quantity_wh x price_micro_per_kwh = {expected}"
            )
    by_step: dict[int, list[dict]] = {}
    for t in trades:
        by_step.setdefault(t["step"], []).append(t)
    covered: set[int] = set()
    keys: dict[int, str] = {}
    for w in sorted(legs_by_window):
        first_step, last_step, first_id, end_id = bounds[w]
        mine = [t for s in range(first_step, last_step + 1) for t in by_step.get(s, [])]
        covered.update(t["trade_id"] for t in mine)
        ids = sorted(t["trade_id"] for t in mine)
        if ids != list(range(first_id, end_id)) and (ids or first_id != -1):
            problems.add(f"net window {w}: trades of steps {first_step}-{last_step} are not "
                         f"exactly the ids [{first_id}, {end_id})")  # fmt: skip
        _check_window(w, mine, legs_by_window[w], keys, problems)
    for t in trades:
        if t["trade_id"] not in covered:
            problems.add(f"trade {t['trade_id']} (step {t['step']}): no net settlement window")
    return {"windows": len(legs_by_window), "net_transactions": n_net}


def _check_window(
    w: int, trades: list[dict], legs: list[tuple[dict, dict]], keys: dict[int, str], problems
) -> None:
    expected: dict[int, int] = {}
    own: dict[int, list[int]] = {}
    for t in trades:
        expected[t["seller"]] = expected.get(t["seller"], 0) + t["amount_micro"]
        expected[t["buyer"]] = expected.get(t["buyer"], 0) - t["amount_micro"]
        own.setdefault(t["seller"], []).append(t["trade_id"])
        own.setdefault(t["buyer"], []).append(t["trade_id"])
    moved: dict[int, int] = {}
    leg_hash: dict[int, str] = {}
    clearing: dict[str, int] = {}
    grid_net = 0
    for row, payload in legs:
        kind, amount, sender, receiver = row["kind"], row["amount"], row["sender"], row["receiver"]
        where = f"net window {w} tx {row['tx_hash'][:16]}"
        if kind == CLEARING_TRANSFER:
            to_grid = payload["leg"] == 1
            clearing_key, grid_key = (sender, receiver) if to_grid else (receiver, sender)
            clearing[clearing_key] = clearing.get(clearing_key, 0) + (
                -amount if to_grid else amount
            )
            grid_net += amount if to_grid else -amount
            _same_key(GRID_OPERATOR, grid_key, keys, where, problems)
            continue
        agent = payload.get("agent")
        if not is_uint(agent) or agent in moved:
            problems.add(f"{where}: agent {agent!r} missing or settled twice in the window")
            continue
        paying = kind == NET_PAYMENT
        agent_key, clearing_key = (sender, receiver) if paying else (receiver, sender)
        _same_key(agent, agent_key, keys, where, problems)
        moved[agent] = -amount if paying else amount
        clearing[clearing_key] = clearing.get(clearing_key, 0) + (amount if paying else -amount)
        leg_hash[agent] = row["tx_hash"]
        trades_of = own.get(agent, [])
        if payload.get("n_trades") != len(trades_of) or payload.get("trades_sha256") != _commitment(
            trades_of
        ):
            problems.add(f"{where}: agent {agent}'s commitment does not match its trades")
    for agent in sorted(set(expected) | set(moved)):
        if agent == GRID_OPERATOR:
            continue
        if moved.get(agent, 0) != expected.get(agent, 0):
            problems.add(
                f"net window {w}: agent {agent}'s net transfer {moved.get(agent, 0)} is not the "
                f"sum of its trades {expected.get(agent, 0)}"
            )
    if grid_net != expected.get(GRID_OPERATOR, 0):
        problems.add(
            f"net window {w}: the grid operator's net transfer {grid_net} is not the sum of "
            f"its trades {expected.get(GRID_OPERATOR, 0)}"
        )
    for key, balance in sorted(clearing.items()):
        if balance:
            problems.add(f"net window {w}: clearing account {key[:12]}… does not net to zero")
    for t in trades:
        party = t["buyer"] if t["buyer"] != GRID_OPERATOR else t["seller"]
        if t["tx_hash"] != leg_hash.get(party, ""):
            problems.add(f"trade {t['trade_id']}: tx_hash does not name agent {party}'s net leg")


def _same_key(agent: int, key: Any, keys: dict[int, str], where: str, problems: Problems) -> None:
    """Each agent keeps one key across windows."""
    if keys.setdefault(agent, key) != key:
        problems.add(f"{where}: agent {agent} settles with a different key than before")
