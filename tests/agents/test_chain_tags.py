"""Per-trade chain tags survive the grid's limit rule (dual layout routing)."""

from __future__ import annotations

import numpy as np

from agents.model import _carry_chain_tags
from market import Trades


def _trades(buyer, seller, quantity):
    n = len(buyer)
    return Trades(
        buyer=np.array(buyer),
        seller=np.array(seller),
        buyer_order=np.arange(n) if n else np.zeros(0, np.int64),
        seller_order=np.arange(n) if n else np.zeros(0, np.int64),
        buyer_area=np.zeros(n, np.int32),
        seller_area=np.zeros(n, np.int32),
        quantity_wh=np.array(quantity, np.int64),
        price=np.full(n, 0.2),
    )


def test_kept_trades_keep_their_tag_and_appended_grid_trades_go_to_letb():
    before = _trades([1, 2, 3, 4], [5, 6, 7, 8], [10, 20, 30, 40])
    tag = np.array([1, 0, 1, 1], np.int8)
    # The rule drops trade 1 and shrinks trade 2, then appends a grid import for trade 1.
    kept = Trades(**{
        name: getattr(before, name)[[0, 2, 3]] for name in Trades.__dataclass_fields__
    })  # fmt: skip
    after = Trades.concat([kept, _trades([2], [0], [20])])
    assert _carry_chain_tags(before, after, tag).tolist() == [1, 1, 1, 0]
    assert _carry_chain_tags(before, before, tag) is tag
