"""The paper-figure reproduction commands run (quick mode) and show the papers' shapes."""

from __future__ import annotations

import json

from experiments.repro import attack_sweep, poa_sealers, pow_trades


def test_poa_sealers_ceiling_and_degradation(tmp_path, capsys):
    results = poa_sealers.sweep((100, 1200), (1, 25), 2000, 50.0, 200)
    assert abs(results[(1200, 1)]["throughput_tx_s"] - 500) < 5  # the calibrated ceiling
    assert results[(1200, 25)]["throughput_tx_s"] < results[(1200, 1)]["throughput_tx_s"]
    assert results[(1200, 25)]["latency_mean_s"] > results[(1200, 1)]["latency_mean_s"]
    # A moderate rate is served at any size (the shortfall is the last block's wait).
    assert results[(100, 25)]["throughput_tx_s"] > 90
    assert poa_sealers.main(["--quick", "--out", str(tmp_path)]) == 0
    assert "Fig 4.7" in capsys.readouterr().out
    assert (tmp_path / "poa_sealers.png").is_file()


def test_pow_trades_quick(tmp_path, capsys):
    assert pow_trades.main(["--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Fig. 8C-D" in out and "Fig. 8A-B" in out
    assert (tmp_path / "pow_trades.png").is_file()
    assert pow_trades.linear_fit_r2([1, 2, 3], [2, 4, 6]) == 1.0


def test_attack_sweep_tables(tmp_path, capsys):
    job = tmp_path / "0"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("- adversary.share=0.1\n")
    attacks = {"forge": {"attempted": 3, "rejected": 3, "accepted": 0,
                         "errors": {"InvalidSignature": 3}}}  # fmt: skip
    summary = {
        "consensus": "poa", "ledger_head": {"main": "ab"}, "counts": {"transactions": 5},
        "costs_coins": {"household": {"mean_cost": 0.5}},
        "security": {"share": 0.1, "adversarial_agents": 2, "attacks": attacks,
                     "validators": {"faulty": 0}, "dr_protocol": None},
    }  # fmt: skip
    (job / "summary.json").write_text(json.dumps(summary))
    assert attack_sweep.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| forge | 3 | 3 | InvalidSignature (3) |" in out
    assert (tmp_path / "attack_sweep.png").is_file()
