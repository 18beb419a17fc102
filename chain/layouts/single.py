"""``single``: one chain records every payment of the run (the default layout)."""

from __future__ import annotations

from typing import Any, ClassVar

from chain.layouts.base import Layout


class SingleLayout(Layout):
    """One chain, ``n_validators`` validators placed by the driver.

    The chain id is the run's ``chain_id`` and validator keys are labelled
    ``validator/<k>`` (or chosen by the driver: seed 000 miners), so a run is
    bit-identical to one without layouts.
    """

    name: ClassVar[str] = "single"

    def __init__(self, config: Any, consensus: Any, **kwargs: Any) -> None:
        super().__init__(config, consensus, **kwargs)
        balances = {self.operator_key: kwargs["operator_micro"]}
        for area_balances in kwargs["area_balances"]:
            balances.update(area_balances)
        n = consensus.n_validators
        areas = list(kwargs.get("validator_areas") or [-1] * n)
        self._add_chain(
            self.base_chain_id,
            balances,
            [f"validator/{k}" for k in range(n)],
            areas,
            hybrid_areas=areas,
            identities=kwargs.get("validator_identities"),
        )
