"""gridledger-bench: scenario functions at toy sizes, the report's arithmetic, the CLI."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from chain.errors import BadMerkleRoot
from chain.keyring import KeyRing
from experiments.bench import REQUIRED_KEYS, main
from experiments.bench.agent_step import bench_agent_step
from experiments.bench.chain_validation import bench_chain_validation
from experiments.bench.clearing import (
    CONTEXT,
    ClearingTimeout,
    bench_clearing,
    random_book,
    run_with_deadline,
)
from experiments.bench.common import group_options
from experiments.bench.day import bench_days, day_overrides
from experiments.bench.plan import full_plan
from experiments.bench.profile_summary import summarise
from experiments.bench.report import figures, missing_keys, table
from experiments.bench.signatures import (
    bench_identities,
    floor_signature_cost,
    measure_ring_signature_cost,
    measure_signature_cost,
)
from experiments.build import build
from market import BUY, SELL
from tests.conftest import make_config


def test_agent_step_paths_agree_and_rates_are_positive():
    result = bench_agent_step(households=200, repeats=2)
    assert result["same_orders"] is True
    assert result["agents"] == 250  # 200 households + 0.25 EVs per household
    assert result["vectorized_agent_steps_per_s"] > 0
    assert result["per_agent_agent_steps_per_s"] > 0
    assert result["vectorized_over_per_agent"] == pytest.approx(
        result["vectorized_agent_steps_per_s"] / result["per_agent_agent_steps_per_s"]
    )


def test_run_with_deadline_returns_raises_and_kills():
    assert run_with_deadline(lambda: sum(range(10)), 10.0) == 45
    start = time.perf_counter()
    with pytest.raises(ClearingTimeout):
        run_with_deadline(lambda: time.sleep(30), 0.3)
    assert time.perf_counter() - start < 10
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run_with_deadline(lambda: 1 / 0, 10.0)


def test_random_book_is_reproducible_and_inside_the_tariff_band():
    book, again = random_book(5000, seed=3), random_book(5000, seed=3)
    for name, column in book.columns().items():
        assert np.array_equal(column, getattr(again, name))
    assert set(np.unique(book.side)) == {BUY, SELL}
    assert book.limit_price.min() >= CONTEXT.feed_in_tariff
    assert book.limit_price.max() <= CONTEXT.tariff
    assert not book.dispatchable[book.side == BUY].any()
    assert book.quantity_wh.min() >= 1 and book.quantity_wh.max() <= 5000


def test_clearing_covers_every_registered_mechanism():
    import market

    result = bench_clearing((300, 600), repeats=1, budget_s=0.5)
    reported = set(result["seconds"]) | set(result["skipped"]) | set(result["errors"])
    assert reported == set(market.MECHANISMS)
    assert all(t > 0 for times in result["seconds"].values() for t in times.values())
    assert result["trades"]["sorted_pairing"]["300"] > 0
    assert result["headline_orders"] == 600
    expected = "uniform_price" if "uniform_price" in result["seconds"] else "sorted_pairing"
    assert result["headline_mechanism"] == expected


def test_chain_validation_per_consensus_against_raw_verify():
    result = bench_chain_validation(transactions=40, repeats=2)
    assert "poa" in group_options("chain")
    assert result["default"] == "poa"
    assert set(result["per_consensus"]) | set(result["errors"]) == set(group_options("chain"))
    poa = result["per_consensus"]["poa"]
    assert poa["transactions"] == 40
    assert poa["chain_validate_tx_per_s"] > 0 and poa["raw_ed25519_verify_per_s"] > 0
    assert poa["chain_over_raw"] == pytest.approx(
        poa["chain_validate_tx_per_s"] / poa["raw_ed25519_verify_per_s"]
    )
    assert not result["errors"]
    for name, entry in result["per_consensus"].items():
        follower = entry["block_validation"]
        # Every signature a block carries is counted: its transactions, one proposer
        # seal per block, and the certificate votes of pbft, hybrid and pow.
        assert follower["signatures"] == (
            follower["transactions"] + follower["blocks"] + follower["certificate_votes"]
        )
        assert follower["transactions"] >= 2 * 40, name
        assert (follower["certificate_votes"] > 0) == (name in {"pbft", "hybrid", "pow"}), name
        assert follower["validation_over_signatures"] > 0


def test_block_validation_follower_rejects_a_tampered_block():
    from dataclasses import replace

    from experiments.bench.block_validation import bench_block_validation

    model = build(make_config("population.size=6", "time.steps=2", "output.progress=false"))
    model.run()
    ledger = model.chain.ledger
    assert any(block.n_tx for block in ledger.blocks)
    assert bench_block_validation(ledger, repeats=1)["blocks"] == len(ledger.blocks)
    index = next(i for i, block in enumerate(ledger.blocks) if block.n_tx)
    block = ledger.blocks[index]
    first = block.transactions[0]
    forged = replace(
        first, signature=("0" if first.signature[0] != "0" else "1") + first.signature[1:]
    )
    ledger.blocks[index] = replace(block, transactions=(forged, *block.transactions[1:]))
    with pytest.raises(RuntimeError, match="does not verify"):
        bench_block_validation(ledger, repeats=1)
    # Every remaining signature is genuine, but the follower still checks the Merkle root.
    ledger.blocks[index] = replace(block, transactions=block.transactions[1:])
    with pytest.raises(BadMerkleRoot):
        bench_block_validation(ledger, repeats=1)


def test_signature_cost_is_positive_and_rejects_empty_input():
    identities = bench_identities(4)
    cost = measure_signature_cost([b"payment %d" % i for i in range(20)], identities, repeats=1)
    assert cost.sign_s > 0 and cost.verify_s > 0 and cost.messages == 20
    assert cost.sign_verify_s == cost.sign_s + cost.verify_s
    with pytest.raises(ValueError, match="must not be empty"):
        measure_signature_cost([], identities)


def test_the_floor_charges_the_faster_primitive_for_each_operation():
    floor, by_primitive = floor_signature_cost([b"payment %d" % i for i in range(20)], keys=4)
    assert set(by_primitive) == {"openssl", "keyring"}
    for field in ("sign_s", "verify_s", "sign_cpu_s", "verify_cpu_s"):
        assert getattr(floor, field) == min(getattr(c, field) for c in by_primitive.values())
    with pytest.raises(ValueError, match="must not be empty"):
        measure_ring_signature_cost([], KeyRing(7, 0, 2))


def test_day_in_a_child_process_scales_to_96_steps():
    result = bench_days({100: 2})
    day = result["days"]["100"]
    assert day["steps"] == 2 and day["scale_to_96_steps"] == 48
    assert day["payments"] > 0 and day["orders_signed"] is True
    assert day["day_wall_s"] == pytest.approx(day["run_s"] * 48)
    floor = day["payments"] * 48 * (day["sign_s"] + day["verify_s"]) / result["cores"]
    assert day["day_signature_floor_s"] == pytest.approx(floor)
    assert day["peak_rss_bytes"] > result["baseline_peak_rss_bytes"] > 0


def test_day_steps_must_divide_the_day():
    assert "time.step_minutes=360" in day_overrides(100, 4)
    assert "time.step_minutes=15" in day_overrides(100, 96)
    with pytest.raises(ValueError, match="steps must divide 96"):
        day_overrides(100, 5)
    net = day_overrides(100, 96, sign_orders=False, settlement_period=12)
    assert "settlement.mode=net" in net and "settlement.period_steps=12" in net
    assert not any(o.startswith("settlement.") for o in day_overrides(100, 96))


def test_full_plan_sizes_follow_max_agents():
    plan = full_plan(100_000)
    assert plan.day_steps == {1_000: 96, 10_000: 96, 100_000: 8}
    assert plan.day_unsigned_orders_at == (1_000, 10_000, 100_000)
    assert plan.net_settlement_days == {10_000: 12, 100_000: 12}
    assert full_plan(1_000).net_settlement_days == {}
    assert full_plan(1_000_000, day_steps=2).day_steps[1_000_000] == 2
    assert full_plan(10_000).ray_households == 10_000
    with pytest.raises(ValueError, match="max_agents"):
        full_plan(10)
    with pytest.raises(ValueError, match="day_steps must divide 96"):
        full_plan(100_000, day_steps=5)


def _details():
    day = {
        "steps": 96,
        "agents": 1253,
        "orders_signed": True,
        "day_wall_s": 30.0,
        "day_cpu_s": 25.0,
        "day_signature_floor_cpu_s": 10.0,
        "day_signature_floor_s": 10.0,
        "wall_over_floor": 3.0,
        "wall_s_per_household": 0.03,
        "peak_rss_bytes_per_agent": 2048.0,
    }
    return {
        "agent_step": {
            "vectorized_agent_steps_per_s": 30e6,
            "per_agent_agent_steps_per_s": 1e5,
            "vectorized_over_per_agent": 300.0,
            "same_orders": True,
        },
        "clearing": {
            "headline_mechanism": "sorted_pairing",
            "headline_orders": 1_000_000,
            "clear_headline_s": 0.2,
        },
        "chain": {
            "default": "poa",
            "per_consensus": {
                "poa": {
                    "chain_validate_tx_per_s": 9000.0,
                    "raw_ed25519_verify_per_s": 10000.0,
                    "chain_over_raw": 0.9,
                    "chain_over_raw_cpu": 0.95,
                }
            },
        },
        "days": {"days": {"1000": day}, "days_unsigned_orders": {}},
        "ray": {
            "households": 10_000,
            "steps": 2,
            "speedup": {"1": 1.0, "2": 1.25},
            "identical_ledger_heads": True,
        },
    }


def test_figures_report_ratios_and_targets_by_hand():
    result = figures(_details())
    assert missing_keys(result) == []
    assert result["day_wall_s"] == {"1000": 30.0}
    assert result["ratios"]["day_wall_over_signature_floor"] == {"1000": 3.0}
    assert result["ratios"]["day_cpu_over_signature_floor"] == {"1000": 2.5}
    assert result["ratios"]["chain_over_raw_verify"] == {"poa": 0.9}
    targets = result["targets"]
    assert targets["vectorized_per_core"]["met"] is True
    assert targets["vectorized_over_per_agent"]["met"] is True
    assert targets["chain_over_raw_verify"]["met"] is True
    assert targets["day_within_floor"]["met"] is False
    # No uniform_price mechanism, 1e4 households on Ray, 1e3 households in memory:
    # the run cannot tell whether those targets are met.
    assert targets["uniform_1e6"]["met"] is None
    assert targets["ray_speedup"]["met"] is None
    assert targets["memory_per_agent"]["met"] is None
    assert any("uniform_price" in note for note in result["notes"])
    text = table(result)
    assert (
        "3.0x floor (10.0 s; CPU 2.5x)" in text
        and "90% of raw verify (CPU 95%)" in text
        and "300x per-agent" in text
    )


def test_flat_cost_and_memory_are_judged_on_the_variant_that_runs_at_scale():
    details = _details()
    base = details["days"]["days"]["1000"]

    def day(households, wall_s, cpu_s, rss):
        return {
            **base,
            "agents": households,
            "households": households,
            "payments": 8 * households,
            "day_wall_s": wall_s,
            "day_cpu_s": cpu_s,
            "wall_s_per_household": wall_s / households,
            "peak_rss_bytes_per_agent": rss,
        }

    # Per-trade signed days at 1e4 and 1e5 grow 2x per household; net-settlement days
    # at 1e4 and 1e6 grow 1.2x: the target is judged on the net days and says so.
    details["days"]["days"] = {"10000": day(10_000, 100.0, 90.0, 9000.0)}
    details["days"]["days"]["100000"] = day(100_000, 2000.0, 1800.0, 7000.0)
    details["days"]["days_net_settlement"] = {
        "10000": day(10_000, 10.0, 12.0, 5000.0),
        "1000000": day(1_000_000, 1200.0, 1500.0, 900.0),
    }
    result = figures(details)
    by_variant = result["ratios"]["cost_per_household_growth_by_variant"]
    assert by_variant["per-trade payments, orders signed"] == pytest.approx(2.0)
    assert by_variant["net settlement, orders unsigned"] == pytest.approx(1.2)
    assert by_variant["net settlement, orders unsigned (CPU)"] == pytest.approx(1.25)
    assert result["ratios"]["cost_per_household_growth"] == pytest.approx(1.2)
    flat = result["targets"]["flat_cost_per_agent"]
    assert flat["met"] is True and "net settlement" in flat["what"]
    # Memory: the largest population any variant ran (1e6, net settlement).
    assert result["peak_rss_bytes_per_agent"] == 900.0
    assert result["peak_rss_measured_at"]["households"] == 1_000_000
    assert result["targets"]["memory_per_agent"]["met"] is True
    # Without net days the per-trade days are judged (2x: not met).
    del details["days"]["days_net_settlement"]
    result = figures(details)
    assert result["targets"]["flat_cost_per_agent"]["met"] is False
    assert result["peak_rss_measured_at"]["households"] == 100_000
    assert result["targets"]["memory_per_agent"]["met"] is None


def test_missing_keys_wants_every_figure_positive():
    result = figures(_details())
    result["day_wall_s"] = {"1000": 0.0}
    del result["ray_speedup_2_workers"]
    assert missing_keys(result) == ["day_wall_s", "ray_speedup_2_workers"]


def test_profile_summary_shares_by_hand():
    lines = [
        "main (a.py:1);step (b.py:2);verify (c.py:3) 6\n",
        "main (a.py:1);step (b.py:2) 2\n",
        "main (a.py:1);sign (c.py:9) 2\n",
    ]
    total, costs = summarise(lines)
    assert total == 10
    by_name = {cost.function: cost for cost in costs}
    assert by_name["main (a.py)"].inclusive == 1.0 and by_name["main (a.py)"].self_share == 0
    assert by_name["step (b.py)"].inclusive == 0.8 and by_name["step (b.py)"].self_share == 0.2
    assert by_name["verify (c.py)"].self_share == 0.6
    assert [cost.function for cost in costs][:2] == ["main (a.py)", "step (b.py)"]
    total, costs = summarise(lines, root="step")
    assert total == 8
    assert {c.function: c.self_share for c in costs}["verify (c.py)"] == 0.75


@pytest.mark.slow
def test_tiny_benchmark_writes_every_required_figure(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["--tiny", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert missing_keys(result) == []
    for key in REQUIRED_KEYS:
        assert key in result
    assert result["errors"] == {}
    assert result["details"]["agent_step"]["same_orders"] is True
    assert result["details"]["ray"]["identical_ledger_heads"] is True
    net = result["details"]["days"]["days_net_settlement"]["100"]
    assert net["steps"] == 96 and net["settlement_period_steps"] == 48
    assert not net["orders_signed"]
    # Two windows: far fewer signed transactions than the per-trade days' payments.
    assert 0 < result["ratios"]["net_settlement_signed_tx_per_household"]["100"] < 10
    printed = capsys.readouterr().out
    assert "agent step, vectorised" in printed
    assert "net settlement, orders unsigned" in printed


def test_cli_rejects_unknown_scenarios(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--tiny", "--only", "nosuch"])
    assert exit_info.value.code == 2
    assert "unknown scenario" in capsys.readouterr().err
