"""EV trips on the feeder graph: distances, trip energy and daily schedules.

An EV lives at its home bus and drives to a destination bus (work, a shop, a
charging station) along the shortest path of the area's graph, whose edges carry
``length_km`` (on ``grid=city`` that is the street distance, since the cables follow
the streets). Seed 000 Eq. 4 charges a trip of ``d`` km with

    E_trip = d / D_max x C

where ``C`` is the battery's rated energy and ``D_max`` the distance a full battery
lasts. We write ``D_max = C / consumption`` (kWh per km), so the trip energy is
``d x consumption`` whatever the battery; a small-battery EV has a short range.

Schedules: ``commute`` EVs leave between ``departure_h`` and come back between
``arrival_h`` (away in between, plugged in at home otherwise); ``pets`` EVs follow
seed 001 ch. 3's 8 AM-to-8 AM scheduling window: plugged in from an arrival after
8 AM until a departure no later than 8 AM the next day. Both are stored as a
departure and an arrival step of the day; the away window ``[depart, arrive)`` wraps
around midnight when ``depart > arrive`` and is empty when they are equal. The
outbound leg is driven in the departure step, the return leg in the step before
arrival.
"""

from __future__ import annotations

import networkx as nx
import numpy as np


def trip_energy_kwh(distance_km, range_km, capacity_kwh):
    """Seed 000 Eq. 4: energy of a ``distance_km`` trip, ``d / D_max x C``."""
    return np.asarray(distance_km) / np.asarray(range_km) * np.asarray(capacity_kwh)


def path_km(graph: nx.Graph, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Shortest-path length (edge attribute ``length_km``) from each source to its target.

    Buses not connected in ``graph`` (or not in it) get ``0`` km: the trip is then only
    the part driven outside the feeder.
    """
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    out = np.zeros(len(sources))
    cache: dict[int, dict[int, float]] = {}
    for k, (a, b) in enumerate(zip(sources.tolist(), targets.tolist(), strict=True)):
        if a not in graph:
            continue
        if a not in cache:
            cache[a] = nx.single_source_dijkstra_path_length(graph, a, weight="length_km")
        out[k] = cache[a].get(b, 0.0)
    return out


def route(graph: nx.Graph, source: int, target: int) -> list[int]:
    """The buses an EV passes from ``source`` to ``target`` (shortest path, ties by networkx)."""
    return nx.dijkstra_path(graph, source, target, weight="length_km")


def away_mask(step_of_day, depart_step, arrive_step):
    """Whether each EV is away during ``step_of_day`` (window may wrap midnight)."""
    s = step_of_day
    inside = (depart_step <= s) & (s < arrive_step)
    wrapped = (s >= depart_step) | (s < arrive_step)
    return np.where(depart_step <= arrive_step, inside, wrapped)


def legs_driven(step_of_day, depart_step, arrive_step, steps_per_day: int):
    """How many trip legs (0, 1 or 2) each EV drives during ``step_of_day``."""
    nonempty = depart_step != arrive_step
    last = (arrive_step - 1) % steps_per_day
    out = (step_of_day == depart_step).astype(np.int64) + (step_of_day == last).astype(np.int64)
    return np.where(nonempty, out, 0)


def draw_schedule(params, n: int, step_minutes: int, rng: np.random.Generator):
    """Departure and arrival steps of the day for ``n`` EVs (two draws from ``rng``).

    ``commute``: depart in ``departure_h``, arrive in ``arrival_h``, at least one step
    later. ``pets``: plug in at ``pets_arrival_h``, unplug at ``pets_departure_h``
    (hours after the day's midnight, up to 32 = 8 AM next day): the EV is away from
    the unplug time (mod 24 h) to the plug-in time.
    """
    steps_per_hour = 60.0 / step_minutes
    steps_per_day = int(round(24 * steps_per_hour))
    if params.schedule == "pets":
        plug = np.floor(rng.uniform(*params.pets_arrival_h, size=n) * steps_per_hour)
        unplug = np.floor(rng.uniform(*params.pets_departure_h, size=n) * steps_per_hour)
        unplug = np.maximum(unplug, plug + 1)
        return (unplug % steps_per_day).astype(np.int64), plug.astype(np.int64)
    depart = np.floor(rng.uniform(*params.departure_h, size=n) * steps_per_hour)
    arrive = np.floor(rng.uniform(*params.arrival_h, size=n) * steps_per_hour)
    arrive = np.maximum(arrive, depart + 1)
    return depart.astype(np.int64), arrive.astype(np.int64)
