"""Records of cross-area payments and the file they are exported to.

A cross-area payment has up to three legs, each an ordinary signed transaction
in one shard (see ``docs/ledger-format.md`` section 11):

* the **lock** (debit) in the payer's shard: payer -> that shard's escrow,
  signed by the payer;
* the **credit** in the payee's shard: payee shard's escrow -> payee
  (kind ``cross_credit``), signed by that escrow;
* or, when the exchange aborts, the **refund** in the payer's shard: escrow ->
  payer (kind ``cross_refund``).

Atomicity: a committed payment has lock and credit and no refund; an aborted
one has lock and refund and no credit (net: in neither shard).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CROSS_SHARD_FILE = "cross_shard.parquet"
CREDIT_KIND = "cross_credit"
REFUND_KIND = "cross_refund"
STATUSES = ("committed", "aborted", "pending")

CROSS_SCHEMA = pa.schema(
    [
        ("trade_id", pa.int64()),
        ("mode", pa.string()),
        ("source_chain", pa.string()),
        ("target_chain", pa.string()),
        ("payer", pa.string()),
        ("payee", pa.string()),
        ("amount", pa.int64()),
        ("lock_tx", pa.string()),
        ("credit_tx", pa.string()),
        ("refund_tx", pa.string()),
        ("status", pa.string()),
        ("submitted_ms", pa.int64()),
        ("decided_ms", pa.int64()),
    ]
)


@dataclass
class CrossPayment:
    """State of one cross-area payment (mutable while the exchange runs).

    Attributes:
        trade_id: The trade paid for.
        mode: ``full`` or ``partial``.
        source_chain, target_chain: Payer's and payee's shards.
        payer, payee: Public keys.
        amount: Micro-coins.
        lock_tx: Hash of the payer's lock transaction.
        credit_tx, refund_tx: Hashes of the credit / refund legs ("" if none).
        status: ``pending`` until ``committed`` or ``aborted``.
        submitted_ms: Timestamp of the lock transaction.
        decided_ms: Simulated time the last leg committed (-1 while pending).
    """

    trade_id: int
    mode: str
    source_chain: str
    target_chain: str
    payer: str
    payee: str
    amount: int
    lock_tx: str
    credit_tx: str = ""
    refund_tx: str = ""
    status: str = "pending"
    submitted_ms: int = 0
    decided_ms: int = -1

    def row(self) -> dict:
        """The exported row."""
        return asdict(self)


def write_cross_shard(run_dir: Path, payments: list[CrossPayment]) -> None:
    """Write ``cross_shard.parquet`` (one row per cross-area payment, in submission order)."""
    columns: dict[str, list] = {name: [] for name in CROSS_SCHEMA.names}
    for payment in payments:
        for name, value in payment.row().items():
            columns[name].append(value)
    table = pa.Table.from_pydict(columns, schema=CROSS_SCHEMA)
    path = run_dir / CROSS_SHARD_FILE
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)
