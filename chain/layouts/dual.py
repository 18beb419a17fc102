"""``dual``: a local energy trading chain (LETB) and a renewable one (RETB), seed 003.

Both are consortium chains of ``n_validators`` each, running the configured
consensus with blocks sealed every ``dual_block_period_s`` (hourly by default,
as in seed 003; each block links the previous block's hash like every chain
here). The market decides where a trade goes: a mechanism that returns a
per-trade ``chain`` column (``local_re``: 0 = LETB, 1 = RETB) routes its
trades, every other trade (and every grid trade) goes to LETB.

Genesis split: every wallet holder's balance is split in two halves (LETB gets
the odd micro-coin), so an agent can pay on both chains; the grid operator
trades only on LETB and keeps its whole wallet there. An agent's wallet is the
sum of its two balances.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from chain.layouts.base import Layout

LETB, RETB = 0, 1


class DualLayout(Layout):
    """LETB and RETB side by side; payments routed by the market's chain tag."""

    name: ClassVar[str] = "dual"

    def __init__(self, config: Any, consensus: Any, **kwargs: Any) -> None:
        if dataclasses.is_dataclass(consensus) and any(
            f.name == "block_period_s" for f in dataclasses.fields(consensus)
        ):
            consensus = dataclasses.replace(consensus, block_period_s=config.dual_block_period_s)
        super().__init__(config, consensus, **kwargs)
        letb = {self.operator_key: kwargs["operator_micro"]}
        retb: dict[str, int] = {}
        for area_balances in kwargs["area_balances"]:
            for key, micro in area_balances.items():
                retb[key] = micro // 2
                letb[key] = micro - micro // 2
        n = consensus.n_validators
        self.letb_id = f"{self.base_chain_id}-letb"
        self.retb_id = f"{self.base_chain_id}-retb"
        for chain_id, balances in ((self.letb_id, letb), (self.retb_id, retb)):
            self._add_chain(
                chain_id,
                balances,
                [f"validator/{chain_id}/{k}" for k in range(n)],
                [-1] * n,
                hybrid_areas=list(range(n)),
            )

    def chain_ids(
        self, payer_area: np.ndarray, payee_area: np.ndarray, chain_tag: np.ndarray
    ) -> list[str]:
        """RETB for trades tagged 1, LETB otherwise."""
        return [self.retb_id if int(t) == RETB else self.letb_id for t in chain_tag]

    def home_chain_id(self, area: int) -> str:
        """LETB."""
        return self.letb_id

    def role_of(self, chain_id: str) -> str:
        """``letb`` or ``retb``."""
        return "retb" if chain_id == self.retb_id else "letb"

    def storage(self) -> dict[str, float | int]:
        """A consortium node keeps its chain (LETB and RETB nodes separately)."""
        letb = self.chains[self.letb_id].recorder.storage_bytes
        retb = self.chains[self.retb_id].recorder.storage_bytes
        return {
            "storage_bytes_full_node": max(letb, retb),
            "storage_bytes_letb_node": letb,
            "storage_bytes_retb_node": retb,
        }
