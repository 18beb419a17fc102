"""The attack sweep's market table: figures per job and the change against share 0."""

from __future__ import annotations

import json

import pytest

from experiments.repro import attack_sweep


def job(tmp_path, k: int, market: str, share: float, per_user: float, misallocated: float):
    folder = tmp_path / str(k)
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "overrides.yaml").write_text(f"- adversary.share={share}\n")
    n = round(share * 40)
    summary = {
        "market": market, "consensus": "poa", "ledger_head": {"main": f"h{k}"},
        "counts": {"transactions": 5}, "costs_coins": {"household": {"mean_cost": 0.5}},
        "security": {
            "share": share, "adversarial_agents": n, "attacks": {},
            "validators": {"faulty": 0}, "dr_protocol": None,
            "market": {
                "adversaries": n, "breaches_attempted": 3 * n, "breaches_penalised": n,
                "adversaries_cut_off": 1 if n else 0, "adversary_credit_min": 36.0,
                "misallocated_coins": misallocated, "misallocated_kwh": 2 * misallocated,
                "penalty_coins": 0.1, "sybil_identities": {"attempted": n, "refused": n},
                "honest_cost_per_user_coins": per_user,
            },
        },
    }  # fmt: skip
    (folder / "summary.json").write_text(json.dumps(summary))


def test_market_table_and_plot(tmp_path, capsys):
    job(tmp_path, 0, "two_level", 0.0, 0.25, 0.0)
    job(tmp_path, 1, "two_level", 0.1, 0.30, 0.5)
    job(tmp_path, 2, "sorted_pairing", 0.0, 0.20, 0.0)
    job(tmp_path, 3, "sorted_pairing", 0.1, 0.32, 1.5)
    rows = attack_sweep.market_table(attack_sweep.load_jobs(tmp_path))
    by = {(r["market"], r["share"]): r for r in rows}
    assert by[("two_level", 0.1)]["honest_cost_change"] == pytest.approx(0.05)
    assert by[("sorted_pairing", 0.1)]["honest_cost_change"] == pytest.approx(0.12)
    assert by[("sorted_pairing", 0.1)]["misallocated_kwh"] == 3.0
    assert by[("two_level", 0.1)]["sybils_refused"] == "4/4"
    assert by[("two_level", 0.0)]["adv_credit_min"] == "-"
    assert attack_sweep.main([str(tmp_path)]) == 0
    assert "| sorted_pairing | poa | 0.1 | 4 | 12 | 4 | 1 |" in capsys.readouterr().out
    assert (tmp_path / "market_attack_sweep.png").is_file()
