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
around midnight when ``depart > arrive`` and is empty when they are equal.

Travel (:func:`trip_progress_km`, :class:`EVRoutes`): the EV leaves home at the start
of its departure step and drives out at ``speed_kmh``; it leaves the destination so as
to be home at the end of its last away step, at the same speed. Its distance from home
at time ``t`` steps after departure is ``min(leg, v t dt, v (L - t) dt)`` with ``L``
the away steps. When the window is too short for two legs at ``speed_kmh`` the EV
drives faster (``v = 2 leg / (L dt)``), so every trip is completed and its energy
stays seed 000 Eq. 4's ``2 x d / D_max x C``. The energy of a step is the distance
driven in it times ``leg_kwh / leg_km``; the position is the last bus of the shortest
path (home -> destination) whose cumulative km the EV has passed (the part outside the
feeder is driven beyond the destination bus).
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


def trip_progress_km(time_steps, away_steps, leg_km, speed_km_per_step):
    """Distance from home ``time_steps`` after departure (seed 000 Eq. 4's path, driven).

    Args:
        time_steps: Time since the start of the departure step, in steps (0..L).
        away_steps: Steps ``L`` of the away window.
        leg_km: One-way trip distance.
        speed_km_per_step: Configured speed times the step length.

    Returns:
        ``min(leg, c t, c (L - t))`` with ``c = max(speed, 2 leg / L)`` (per step), so
        the EV reaches its destination and is home again by the end of the window.
    """
    away = np.maximum(np.asarray(away_steps, dtype=float), 1.0)
    leg = np.asarray(leg_km, dtype=float)
    rate = np.maximum(speed_km_per_step, 2.0 * leg / away)
    t = np.asarray(time_steps, dtype=float)
    return np.clip(np.minimum(rate * t, rate * (away - t)), 0.0, leg)


def step_trip_km(step_of_day, depart_step, arrive_step, leg_km, speed_km_per_step, steps_per_day):
    """Distance driven during ``step_of_day`` and the distance from home at its end.

    Returns:
        ``(driven_km, at_km)``: both 0 for an EV at home (outside its away window).
    """
    away = away_mask(step_of_day, depart_step, arrive_step)
    length = (np.asarray(arrive_step) - np.asarray(depart_step)) % steps_per_day
    k = (step_of_day - np.asarray(depart_step)) % steps_per_day
    start = trip_progress_km(k, length, leg_km, speed_km_per_step)
    end = trip_progress_km(k + 1, length, leg_km, speed_km_per_step)
    # The distance from home rises, may stay at the leg, and falls; its maximum is at
    # L / 2, so the step's farthest point is there or at one of the step's ends.
    far = np.clip(length / 2.0, k, k + 1)
    peak = trip_progress_km(far, length, leg_km, speed_km_per_step)
    driven = (peak - start) + (peak - end)
    return np.where(away, driven, 0.0), np.where(away, end, 0.0)


class EVRoutes:
    """Every EV's shortest path home -> destination as flat arrays (seed 000 Eq. 4).

    Attributes:
        offsets: ``offsets[i]:offsets[i + 1]`` are EV ``i``'s entries.
        bus: Buses along the paths, home first.
        cum_km: Cumulative ``length_km`` from home at each bus.
    """

    def __init__(self, graph: nx.Graph | None, home: np.ndarray, work: np.ndarray) -> None:
        home = np.asarray(home, dtype=np.int64)
        work = np.asarray(work, dtype=np.int64)
        buses: list[int] = []
        cums: list[float] = []
        offsets = [0]
        cache: dict[int, tuple[dict, dict]] = {}
        for a, b in zip(home.tolist(), work.tolist(), strict=True):
            path, cum = [a], [0.0]
            if graph is not None and a in graph:
                if a not in cache:
                    lengths, paths = nx.single_source_dijkstra(graph, a, weight="length_km")
                    cache[a] = (lengths, paths)
                lengths, paths = cache[a]
                if b in paths:
                    path = paths[b]
                    cum = [float(lengths[node]) for node in path]
            buses.extend(path)
            cums.extend(cum)
            offsets.append(len(buses))
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.bus = np.asarray(buses, dtype=np.int64)
        self.cum_km = np.asarray(cums, dtype=float)
        self._span_km = float(self.cum_km.max(initial=0.0)) + 1.0
        segment = np.repeat(np.arange(len(home)), np.diff(self.offsets))
        self._keys = segment * self._span_km + self.cum_km

    def path(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Buses and cumulative km of EV ``row``'s path."""
        lo, hi = self.offsets[row], self.offsets[row + 1]
        return self.bus[lo:hi], self.cum_km[lo:hi]

    def bus_at(self, rows, at_km) -> np.ndarray:
        """The last bus of each EV's path at or before ``at_km`` from home."""
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        at = np.minimum(np.atleast_1d(np.asarray(at_km, dtype=float)), self._span_km - 0.5)
        index = np.searchsorted(self._keys, rows * self._span_km + at + 1e-9, side="right") - 1
        return self.bus[np.maximum(index, self.offsets[rows])]


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
