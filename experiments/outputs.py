"""Writing a run's result files atomically (temporary file, then rename)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    A crash mid-write leaves either the old file or none, never a truncated one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (numpy scalars converted), atomically."""
    text = json.dumps(obj, indent=2, sort_keys=False, default=_to_builtin, allow_nan=False)
    atomic_write(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` as Parquet, atomically."""
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_parquet_frames(path: Path, frames: Iterable[pd.DataFrame]) -> None:
    """Write the row-wise concatenation of ``frames`` as Parquet, streaming, atomically.

    One row group per frame; the schema (with its pandas metadata) is the first
    frame's, and every later frame must convert to it. Only one frame is in memory at
    a time. No frames: an empty table, as ``write_parquet(path, pd.DataFrame())``.
    """

    def write(tmp: Path) -> None:
        writer = None
        try:
            for frame in frames:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            pd.DataFrame().to_parquet(tmp, index=False)

    atomic_write(path, write)


def _to_builtin(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def clean_floats(obj: Any) -> Any:
    """Replace NaN and infinities by ``None`` so the summary is strict JSON."""
    if isinstance(obj, dict):
        return {k: clean_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_floats(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj
