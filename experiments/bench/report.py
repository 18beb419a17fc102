"""Turn scenario results into the benchmark's JSON figures, its ratios and its table.

The required figures (``REQUIRED_KEYS``) sit at the top level of the JSON; ``ratios``
holds every figure divided by the baseline measured in the same run, ``targets`` each
target of issue 6 with the measured value and whether it is met (``null`` when the run
did not measure what the target needs), and ``details`` the full scenario results.
"""

from __future__ import annotations

import math
from typing import Any

REQUIRED_KEYS = (
    "vectorized_agent_steps_per_s",
    "per_agent_agent_steps_per_s",
    "clear_uniform_1e6_s",
    "chain_validate_tx_per_s",
    "raw_ed25519_verify_per_s",
    "day_wall_s",
    "day_signature_floor_s",
    "ray_speedup_2_workers",
    "peak_rss_bytes_per_agent",
)

KB = 1024


def _target(value, limit, met: bool | None, what: str) -> dict[str, Any]:
    return {"what": what, "value": value, "limit": limit, "met": met}


def figures(details: dict[str, Any]) -> dict[str, Any]:
    """The benchmark JSON from the scenario results in ``details`` (keys per scenario)."""
    out: dict[str, Any] = {}
    ratios: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    notes: list[str] = []
    step = details.get("agent_step")
    if step:
        out["vectorized_agent_steps_per_s"] = step["vectorized_agent_steps_per_s"]
        out["per_agent_agent_steps_per_s"] = step["per_agent_agent_steps_per_s"]
        ratios["vectorized_over_per_agent"] = step["vectorized_over_per_agent"]
        targets["vectorized_per_core"] = _target(
            step["vectorized_agent_steps_per_s"],
            20e6,
            step["vectorized_agent_steps_per_s"] >= 20e6,
            "vectorised agent-steps/s on one core >= 20 M",
        )
        targets["vectorized_over_per_agent"] = _target(
            step["vectorized_over_per_agent"],
            20.0,
            step["vectorized_over_per_agent"] >= 20,
            "vectorised / per-agent >= 20x",
        )
        if not step["same_orders"]:
            notes.append("agent_step: the vectorised and per-agent paths gave DIFFERENT orders")
    clearing = details.get("clearing")
    if clearing:
        out["clear_uniform_1e6_s"] = clearing["clear_headline_s"]
        source = clearing["headline_mechanism"]
        out["clear_uniform_1e6_mechanism"] = source
        out["clear_uniform_1e6_orders"] = clearing["headline_orders"]
        out["clear_uniform_1e6_source"] = (
            f"{source} clearing of {clearing['headline_orders']} random orders"
        )
        is_uniform = source == "uniform_price" and clearing["headline_orders"] >= 1_000_000
        if not is_uniform:
            notes.append(
                "clear_uniform_1e6_s: market.MECHANISMS has no 'uniform_price' (or fewer than "
                f"1e6 orders were cleared); the figure is {out['clear_uniform_1e6_source']}"
            )
        targets["uniform_1e6"] = _target(
            clearing["clear_headline_s"],
            0.15,
            clearing["clear_headline_s"] <= 0.15 if is_uniform else None,
            "uniform-price clearing of 1e6 orders <= 0.15 s",
        )
    chain = details.get("chain")
    if chain and chain["default"] in chain["per_consensus"]:
        head = chain["per_consensus"][chain["default"]]
        out["chain_validate_tx_per_s"] = head["chain_validate_tx_per_s"]
        out["raw_ed25519_verify_per_s"] = head["raw_ed25519_verify_per_s"]
        out["chain_validate_consensus"] = chain["default"]
        out["chain_validate_tx_per_s_by_consensus"] = {
            name: result["chain_validate_tx_per_s"]
            for name, result in chain["per_consensus"].items()
        }
        ratios["chain_over_raw_verify"] = {
            name: result["chain_over_raw"] for name, result in chain["per_consensus"].items()
        }
        ratios["chain_over_raw_verify_cpu"] = {
            name: result.get("chain_over_raw_cpu", float("nan"))
            for name, result in chain["per_consensus"].items()
        }
        targets["chain_over_raw_verify"] = _target(
            head["chain_over_raw"],
            0.8,
            head["chain_over_raw"] >= 0.8,
            f"chain validation ({chain['default']}) >= 80 % of raw Ed25519 verify, one core",
        )
        followers = {
            name: result["block_validation"]
            for name, result in chain["per_consensus"].items()
            if "block_validation" in result
        }
        if followers:
            ratios["block_validation_over_signatures"] = {
                name: f["validation_over_signatures"] for name, f in followers.items()
            }
            ratios["block_validation_over_signatures_cpu"] = {
                name: f["validation_over_signatures_cpu"] for name, f in followers.items()
            }
            worst = max(ratios["block_validation_over_signatures"].values())
            targets["block_validation_over_signatures"] = _target(
                worst,
                1.25,
                worst <= 1.25,
                "validating a block <= ~1.25x verifying its signatures alone (worst consensus)",
            )
    days = details.get("days")
    if days and days["days"]:
        per = days["days"]
        out["day_wall_s"] = {n: d["day_wall_s"] for n, d in per.items()}
        out["day_signature_floor_s"] = {n: d["day_signature_floor_s"] for n, d in per.items()}
        out["day_steps_measured"] = {n: d["steps"] for n, d in per.items()}
        ratios["day_wall_over_signature_floor"] = {n: d["wall_over_floor"] for n, d in per.items()}
        ratios["day_cpu_over_signature_floor"] = {
            n: d["day_cpu_s"] / d["day_signature_floor_cpu_s"] for n, d in per.items()
        }
        unsigned = days.get("days_unsigned_orders", {})
        if unsigned:
            out["day_wall_unsigned_orders_s"] = {n: d["day_wall_s"] for n, d in unsigned.items()}
            ratios["day_wall_unsigned_orders_over_signature_floor"] = {
                n: d["wall_over_floor"] for n, d in unsigned.items()
            }
            ratios["day_wall_unsigned_over_signed_orders"] = {
                n: d["day_wall_s"] / per[n]["day_wall_s"] for n, d in unsigned.items() if n in per
            }
        net = days.get("days_net_settlement", {})
        if net:
            out["day_wall_net_settlement_s"] = {n: d["day_wall_s"] for n, d in net.items()}
            out["day_signature_floor_net_settlement_s"] = {
                n: d["day_signature_floor_s"] for n, d in net.items()
            }
            ratios["day_wall_net_settlement_over_signature_floor"] = {
                n: d["wall_over_floor"] for n, d in net.items()
            }
            ratios["net_settlement_signed_tx_per_household"] = {
                n: d["payments"] / d["households"] for n, d in net.items()
            }
        # The issue lets large runs leave orders unsigned; judge the floor on those days
        # (per-trade and net settlement) when they ran, else on the signed-order days.
        allowed = [*unsigned.values(), *net.values()] or list(per.values())
        worst = max(d["wall_over_floor"] for d in allowed)
        targets["day_within_floor"] = _target(
            worst,
            1.5,
            worst <= 1.5,
            "day wall <= 1.5x signature floor (worst day with orders unsigned)",
        )
        variants = (
            ("net settlement, orders unsigned", net),
            ("per-trade payments, orders unsigned", unsigned),
            ("per-trade payments, orders signed", per),
        )
        for households, limit in (("100000", 90.0), ("1000000", 900.0)):
            measured = [
                (v[households]["day_wall_s"], name) for name, v in variants if households in v
            ]
            if measured:
                wall, name = min(measured)
                targets[f"day_{households}_s"] = _target(
                    wall,
                    limit,
                    wall <= limit,
                    f"a day of {households} households <= {limit} s ({name})",
                )
        # Cost per household from 1e4 up, for every variant measured at two or more such
        # sizes; the target is judged on the first of ``variants`` (net settlement, the
        # variant that runs at scale, then per-trade unsigned, then signed) that has one.
        growth_of: dict[str, float] = {}
        for name, variant in variants:
            sizes = sorted(int(n) for n in variant if int(n) >= 10_000)
            if len(sizes) >= 2:
                first, last = variant[str(sizes[0])], variant[str(sizes[-1])]
                growth_of[name] = last["wall_s_per_household"] / first["wall_s_per_household"]
                growth_of[name + " (CPU)"] = (last["day_cpu_s"] / sizes[-1]) / (
                    first["day_cpu_s"] / sizes[0]
                )
        judged = next((name for name, _ in variants if name in growth_of), None)
        if judged is not None:
            variant = dict(variants)[judged]
            sizes = sorted(int(n) for n in variant if int(n) >= 10_000)
            growth = growth_of[judged]
            ratios["cost_per_household_growth"] = growth
            ratios["cpu_per_household_growth"] = growth_of[judged + " (CPU)"]
            ratios["cost_per_household_growth_by_variant"] = growth_of
            targets["flat_cost_per_agent"] = _target(
                growth,
                1.25,
                growth <= 1.25,
                f"cost per household {sizes[-1]} / {sizes[0]} within 25 % ({judged})",
            )
        # Memory at the largest population any variant ran; when several variants ran
        # it, the lowest figure, with the variant named.
        largest = max((n for _, v in variants for n in v), key=int)
        rss, rss_variant = min(
            (v[largest]["peak_rss_bytes_per_agent"], name) for name, v in variants if largest in v
        )
        day = dict(variants)[rss_variant][largest]
        out["peak_rss_bytes_per_agent"] = rss
        out["peak_rss_measured_at"] = {
            "households": int(largest),
            "agents": day["agents"],
            "steps": day["steps"],
            "variant": rss_variant,
        }
        targets["memory_per_agent"] = _target(
            rss,
            KB,
            rss <= KB if int(largest) >= 1_000_000 else None,
            f"peak RSS <= 1 KB per agent at 1e6 agents ({rss_variant}"
            + (")" if int(largest) >= 1_000_000 else f", measured at {largest} households)"),
        )
        if any(d["steps"] < 96 for d in per.values()):
            notes.append(
                "day_wall_s / day_signature_floor_s: populations with day_steps_measured < 96 "
                "ran the 24 h in fewer, longer steps; their figures are scaled by 96/steps"
            )
        if any(d["orders_signed"] for d in per.values()):
            notes.append(
                "every order was signed and verified too (simulation.sign_orders=true); the "
                "signature floor counts payments only, as the issue defines it"
            )
    ray = details.get("ray")
    if ray and "2" in ray["speedup"]:
        out["ray_speedup_2_workers"] = ray["speedup"]["2"]
        out["ray_measured_at"] = {"households": ray["households"], "steps": ray["steps"]}
        ratios["ray_speedup"] = ray["speedup"]
        big = ray["households"] >= 100_000
        targets["ray_speedup"] = _target(
            ray["speedup"]["2"],
            1.6,
            ray["speedup"]["2"] >= 1.6 if big else None,
            "Ray 2 workers / 1 worker >= 1.6x at >= 1e5 households"
            + ("" if big else f" (measured at {ray['households']})"),
        )
        if not ray["identical_ledger_heads"]:
            notes.append("ray: worker counts gave DIFFERENT ledger heads")
    out["ratios"] = ratios
    out["targets"] = targets
    out["notes"] = notes
    return out


def missing_keys(result: dict[str, Any]) -> list[str]:
    """Required keys absent from ``result`` or not positive (mappings: every value)."""

    def positive(value) -> bool:
        if isinstance(value, dict):
            return bool(value) and all(positive(v) for v in value.values())
        return isinstance(value, int | float) and math.isfinite(value) and value > 0

    return [key for key in REQUIRED_KEYS if not positive(result.get(key))]


def _si(value: float) -> str:
    for limit, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def _met(target: dict[str, Any] | None) -> str:
    if target is None:
        return ""
    return {True: "met", False: "NOT met", None: "n/a"}[target["met"]]


def table(result: dict[str, Any]) -> str:
    """A plain-text table of the figures, their same-run ratios and the targets."""
    rows: list[tuple[str, str, str, str]] = [("figure", "value", "ratio / baseline", "target")]
    ratios, targets = result.get("ratios", {}), result.get("targets", {})
    if "vectorized_agent_steps_per_s" in result:
        rows.append(
            (
                "agent step, vectorised",
                f"{_si(result['vectorized_agent_steps_per_s'])} agent-steps/s",
                f"{ratios['vectorized_over_per_agent']:.0f}x per-agent",
                f"{_met(targets.get('vectorized_per_core'))} / "
                f"{_met(targets.get('vectorized_over_per_agent'))}",
            )
        )
        rows.append(
            (
                "agent step, per-agent",
                f"{_si(result['per_agent_agent_steps_per_s'])} agent-steps/s",
                "",
                "",
            )
        )
    if "clear_uniform_1e6_s" in result:
        rows.append(
            (
                f"clear {result['clear_uniform_1e6_orders']:,} orders",
                f"{result['clear_uniform_1e6_s']:.3f} s",
                result["clear_uniform_1e6_mechanism"],
                _met(targets.get("uniform_1e6")),
            )
        )
    if "chain_validate_tx_per_s" in result:
        for name, ratio in ratios["chain_over_raw_verify"].items():
            rows.append(
                (
                    f"chain validation, {name}",
                    f"{_si(result['chain_validate_tx_per_s_by_consensus'][name])} tx/s",
                    f"{ratio:.0%} of raw verify (CPU "
                    f"{ratios['chain_over_raw_verify_cpu'][name]:.0%})",
                    _met(targets.get("chain_over_raw_verify"))
                    if name == result["chain_validate_consensus"]
                    else "",
                )
            )
        rows.append(("raw Ed25519 verify", f"{_si(result['raw_ed25519_verify_per_s'])} /s", "", ""))
        worst = max(ratios.get("block_validation_over_signatures", {}).values(), default=None)
        for name, ratio in ratios.get("block_validation_over_signatures", {}).items():
            rows.append(
                (
                    f"block validation, {name}",
                    f"{ratio:.2f}x its signatures",
                    f"CPU {ratios['block_validation_over_signatures_cpu'][name]:.2f}x",
                    _met(targets.get("block_validation_over_signatures")) if ratio == worst else "",
                )
            )
    for households, wall in result.get("day_wall_s", {}).items():
        steps = result["day_steps_measured"][households]
        floor = result["day_signature_floor_s"][households]
        rows.append(
            (
                f"day, {int(households):,} households"
                + ("" if steps == 96 else f" ({steps} steps x {96 // steps})"),
                f"{wall:.1f} s",
                "{:.1f}x floor ({:.1f} s; CPU {:.1f}x)".format(
                    ratios["day_wall_over_signature_floor"][households],
                    floor,
                    ratios["day_cpu_over_signature_floor"][households],
                ),
                "",
            )
        )
    for households, wall in result.get("day_wall_unsigned_orders_s", {}).items():
        steps = result["day_steps_measured"].get(households, 96)
        rows.append(
            (
                f"day, {int(households):,} households, orders unsigned"
                + ("" if steps == 96 else f" ({steps} steps x {96 // steps})"),
                f"{wall:.1f} s",
                "{:.1f}x floor".format(
                    ratios["day_wall_unsigned_orders_over_signature_floor"][households]
                ),
                "",
            )
        )
    for households, wall in result.get("day_wall_net_settlement_s", {}).items():
        rows.append(
            (
                f"day, {int(households):,} households, net settlement, orders unsigned",
                f"{wall:.1f} s",
                "{:.1f}x floor ({:.1f} s); {:.1f} signed tx per household".format(
                    ratios["day_wall_net_settlement_over_signature_floor"][households],
                    result["day_signature_floor_net_settlement_s"][households],
                    ratios["net_settlement_signed_tx_per_household"][households],
                ),
                "",
            )
        )
    if "day_wall_s" in result:
        rows.append(("day vs signature floor", "", "", _met(targets.get("day_within_floor"))))
    for households in ("100000", "1000000"):
        target = targets.get(f"day_{households}_s")
        if target is not None:
            rows.append((target["what"], f"{target['value']:.1f} s", "", _met(target)))
    if "cost_per_household_growth" in ratios:
        rows.append(
            (
                "cost per household growth",
                f"{ratios['cost_per_household_growth']:.2f}x "
                f"(CPU {ratios['cpu_per_household_growth']:.2f}x)",
                "largest / 1e4",
                _met(targets.get("flat_cost_per_agent")),
            )
        )
    if "ray_speedup_2_workers" in result:
        where = result["ray_measured_at"]
        for count, speedup in ratios["ray_speedup"].items():
            rows.append(
                (
                    f"Ray {count} worker(s), {where['households']:,} households",
                    f"{speedup:.2f}x",
                    "vs 1 worker",
                    _met(targets.get("ray_speedup")) if count == "2" else "",
                )
            )
    if "peak_rss_bytes_per_agent" in result:
        where = result["peak_rss_measured_at"]
        rows.append(
            (
                f"peak RSS per agent ({where['agents']:,} agents, {where['steps']} steps)",
                f"{result['peak_rss_bytes_per_agent'] / KB:.1f} KB",
                "above import baseline",
                _met(targets.get("memory_per_agent")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.extend(f"note: {note}" for note in result.get("notes", []))
    return "\n".join(line.rstrip() for line in lines)
