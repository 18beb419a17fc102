"""PETS (seed 001, ch. 3): leader selection, EV best responses, leader profit, PAR.

* Leader selection (Algorithm 1): a sealed-bid second-price reverse auction;
  the SP with the lowest bid leads and its prices are capped at the
  second-lowest bid (ties: earlier row first).
* Follower best response (Algorithm 2, Eqs. 3.15-3.17): EV ``j`` must take
  ``E_j`` over its plug-in window ``[gamma_j, beta_j]`` with
  ``alpha_min <= x_h <= alpha_max``; the bill ``sum_h p_h x_h`` is a linear
  programme whose optimum fills the cheapest hours first: sorted by price,
  ``m`` hours at ``alpha_max``, one at ``x*``, the rest at ``alpha_min``, with
  ``m = floor((E - M alpha_min) / (alpha_max - alpha_min))`` (Eq. 3.17) and
  ``x* = E - m alpha_max - (M - m - 1) alpha_min`` (Eq. 3.16).  Equal prices
  are filled in schedule order (earlier hour first).
* Leader profit (Eq. 3.8): ``sum_h p_h P_h - (m_h P_h**2 + q_h P_h + r_h)``.
* Peak-to-average ratio of the EV load (Eq. 3.26): ``H max_h P_h / sum_h P_h``.

Hours are indices of the schedule, which starts at ``schedule_start_hour``
(8 AM in the thesis) and runs 24 hours.  Windows are inclusive and may wrap
past the end of the clock day.  Energies are kWh, prices cents/kWh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LeaderSelection:
    """Outcome of the second-price reverse auction (Algorithm 1).

    Attributes:
        leader: Position of the winning SP in the bid array.
        leader_bid: Its sealed bid.
        price_cap: The second-lowest bid (``inf`` with a single bidder).
    """

    leader: int
    leader_bid: float
    price_cap: float


def select_leader(bids: np.ndarray) -> LeaderSelection:
    """Second-price reverse auction over sealed ``bids`` (at least one bid).

    Raises:
        ValueError: If ``bids`` is empty.
    """
    bids = np.asarray(bids, dtype=np.float64)
    if bids.size == 0:
        raise ValueError("bids must hold at least one sealed bid")
    order = np.argsort(bids, kind="stable")
    cap = float(bids[order[1]]) if bids.size > 1 else float("inf")
    return LeaderSelection(int(order[0]), float(bids[order[0]]), cap)


@dataclass(frozen=True, eq=False)
class Followers:
    """The EVs of one day, in schedule hours.

    Attributes:
        window: ``(N, H)`` bool, hours the EV is plugged in.
        energy_kwh: ``(N,)`` daily need ``E_j``.
        alpha_min_kwh: ``(N,)`` least energy per plugged-in hour.
        alpha_max_kwh: ``(N,)`` most energy per plugged-in hour.
    """

    window: np.ndarray
    energy_kwh: np.ndarray
    alpha_min_kwh: np.ndarray
    alpha_max_kwh: np.ndarray

    @property
    def n_hours(self) -> int:
        """Hours in the schedule ``H``."""
        return int(self.window.shape[1])

    def feasible_energy(self) -> np.ndarray:
        """``E_j`` clipped into what the window allows, ``[M alpha_min, M alpha_max]``.

        An EV that needs more than its window can take charges at
        ``alpha_max`` throughout (the rest is unmet); one that needs less than
        ``M alpha_min`` spreads ``E_j`` evenly (``alpha_min`` is relaxed).
        """
        hours = self.window.sum(axis=1)
        return np.clip(self.energy_kwh, 0.0, hours * self.alpha_max_kwh)


def window_mask(start: np.ndarray, end: np.ndarray, n_hours: int = 24) -> np.ndarray:
    """Inclusive windows ``[start, end]`` in schedule hours, wrapping at ``n_hours``."""
    start = np.asarray(start, dtype=np.int64) % n_hours
    end = np.asarray(end, dtype=np.int64) % n_hours
    h = np.arange(n_hours)[None, :]
    s, e = start[:, None], end[:, None]
    return np.where(s <= e, (h >= s) & (h <= e), (h >= s) | (h <= e))


def best_response(prices: np.ndarray, followers: Followers) -> np.ndarray:
    """Every EV's bill-minimising schedule for each price vector (Algorithm 2).

    Args:
        prices: ``(H,)`` or ``(P, H)`` hourly prices.
        followers: The EVs.

    Returns:
        ``(N, H)`` or ``(P, N, H)`` energies (kWh per hour).
    """
    p = np.asarray(prices, dtype=np.float64)
    single = p.ndim == 1
    p = np.atleast_2d(p)
    window = followers.window
    hours = window.sum(axis=1)
    energy = followers.feasible_energy()
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = np.where(hours > 0, np.minimum(followers.alpha_min_kwh, energy / hours), 0.0)
    top = np.maximum(followers.alpha_max_kwh, floor)
    extra = energy - hours * floor  # poured into the cheapest hours first
    # Rank of each hour within the window by price; hours outside sort last.
    masked = np.where(window[None, :, :], p[:, None, :], np.inf)
    order = np.argsort(masked, axis=2, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(p.shape[1])[None, None, :], axis=2)
    room = (top - floor)[None, :, None]
    fill = np.clip(extra[None, :, None] - rank * room, 0.0, room)
    x = np.where(window[None, :, :], floor[None, :, None] + fill, 0.0)
    return x[0] if single else x


def bills(prices: np.ndarray, schedule: np.ndarray) -> np.ndarray:
    """Each EV's payment ``sum_h p_h x_h`` (Eq. 3.11), cents."""
    return (np.asarray(schedule) * np.asarray(prices)[..., None, :]).sum(axis=-1)


def leader_profit(
    prices: np.ndarray, load_kwh: np.ndarray, m: np.ndarray, q: np.ndarray, r: np.ndarray
) -> np.ndarray:
    """Eq. 3.8 objective for hourly loads ``P_h`` (last axis hours), cents."""
    cost = m * load_kwh**2 + q * load_kwh + r
    return (np.asarray(prices) * load_kwh - cost).sum(axis=-1)


def peak_to_average(load_kwh: np.ndarray) -> float:
    """PAR of an hourly load profile (Eq. 3.26); 0 for a zero load."""
    load = np.asarray(load_kwh, dtype=np.float64)
    total = float(load.sum())
    return float(load.shape[-1] * load.max() / total) if total > 0 else 0.0


def uncoordinated_schedule(followers: Followers) -> np.ndarray:
    """Charging at ``alpha_max`` from the start of the window until ``E`` is met.

    The baseline the thesis compares PAR against (charge on arrival).
    """
    window = followers.window
    n_hours = followers.n_hours
    energy = followers.feasible_energy()
    # Position of each hour within the window, counted from its start (wraps).
    start = np.argmax(window & ~np.roll(window, 1, axis=1), axis=1)
    full = window.all(axis=1)
    start = np.where(full, 0, start)
    pos = (np.arange(n_hours)[None, :] - start[:, None]) % n_hours
    rate = followers.alpha_max_kwh[:, None]
    x = np.clip(energy[:, None] - pos * rate, 0.0, rate)
    return np.where(window, x, 0.0)


def day_profile(
    hours: np.ndarray, value_day: float, value_night: float, day: tuple[int, int]
) -> np.ndarray:
    """Per-hour coefficient: ``value_day`` for clock hours in ``[day[0], day[1])``, else night."""
    clock = np.asarray(hours) % 24
    return np.where((clock >= day[0]) & (clock < day[1]), value_day, value_night)
