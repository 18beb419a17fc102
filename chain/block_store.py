"""Committed blocks and certificates that leave memory once sealed (issue 6).

A ledger keeps every committed block for the export, the demand-response messages,
two-layer anchoring and the viewers, but a block is only *read* again by the
consensus rules while it is recent (Clique's recent-signer rule looks back
``floor(n/2)`` blocks, attacks look at the head). Holding the whole day in memory
costs about 1.6 KB per payment, more than the whole population's state at 1e6
agents, so after :meth:`SpillSequence.spill_to` the stores here keep only the
newest ``keep`` records in memory and append older ones to an append-only file:

* the file is a plain concatenation of pickles (protocol 5), one per record, in
  append order; an in-memory ``array('q')`` holds each record's byte offset
  (8 bytes per block), so ``store[i]`` is one seek and one ``pickle.loads``;
* iteration streams the file front to back with one buffered reader, then yields
  the records still in memory;
* pickling a store (the run checkpoint) flushes and ``fsync``-s the file and records
  how many records and bytes belong to the checkpoint, but not the file's content;
  a store loaded from a checkpoint truncates the file back to that length the first
  time it touches it (an interrupted run may have appended more records after the
  checkpoint, which the resumed run appends again).

Without a spill directory the stores behave as the plain list and dict they replace.
Records are pickled as they pickle anywhere else: a transaction is rebuilt through its
constructor, which recomputes its canonical bytes and hash (measured on 5,000-payment
net-settlement blocks: about 6 µs per transaction to write, 17 µs to read back and 260
bytes on disk; storing the cached bytes instead made the file 2.4x larger and reading
no faster).
"""

from __future__ import annotations

import os
import pickle
from array import array
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence, ValuesView
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, overload

from chain.block import Block
from chain.certificate import Certificate

T = TypeVar("T")

#: Records kept in memory by default once spilling (the newest ones).
DEFAULT_KEEP = 16
#: The fewest blocks a ledger keeps in memory (:class:`chain.ledger.Ledger`).
MIN_KEEP = 2


class SpillFileError(RuntimeError):
    """A spill file is missing or shorter than the records it must hold."""


def _dumps(record: Any) -> bytes:
    return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


class SpillSequence(Sequence[T]):
    """An append-only sequence whose older records live in a file (see the module doc).

    Supports ``len``, iteration in append order, ``[i]`` (negative too), slices
    (returned as lists), truthiness and ``==`` with any sequence.

    Attributes:
        keep: Records kept in memory once spilling (the newest ones).
    """

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValueError(f"keep must be an integer >= 1 (got {keep!r})")
        self.keep = keep
        self._memory: list[T] = []
        self._offsets = array("q", [0])  # start of each spilled record, then the end
        self._path: Path | None = None
        self._writer: BinaryIO | None = None
        self._attached = True  # False after unpickling: the file is not checked yet

    # ------------------------------------------------------------------ spilling
    @property
    def path(self) -> Path | None:
        """The spill file, or None while everything is in memory."""
        return self._path

    @property
    def n_spilled(self) -> int:
        """Records in the file (the oldest ones)."""
        return len(self._offsets) - 1

    @property
    def spilled_bytes(self) -> int:
        """Bytes of the file that hold this store's records."""
        return self._offsets[-1]

    def spill_to(self, path: str | os.PathLike[str]) -> None:
        """Append records older than the newest ``keep`` to ``path`` from now on.

        A store that never spilled starts ``path`` afresh (an old file is replaced). A
        store that already spilled (loaded from a checkpoint) takes over ``path`` if it
        holds its records (truncating whatever follows them), or else copies its
        records there from its previous file; the same path again changes nothing.

        Raises:
            SpillFileError: Neither file holds the records already spilled.
        """
        path = Path(path).absolute()
        path.parent.mkdir(parents=True, exist_ok=True)
        if self._path is None:
            with path.open("wb"):
                pass
        elif path != self._path:
            self._close()
            if not _holds(path, self.spilled_bytes):
                if not _holds(self._path, self.spilled_bytes):
                    raise SpillFileError(
                        f"spill file {self._path} is missing or shorter than "
                        f"{self.spilled_bytes} bytes: the sealed blocks it held are lost"
                    )
                with self._path.open("rb") as source, path.open("wb") as target:
                    _copy_prefix(source, target, self.spilled_bytes)
            self._attached = False
        self._path = path
        self._attach()
        self._trim()

    def _attach(self) -> None:
        """Check the file of a store loaded from a checkpoint and cut what follows it."""
        if self._attached or self._path is None:
            return
        if not _holds(self._path, self.spilled_bytes):
            raise SpillFileError(
                f"spill file {self._path} is missing or shorter than {self.spilled_bytes} "
                "bytes: the sealed blocks it held are lost"
            )
        with self._path.open("r+b") as file:
            file.truncate(self.spilled_bytes)
        self._attached = True

    def _trim(self) -> None:
        excess = len(self._memory) - self.keep
        if self._path is None or excess <= 0:
            return
        self._attach()
        if self._writer is None:
            self._writer = self._path.open("ab")
        offsets = self._offsets
        for record in self._memory[:excess]:
            data = _dumps(record)
            self._writer.write(data)
            offsets.append(offsets[-1] + len(data))
        del self._memory[:excess]

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def append(self, record: T) -> None:
        """Add ``record`` at the end (spilling the oldest in-memory one if over ``keep``)."""
        self._memory.append(record)
        if len(self._memory) > self.keep and self._path is not None:
            self._trim()

    def __setitem__(self, index: int, record: T) -> None:
        """Replace a record still in memory (tests forge blocks so); spilled ones are final.

        Raises:
            IndexError: ``index`` is out of range.
            TypeError: The record is already in the spill file.
        """
        position = self._position(index)
        if position < self.n_spilled:
            raise TypeError(f"record {position} is spilled to {self._path} and cannot be replaced")
        self._memory[position - self.n_spilled] = record

    # ------------------------------------------------------------------ reading
    def _position(self, index: int) -> int:
        n = len(self)
        position = index + n if index < 0 else index
        if not 0 <= position < n:
            raise IndexError(f"index {index} out of range for {n} records")
        return position

    def __len__(self) -> int:
        return self.n_spilled + len(self._memory)

    def __bool__(self) -> bool:
        return bool(self._memory) or self.n_spilled > 0

    def _read(self, index: int) -> T:
        assert self._path is not None
        self._attach()
        self._flush()
        start, end = self._offsets[index], self._offsets[index + 1]
        with self._path.open("rb") as file:
            file.seek(start)
            return pickle.loads(file.read(end - start))  # type: ignore[no-any-return]

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        position, spilled = self._position(index), self.n_spilled
        return self._memory[position - spilled] if position >= spilled else self._read(position)

    def __iter__(self) -> Iterator[T]:
        spilled, memory = self.n_spilled, list(self._memory)
        if spilled:
            assert self._path is not None
            self._attach()
            self._flush()
            with self._path.open("rb", buffering=1 << 20) as file:
                for _ in range(spilled):
                    yield pickle.load(file)
        yield from memory

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        where = f", spilled {self.n_spilled} to {self._path}" if self._path else ""
        return f"{type(self).__name__}({len(self)} records{where})"

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        if self._writer is not None:
            self._writer.flush()
            os.fsync(self._writer.fileno())
        state = self.__dict__.copy()
        state["_writer"] = None
        state["_attached"] = self._path is None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _holds(path: Path, size: int) -> bool:
    return path.is_file() and path.stat().st_size >= size


