"""The driver: a small GridModel run end to end in this process."""

from __future__ import annotations

import numpy as np
import pytest

import market
from agents.accounting import summarize
from agents.model import GRID_OPERATOR_ID, GridModel
from agents.params import ParameterError
from agents.population import Population
from agents.runtime import LocalRuntime
from agents.settlement import GRID_IMPORT
from agents.tariff import TimeOfUseTariff
from agents.topology import RadialFeeders
from chain.consensus.poa import ProofOfAuthority
from chain.keys import Identity

STEPS = 8


def make_model(runtime=None, **overrides) -> GridModel:
    kwargs = dict(
        market=market.SortedPairing(),
        consensus=ProofOfAuthority(),
        grid=RadialFeeders(n_areas=2, buses_per_area=5),
        population=Population(size=8),
        tariff=TimeOfUseTariff(),
        runtime=runtime if runtime is not None else LocalRuntime(),
        steps=STEPS,
    )
    kwargs.update(overrides)
    return GridModel(**kwargs)


@pytest.fixture(scope="module")
def run():
    """An 8-step run (00:00-02:00), stepped by hand to keep each step's household nets."""
    model = make_model()
    per_step = []
    for _ in range(STEPS):
        model.step()
        net = np.concatenate([a.households.net_kwh for a in model.runtime.local_areas()])
        per_step.append((net, dict(model.metrics)))
    model.finish()
    return model, per_step


def test_registry_and_offsets(run):
    model, _ = run
    # 2 areas x (4 households, 1 EV, 1 provider); id 0 is the grid operator.
    np.testing.assert_array_equal(model.area_offsets, [1, 7])
    np.testing.assert_array_equal(model.agent_kind, [0, 1, 1, 1, 1, 2, 3, 1, 1, 1, 1, 2, 3])
    np.testing.assert_array_equal(model.agent_area, [-1] + [0] * 6 + [1] * 6)
    assert len(model.public_keys) == 13
    assert model.public_keys[0] == Identity.derive(42, "agent/0").public_hex
    assert model.public_keys[8] == Identity.derive(42, "agent/8").public_hex
    assert model.public_keys[1:7] == model.runtime.local_areas()[0].public_keys


def test_steps_and_metrics_rows(run):
    model, per_step = run
    assert [m["step"] for _, m in per_step] == list(range(STEPS))
    assert [m["hour"] for _, m in per_step] == [0.125 + 0.25 * s for s in range(STEPS)]
    assert all(m["tariff_coins_per_kwh"] == 0.12 for _, m in per_step)
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == STEPS + 1  # the initial row plus one per step
    assert frame["step"].tolist() == list(range(-1, STEPS))


def test_energy_balance_error_is_wh_rounding(run):
    model, per_step = run
    for net, metrics in per_step:
        # supply - demand = sum(rounded net) - sum(net): only households' Wh rounding.
        expected = float(np.rint(net * 1000).sum() / 1000 - net.sum())
        assert metrics["energy_balance_error_kwh"] == pytest.approx(expected, abs=1e-9)
        assert abs(metrics["energy_balance_error_kwh"]) <= 0.0005 * metrics["orders"]
        assert abs(metrics["energy_balance_error_kwh"]) <= 0.0005 * len(net) + 1e-12
        # Orders: 2 areas x 4 provider blocks plus households and charging EVs.
        assert metrics["orders"] >= 8
        assert metrics["orders_rejected"] == 0
    assert model.totals["max_abs_energy_balance_error_kwh"] == max(
        abs(m["energy_balance_error_kwh"]) for _, m in per_step
    )


def test_night_trades_all_go_to_the_grid(run):
    model, per_step = run
    # Off-peak at night: providers ask >= 0.1525 > 0.12 retail, no PV, so every
    # purchase is a grid import at the retail tariff and nothing is exported.
    for log in model.trade_log:
        assert (log["kind"] == GRID_IMPORT).all()
        assert (log["seller"] == GRID_OPERATOR_ID).all()
        np.testing.assert_array_equal(log["price_micro_per_kwh"], 120_000)
        np.testing.assert_array_equal(
            log["amount_micro"], (log["quantity_wh"] * 120_000 + 500) // 1000
        )
    for _, m in per_step:
        assert m["p2p_local_kwh"] == m["p2p_cross_kwh"] == m["grid_export_kwh"] == 0.0
        assert m["provider_generation_kwh"] == 0.0 and m["pv_kwh"] == 0.0
        assert m["trades"] == m["transactions_submitted"]
        assert m["transactions_rejected"] == 0
    ids = np.concatenate([log["trade_id"] for log in model.trade_log])
    np.testing.assert_array_equal(ids, np.arange(len(ids)))
    assert model.provider_cost_coins == 0.0


def test_money_is_conserved_and_wallets_mirror_the_ledger(run):
    model, _ = run
    summary = summarize(model)
    # 10,000,000 (grid) + 8 x 1000 (households) + 2 x 1000 (EVs) + 2 x 100 (providers).
    genesis = 10_010_200 * 1_000_000
    assert summary["coin_supply_micro"]["main"] == {"genesis": genesis, "final": genesis}
    assert summary["wallets_match_ledger"] is True
    assert model.chain.metrics()["mempool_size"] == 0
    # What the agents paid is exactly what the grid operator received.
    paid = sum(int(w.paid_micro.sum()) for w in model.runtime.wallets())
    amounts = sum(int(log["amount_micro"].sum()) for log in model.trade_log)
    assert paid == amounts > 0
    grid_key = model.public_keys[0]
    assert model.chain.ledger.balances[grid_key] == 10_000_000 * 1_000_000 + paid
    assert summary["counts"] == {
        "areas": 2,
        "households": 8,
        "evs": 2,
        "providers": 2,
        "aggregators": 2,
        "validators": 4,
        "steps": STEPS,
        "orders": int(model.totals["orders"]),
        "orders_rejected": 0,
        "trades": len(np.concatenate([log["trade_id"] for log in model.trade_log])),
        "transactions": summary["counts"]["trades"],
        "transactions_rejected": 0,
        "payments_dropped": 0,
        "blocks": model.chain.ledger.height,
    }


