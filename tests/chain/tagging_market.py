"""A market for tests: sorted pairing whose trades alternate between LETB (0) and RETB (1)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from market.sorted_pairing import SortedPairing


@dataclass(frozen=True)
class AlternatingChainMarket(SortedPairing):
    """Tags trade ``i`` of every clearing with chain ``i % 2`` (as ``local_re`` tags)."""

    def clear(self, book, ctx):
        result = super().clear(book, ctx)
        tag = (np.arange(len(result.trades)) % 2).astype(np.int8)
        return dataclasses.replace(result, trade_columns={"chain": tag})
