"""Coercion and validation of the numpy columns held by the market dataclasses.

Every columnar dataclass of :mod:`market` (``OrderBook``, ``Trades``) stores
one-dimensional, read-only numpy arrays of fixed dtype.  The helpers here turn
caller input (lists, arrays of another dtype) into such arrays and raise a
``ValueError`` that names the offending column when that is not possible
without losing information.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt


def frozen(array: np.ndarray) -> np.ndarray:
    """Mark ``array`` read-only and return it (the array must be owned by the caller)."""
    array.setflags(write=False)
    return array


def as_int_column(name: str, values: npt.ArrayLike, dtype: type[np.integer]) -> np.ndarray:
    """Return ``values`` as a fresh, read-only 1-D integer array of ``dtype``.

    Floats are accepted only when they hold whole, finite numbers; values that
    do not fit ``dtype`` are rejected instead of wrapping around.

    Args:
        name: Column name, used in error messages.
        values: Array-like of numbers.
        dtype: Target numpy integer dtype.

    Returns:
        A new read-only array of ``dtype``.

    Raises:
        ValueError: If the input is not one-dimensional, not numeric, not whole
            or out of the range of ``dtype``.
    """
    raw = np.asarray(values)
    if raw.ndim != 1:
        raise ValueError(f"column {name!r} must be one-dimensional (got shape {raw.shape})")
    if raw.size == 0:
        return frozen(np.zeros(0, dtype=dtype))
    kind = raw.dtype.kind
    if kind not in "biuf":
        raise ValueError(f"column {name!r} must be numeric (got dtype {raw.dtype})")
    info = np.iinfo(dtype)
    if kind == "f":
        if not np.all(np.isfinite(raw)):
            raise ValueError(f"column {name!r} must hold finite whole numbers")
        if not np.all(np.floor(raw) == raw):
            raise ValueError(f"column {name!r} must hold whole numbers")
        if raw.min() < info.min or raw.max() > info.max:
            raise ValueError(f"column {name!r} has values outside the range of {np.dtype(dtype)}")
    elif kind in "iu" and raw.dtype != np.dtype(dtype):
        lo, hi = int(raw.min()), int(raw.max())
        if lo < info.min or hi > info.max:
            raise ValueError(f"column {name!r} has values outside the range of {np.dtype(dtype)}")
    return frozen(np.array(raw, dtype=dtype, copy=True))


def as_float_column(name: str, values: npt.ArrayLike) -> np.ndarray:
    """Return ``values`` as a fresh, read-only 1-D float64 array of finite numbers.

    Raises:
        ValueError: If the input is not one-dimensional, not numeric or holds
            NaN or infinite values.
    """
    raw = np.asarray(values)
    if raw.ndim != 1:
        raise ValueError(f"column {name!r} must be one-dimensional (got shape {raw.shape})")
    if raw.size and raw.dtype.kind not in "biuf":
        raise ValueError(f"column {name!r} must be numeric (got dtype {raw.dtype})")
    out = np.array(raw, dtype=np.float64, copy=True)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"column {name!r} must hold finite numbers")
    return frozen(out)


def as_bool_column(name: str, values: npt.ArrayLike) -> np.ndarray:
    """Return ``values`` as a fresh, read-only 1-D bool array (numbers must be 0 or 1).

    Raises:
        ValueError: If the input is not one-dimensional or holds values other
            than booleans, 0 or 1.
    """
    raw = np.asarray(values)
    if raw.ndim != 1:
        raise ValueError(f"column {name!r} must be one-dimensional (got shape {raw.shape})")
    if raw.size and raw.dtype.kind != "b":
        if raw.dtype.kind not in "iuf" or not np.all((raw == 0) | (raw == 1)):
            raise ValueError(f"column {name!r} must hold booleans (or 0/1)")
    return frozen(np.array(raw, dtype=np.bool_, copy=True))


def check_equal_lengths(columns: Mapping[str, np.ndarray]) -> int:
    """Return the common length of ``columns``.

    Raises:
        ValueError: Naming the first column whose length differs from the first one.
    """
    names = list(columns)
    n = len(columns[names[0]])
    for name in names[1:]:
        if len(columns[name]) != n:
            raise ValueError(
                f"column {name!r} has length {len(columns[name])}, "
                f"expected {n} (length of {names[0]!r})"
            )
    return n


def selection_indices(selector: npt.ArrayLike, n: int) -> np.ndarray:
    """Normalise a boolean mask or integer indices over ``n`` rows into int64 indices.

    Args:
        selector: Boolean mask of length ``n`` or integer row indices
            (negative indices count from the end, as in numpy).
        n: Number of rows being selected from.

    Returns:
        int64 row indices, in the order given (masks yield ascending order).

    Raises:
        ValueError: If a mask has the wrong length or the selector is not a
            boolean or integer 1-D array.
        IndexError: If an index is out of range.
    """
    sel = np.asarray(selector)
    if sel.ndim != 1:
        raise ValueError(f"selector must be one-dimensional (got shape {sel.shape})")
    if sel.dtype.kind == "b":
        if sel.size != n:
            raise ValueError(f"boolean mask has length {sel.size}, expected {n}")
        return np.flatnonzero(sel)
    if sel.size == 0:
        return np.zeros(0, dtype=np.int64)
    if sel.dtype.kind not in "iu":
        raise ValueError(f"selector must be a boolean mask or integer indices (got {sel.dtype})")
    idx = sel.astype(np.int64, copy=False)
    if idx.min() < -n or idx.max() >= n:
        raise IndexError(f"row index out of range for {n} rows")
    return np.where(idx < 0, idx + n, idx)


def as_extra_column(name: str, values: npt.ArrayLike) -> np.ndarray:
    """Return a mechanism-specific column as a fresh, read-only 1-D array.

    Booleans stay ``bool``, integers become ``int64`` and floats ``float64``
    (which must be finite).

    Raises:
        ValueError: If the input is not one-dimensional, not boolean or
            numeric, or holds NaN or infinite values.
    """
    raw = np.asarray(values)
    if raw.ndim != 1:
        raise ValueError(f"column {name!r} must be one-dimensional (got shape {raw.shape})")
    kind = raw.dtype.kind
    if raw.size == 0 and kind not in "biuf":
        return frozen(np.zeros(0, dtype=np.float64))
    if kind == "b":
        return as_bool_column(name, raw)
    if kind in "iu":
        return as_int_column(name, raw, np.int64)
    if kind == "f":
        return as_float_column(name, raw)
    raise ValueError(f"column {name!r} must be boolean or numeric (got dtype {raw.dtype})")
