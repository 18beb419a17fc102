"""EVs advance along their shortest paths over the steps of a trip (seed 000 Eq. 4)."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.area import Area
from agents.trips import EVRoutes, step_trip_km, trip_progress_km
from tests.agents.test_agents_real import MIXED, _mixed_spec


def test_progress_out_at_speed_back_by_arrival():
    # A 10 km leg, 4 km per step, 10 steps away: out in 2.5 steps, back in the last 2.5.
    t = np.arange(11)
    at = trip_progress_km(t, 10, 10.0, 4.0)
    np.testing.assert_allclose(at, [0, 4, 8, 10, 10, 10, 10, 10, 8, 4, 0])


def test_step_energy_distances_hand_computed():
    spd = 96
    driven, at = step_trip_km(np.arange(spd), 2, 12, 10.0, 4.0, spd)
    np.testing.assert_allclose(driven[2:12], [4, 4, 2, 0, 0, 0, 0, 2, 4, 4])
    np.testing.assert_allclose(at[2:12], [4, 8, 10, 10, 10, 10, 10, 8, 4, 0])
    assert driven[:2].sum() == 0 and driven[12:].sum() == 0 and at[12:].sum() == 0
    assert driven.sum() == 20.0


def test_short_window_drives_faster_and_completes_both_legs():
    # One step away, 10 km leg: out and back within the step at 20 km per step.
    driven, at = step_trip_km(np.arange(96), 40, 41, 10.0, 4.0, 96)
    assert driven[40] == 20.0 and at[40] == 0.0 and driven.sum() == 20.0
    # Three steps away at 4 km/step would not reach 10 km: speed 20/3 km per step.
    driven, _ = step_trip_km(np.arange(96), 40, 43, 10.0, 4.0, 96)
    np.testing.assert_allclose(driven[40:43], [20 / 3, 20 / 3, 20 / 3])


def test_window_wrapping_midnight():
    # pets: away from 22:30 (step 90) to 01:00 (step 4), 10 steps.
    steps = np.arange(96)
    driven, at = step_trip_km(steps, 90, 4, 10.0, 4.0, 96)
    np.testing.assert_allclose(driven[[90, 91, 92, 1, 2, 3]], [4, 4, 2, 2, 4, 4])
    np.testing.assert_allclose(at[[92, 95, 0, 3]], [10, 10, 10, 0])
    assert driven.sum() == 20.0


@settings(max_examples=60, deadline=None)
@given(
    depart=st.integers(0, 95),
    length=st.integers(1, 95),
    leg_km=st.floats(0.0, 80.0),
    speed=st.floats(0.5, 40.0),
)
def test_a_trip_always_drives_two_legs(depart, length, leg_km, speed):
    arrive = (depart + length) % 96
    driven, at = step_trip_km(np.arange(96), depart, arrive, leg_km, speed, 96)
    assert driven.sum() == pytest.approx(2 * leg_km, rel=1e-9, abs=1e-9)
    assert (driven >= -1e-12).all() and (at <= leg_km + 1e-12).all()
    assert at[(arrive - 1) % 96] == pytest.approx(0.0, abs=1e-9)


def _streets():
    graph = nx.Graph()
    graph.add_edge(0, 1, length_km=1.0)
    graph.add_edge(1, 2, length_km=2.0)
    graph.add_edge(2, 3, length_km=3.0)
    graph.add_edge(0, 3, length_km=10.0)
    return graph


def test_routes_follow_the_shortest_path():
    routes = EVRoutes(_streets(), np.array([0, 3, 2]), np.array([3, 1, 2]))
    bus, cum = routes.path(0)
    assert bus.tolist() == [0, 1, 2, 3] and cum.tolist() == [0.0, 1.0, 3.0, 6.0]
    assert routes.path(1)[0].tolist() == [3, 2, 1]
    rows = np.array([0, 0, 0, 0, 0, 1, 1, 1, 2])
    at = np.array([0.0, 0.99, 1.0, 5.9, 25.0, 2.9, 3.0, 7.0, 4.0])
    # Beyond the path's end the EV drives outside the feeder: it shows at the destination.
    assert routes.bus_at(rows, at).tolist() == [0, 0, 1, 2, 3, 3, 2, 1, 2]


def test_per_agent_and_vectorized_paths_move_evs_identically():
    # Slow EVs (1 km/h: 0.25 km per step) so that they are seen between buses.
    slow = dataclasses.replace(MIXED, evs=dataclasses.replace(MIXED.evs, speed_kmh=1.0))
    vec = Area(_mixed_spec(population=slow))
    per = Area(_mixed_spec(population=slow, agent_path="per_agent"))
    seen_en_route = 0
    for step in range(96):
        vec.decide(step)
        per.decide(step)
        np.testing.assert_array_equal(vec.evs.position_bus, per.evs.position_bus)
        np.testing.assert_array_equal(vec.evs.driven_kwh, per.evs.driven_kwh)
        ev = vec.evs
        en_route = ~ev.plugged & (ev.position_bus != ev.home_bus) & (ev.position_bus != ev.work_bus)
        seen_en_route += int(en_route.sum())
        sample = vec.sample()
        h = vec.counts.households
        is_ev = (sample["agent"] - vec.spec.id_offset >= h) & (
            sample["agent"] - vec.spec.id_offset < h + vec.counts.evs
        )
        rows = sample["agent"][is_ev] - vec.spec.id_offset - h
        np.testing.assert_array_equal(sample["bus"][is_ev], ev.position_bus[rows])
    assert seen_en_route > 0  # EVs were seen between home and destination
