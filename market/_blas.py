"""One BLAS thread for the small dense algebra of the iterative mechanisms.

The double auction solves many small systems (Newton steps on the OAP dual, L-BFGS-B
updates).  OpenBLAS spreads even a 100 x 100 solve over all cores, and on a machine
whose cores are busy (other areas, other jobs) the threads' hand-offs cost 10-100 times
the arithmetic: we measured 24 s against 1.9 s for one auction of 300 orders.  Inside
:func:`single_threaded_blas` BLAS runs on the calling thread only (``threadpoolctl``;
without it the block runs unchanged).
"""

from __future__ import annotations

import contextlib
from typing import Any

_controller: Any = None


def single_threaded_blas() -> contextlib.AbstractContextManager:
    """A context in which BLAS uses one thread (a no-op without ``threadpoolctl``)."""
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - optional speed-up
        return contextlib.nullcontext()
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