def test_wallet_mismatch_is_reported(run):
    model, _ = run
    wallets = model.runtime.wallets()[1]
    wallets.wallet_micro[2] += 1
    try:
        assert summarize(model)["wallets_match_ledger"] is False
    finally:
        wallets.wallet_micro[2] -= 1
    assert summarize(model)["wallets_match_ledger"] is True


def test_grid_only_cost_of_households(run):
    model, _ = run
    trades = {
        k: np.concatenate([log[k] for log in model.trade_log]) for k in ("buyer", "quantity_wh")
    }
    expected = np.zeros(13, dtype=np.int64)
    np.add.at(expected, trades["buyer"], (trades["quantity_wh"] * 120_000 + 500) // 1000)
    grid_only = np.concatenate([w.grid_only_cost_micro for w in model.runtime.wallets()])
    paid = np.concatenate([w.paid_micro for w in model.runtime.wallets()])
    np.testing.assert_array_equal(grid_only, expected[1:])
    np.testing.assert_array_equal(paid, expected[1:])
    households = model.agent_kind[1:] == 1
    # At night a household with a battery covers its load from it; the others draw.
    capacity = np.concatenate(
        [a.households.battery_capacity_kwh for a in model.runtime.local_areas()]
    )
    np.testing.assert_array_equal(grid_only[households] > 0, capacity == 0)
    assert (capacity > 0).sum() == 2  # round(2 PV homes / 3) = 1 battery per area
    costs = summarize(model)["costs_coins"]
    total = expected[1:][households].sum() / 1_000_000
    assert costs["household"]["total_grid_only_cost"] == pytest.approx(total, abs=1e-9)
    assert costs["household"]["total_cost"] == pytest.approx(total, abs=1e-9)
    assert costs["household"]["mean_grid_only_cost"] == pytest.approx(total / 8, abs=1e-9)
    assert costs["household"]["cost_ratio"] == pytest.approx(1.0, abs=1e-12)
    assert costs["provider"]["mean_revenue"] == 0.0


def test_blocks_are_sealed_round_robin(run):
    model, per_step = run
    validators = [m.identity.public_hex for m in model.miners]
    assert validators == [Identity.derive(42, f"validator/{k}").public_hex for k in range(4)]
    blocks = model.chain.blocks
    assert len(blocks) == STEPS  # one block per step (transactions every step)
    for i, block in enumerate(blocks):
        assert block.header.height == i + 1
        assert block.header.proposer == validators[i % 4]
    assert model.blocks_by_proposer == {v: 2 for v in validators}
    assert [m.blocks_sealed for m in model.miners] == [2, 2, 2, 2]
    assert summarize(model)["blocks_by_validator"] == {v[:16]: 2 for v in validators}
    assert all(m["blocks_sealed"] == 1 for _, m in per_step)
    # Validators sit on the substation, then the two stations, then bus 2.
    assert [m.cell.coordinate for m in model.miners] == [0, 1, 6, 2]
    assert model.grid_operator.cell.coordinate == 0


def test_run_is_a_function_of_seed_and_independent_of_agent_path():
    a, b = make_model(), make_model(agent_path="per_agent")
    a.run()
    b.run()
    assert a.chain.head_hash == b.chain.head_hash
    assert a.chain.ledger.height == STEPS
    c = make_model(seed=43)
    c.run()
    assert c.chain.head_hash != a.chain.head_hash


class StubRuntime:
    """Records whether the model started it; any other call fails loudly."""

    def __init__(self):
        self.started = False

    def start(self, specs):
        self.started = True
        raise AssertionError("runtime started")


def test_too_many_validators_rejected_before_runtime_starts():
    runtime = StubRuntime()
    grid = RadialFeeders(n_areas=1, buses_per_area=2)  # 3 buses
    with pytest.raises(ParameterError) as info:
        make_model(runtime=runtime, grid=grid, consensus=ProofOfAuthority(n_validators=4))
    assert info.value.key == "n_validators"
    assert str(info.value).startswith("n_validators must be at most the number of grid buses (3)")
    assert info.value.got == 4
    assert runtime.started is False


def test_validators_equal_to_bus_count_are_allowed():
    model = make_model(
        grid=RadialFeeders(n_areas=1, buses_per_area=2),
        consensus=ProofOfAuthority(n_validators=3),
        steps=1,
    )
    assert [m.cell.coordinate for m in model.miners] == [0, 1, 2]


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        (dict(steps=0), "steps"),
        (dict(step_minutes=7), "step_minutes"),
        (dict(step_minutes=0), "step_minutes"),
        (dict(seed=-1), "seed"),
    ],
)
def test_driver_parameters_checked_before_runtime_starts(kwargs, key):
    runtime = StubRuntime()
    with pytest.raises(ParameterError) as info:
        make_model(runtime=runtime, **kwargs)
    assert info.value.key == key
    assert runtime.started is False


def test_local_runtime_returns_areas_in_order():
    model = make_model(steps=1)
    areas = model.runtime.local_areas()
    assert [a.spec.area_id for a in areas] == [0, 1]
    assert [a.spec.id_offset for a in areas] == [1, 7]
    assert model.runtime.public_keys() == [a.public_keys for a in areas]
    assert [d.area_id for d in model.runtime.decide(0)] == [0, 1]
