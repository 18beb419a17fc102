"""Miner-set changes in the independent verifier (``docs/ledger-format.md``, rule 20).

Part of :mod:`chain.verify`, written from the format spec and not from
:mod:`chain.miner_set`: a ``miner_set`` transaction of a proof-of-work chain's
``miner_set_authority`` replaces the validators (and hash rates) from the block
after the one that carries it. :func:`miner_set_of` checks one such row and
returns the new miners; the walk then checks the following blocks' proposers and
certificates against them.
"""

from __future__ import annotations

from typing import Any

from chain.verify_base import Problems, is_hex, parse_json

MINER_SET_KIND = "miner_set"
PAYLOAD_KEYS = {"period", "miners", "hash_rates_hps"}


def _is_int(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def miner_set_of(
    row: dict, consensus: str, params: dict, where: str, problems: Problems
) -> list[str] | None:
    """The new miners of a ``miner_set`` transaction row, or None if it is invalid.

    Args:
        row: A transaction row of kind ``miner_set``.
        consensus: The chain's consensus name.
        params: The chain's genesis params.
        where: Location prefix for problems.
        problems: Where problems are reported.
    """
    authority = params.get("miner_set_authority")
    if consensus != "pow" or not is_hex(authority, 64):
        problems.add(f"{where}: miner_set on a {consensus} chain without a miner_set_authority")
        return None
    if row["sender"] != authority:
        problems.add(f"{where}: miner_set sender is not the genesis miner_set_authority")
        return None
    if row["receiver"] != row["sender"] or row["amount"] != 0:
        problems.add(f"{where}: miner_set must move 0 coins from the authority to itself")
        return None
    payload = parse_json(row["payload"])
    if not isinstance(payload, dict) or set(payload) != PAYLOAD_KEYS:
        problems.add(f"{where}: miner_set payload must hold exactly {sorted(PAYLOAD_KEYS)}")
        return None
    miners, rates = payload["miners"], payload["hash_rates_hps"]
    if not _is_int(payload["period"], 1):
        problems.add(f"{where}: miner_set period must be an int >= 1")
        return None
    if (
        not isinstance(miners, list)
        or not miners
        or not all(is_hex(m, 64) for m in miners)
        or len(set(miners)) != len(miners)
    ):
        problems.add(f"{where}: miner_set miners must be distinct 64-hex public keys (at least 1)")
        return None
    if not isinstance(rates, list) or len(rates) != len(miners):
        problems.add(f"{where}: miner_set must give one hash rate per miner")
        return None
    if not all(_is_int(r, 1) for r in rates):
        problems.add(f"{where}: miner_set hash rates must be ints >= 1")
        return None
    return list(miners)


def miner_sets_of_block(
    txs: list[dict], consensus: str, params: dict, where: str, problems: Problems
) -> list[list[str]]:
    """The miner sets a block's transactions record, in order (the last one holds)."""
    sets = []
    for tx in txs:
        if tx["kind"] == MINER_SET_KIND:
            miners = miner_set_of(tx, consensus, params, f"{where} tx {tx['index']}", problems)
            if miners is not None:
                sets.append(miners)
    return sets


def all_miners(txs: list[dict]) -> set[Any]:
    """Every key any ``miner_set`` row names (for the registry check)."""
    keys: set[Any] = set()
    for tx in txs:
        if tx["kind"] == MINER_SET_KIND:
            payload = parse_json(tx["payload"])
            if isinstance(payload, dict) and isinstance(payload.get("miners"), list):
                keys.update(m for m in payload["miners"] if isinstance(m, str))
    return keys
