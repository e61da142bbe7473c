"""Admission to beds: who is placed, in what order, and how long they waited.

Public beds (公办) go in the priority order of the seed the scenario follows (000 §15, 001 §13 and
§16, 003 §12; calibration/behaviour/admission/seedNNN.toml, or the behaviour file's own
``[admission]``): policy-guaranteed people first (centralised special hardship, 集中供养, all of
whom are to be placed), then the listed groups in order. Within a group a tie-break list can rank
some people first (001 §16: veterans' families "同等条件下优先安排", on equal terms, not a class of
their own); then first come, first served. Beds left free after the public queue are filled first
come, first served by privately run providers. A bed is never filled beyond its capacity: a person
who does not fit whole into a provider's free beds goes to the next.

The groups' rules may use names the admission file defines (``[definitions]``, e.g. 高龄 = 80+);
the scenario's ``[policy.definitions]`` override them, so one scenario has one reading of 失能 or
经济困难 for its schemes and its queues alike.

The queue discipline is a lexsort and one pass over the people waiting; salabim runs the admission
office as a process that wakes every month, and its monitors keep each county's waiting-list length
and the waits of those admitted by priority group. A salabim component per waiting person would cost
~0.5 ms each (shared/TOOLING.md) and dominate the run; this keeps salabim's share of run time small.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import salabim as sim

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.policy.rules import RuleError, RuleGrid, RuleSet
from agingsim.population.people import FIELDS
from agingsim.scenario.schema import Admission

#: Beds are real people's beds; simulated people carry float weights. Slack for rounding only.
EPS = 1e-6


@dataclass(frozen=True)
class AdmissionRules:
    """An admission list compiled on the rule grid: per cell, the priority group (0 =
    policy-guaranteed, then the listed groups, last = others) and the tie-break rank within a group
    (0 = the first tie-break rule met, …, last = none)."""

    grid: RuleGrid
    group_of_cell: np.ndarray
    tie_of_cell: np.ndarray
    names: list[str]
    tie_names: list[str]

    def of(self, cols: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(priority group, tie-break rank) of people given their attribute columns."""
        cells = self.grid.cells(cols)
        return self.group_of_cell[cells], self.tie_of_cell[cells]


def compile_admission(
    adm: Admission, definitions: dict[str, str], age_max: int, path: object
) -> AdmissionRules:
    """Compile an admission list; the scenario's ``definitions`` override the list's own."""
    texts = {"admission.policy_guaranteed": adm.policy_guaranteed}
    texts |= {f"admission.priority[{i}].when": g.when for i, g in enumerate(adm.priority)}
    ties = {f"admission.tie_break[{i}].when": g.when for i, g in enumerate(adm.tie_break)}
    try:
        rules = RuleSet.from_texts({**adm.definitions, **definitions})
    except RuleError as exc:
        raise ScenarioError(path, "policy.definitions", str(exc)) from None
    trees, axes, errors = {}, set(), []
    for key, text in (texts | ties).items():
        try:
            trees[key] = rules.compile(text)
            axes |= rules.axes_of(trees[key])
        except RuleError as exc:
            errors.append(ScenarioError(path, key, str(exc)))
    if errors:
        raise ScenarioErrors(errors)
    grid = RuleGrid(rules, axes, age_max, trees.values())

    def first_match(keys: list[str]) -> np.ndarray:
        out = np.full(grid.size, len(keys), dtype=np.int8)
        for g, key in reversed(list(enumerate(keys))):  # the first matching rule wins
            out[grid.evaluate(trees[key]).astype(bool)] = g
        return out

    names = ["policy_guaranteed", *(g.id for g in adm.priority), "others"]
    tie_names = [*(g.id for g in adm.tie_break), "none"]
    return AdmissionRules(grid, first_match(list(texts)), first_match(list(ties)), names, tie_names)


#: Largest table of fixed-attribute combinations :class:`FixedCells` builds (entries); a grid over
#: more falls back to the grid's own arithmetic.
MAX_FIXED_TABLE = 1 << 20


