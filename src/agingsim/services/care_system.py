"""The care system: one month of choice, admission and delivery over the arrays of people.

Pipeline position (after ability transitions, before the schemes pay):

    review → choose (choice.mnl) → leave / join queues, discharge, switch settings
           → admit to beds in priority order (salabim admission office) → day-care places
           → occupancy and revenue to the providers (Mesa agents) → home-care hours within carer capacity
           → delivered shares for the schemes that pay on delivery → coverage statistics

Providers decide on beds once a year (January). Nothing here reaches back into ability or policy
except through next month's state.

This module holds the month's order and the state the stages share; each stage is a module of its
own: supply.py (providers and seats), review.py (who reviews, what they choose), admitting.py
(admissions and occupancy), delivery.py (carer hours), statistics.py (counts and tables).
Runs large enough to load numba for the fused ability kernel also run the per-row loops of these
stages compiled (kernels.py, ``self.kernels``), with identical results; smaller runs use numpy.

In those runs a month's care stage runs in two parts: :meth:`CareSystem.begin_step` on the model's
thread, on the live arrays, then :meth:`CareSystem.finish_step` on a thread of its own while the
model's next month of cohort entry and transitions runs (model.AgingModel.run). ``self.people`` is
then a view of the month's rows (People.at) whose levels and ages are copies; so the stage reads
the people only through ``self.people``, and writes only their care setting, queue and place (which the
transitions never read) — never the model's population figures, flows or levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import mesa
import numpy as np
import pandas as pd
import salabim as sim

from agingsim.choice.mnl import (
    DAY_CARE,
    FAMILY_BED,
    FAMILY_CARE,
    HOME,
    INSTITUTION,
    N_SETTINGS,
    CompiledChoice,
)
from agingsim.policy.dated import month_key
from agingsim.policy.rules import RuleGrid
from agingsim.population.attributes import ABILITY_LEVELS, DEAD, N_LEVELS
from agingsim.population.people import People
from agingsim.providers.agents import BedProvider, HomeCareAgency
from agingsim.rng import RandomStreams
from agingsim.scenario.schema import BehaviourFile
from agingsim.schemes.facility import CompiledFacilityScheme, Plan
from agingsim.services.admission import AdmissionOffice, FixedCells, compile_admission, new_environment
from agingsim.services.admitting import Admitting
from agingsim.services.delivery import Delivery
from agingsim.services.lifetime import weak_agent_ids
from agingsim.services.review import Review, VoucherTable
from agingsim.services.statistics import Statistics, YearStats
from agingsim.services.supply import Supply, _per_bed


@dataclass(frozen=True)
class MonthStart:
    """What CareSystem.begin_step hands to finish_step: the month's moved rows (compiled: only
    those that may review, with their id residues, read with the rows), the queue and holders
    after the dead left, the providers' occupancy, and whether the rota was rebuilt this month."""

    month: int
    first_entrant: int
    moved: np.ndarray
    moved_res: np.ndarray | None
    queue: np.ndarray
    holders: np.ndarray
    occupied: np.ndarray
    rebuilt: bool


weak_agent_ids()  # mesa would keep every run's model (and its people) alive
_NO_CELLS, _NO_GROUPS = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8)


def compile_priority(
    behaviour: BehaviourFile, definitions: dict[str, str], age_max: int, path: object
) -> tuple[RuleGrid, np.ndarray, list[str]]:
    """Priority group per rule-grid cell: 0 = policy-guaranteed, then the listed groups, last = others."""
    rules = compile_admission(behaviour.admission, definitions, age_max, path)
    return rules.grid, rules.group_of_cell, rules.names