def _copy_prefix(source: BinaryIO, target: BinaryIO, size: int) -> None:
    remaining = size
    while remaining > 0:
        chunk = source.read(min(remaining, 1 << 20))
        if not chunk:
            raise SpillFileError(f"spill file {source.name} ended {remaining} bytes early")
        target.write(chunk)
        remaining -= len(chunk)


class BlockStore(SpillSequence[Block]):
    """The committed blocks of a ledger: ``store[i].height == i + 1``."""

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        super().__init__(keep)
        self._n_tx = 0

    @property
    def n_tx(self) -> int:
        """Transactions in all committed blocks (counted as they are appended)."""
        return self._n_tx

    def append(self, record: Block) -> None:
        """Add the next committed block."""
        self._n_tx += record.n_tx
        super().append(record)

    def __setitem__(self, index: int, record: Block) -> None:
        """As :meth:`SpillSequence.__setitem__`, keeping the transaction count."""
        previous = self[index]
        super().__setitem__(index, record)
        self._n_tx += record.n_tx - previous.n_tx


class _CertificateValues(ValuesView[Certificate]):
    def __iter__(self) -> Iterator[Certificate]:
        return iter(self._mapping.records)  # type: ignore[attr-defined]


class CertificateStore(Mapping[int, Certificate]):
    """``height -> certificate`` of the committed blocks that carry one, spilled like blocks.

    Heights are added in increasing order (blocks commit in order); ``records`` is the
    certificates as a sequence in height order.
    """

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self.records: SpillSequence[Certificate] = SpillSequence(keep)
        self._heights = array("q")

    def spill_to(self, path: str | os.PathLike[str]) -> None:
        """As :meth:`SpillSequence.spill_to`."""
        self.records.spill_to(path)

    def __setitem__(self, height: int, certificate: Certificate) -> None:
        if self._heights and height <= self._heights[-1]:
            raise ValueError(
                f"height must exceed the last certified height {self._heights[-1]} (got {height})"
            )
        self._heights.append(height)
        self.records.append(certificate)

    def __getitem__(self, height: int) -> Certificate:
        index = bisect_left(self._heights, height)
        if index == len(self._heights) or self._heights[index] != height:
            raise KeyError(height)
        return self.records[index]

    def __iter__(self) -> Iterator[int]:
        return iter(self._heights)

    def __len__(self) -> int:
        return len(self._heights)

    def values(self) -> ValuesView[Certificate]:
        """The certificates in height order (streamed from the spill file)."""
        return _CertificateValues(self)

    def __repr__(self) -> str:
        return f"CertificateStore({len(self)} certificates)"
