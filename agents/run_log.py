"""A run's per-step logs (trades, sampled agents) that leave memory as the run goes.

:class:`RunLog` holds one *entry* per append (a step's columns: equal-length numpy
arrays by name). Without a spill directory every entry stays in memory, as a list
would. After :meth:`RunLog.spill_to` the buffered entries are written to Parquet part
files (``<name>-000000.parquet``, ...) every ``flush_entries`` entries or as soon as
the buffer holds more than ``flush_bytes``; only the buffer and the last entry stay
in memory (issue 6: a 1e5-household net-settlement day logs 8.8 M trades).

Parts are written atomically (temporary file, then rename) with the schema fixed by
the first part: object columns are stored as strings, and the columns named in
``categories`` (trade kinds) as dictionary columns whose values are the category
names. Reading back (:meth:`RunLog.entries`, iteration, indexing) gives the entries
exactly as they were appended (category columns as their integer codes again), one
entry at a time, so a reader's pass over a spilled log and over an in-memory one
sees the same chunks in the same order.

The log pickles with the model (checkpoints): the part count and the buffer go into
the pickle, the part files stay on disk. A log restored from a checkpoint and
pointed at its directory again ignores and deletes parts beyond its count (written
by an interrupted run after the checkpoint), so they are written again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

Entry = dict[str, np.ndarray]

DEFAULT_FLUSH_ENTRIES = 4
DEFAULT_FLUSH_BYTES = 32 * 2**20
# Rough size of a 64-character Python str in an object array (header + data + pointer).
_OBJECT_ITEM_BYTES = 121


class RunLog:
    """An append-only sequence of per-step column entries, spilled to Parquet parts.

    Args:
        name: File name stem of the part files (``trades``, ``agents``).
        categories: Columns holding integer codes into a fixed list of names; stored
            as dictionary columns in the parts.
        flush_entries: Buffered entries that trigger a write once spilling (>= 1;
            default :data:`DEFAULT_FLUSH_ENTRIES`).
        flush_bytes: Buffered bytes that trigger a write once spilling (>= 1; default
            :data:`DEFAULT_FLUSH_BYTES`).

    Raises:
        ValueError: ``flush_entries`` or ``flush_bytes`` is not a positive integer.
    """

    def __init__(
        self,
        name: str,
        categories: Mapping[str, Sequence[str]] | None = None,
        flush_entries: int | None = None,
        flush_bytes: int | None = None,
    ) -> None:
        flush_entries = DEFAULT_FLUSH_ENTRIES if flush_entries is None else flush_entries
        flush_bytes = DEFAULT_FLUSH_BYTES if flush_bytes is None else flush_bytes
        if not isinstance(flush_entries, int) or flush_entries < 1:
            raise ValueError(f"flush_entries must be an integer >= 1 (got {flush_entries!r})")
        if not isinstance(flush_bytes, int) or flush_bytes < 1:
            raise ValueError(f"flush_bytes must be an integer >= 1 (got {flush_bytes!r})")
        self.name = name
        self.categories = {k: tuple(v) for k, v in (categories or {}).items()}
        self.flush_entries = flush_entries
        self.flush_bytes = flush_bytes
        self.directory: Path | None = None
        self._buffer: list[Entry] = []
        self._buffer_bytes = 0
        self._lengths: list[int] = []  # rows of every entry ever appended
        self._part_entries: list[int] = []  # entries in each written part
        self._dtypes: dict[str, np.dtype] | None = None  # fixed by the first entry
        self._schema: pa.Schema | None = None  # fixed by the first part
        self._last: Entry | None = None

    # ------------------------------------------------------------------ writing
    def append(self, entry: Entry) -> None:
        """Add one entry (kept by reference until it is written to a part)."""
        if self._dtypes is None:
            self._dtypes = {k: np.asarray(v).dtype for k, v in entry.items()}
        elif list(entry) != list(self._dtypes):
            raise ValueError(
                f"{self.name} log entry columns {list(entry)} differ from {list(self._dtypes)}"
            )
        n = {len(v) for v in entry.values()}
        if len(n) > 1:
            raise ValueError(f"{self.name} log entry has columns of different lengths {n}")
        self._buffer.append(entry)
        self._buffer_bytes += _entry_bytes(entry)
        self._lengths.append(n.pop() if n else 0)
        self._last = entry

    def maybe_flush(self, keep_last: int = 0) -> bool:
        """Write the buffer to a part if spilling and it is due; True if a part was written.

        Args:
            keep_last: Newest entries to keep in memory anyway (their columns may still
                change, e.g. net settlement's ``tx_hash`` until the window closes).
        """
        ready = len(self._buffer) - keep_last
        if self.directory is None or ready <= 0:
            return False
        if ready < self.flush_entries and self._buffer_bytes < self.flush_bytes:
            return False
        self._write_part(ready)
        return True

    def flush(self) -> None:
        """Write every buffered entry to a part (when spilling)."""
        if self.directory is not None and self._buffer:
            self._write_part(len(self._buffer))

    def spill_to(self, directory: str | os.PathLike[str]) -> None:
        """Write parts into ``directory`` from now on (and the buffer at the next flush).

        Parts this log wrote elsewhere are moved there; part files beyond the ones
        this log counts (an interrupted run's, after the checkpoint this log was
        restored from) and temporary files of a write cut short are deleted.
        """
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        old = self.directory
        if old is not None and old.resolve() != target.resolve():
            for i in range(len(self._part_entries)):
                shutil.move(str(old / self._part_name(i)), str(target / self._part_name(i)))
        self.directory = target
        ours = {self._part_name(i) for i in range(len(self._part_entries))}
        for path in [*target.glob(f"{self.name}-*.parquet"), *target.glob(f".{self.name}-*")]:
            if path.name not in ours:  # stale parts, and temporary files of a torn write
                path.unlink()

    def _part_name(self, index: int) -> str:
        return f"{self.name}-{index:06d}.parquet"

    def _write_part(self, n_entries: int) -> None:
        assert self.directory is not None
        entries, self._buffer = self._buffer[:n_entries], self._buffer[n_entries:]
        table = self._to_table(entries)
        if self._schema is None:
            self._schema = table.schema
        path = self.directory / self._part_name(len(self._part_entries))
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=self.directory)
        os.close(fd)
        try:
            # Dictionary pages only for the category columns: the other columns (hashes,
            # ids) hardly repeat, and trying costs more than half the write time.
            pq.write_table(table, tmp, use_dictionary=list(self.categories) or False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._part_entries.append(n_entries)
        self._buffer_bytes = sum(_entry_bytes(e) for e in self._buffer)

    def _to_table(self, entries: list[Entry]) -> pa.Table:
        """The entries as one table, a record batch each (numeric columns not copied)."""
        assert self._dtypes is not None
        names = list(self._dtypes)
        batches = [
            pa.RecordBatch.from_arrays([self._to_arrow(k, e[k]) for k in names], names=names)
            for e in entries
        ]
        return pa.Table.from_batches(batches, schema=self._schema or batches[0].schema)

    def _to_arrow(self, name: str, values: np.ndarray) -> pa.Array:
        assert self._dtypes is not None
        values = np.asarray(values).astype(self._dtypes[name], copy=False)
        if name in self.categories:
            codes = pa.array(values.astype(np.int32), type=pa.int32())
            return pa.DictionaryArray.from_arrays(codes, pa.array(self.categories[name]))
        if values.dtype.kind == "O":
            return pa.array(values, type=pa.string())
        return pa.array(values)

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return len(self._lengths)

    def __bool__(self) -> bool:
        return bool(self._lengths)

    def __iter__(self) -> Iterator[Entry]:
        return self.entries()

    def __getitem__(self, index: int) -> Entry:
        n = len(self._lengths)
        if not -n <= index < n:
            raise IndexError(f"{self.name} log index {index} out of range ({n} entries)")
        index %= n
        if index == n - 1 and self._last is not None:
            return self._last
        first_buffered = n - len(self._buffer)
        if index >= first_buffered:
            return self._buffer[index - first_buffered]
        start = 0
        for part, count in enumerate(self._part_entries):
            if index < start + count:
                return self._read_part(part, start)[index - start]
            start += count
        raise AssertionError("unreachable: entry neither in a part nor in the buffer")

    @property
    def last(self) -> Entry | None:
        """The newest entry (kept in memory after it is written), or None."""
        return self._last

    @property
    def lengths(self) -> list[int]:
        """Rows of each entry, in append order."""
        return list(self._lengths)

    def entries(self) -> Iterator[Entry]:
        """Every entry in append order: the parts (read one at a time), then the buffer."""
        start = 0
        for part, count in enumerate(self._part_entries):
            yield from self._read_part(part, start)
            start += count
        yield from list(self._buffer)

    def _read_part(self, part: int, first_entry: int) -> list[Entry]:
        """Entries ``first_entry ..`` stored in part ``part``, as appended."""
        assert self.directory is not None and self._dtypes is not None
        table = pq.read_table(self.directory / self._part_name(part))
        columns = {name: self._column(table, name, dtype) for name, dtype in self._dtypes.items()}
        lengths = self._lengths[first_entry : first_entry + self._part_entries[part]]
        bounds = np.cumsum([0, *lengths])
        return [
            {name: values[a:b] for name, values in columns.items()}
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
        ]

    def _column(self, table: pa.Table, name: str, dtype: np.dtype) -> np.ndarray:
        column = table.column(name)
        if name not in self.categories:
            values = column.to_numpy()
            return values if dtype.kind == "O" else values.astype(dtype, copy=False)
        categories = self.categories[name]
        parts = [np.zeros(0, dtype)]
        for chunk in column.chunks:
            if isinstance(chunk, pa.DictionaryArray):
                lookup = np.array(
                    [categories.index(v) for v in chunk.dictionary.to_pylist()], dtype
                )
                parts.append(lookup[chunk.indices.to_numpy(zero_copy_only=False)])
            else:  # plain strings
                lookup_of = {c: i for i, c in enumerate(categories)}
                parts.append(np.array([lookup_of[v] for v in chunk.to_pylist()], dtype))
        return np.concatenate(parts)


def _entry_bytes(entry: Entry) -> int:
    """Approximate memory of an entry's columns (object arrays: per-item strings too)."""
    total = 0
    for values in entry.values():
        values = np.asarray(values)
        total += values.nbytes
        if values.dtype == object:
            total += len(values) * _OBJECT_ITEM_BYTES
    return total


def trade_tx_hashes(signed: Sequence, trade_id: np.ndarray) -> np.ndarray:
    """Hash of the signed payment of each trade ("" where none was signed), by trade id.

    ``signed`` is a step's signed transactions in chain order: the trades' payments
    first, in ascending trade-id order (``agents.model._chain_order``), at most one per
    trade. Only that prefix is touched: its length is found by bisection, and when no
    payment is missing (the usual case) its hashes are the column as they are.

    Args:
        signed: The step's signed transactions in chain order.
        trade_id: The step's trade ids (consecutive, ascending).

    Returns:
        An object array of hex strings, one per trade.
    """
    lo, hi = 0, len(signed)
    while lo < hi:  # first transaction that pays no trade
        mid = (lo + hi) // 2
        if "trade_id" in signed[mid].tx.payload:
            lo = mid + 1
        else:
            hi = mid
    paid = signed[:lo]
    column = np.full(len(trade_id), "", dtype=object)
    if not paid:
        return column
    hashes = [stx.tx_hash for stx in paid]
    first, last = paid[0].tx.payload["trade_id"], paid[-1].tx.payload["trade_id"]
    if len(paid) == len(trade_id) and first == trade_id[0] and last == trade_id[-1]:
        column[:] = hashes
        return column
    ids = np.fromiter((stx.tx.payload["trade_id"] for stx in paid), np.int64, len(paid))
    column[ids - int(trade_id[0])] = hashes
    return column