class CareSystem(Supply, Review, Admitting, Delivery, Statistics):
    """Providers, queues and carers of one run, and the care choice of its people."""

    def __init__(
        self,
        model: mesa.Model,
        behaviour: BehaviourFile,
        people: People,
        streams: RandomStreams,
        county_ids: list[str],
        start_year: int,
        definitions: dict[str, str],
        age_max: int,
        plans: dict[str, Plan],
        facility_schemes: list[CompiledFacilityScheme],
        vouchers: VoucherTable | None,
        path: object,
        distance_km: pd.DataFrame | None = None,
    ) -> None:
        self.b = behaviour
        self.model = model
        #: the compiled loops (services.kernels) where the run loads numba anyway, else None
        self.kernels = compiled_kernels(model)
        #: one bit per row, all zero between months (kernels.gather_marked's scratch)
        self._marks = np.zeros(-(-people.capacity // 64), dtype=np.uint64)
        #: each row's columns fixed for life packed in one word (kernels.pack_rows: built in the
        #: first month, extended by each month's entrants, moved with the rows at each compaction)
        self._packed = np.zeros(people.capacity if self.kernels is not None else 0, dtype=np.uint64)
        #: rows 0 to this hold their packed words
        self._packed_n = 0
        self.people = people
        self.streams = streams
        self.county_ids = county_ids
        self.n_c = len(county_ids)
        self.start_key = month_key(start_year)
        self.start_year = start_year
        self.choice = CompiledChoice.from_file(behaviour)
        self.admission = compile_admission(behaviour.admission, definitions, age_max, path)
        self.grid, self.group_of_cell, self.group_names = (
            self.admission.grid, self.admission.group_of_cell, self.admission.names
        )  # fmt: skip
        self.n_g = len(self.group_names)
        self._grid_cells = FixedCells(self.grid)
        #: the tables the reviewers' gather reads their priority group from (compiled; None: by
        #: :meth:`_priority` after it)
        tables = self._grid_cells.packed_tables() if self.kernels is not None else None
        self._prio_tables = None if tables is None else (*tables, self.group_of_cell)
        self.vouchers = vouchers
        self.distance_km = distance_km
        pr = behaviour.prices
        lv = ABILITY_LEVELS
        self.price_public = np.array([pr.institution_public[x] for x in lv])
        self.price_private = np.array([pr.institution_private[x] for x in lv])
        hours = np.array([behaviour.needs.hours_per_month[x] for x in lv])
        self.hours = hours
        self.bed_hours = hours * behaviour.needs.family_bed_hours_factor
        self.price_home = hours * pr.home_service_hour
        self.price_family_bed = np.array([pr.family_bed[x] for x in lv])

        alive = people.ability != DEAD
        pop = np.bincount(people.county[alive], weights=people.weight[alive], minlength=self.n_c)
        self.providers: list[BedProvider] = []
        self._start_supply(pop)
        self._plan_supply(plans, facility_schemes)
        self._seat_initial_residents()
        self.provider_county = np.array([p.county for p in self.providers], dtype=np.int64)
        self.provider_setting = np.array([p.setting for p in self.providers], dtype=np.int64)
        self.provider_public = np.array([p.operator == "public" for p in self.providers])
        self.price_of_provider = np.stack([p.prices for p in self.providers])
        inst = self.provider_setting == INSTITUTION
        #: per county: day-care providers
        self.day_care_providers = [
            np.flatnonzero((self.provider_setting == DAY_CARE) & (self.provider_county == c)).tolist()
            for c in range(self.n_c)
        ]
        #: the same as (county offsets, providers) arrays (kernels.day_care_places)
        self._day_care_flat = _flat(self.day_care_providers)
        #: per county: (public institution providers, privately run ones)
        self.bed_providers = [
            (
                np.flatnonzero(inst & (self.provider_county == c) & self.provider_public).tolist(),
                np.flatnonzero(inst & (self.provider_county == c) & ~self.provider_public).tolist(),
            )
            for c in range(self.n_c)
        ]
        #: the public and the private ones as (county offsets, providers) arrays (kernels.admit_beds)
        self._bed_flat = tuple(_flat([pair[i] for pair in self.bed_providers]) for i in (0, 1))

        self._recount()
        #: each row's level at the end of last year (rows from 0 to people.n; set each January for
        #: the rota's rebuild beside the month's transitions, Review.pack_fixed)
        self._level_was = np.empty(people.capacity, dtype=people.ability.dtype)
        self._level_was[: people.n] = people.ability
        counts = self.cells
        hours_needed = (counts[:, HOME, :5] @ self.hours) + (counts[:, FAMILY_BED, :5] @ self.bed_hours)
        s = behaviour.supply.initial_delivered_share
        self.agencies = [
            HomeCareAgency(
                model, c, hours_needed[c] * s / behaviour.carers.hours_per_carer_month, behaviour.carers
            )
            for c in range(self.n_c)
        ]
        self.delivered = np.ones((self.n_c, N_SETTINGS))
        self.env = new_environment(int(streams.seed_sequence("salabim").generate_state(1)[0]))
        self.office = AdmissionOffice(
            env=self.env, admit=self._admit_all, n_counties=self.n_c, n_groups=self.n_g
        )
        self.expected_wait = np.zeros(self.n_c)
        #: row indices kept from month to month, rebuilt each January (rows move at compaction)
        self._queue: np.ndarray | None = None
        self._holders: np.ndarray | None = None
        self._rota: list[np.ndarray] | None = None
        self._rota_late: list[list[np.ndarray]] = []
        #: January's buffers (Review._january)
        self._scratch: np.ndarray | None = None
        self.stats: dict[int, YearStats] = {}
        self._month = 0
        self._ctx: dict[str, np.ndarray] = {}
        self._beds = np.zeros(len(self.providers))  # each provider's beds this month
        #: real people in each provider's places at the end of last month
        self._occ = self._occupied(np.flatnonzero(people.provider >= 0))[0]

    def _priority(self, idx: np.ndarray, known: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Priority group of rows ``idx``; ``known`` holds columns the caller has gathered already."""
        p = self.people
        known = known or {}
        cols = {f: known[f] if f in known else getattr(p, f)[idx] for f in self._grid_cells.fields}
        return self.group_of_cell[self._grid_cells.cells(cols)]

    def _tie(self, idx: np.ndarray) -> np.ndarray | None:
        """Tie-break rank within a priority group (001 §16: 同等条件下优先); None without tie-breaks."""
        if len(self.admission.tie_names) == 1:
            return None
        p = self.people
        cols = {f: getattr(p, f)[idx] for f in self._grid_cells.fields}
        return self.admission.tie_of_cell[self._grid_cells.cells(cols)]

    def moving_rows(self, people: People) -> list[np.ndarray]:
        """Before ``people.compact``: the arrays by row to move with the rows (People.compact's
        ``also``), the packed columns, when every row has its word (rebuilding them from five
        columns took 3.3 of January's 9.8 ms rebuild on the care thread at 1.3 M rows, measured
        alone; the move is one more array in the compaction, which runs while the care stage waits
        anyway). Otherwise none, and January packs every row again."""
        return [self._packed] if self.kernels is not None and self._packed_n == people.n else []

    def rows_moved(self, people: People, moved: bool) -> None:
        """After ``people.compact``: the rows holding their packed words."""
        self._packed_n = people.n if moved else 0

    def new_year(self, sim_month: int) -> None:
        """January (after the dead are compacted out): operators decide on beds from last year's
        occupancy and prices; the row indices kept from month to month are rebuilt."""
        self._level_was[: self.people.n] = self.people.ability  # rows moved at the compaction
        self._queue = self._holders = None
        self._rota = None
        if sim_month == 0:
            return
        for provider in self.providers:
            provider.decide(self.start_key + sim_month, self.b.investment)

    def step(
        self, sim_month: int, changed: np.ndarray, was: np.ndarray, now: np.ndarray, first_entrant: int
    ) -> None:
        """One month, after transitions. ``changed`` holds the rows whose level changed (incl.
        death), in row order, ``was`` and ``now`` their levels before and after (as the transition
        found them: model.AgingModel._transition); rows from ``first_entrant`` on turned 60 this month.

        No pass over all the people: the people waiting and the holders of places are kept as row
        indices from month to month (rebuilt each January), the counts by setting and level are kept
        up to date from the rows that changed, and everything else works on the small sets of people
        reviewing, waiting or holding a place. In two parts (:meth:`begin_step`, then
        :meth:`finish_step`), so that the model's overlap can run them on different threads.
        """
        self.finish_step(self.begin_step(sim_month, changed, was, now, first_entrant))

    def begin_step(
        self, sim_month: int, changed: np.ndarray, was: np.ndarray, now: np.ndarray, first_entrant: int
    ) -> MonthStart:
        """The month's first part: the counts follow the level changes and the entrants, and the
        dead leave beds and queues. It reads the people's levels and ages only at the rows that
        changed or died, and writes only care columns, so the model's overlap runs it on the main
        thread on the live arrays before the next month's transitions, to even out the two
        threads' shares of the month (model.AgingModel.step; the care thread's was the longer)."""
        self._month = sim_month
        p = self.people
        year = self._year()
        self._beds = np.array([q.beds(self.start_key + sim_month) for q in self.providers])  # fixed all month
        period = self.choice.review_every_months
        if self._queue is None and self.kernels is None:  # compiled: in January's pass (Review._january)
            self._queue = np.flatnonzero(p.wait_since >= 0)
            self._holders = np.flatnonzero(p.provider >= 0)
        queue, holders = self._queue, self._holders

        # entrants start at home and choose like anyone else; the counts follow the level changes
        p.care_setting[first_entrant:] = FAMILY_CARE
        rebuilt = self.kernels is not None and self._queue is None
        if rebuilt:  # January (rows moved at the compaction): rota, queue, holders, packed columns
            self._january()
            queue, holders = self._queue, self._holders
        elif self.kernels is not None:  # the entrants' packed columns
            self.kernels.pack_rows(
                self._packed, first_entrant, p.n, p.pid, p.county, p.family, p.econ, p.flags
            )
            self._packed_n = p.n
        k = int(np.searchsorted(changed, first_entrant))  # the entrants are counted below
        moved, was, now = changed[:k], was[:k], now[:k]
        moved_res = None
        if self.kernels is not None:  # the counts' moves, the dead found, and of the moved rows only
            # those that may review go on (to this month's reviewers and their rota: an idle row
            # joins it again only by another change of level)
            dead, moved, moved_res = self.kernels.shift_moved(
                moved, was, now, self._packed, p.care_setting, p.weight, p.wait_since,
                N_SETTINGS, N_LEVELS + 1, self._cells.reshape(-1), DEAD, FAMILY_CARE, period,
            )  # fmt: skip
        else:
            self._shift(moved, level_was=was)
            dead = moved[now == DEAD]
        self._shift(np.arange(first_entrant, p.n))

        # the dead leave beds and queues
        gone = dead[p.wait_since[dead] >= 0]
        if len(gone):
            np.add.at(year.left, (p.county[gone], self._priority(gone)), p.weight[gone])
            p.wait_since[gone] = -1
            queue = queue[p.wait_since[queue] >= 0]
        held = p.provider[dead].astype(np.int64)
        lost = held >= 0
        occupied = self._occ - np.bincount(held[lost], weights=p.weight[dead[lost]], minlength=len(self._occ))
        p.provider[dead] = -1
        if self.kernels is None:  # compiled: the holders are filtered once, at the end of the month
            holders = holders[p.provider[holders] >= 0]

        return MonthStart(sim_month, first_entrant, moved, moved_res, queue, holders, occupied, rebuilt)

    def finish_step(self, start: MonthStart) -> None:
        """The month's second part: review and choice, admissions, occupancy, delivery, statistics."""
        sim_month, first_entrant, rebuilt = start.month, start.first_entrant, start.rebuilt
        moved, moved_res, queue, holders = start.moved, start.moved_res, start.queue, start.holders
        occupied = start.occupied
        p = self.people
        year = self._year()
        period = self.choice.review_every_months

        # who reviews: anyone whose level changed, entrants, the waiting, and this month's rota
        # (each person once every ``review_every_months``, staggered by person id). People with
        # intact ability cared for by family and not waiting do not review: their logit probability
        # of any formal setting is below 1% (the margins give under 0.5% of them in formal care), and
        # leaving them out keeps the month cheap. Each reviewer once, in row order.
        entrants = np.arange(first_entrant, p.n)
        if self.kernels is not None:  # only entrants who may review (all start at home, not waiting)
            level_now = p.ability[first_entrant:]
            entrants = entrants[(level_now > 0) & (level_now != DEAD)]
        rota = self._rota_rows(sim_month % period, moved, entrants, moved_res, rebuilt)
        known = None
        if self.kernels is not None:  # marked in a bitmap and read back in row order, filtered, with
            # every column the choice reads, in one pass (no merge of the runs, no second gather)
            runs = np.concatenate([moved, queue, *rota, entrants]).astype(np.int64, copy=False)
            tables = self._prio_tables or (_NO_CELLS, _NO_CELLS, 0, 0, _NO_GROUPS)
            reviewers, level, setting_was, was_waiting, *cols, prio = self.kernels.gather_marked(
                runs, self._marks, p.ability, p.care_setting, p.wait_since, self._packed, p.age_m,
                DEAD, FAMILY_CARE, *tables,
            )  # fmt: skip
            known = dict(zip(("county", "family", "econ", "age_m", "flags", "pid"), cols, strict=True))
            if self._prio_tables is not None:
                known["priority"] = prio
        else:
            candidates = _union_rows(moved, queue, *rota, entrants)
            lvl, cs = p.ability[candidates], p.care_setting[candidates]
            was_waiting = p.wait_since[candidates] >= 0
            keep = (lvl != DEAD) & ((lvl > 0) | (cs != FAMILY_CARE) | was_waiting)
            reviewers, setting_was, level, was_waiting = (
                candidates[keep],
                cs[keep],
                lvl[keep],
                was_waiting[keep],
            )

        placed, prio, waiting = self._choose(
            reviewers, level, setting_was, was_waiting, sim_month, year, occupied, known
        )
        if self.kernels is None:
            holders = np.concatenate([holders[p.provider[holders] >= 0], placed])
        queue = reviewers[waiting]  # everyone waiting reviewed this month
        self._ctx = {"occupied": occupied, "queue": queue, "priority": prio[waiting]}
        _run_events(self.env, till=sim_month + 0.5)  # the admission office admits (AdmissionOffice.process)
        if self.kernels is not None:  # the holders still in a place, the new ones, and their occupancy
            holders, occupied, revenue = self.kernels.holders_occupancy(
                holders, placed, self._ctx["new_holders"], p.provider, p.weight, p.ability,
                self.price_of_provider,
            )  # fmt: skip
        else:
            holders = np.concatenate([holders, self._ctx["new_holders"]])
            occupied, revenue = self._occupied(holders)
        self._queue, self._holders = queue[p.wait_since[queue] >= 0], holders
        self._occ = occupied
        for k, provider in enumerate(self.providers):
            provider.observe(occupied[k], revenue[k])

        # the counts follow the reviewers who changed setting
        if self.kernels is not None:
            self.kernels.shift_switched(
                reviewers, setting_was, known["county"], level, p.care_setting, p.weight,
                N_SETTINGS, N_LEVELS + 1, self._cells.reshape(-1),
            )  # fmt: skip
        else:
            switched = p.care_setting[reviewers] != setting_was
            self._shift(reviewers[switched], setting_was=setting_was[switched])

        counts = self.cells  # (county, setting, level) real people
        self._deliver(counts)
        self._record(year, occupied, counts, self._queue)


def compiled_kernels(model: mesa.Model) -> ModuleType | None:
    """services.kernels if the run uses the fused ability kernel (so numba is loaded and paid
    for: ability/fused.py), else None: numba's load would cost a smaller run more than it saves."""
    if getattr(model, "_fused", None) is None:
        return None
    from agingsim.services import kernels

    return kernels


def _flat(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Providers by county as arrays for the compiled loops: county offsets, then the providers."""
    ptr = np.cumsum([0, *map(len, lists)]).astype(np.int64)
    return ptr, np.array([k for ks in lists for k in ks], dtype=np.int64)


def _union_rows(*rows: np.ndarray) -> np.ndarray:
    """Every row in any of ``rows`` once, in row order (a sort and a neighbour comparison: numpy's
    ``unique`` took 3 ms on 40,000 rows here, ten times a sort)."""
    a = np.sort(np.concatenate(rows))
    keep = np.empty(len(a), dtype=bool)
    keep[:1] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


__all__ = ["CareSystem", "MonthStart", "VoucherTable", "YearStats", "_per_bed", "compile_priority"]


def _run_events(env: sim.Environment, till: float) -> None:
    """Execute the salabim events due before ``till``. ``env.run`` would do the same, but with
    generator processes it records its caller's frame through ``inspect.stack()`` on every call,
    which reads the source of every frame on the stack: a few ms a month (~40 ms under cProfile)."""
    while env.peek() < till:
        env.step()
