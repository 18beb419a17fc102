"""Export of committed chains in the ``gridledger-ledger/1`` format.

See ``docs/ledger-format.md`` for the format. ``certificates.parquet`` holds the
consensus certificates (PBFT, hybrid and proof-of-work blocks; empty for the
other protocols). Each file is written to a
temporary file in the run directory and moved into place with ``os.replace``,
so a reader never sees a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from chain.block import Block
from chain.certificate import Certificate
from chain.encoding import canonical_bytes_unchecked
from chain.genesis import Genesis


class LedgerSource(Protocol):
    """What the exporter needs from a chain (``chain.node.Chain`` satisfies it)."""

    @property
    def chain_id(self) -> str:
        """The chain identifier."""
        ...

    @property
    def genesis(self) -> Genesis:
        """The chain's genesis."""
        ...

    @property
    def blocks(self) -> Sequence[Block]:
        """Committed blocks in height order."""
        ...


def _certificates_of(chain: Any) -> Sequence[Certificate]:
    """A source's certificates (sources without the attribute have none)."""
    return getattr(chain, "certificates", ())


LEDGER_FORMAT = "gridledger-ledger/1"
GENESIS_FILE = "genesis.json"
BLOCKS_FILE = "blocks.parquet"
TRANSACTIONS_FILE = "transactions.parquet"
CERTIFICATES_FILE = "certificates.parquet"
IDENTITIES_FILE = "identities.parquet"

BLOCKS_SCHEMA = pa.schema(
    [
        ("chain_id", pa.string()),
        ("height", pa.int64()),
        ("prev_hash", pa.string()),
        ("merkle_root", pa.string()),
        ("timestamp_ms", pa.int64()),
        ("proposer", pa.string()),
        ("consensus", pa.string()),
        ("nonce", pa.int64()),
        ("difficulty_bits", pa.int64()),
        ("block_hash", pa.string()),
        ("proposer_signature", pa.string()),
        ("n_tx", pa.int64()),
    ]
)

TRANSACTIONS_SCHEMA = pa.schema(
    [
        ("chain_id", pa.string()),
        ("sender", pa.string()),
        ("receiver", pa.string()),
        ("amount", pa.int64()),
        ("nonce", pa.int64()),
        ("kind", pa.string()),
        ("payload", pa.string()),
        ("timestamp_ms", pa.int64()),
        ("tx_hash", pa.string()),
        ("signature", pa.string()),
        ("block_height", pa.int64()),
        ("index", pa.int64()),
    ]
)


CERTIFICATES_SCHEMA = pa.schema(
    [
        ("chain_id", pa.string()),
        ("height", pa.int64()),
        ("block_hash", pa.string()),
        ("phase", pa.string()),
        ("view", pa.int64()),
        ("signer", pa.string()),
        ("signature", pa.string()),
    ]
)


IDENTITIES_SCHEMA = pa.schema(
    [
        ("node_id", pa.string()),
        ("role", pa.string()),
        ("entity", pa.string()),
        ("public_key", pa.string()),
        ("wallet", pa.string()),
        ("wallet_random", pa.int64()),
        ("wallet_nonce", pa.int64()),
        ("issued_ms", pa.int64()),
        ("signature", pa.string()),
        ("ca_public_key", pa.string()),
    ]
)


def _identity_columns(chains: Sequence[LedgerSource]) -> dict[str, list[Any]] | None:
    """Rows of every distinct registry of the chains (None when no chain has one)."""
    registries = {}
    for chain in chains:
        registry = getattr(chain, "registry", None)
        if registry is not None:
            registries.setdefault((registry.ca_public_key, registry.root), registry)
    if not registries:
        return None
    columns: dict[str, list[Any]] = {name: [] for name in IDENTITIES_SCHEMA.names}
    for key in sorted(registries):
        for row in registries[key].to_rows():
            for name in IDENTITIES_SCHEMA.names:
                columns[name].append(row[name])
    return columns


def _open_temp(path: Path) -> IO[bytes]:
    """A temporary file next to ``path`` (moved into place by :func:`_commit`)."""
    return tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed by _commit / _discard)
        mode="wb", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )


def _commit(handle: IO[bytes], path: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(handle.name, path)


def _discard(handle: IO[bytes]) -> None:
    handle.close()
    Path(handle.name).unlink(missing_ok=True)


def _atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    handle = _open_temp(path)
    try:
        write(handle)
        _commit(handle, path)
    except BaseException:
        _discard(handle)
        raise


#: Rows per Parquet row group of the streamed tables (bounds the export's memory).
ROW_GROUP_ROWS = 65_536
_TX_SCALARS = ("chain_id", "sender", "receiver", "amount", "nonce", "kind", "timestamp_ms")


def _empty(schema: pa.Schema) -> dict[str, list[Any]]:
    return {name: [] for name in schema.names}


def _add_block(columns: dict[str, list[Any]], block: Block) -> None:
    header = block.header
    for name in BLOCKS_SCHEMA.names[:9]:
        columns[name].append(getattr(header, name))
    columns["block_hash"].append(block.block_hash)
    columns["proposer_signature"].append(block.proposer_signature)
    columns["n_tx"].append(block.n_tx)


def _add_transactions(columns: dict[str, list[Any]], block: Block) -> None:
    height = block.height
    for index, stx in enumerate(block.transactions):
        tx = stx.tx
        for name in _TX_SCALARS:
            columns[name].append(getattr(tx, name))
        columns["payload"].append(canonical_bytes_unchecked(tx.payload).decode("utf-8"))
        columns["tx_hash"].append(stx.tx_hash)
        columns["signature"].append(stx.signature)
        columns["block_height"].append(height)
        columns["index"].append(index)


def _add_certificate(columns: dict[str, list[Any]], certificate: Certificate) -> None:
    for row in certificate.to_rows():
        for name in CERTIFICATES_SCHEMA.names:
            columns[name].append(row[name])


def _block_columns(chains: Sequence[LedgerSource]) -> dict[str, list[Any]]:
    columns = _empty(BLOCKS_SCHEMA)
    for chain in chains:
        for block in chain.blocks:
            _add_block(columns, block)
    return columns


def _transaction_columns(chains: Sequence[LedgerSource]) -> dict[str, list[Any]]:
    columns = _empty(TRANSACTIONS_SCHEMA)
    for chain in chains:
        for block in chain.blocks:
            _add_transactions(columns, block)
    return columns


def _certificate_columns(chains: Sequence[LedgerSource]) -> dict[str, list[Any]]:
    columns = _empty(CERTIFICATES_SCHEMA)
    for chain in chains:
        for certificate in _certificates_of(chain):
            _add_certificate(columns, certificate)
    return columns


class _TableStream:
    """Rows buffered as columns and written as Parquet row groups of bounded size."""

    def __init__(self, handle: IO[bytes], schema: pa.Schema, rows: int) -> None:
        self.schema, self.rows = schema, rows
        self.writer = pq.ParquetWriter(handle, schema)
        self.columns = _empty(schema)

    def maybe_flush(self) -> None:
        """Write a row group once ``rows`` rows are buffered."""
        if len(self.columns[self.schema.names[0]]) >= self.rows:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows (if any) as one row group."""
        if self.columns[self.schema.names[0]]:
            self.writer.write_table(pa.Table.from_pydict(self.columns, schema=self.schema))
            self.columns = _empty(self.schema)

    def close(self) -> None:
        """Write what is left and the Parquet footer."""
        self.flush()
        self.writer.close()


def _stream_tables(
    chains: Sequence[LedgerSource], handles: dict[str, IO[bytes]], rows: int
) -> None:
    """Blocks and transactions in one pass over each chain, certificates in another."""
    blocks = _TableStream(handles[BLOCKS_FILE], BLOCKS_SCHEMA, rows)
    transactions = _TableStream(handles[TRANSACTIONS_FILE], TRANSACTIONS_SCHEMA, rows)
    certificates = _TableStream(handles[CERTIFICATES_FILE], CERTIFICATES_SCHEMA, rows)
    for chain in chains:
        for block in chain.blocks:
            _add_block(blocks.columns, block)
            blocks.maybe_flush()
            _add_transactions(transactions.columns, block)
            transactions.maybe_flush()
        for certificate in _certificates_of(chain):
            _add_certificate(certificates.columns, certificate)
            certificates.maybe_flush()
    for stream in (blocks, transactions, certificates):
        stream.close()


def write_ledger(
    run_dir: str | os.PathLike[str],
    chains: Sequence[LedgerSource],
    *,
    row_group_rows: int = ROW_GROUP_ROWS,
) -> None:
    """Write ``genesis.json`` and the blocks, transactions and certificates tables.

    Chains with a certificate registry (``chain.registry``) also get
    ``identities.parquet`` (every distinct registry's certificates).

    Rows are ordered by chain (in the given order), then height, then index
    (certificate votes: then validator index). The tables are streamed: each chain's
    blocks are read once, in height order (from the ledger's spill file for the old
    ones, :mod:`chain.block_store`), and rows are written in Parquet row groups of
    ``row_group_rows`` rows (transactions: plus less than one block's), so memory stays
    bounded whatever the run's length.
    Every file is written to a temporary file first and moved into place at the end.

    Args:
        run_dir: Existing or new run directory.
        chains: The chains of the run (``Chain`` objects or anything with
            ``chain_id``, ``genesis`` and ``blocks``); chain ids must be distinct.
        row_group_rows: Rows per row group, >= 1.

    Raises:
        ValueError: If two chains share a chain id, or ``row_group_rows`` < 1.
    """
    chain_ids = [chain.chain_id for chain in chains]
    if len(set(chain_ids)) != len(chain_ids):
        raise ValueError(f"chain ids must be distinct (got {chain_ids})")
    if type(row_group_rows) is not int or row_group_rows < 1:
        raise ValueError(f"row_group_rows must be an integer >= 1 (got {row_group_rows!r})")
    directory = Path(run_dir)
    directory.mkdir(parents=True, exist_ok=True)
    genesis_doc = {
        "format": LEDGER_FORMAT,
        "chains": {chain.chain_id: chain.genesis.to_dict() for chain in chains},
    }
    genesis_text = json.dumps(genesis_doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    names = (CERTIFICATES_FILE, TRANSACTIONS_FILE, BLOCKS_FILE)  # the order they appear in
    handles: dict[str, IO[bytes]] = {}
    try:
        for name in names:
            handles[name] = _open_temp(directory / name)
        _stream_tables(chains, handles, row_group_rows)
        identity_columns = _identity_columns(chains)
        _commit(handles.pop(CERTIFICATES_FILE), directory / CERTIFICATES_FILE)
        if identity_columns is not None:
            identities = pa.Table.from_pydict(identity_columns, schema=IDENTITIES_SCHEMA)
            _atomic_write(directory / IDENTITIES_FILE, lambda f: pq.write_table(identities, f))
        for name in names[1:]:
            _commit(handles.pop(name), directory / name)
    except BaseException:
        for handle in handles.values():
            _discard(handle)
        raise
    _atomic_write(directory / GENESIS_FILE, lambda f: f.write(genesis_text.encode("utf-8")))


def read_identities(run_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """The identity certificates of an export (an empty table if the file is absent)."""
    path = Path(run_dir) / IDENTITIES_FILE
    if not path.is_file():
        return IDENTITIES_SCHEMA.empty_table().to_pandas()
    return pq.read_table(path).to_pandas()


def read_certificates(run_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """The certificate votes of an export (an empty table if the file is absent)."""
    path = Path(run_dir) / CERTIFICATES_FILE
    if not path.is_file():
        return CERTIFICATES_SCHEMA.empty_table().to_pandas()
    return pq.read_table(path).to_pandas()


def read_ledger(
    run_dir: str | os.PathLike[str],
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """Read an exported ledger without verifying it.

    Returns:
        ``(genesis document, blocks, transactions)``: the parsed
        ``genesis.json`` and the two Parquet tables as DataFrames (see
        :func:`read_certificates` for the certificates).

    Raises:
        FileNotFoundError: If one of the three files is missing.
    """
    directory = Path(run_dir)
    for name in (GENESIS_FILE, BLOCKS_FILE, TRANSACTIONS_FILE):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory / name} does not exist")
    genesis_doc = json.loads((directory / GENESIS_FILE).read_text(encoding="utf-8"))
    blocks = pq.read_table(directory / BLOCKS_FILE).to_pandas()
    transactions = pq.read_table(directory / TRANSACTIONS_FILE).to_pandas()
    return genesis_doc, blocks, transactions