class FixedCells:
    """``grid.cells`` with the part from attributes fixed for life read from a table.

    The grid adds one product per fixed axis (economic status, family, each flag bit, …): ~20
    passes over the reviewers each month. Every combination of those fields' codes is few (5 × 4 ×
    256 for the admission lists), so their part of the cell is worked out once, by the grid itself,
    and looked up; the integers are the grid's own, so the cells are too.
    """

    def __init__(self, grid: RuleGrid) -> None:
        self.grid = grid
        self.fields = grid.people_fields()
        fixed = [f for f in self.fields if f not in ("age_m", "ability", "care_setting")]
        sizes = dict(grid.axes)
        ranges = [256 if f == "flags" else int(sizes[f]) for f in fixed]
        self.lut: np.ndarray | None = None
        self.fixed, self.ranges = fixed, ranges
        if int(np.prod(ranges)) <= MAX_FIXED_TABLE:
            codes = np.indices(ranges).reshape(len(ranges), -1)
            cols = {f: codes[i].astype(FIELDS[f]) for i, f in enumerate(fixed)}
            self.lut = grid.fixed_cells(cols) if fixed else np.zeros(1, dtype=np.int64)

    def packed_tables(self) -> tuple[np.ndarray, np.ndarray, int, int] | None:
        """The cells as services.kernels.gather_marked reads them from a row's packed word (bits
        48–63: family, economic status, flags; kernels.pack_rows) and its age, level and setting:
        ``fixed[word >> 48] + by_age[age_m] + level × s_level + setting × s_setting``, the grid's
        own integers (``moving_cells`` is a sum of those terms). None if the grid reads a fixed
        field the word does not hold (or its table would be too large)."""
        if self.lut is None or not set(self.fixed) <= {"family", "econ", "flags"}:
            return None
        high = np.arange(1 << 16)
        cols = {
            "family": (high & 15).astype(FIELDS["family"]),
            "econ": ((high >> 4) & 15).astype(FIELDS["econ"]),
            "flags": (high >> 8).astype(FIELDS["flags"]),
        }
        sizes = dict(self.grid.axes)
        valid = np.ones(len(high), dtype=bool)
        for f in ("family", "econ"):
            if f in sizes:
                valid &= cols[f] < sizes[f]
        fixed = self.grid.fixed_cells(cols) if self.fixed else np.zeros(len(high), dtype=np.int64)
        fixed = np.where(valid, fixed, 0)  # codes no person has: any cell, never read
        ages = np.arange(np.iinfo(FIELDS["age_m"]).max + 1).astype(FIELDS["age_m"])
        zero = np.zeros(len(ages), dtype=np.int8)
        by_age = self.grid.moving_cells({"age_m": ages, "ability": zero, "care_setting": zero})
        return fixed, by_age, self.grid.stride("ability"), self.grid.stride("care_setting")

    def cells(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Grid cell of each person from their columns (those of ``self.fields``)."""
        if self.lut is None:
            return self.grid.cells(cols)
        if not self.fixed:
            return self.grid.moving_cells(cols)
        key = cols[self.fixed[0]].astype(np.int64)
        for f, r in zip(self.fixed[1:], self.ranges[1:], strict=True):
            key *= r
            key += cols[f]
        return self.lut[key] + self.grid.moving_cells(cols)


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
    tie: np.ndarray | None = None,
    kernels: ModuleType | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A month's admissions from the waiting lists of every county (arrays over the people waiting).

    In each county the public beds (providers ``public_of[c]``, in the order to fill them) take people
    in priority order (group, then the tie-break rank ``tie`` within it if given, then who joined
    first, then id); the privately run beds
    (``private_of[c]``) then take the rest first come, first served. ``free`` is the free beds of
    every provider. Returns (positions admitted, provider of each). Each person takes a place at the
    first provider of their county whose free beds hold their whole weight; nobody is placed twice,
    no bed is over-filled, and a county whose beds are full is skipped. With ``kernels``
    (services.kernels, where the run has numba loaded) the loop is compiled, with the same result.
    """
    compiled = kernels is not None
    room: Any = free.astype(np.float64)
    if compiled:  # the compiled loop takes arrays, the Python loop is faster on lists
        got_a, where_a = np.empty(len(weight), dtype=np.int64), np.empty(len(weight), dtype=np.int64)
        weight = np.ascontiguousarray(weight, dtype=np.float64)
        county = np.ascontiguousarray(county, dtype=np.int64)
    else:
        room = room.tolist()
    n_got = 0
    remaining = np.ones(len(weight), dtype=bool)
    got: list[int] = []
    where: list[int] = []
    lightest = float(weight.min()) if len(weight) else 0.0
    for providers, ranked in ((public_of, True), (private_of, False)):
        # counties with no provider able to take even the lightest person are skipped whole
        open_ = np.array([any(room[k] >= lightest - EPS for k in ks) for ks in providers], dtype=bool)
        cand = np.flatnonzero(remaining & open_[county])
        if not len(cand):
            continue
        rank = priority[cand] if ranked else np.zeros(len(cand), dtype=np.int8)
        within = tie[cand] if ranked and tie is not None else np.zeros(len(cand), dtype=np.int8)
        order = cand[np.lexsort((pid[cand], wait_since[cand], within, rank, county[cand]))]
        if compiled:
            ptr = np.cumsum([0, *(len(ks) for ks in providers)]).astype(np.int64)
            flat = np.array([k for ks in providers for k in ks], dtype=np.int64)
            n_got = kernels.first_fit(order, county, weight, ptr, flat, room, lightest, got_a, where_a, n_got)
            remaining[got_a[:n_got]] = False
            continue
        seg = county[order]
        starts = [*np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]]).tolist(), len(order)]
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
    if compiled:
        return got_a[:n_got].copy(), where_a[:n_got].copy()
    return np.asarray(got, dtype=np.int64), np.asarray(where, dtype=np.int64)
