"""Adversaries in whole runs: every attack counted and refused, nothing invalid committed."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from agents.adversary import AdversaryConfig
from agents.params import ParameterError
from chain import Pbft, ProofOfAuthority, ProofOfWork
from chain.attacks import ATTACK_KINDS
from chain.replay import replay_run
from chain.verify import verify_run
from experiments.run import run_simulation
from tests.conftest import make_config

SMALL = ("population.size=16", "time.steps=48")


@pytest.fixture(scope="module")
def attacked_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("attacked")
    cfg = make_config(*SMALL, "adversary=all", "simulation.dr_protocol=on")
    return run_dir, run_simulation(cfg, run_dir)


def test_every_attack_is_attempted_and_rejected(attacked_run):
    _, summary = attacked_run
    security = summary["security"]
    assert security["accepted_total"] == 0
    assert set(security["attacks"]) == set(ATTACK_KINDS)
    for kind, counts in security["attacks"].items():
        assert counts["attempted"] > 0, kind
        assert counts["rejected"] == counts["attempted"], kind
    errors = {kind: set(c["errors"]) for kind, c in security["attacks"].items()}
    assert errors["forge"] == {"InvalidSignature"}
    assert errors["unregistered"] == {"UnregisteredSender"}
    assert errors["too_frequent_sealer"] == {"SignerTooRecent"}
    assert errors["rogue_sealer"] == {"NotAValidator"}
    assert errors["dr_replay"] == {"ReplayedToken"}
    assert errors["sybil"] == {"RegistrationRefused_quota", "UnregisteredSender"}
    assert security["identities"]["refused"] == {"quota": 3 * security["adversarial_agents"]}
    assert security["dr_protocol"]["dr_payments"] > 0


def test_nothing_invalid_was_committed(attacked_run):
    run_dir, summary = attacked_run
    report = verify_run(run_dir)
    assert report.ok, report.problems
    assert report.chains["main"]["dr_messages"] == summary["security"]["dr_protocol"]["dr_payments"]
    ledgers = replay_run(run_dir)
    assert ledgers["main"].head_hash == summary["ledger_head"]["main"]
    txs = pd.read_parquet(run_dir / "transactions.parquet")
    assert not txs["payload"].str.contains('"attack"').any()


def test_attack_counts_per_step_in_model_parquet(attacked_run):
    run_dir, summary = attacked_run
    model = pd.read_parquet(run_dir / "model.parquet")
    attempted = model["attack_forge_attempted"].to_numpy()
    assert (attempted[1:] >= attempted[:-1]).all()  # cumulative
    assert attempted[-1] == summary["security"]["attacks"]["forge"]["attempted"]
    assert (model["attacks_accepted"] == 0).all()
    agents = pd.read_parquet(run_dir / "agents.parquet")
    assert agents["wallet"].str.match(r"^W[0-9a-f]{40}$").all()


def test_attacked_run_is_deterministic(attacked_run, tmp_path):
    run_dir, summary = attacked_run
    again = run_simulation(
        make_config(*SMALL, "adversary=all", "simulation.dr_protocol=on"), tmp_path
    )
    assert again["ledger_head"] == summary["ledger_head"]
    assert again["security"]["attacks"] == summary["security"]["attacks"]


@pytest.mark.parametrize(
    ("faulty", "behaviour", "blocks", "liveness_lost", "safety_violations"),
    [
        (1, "silent", True, 0, 0),
        (1, "equivocate", True, 0, 0),
        (2, "silent", False, 1, 0),  # beyond f: no quorum, no block (safety kept)
        (2, "equivocate", False, 0, 1),  # beyond f: honest replicas disagree; chain halts
    ],
)
def test_pbft_faults_within_and_beyond_f(
    tmp_path, faulty, behaviour, blocks, liveness_lost, safety_violations
):
    cfg = make_config(
        "population.size=8", "time.steps=12", "chain=pbft",
        f"adversary.faulty_validators={faulty}", f"adversary.validator_behaviour={behaviour}",
    )  # fmt: skip
    validators = run_simulation(cfg, tmp_path)["security"]["validators"]
    assert validators["fault_tolerance_f"] == 1
    assert (validators["blocks"] > 0) is blocks
    assert validators["liveness_lost"] == liveness_lost
    assert validators["safety_violations"] == safety_violations
    assert verify_run(tmp_path).ok


def test_private_fork_table_in_summary(tmp_path):
    cfg = make_config(
        "population.size=8", "time.steps=4", "chain=pow", "adversary=private_fork",
        "adversary.fork_trials=200",
    )  # fmt: skip
    fork = run_simulation(cfg, tmp_path)["security"]["pow_private_fork"]
    assert fork["confirmations"] == 6
    rows = fork["table"]
    assert [r["confirmations"] for r in rows] == [1, 2, 3, 4, 5, 6]
    analytic = [r["success_analytic"] for r in rows]
    assert analytic == sorted(analytic, reverse=True) and analytic[0] < 1
    json.dumps(fork)


def test_faulty_validators_map_onto_each_consensus():
    config = AdversaryConfig(faulty_validators=2, validator_behaviour="silent")
    assert config.with_faulty_validators(ProofOfAuthority()).silent_validators == (2, 3)
    assert dict(config.with_faulty_validators(Pbft()).faulty_replicas) == {2: "silent", 3: "silent"}
    veto = AdversaryConfig(faulty_validators=1, validator_behaviour="veto")
    assert dict(veto.with_faulty_validators(ProofOfWork()).faulty_miners) == {3: "veto"}
    with pytest.raises(ParameterError, match="validator_behaviour"):
        veto.with_faulty_validators(Pbft())
    with pytest.raises(ParameterError, match="kinds"):
        AdversaryConfig(kinds=["teleport"])


def test_honest_payments_are_admitted_pre_verified_but_forgeries_are_not(attacked_run):
    # The honest settlement path submits with verified=True (the areas checked the
    # signatures); the injector's forged signatures still meet the full check, and the
    # independent verifier re-checks every committed signature.
    run_dir, summary = attacked_run
    assert summary["counts"]["payments_dropped"] == 0
    forge = summary["security"]["attacks"]["forge"]
    assert forge["attempted"] > 0 and forge["rejected"] == forge["attempted"]
    assert forge["errors"] == {"InvalidSignature": forge["attempted"]}
    assert verify_run(run_dir).ok
