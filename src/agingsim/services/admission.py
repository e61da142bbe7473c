"""Admission to beds: who is placed, in what order, and how long they waited.

Public beds (公办) go in the priority order of seed 000 §15 (and 001 §13, 003 §12): policy-guaranteed
people first (centralised special hardship, 集中供养, all of whom are to be placed), then the groups
the behaviour file lists in order; first come, first served within a group. Beds left free after the
public queue are filled first come, first served by privately run providers. A bed is never filled
beyond its capacity: a person who does not fit whole into a provider's free beds goes to the next.

The queue discipline is a lexsort and one pass over the people waiting; salabim runs the admission
office as a process that wakes every month, and its monitors keep each county's waiting-list length
and the waits of those admitted by priority group. A salabim component per waiting person would cost
~0.5 ms each (shared/TOOLING.md) and dominate the run; this keeps salabim's share of run time small.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import salabim as sim

#: Beds are real people's beds; simulated people carry float weights. Slack for rounding only.
EPS = 1e-6


class AdmissionOffice(sim.Component):
    """The region's admission office: each month it admits from every county's waiting list (a
    salabim process); its monitors keep each county's list length and the waits by priority group."""

    def setup(self, admit: Callable[[], None], n_counties: int, n_groups: int) -> None:  # type: ignore[override]
        self.admit = admit
        self.waiting = [sim.Monitor(f"waiting.{c}", level=True, env=self.env) for c in range(n_counties)]
        self.waits = [sim.Monitor(f"wait.{g}", env=self.env) for g in range(n_groups)]

    def process(self) -> Iterator[Any]:  # type: ignore[override]
        # a generator, not a greenlet (yieldless): the collector cannot see into a suspended
        # greenlet's stack, so each run's office, environment and care system were never freed
        while True:
            self.admit()
            yield self.hold(1)


def new_environment(seed: int) -> sim.Environment:
    """A salabim environment for one run, seeded from the run (numpy's global RNG untouched)."""
    return sim.Environment(
        trace=False,
        random_seed=seed,
        set_numpy_random_seed=False,
        yieldless=False,
        time_unit="n/a",
    )


def admit(
    weight: np.ndarray,
    county: np.ndarray,
    priority: np.ndarray,
    wait_since: np.ndarray,
    pid: np.ndarray,
    public_of: list[list[int]],
    private_of: list[list[int]],
    free: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """A month's admissions from the waiting lists of every county (arrays over the people waiting).

    In each county the public beds (providers ``public_of[c]``, in the order to fill them) take people
    in priority order (group, then who joined first, then id); the privately run beds
    (``private_of[c]``) then take the rest first come, first served. ``free`` is the free beds of
    every provider. Returns (positions admitted, provider of each). Each person takes a place at the
    first provider of their county whose free beds hold their whole weight; nobody is placed twice,
    no bed is over-filled, and a county whose beds are full is skipped.
    """
    room = free.astype(np.float64).tolist()
    remaining = np.ones(len(weight), dtype=bool)
    got: list[int] = []
    where: list[int] = []
    lightest = float(weight.min()) if len(weight) else 0.0
    for providers, ranked in ((public_of, True), (private_of, False)):
        # counties with no provider able to take even the lightest person are skipped whole
        open_ = np.array([any(room[k] >= lightest - EPS for k in ks) for ks in providers], dtype=bool)
        cand = np.flatnonzero(remaining & open_[county])
        rank = priority[cand] if ranked else np.zeros(len(cand), dtype=np.int8)
        order = cand[np.lexsort((pid[cand], wait_since[cand], rank, county[cand]))]
        seg = county[order]
        starts = [*np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]]).tolist(), len(order)]
        if not len(order):
            continue
        for a, b in itertools.pairwise(starts):
            ks = providers[int(seg[a])]
            for i, wi in zip(order[a:b].tolist(), weight[order[a:b]].tolist(), strict=True):
                for k in ks:
                    if wi <= room[k] + EPS:
                        room[k] -= wi
                        got.append(i)
                        where.append(k)
                        break
                else:
                    if max(room[k] for k in ks) < lightest - EPS:
                        break  # this county's beds are full: the rest of its list waits
        remaining[got] = False
    return np.asarray(got, dtype=np.int64), np.asarray(where, dtype=np.int64)
