"""Raw access to exported ledger files, for tampering with them in tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from chain.export import BLOCKS_SCHEMA, TRANSACTIONS_SCHEMA


class LedgerFiles:
    """The genesis document and the rows of both tables, editable in place."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.genesis: dict[str, Any] = json.loads((self.run_dir / "genesis.json").read_text())
        self.blocks: list[dict[str, Any]] = pq.read_table(
            self.run_dir / "blocks.parquet"
        ).to_pylist()
        self.txs: list[dict[str, Any]] = pq.read_table(
            self.run_dir / "transactions.parquet"
        ).to_pylist()

    def save(self) -> None:
        """Write the (edited) files back, keeping the export's column types."""
        (self.run_dir / "genesis.json").write_text(json.dumps(self.genesis, ensure_ascii=False))
        pq.write_table(
            pa.Table.from_pylist(self.blocks, schema=BLOCKS_SCHEMA), self.run_dir / "blocks.parquet"
        )
        pq.write_table(
            pa.Table.from_pylist(self.txs, schema=TRANSACTIONS_SCHEMA),
            self.run_dir / "transactions.parquet",
        )


def copy_run(source: Path, target: Path) -> Path:
    """Copy a run directory (files only) and return the copy."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    return target
