"""Admission to beds: who is placed, in what order, and how long they waited.

Public beds (公办) go in the priority order of seed 000 §15 (and 001 §13, 003 §12): policy-guaranteed
people first (centralised special hardship, 集中供养, all of whom are to be placed), then the groups
the behaviour file lists in order; first come, first served within a group. Beds left free after the
public queue are filled first come, first served by privately run providers. A bed is never filled
beyond its capacity: a person who does not fit whole into a provider's free beds goes to the next.

The queue discipline is arrays (a lexsort and cumulative sums); salabim runs one admission office per
county as a process that wakes every month, and its monitors keep the waiting-list length and the
waits of those admitted by priority group. A salabim component per waiting person would cost
~0.5 ms each (shared/TOOLING.md) and dominate the run; this keeps salabim's share of run time small.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import salabim as sim

#: Beds are real people's beds; simulated people carry float weights. Slack for rounding only.
EPS = 1e-6


def priority_order(priority: np.ndarray, wait_since: np.ndarray, pid: np.ndarray) -> np.ndarray:
    """Indices in admission order: priority group, then who joined first, then person id."""
    return np.lexsort((pid, wait_since, priority))


def fill(order: np.ndarray, weight: np.ndarray, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Place people (``order`` indexes ``weight``) into providers with ``free`` beds, in order.

    Returns (positions in ``order`` placed, provider index for each). Each provider in turn takes the
    next people in order whose whole weight still fits; a second round lets later people use room
    that earlier ones, placed elsewhere, left. Nobody is placed twice and no provider is over-filled.
    """
    w = weight[order].astype(np.float64)
    room = np.asarray(free, dtype=np.float64).copy()
    taken = np.zeros(len(order), dtype=bool)
    provider = np.full(len(order), -1, dtype=np.int64)
    for _ in range(4):  # later rounds use what earlier people, who went elsewhere, left behind
        progress = False
        for k in range(len(room)):
            rest = np.flatnonzero(~taken)
            if not len(rest):
                break
            if room[k] <= EPS:
                continue
            n = int(np.searchsorted(np.cumsum(w[rest]), room[k] + EPS, side="right"))
            if n:
                taken[rest[:n]] = True
                provider[rest[:n]] = k
                room[k] -= w[rest[:n]].sum()
                progress = True
        if not progress:
            break
    placed = np.flatnonzero(taken)
    return placed, provider[placed]


class AdmissionOffice(sim.Component):
    """One county's admission office: each month it admits from the waiting list (a salabim process)."""

    def setup(self, county: int, admit: Callable[[int], None], n_groups: int) -> None:  # type: ignore[override]
        self.county = county
        self.admit = admit
        self.waiting = sim.Monitor(f"waiting.{county}", level=True, env=self.env)
        self.waits = [sim.Monitor(f"wait.{county}.{g}", env=self.env) for g in range(n_groups)]

    def process(self) -> None:  # type: ignore[override]
        while True:
            self.admit(self.county)
            self.hold(1)


def new_environment(seed: int) -> sim.Environment:
    """A salabim environment for one run, seeded from the run (numpy's global RNG untouched)."""
    return sim.Environment(
        trace=False,
        random_seed=seed,
        set_numpy_random_seed=False,
        yieldless=True,
        time_unit="n/a",
    )


def admit(
    weight: np.ndarray,
    priority: np.ndarray,
    wait_since: np.ndarray,
    pid: np.ndarray,
    public_free: np.ndarray,
    private_free: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One county's admissions from its waiting list (arrays over the people waiting).

    Public beds (``public_free``, one entry per public provider) take people in priority order
    (group, then who joined first, then id); the privately run beds then take the rest first come,
    first served. Returns (positions admitted, provider index within the list concatenating public
    then private providers, whether the bed is public).
    """
    remaining = np.ones(len(weight), dtype=bool)
    got_all, where_all, public_all = [], [], []
    for public, free, offset in ((True, public_free, 0), (False, private_free, len(public_free))):
        if not len(free):
            continue
        cand = np.flatnonzero(remaining)
        rank = priority[cand] if public else np.zeros(len(cand), dtype=np.int8)
        order = cand[priority_order(rank, wait_since[cand], pid[cand])]
        placed, where = fill(order, weight, free)
        got = order[placed]
        remaining[got] = False
        got_all.append(got)
        where_all.append(where + offset)
        public_all.append(np.full(len(got), public))
    if not got_all:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=bool)
    return np.concatenate(got_all), np.concatenate(where_all), np.concatenate(public_all)
