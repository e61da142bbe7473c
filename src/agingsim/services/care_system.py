"""The care system: one month of choice, admission and delivery over the arrays of people.

Pipeline position (after ability transitions, before the schemes pay):

    review → choose (choice.mnl) → leave / join queues, discharge, switch settings
           → admit to beds in priority order (salabim admission office) → day-care places
           → occupancy and revenue to the providers (Mesa agents) → home-care hours within carer capacity
           → delivered shares for the schemes that pay on delivery → coverage statistics

Providers decide on beds once a year (January). Nothing here reaches back into ability or policy
except through next month's state.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import mesa
import numpy as np
import pandas as pd

from agingsim.choice.mnl import (
    DAY_CARE,
    FAMILY_BED,
    FAMILY_CARE,
    HOME,
    INSTITUTION,
    N_SETTINGS,
    ChoiceInputs,
    CompiledChoice,
    choose,
    probabilities,
    utilities,
)
from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.policy.dated import month_key
from agingsim.policy.rules import RuleError, RuleGrid, RuleSet
from agingsim.population.attributes import ABILITY_LEVELS, CARE_SETTINGS, DEAD, N_LEVELS, NEEDS_CARE_FROM
from agingsim.population.people import People
from agingsim.providers.agents import BedProvider, HomeCareAgency
from agingsim.rng import RandomStreams
from agingsim.scenario.schema import RESIDENTIAL_TYPES, BehaviourFile
from agingsim.schemes.facility import CONSTRUCTION_BASES, CompiledFacilityScheme, Plan, basis_units
from agingsim.schemes.monthly import PersonSchemes
from agingsim.services.admission import AdmissionOffice, admit, new_environment
from agingsim.services.lifetime import weak_agent_ids

weak_agent_ids()  # mesa would keep every run's model (and its people) alive

MONTHS = 12
#: Street centres (≥ 30 beds, seed 002 三(二)) and institutions hold residential beds; community
#: stations offer day-care places.
INSTITUTION_TYPES = RESIDENTIAL_TYPES
DAY_CARE_TYPES = frozenset({"community_station"})
#: Expected waits beyond this are treated as this (months) in the choice.
MAX_WAIT = 60.0


def compile_priority(
    behaviour: BehaviourFile, definitions: dict[str, str], age_max: int, path: object
) -> tuple[RuleGrid, np.ndarray, list[str]]:
    """Priority group per rule-grid cell: 0 = policy-guaranteed, then the listed groups, last = others."""
    adm = behaviour.admission
    texts = {"admission.policy_guaranteed": adm.policy_guaranteed}
    texts |= {f"admission.priority[{i}].when": g.when for i, g in enumerate(adm.priority)}
    try:
        rules = RuleSet.from_texts(definitions)
    except RuleError as exc:
        raise ScenarioError(path, "policy.definitions", str(exc)) from None
    trees, axes, errors = {}, set(), []
    for key, text in texts.items():
        try:
            trees[key] = rules.compile(text)
            axes |= rules.axes_of(trees[key])
        except RuleError as exc:
            errors.append(ScenarioError(path, key, str(exc)))
    if errors:
        raise ScenarioErrors(errors)
    grid = RuleGrid(rules, axes, age_max, trees.values())
    n = len(adm.priority) + 1
    group = np.full(grid.size, n, dtype=np.int8)
    for g, key in reversed(list(enumerate(texts))):  # first matching group wins
        group[grid.evaluate(trees[key]).astype(bool)] = g
    names = ["policy_guaranteed", *(g.id for g in adm.priority), "others"]
    return grid, group, names


@dataclass
class YearStats:
    """Accumulated over the months of one year (weights are real people): by county, by county and
    care setting, or by county and priority group."""

    setting_all: np.ndarray
    setting_need: np.ndarray
    beds: np.ndarray
    nursing_beds: np.ndarray
    occupied: np.ndarray
    places: np.ndarray
    places_used: np.ndarray
    waiting: np.ndarray
    hours_needed: np.ndarray
    hours_delivered: np.ndarray
    people: np.ndarray
    arrivals: np.ndarray
    admissions: np.ndarray
    left: np.ndarray
    wait_sum: np.ndarray
    #: people still waiting at the end of the year (set by CareSystem.close_year)
    still: np.ndarray
    months: int = 0

    @classmethod
    def empty(cls, n_c: int, n_g: int) -> YearStats:
        by_setting = {"setting_all", "setting_need"}
        by_group = {"arrivals", "admissions", "left", "wait_sum", "still"}
        shapes = {
            f.name: (n_c, N_SETTINGS)
            if f.name in by_setting
            else (n_c, n_g)
            if f.name in by_group
            else (n_c,)
            for f in fields(cls)
            if f.name != "months"
        }
        return cls(**{name: np.zeros(shape) for name, shape in shapes.items()})


class CareSystem:
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
        self.people = people
        self.streams = streams
        self.county_ids = county_ids
        self.n_c = len(county_ids)
        self.start_key = month_key(start_year)
        self.start_year = start_year
        self.choice = CompiledChoice.from_file(behaviour)
        self.grid, self.group_of_cell, self.group_names = compile_priority(
            behaviour, definitions, age_max, path
        )
        self.n_g = len(self.group_names)
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
        #: per county: (public institution providers, privately run ones)
        self.bed_providers = [
            (
                np.flatnonzero(inst & (self.provider_county == c) & self.provider_public).tolist(),
                np.flatnonzero(inst & (self.provider_county == c) & ~self.provider_public).tolist(),
            )
            for c in range(self.n_c)
        ]

        self._recount()
        #: each row's level at the end of last month (rows from 0 to people.n)
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
        self._rota_n = 0
        self.stats: dict[int, YearStats] = {}
        self._month = 0
        self._ctx: dict[str, np.ndarray] = {}
        self._beds = np.zeros(len(self.providers))  # each provider's beds this month
        #: real people in each provider's places at the end of last month
        self._occ = self._occupied(np.flatnonzero(people.provider >= 0))[0]

    # ------------------------------------------------------------------ supply

    def _start_supply(self, pop: np.ndarray) -> None:
        """Starting beds and day-care places per 1,000 people 60+ (behaviour file), by county."""
        sup = self.b.supply
        beds = pop * sup.institution_beds_per_1000 / 1000
        places = pop * sup.day_care_places_per_1000 / 1000
        for c in range(self.n_c):
            for operator, share, prices, responsive in (
                ("public", sup.public_bed_share, self.price_public, False),
                ("private", 1 - sup.public_bed_share, self.price_private, True),
            ):
                stock = float(beds[c] * share)
                self.providers.append(
                    BedProvider(
                        self.model,
                        c,
                        INSTITUTION,
                        operator,
                        prices,
                        lambda m, s=stock: s,
                        responsive=responsive,
                        nursing_share=sup.nursing_bed_share,
                    )
                )
            stock = float(places[c])
            self.providers.append(
                BedProvider(
                    self.model,
                    c,
                    DAY_CARE,
                    "public",
                    np.full(5, self.b.prices.day_care),
                    lambda m, s=stock: s,
                )
            )

    def _plan_supply(self, plans: dict[str, Plan], schemes: list[CompiledFacilityScheme]) -> None:
        """Beds of the scenario's build plans; responsive plans' private operators also invest."""
        for plan in plans.values():
            spec = plan.spec
            if spec.beds <= 0 or spec.type not in INSTITUTION_TYPES | DAY_CARE_TYPES:
                continue
            setting = INSTITUTION if spec.type in INSTITUTION_TYPES else DAY_CARE
            prices = (
                (self.price_public if spec.operator == "public" else self.price_private)
                if setting == INSTITUTION
                else np.full(5, self.b.prices.day_care)
            )
            paying = [s for s in schemes if plan in s.plans]
            for c in np.flatnonzero(plan.county_share > 0):
                share = float(plan.county_share[c])
                provider = BedProvider(
                    self.model,
                    int(c),
                    setting,
                    spec.operator,
                    prices,
                    lambda m, p=plan, sh=share: p.stock(m) * p.spec.beds * sh,
                    responsive=spec.responsive and spec.operator != "public",
                    construction_subsidy=lambda m, p=plan, sc=paying: _per_bed(sc, p, m, construction=True),
                    operating_subsidy=lambda m, p=plan, sc=paying: _per_bed(sc, p, m, construction=False),
                    nursing_share=self.b.supply.nursing_bed_share if setting == INSTITUTION else 0.0,
                )
                provider.plan = plan  # type: ignore[attr-defined]
                self.providers.append(provider)
        self._schemes = schemes

    def book_investment(self) -> None:
        """Facilities opened or closed by operators' decisions join their plans' payments (end of run)."""
        for provider in self.providers:
            plan: Plan | None = getattr(provider, "plan", None)
            if plan is None or not provider.openings:
                continue
            share = np.zeros(self.n_c)
            share[provider.county] = 1.0
            extra = Plan(
                plan.spec.model_copy(update={"id": f"{plan.spec.id}_{provider.county}_invested"}),
                {m: beds / plan.spec.beds for m, beds in provider.openings.items()},
                share,
                plan.servings,
            )
            for scheme in self._schemes:
                if plan in scheme.plans:
                    scheme.plans.append(extra)

    def _seat_initial_residents(self) -> None:
        """Starting residents take beds: public before private, the priority groups first.

        Where a county's starting residents outnumber its starting beds, its last (private) stock is
        raised to hold them (the margins' institution share and the bed rate come from different
        sources).
        """
        p = self.people
        for setting in (INSTITUTION, DAY_CARE):
            users = np.flatnonzero((p.care_setting == setting) & (p.ability != DEAD))
            county = p.county[users].astype(np.int64)
            need = np.bincount(county, weights=p.weight[users], minlength=self.n_c)
            providers = []
            for c in range(self.n_c):
                ks = [k for k, q in enumerate(self.providers) if q.county == c and q.setting == setting]
                ks.sort(key=lambda k: self.providers[k].operator != "public")
                short = need[c] - sum(self.providers[k].beds(self.start_key) for k in ks)
                if short > 0 and ks:
                    self.providers[ks[-1]].added += short + 1.0
                providers.append(ks)
            free = np.array([q.beds(self.start_key) for q in self.providers])
            got, where = admit(
                p.weight[users].astype(np.float64), county, self._priority(users), np.zeros(len(users)),
                p.pid[users], providers, [[] for _ in range(self.n_c)], free,
            )  # fmt: skip
            p.provider[users[got]] = where
            rest = np.ones(len(users), dtype=bool)
            rest[got] = False
            p.care_setting[users[rest]] = FAMILY_CARE

    # ------------------------------------------------------------------ helpers

    def _priority(self, idx: np.ndarray) -> np.ndarray:
        p = self.people
        cols = {f: getattr(p, f)[idx] for f in self.grid.people_fields()}
        return self.group_of_cell[self.grid.cells(cols)]

    def _year(self) -> YearStats:
        y = self.start_year + self._month // MONTHS
        if y not in self.stats:
            self.stats[y] = YearStats.empty(self.n_c, self.n_g)
        return self.stats[y]

    # ------------------------------------------------------------------ the month

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

    def _rota_rows(self, residue: int, moved: np.ndarray) -> np.ndarray:
        """Rows due for their review this month: person id ≡ ``residue`` (mod the review period).

        Only rows that could pass the reviewers' filter are returned (with some extra, filtered
        later). Built each January from the rows not cared for by family at intact ability or
        waiting; an intact person at home can only become a reviewer by a change of level, so the
        rows whose level changed since (``moved`` this month, kept by residue) are added, and so are
        the entrants since January, checked on their own slice.
        """
        p = self.people
        period = self.choice.review_every_months
        if self._rota is None:
            idle = (p.ability == 0) & (p.care_setting == FAMILY_CARE) & (p.wait_since < 0)
            self._rota = self._by_residue(np.flatnonzero(~idle))
            self._rota_late = [[] for _ in range(period)]
            self._rota_n = p.n
        for r, rows in enumerate(self._by_residue(moved)):
            self._rota_late[r].append(rows)
        new = np.arange(self._rota_n, p.n)
        return np.concatenate(
            [self._rota[residue], *self._rota_late[residue], new[p.pid[new] % period == residue]]
        )

    def _by_residue(self, rows: np.ndarray) -> list[np.ndarray]:
        """``rows`` split by person id modulo the review period."""
        period = self.choice.review_every_months
        res = (self.people.pid[rows] % period).astype(np.int8)  # small ints: numpy sorts them by radix
        order = np.argsort(res, kind="stable")
        bounds = np.searchsorted(res[order], np.arange(period + 1))
        return [rows[order[bounds[r] : bounds[r + 1]]] for r in range(period)]

    def step(self, sim_month: int, changed: np.ndarray, first_entrant: int) -> None:
        """One month, after transitions. ``changed`` masks the people whose level changed (incl.
        death); rows from ``first_entrant`` on turned 60 this month.

        Full passes over the arrays are few (who changed, the reviewers); the people waiting and the
        holders of places are kept as row indices from month to month (rebuilt each January), the
        counts by setting and level are kept up to date from the rows that changed, and everything
        else works on the small sets of people reviewing, waiting or holding a place.
        """
        self._month = sim_month
        p = self.people
        year = self._year()
        self._beds = np.array([q.beds(self.start_key + sim_month) for q in self.providers])  # fixed all month
        if self._queue is None:
            self._queue = np.flatnonzero(p.wait_since >= 0)
            self._holders = np.flatnonzero(p.provider >= 0)
        queue, holders = self._queue, self._holders

        # entrants start at home and choose like anyone else; the counts follow the level changes
        p.care_setting[first_entrant:] = FAMILY_CARE
        moved = np.flatnonzero(changed[:first_entrant])
        self._shift(moved, level_was=self._level_was[moved])
        self._shift(np.arange(first_entrant, p.n))

        # the dead leave beds and queues
        dead = moved[p.ability[moved] == DEAD]
        gone = dead[p.wait_since[dead] >= 0]
        if len(gone):
            np.add.at(year.left, (p.county[gone], self._priority(gone)), p.weight[gone])
            p.wait_since[gone] = -1
            queue = queue[p.wait_since[queue] >= 0]
        held = p.provider[dead].astype(np.int64)
        lost = held >= 0
        occupied = self._occ - np.bincount(held[lost], weights=p.weight[dead[lost]], minlength=len(self._occ))
        p.provider[dead] = -1
        holders = holders[p.provider[holders] >= 0]

        # who reviews: anyone whose level changed, entrants, the waiting, and this month's rota
        # (each person once every ``review_every_months``, staggered by person id). People with
        # intact ability cared for by family and not waiting do not review: their logit probability
        # of any formal setting is below 1% (the margins give under 0.5% of them in formal care), and
        # leaving them out keeps the month cheap. ``changed`` is this month's scratch mask.
        review = changed
        review[first_entrant:] = True
        review[queue] = True
        review[self._rota_rows(sim_month % self.choice.review_every_months, moved)] = True
        reviewers = np.flatnonzero(review)
        lvl = p.ability[reviewers]
        keep = (lvl > 0) | (p.care_setting[reviewers] != FAMILY_CARE) | (p.wait_since[reviewers] >= 0)
        reviewers = reviewers[(lvl != DEAD) & keep]
        setting_was = p.care_setting[reviewers]

        placed, prio = self._choose(reviewers, sim_month, year, occupied)
        holders = np.concatenate([holders[p.provider[holders] >= 0], placed])
        waiting = p.wait_since[reviewers] >= 0  # everyone waiting reviewed this month
        queue = reviewers[waiting]
        self._ctx = {"occupied": occupied, "queue": queue, "priority": prio[waiting]}
        self.env.run(till=sim_month + 0.5)  # the admission office admits (AdmissionOffice.process)
        holders = np.concatenate([holders, self._ctx["new_holders"]])
        self._queue, self._holders = queue[p.wait_since[queue] >= 0], holders
        occupied, revenue = self._occupied(holders)
        self._occ = occupied
        for k, provider in enumerate(self.providers):
            provider.observe(occupied[k], revenue[k])

        # the counts follow the reviewers who changed setting
        switched = p.care_setting[reviewers] != setting_was
        self._shift(reviewers[switched], setting_was=setting_was[switched])
        self._level_was[moved] = p.ability[moved]
        self._level_was[first_entrant : p.n] = p.ability[first_entrant:]

        counts = self.cells  # (county, setting, level) real people
        hours = (counts[:, HOME, :5] @ self.hours) + (counts[:, FAMILY_BED, :5] @ self.bed_hours)
        share = np.array([a.deliver(hours[c]) for c, a in enumerate(self.agencies)])
        for a in self.agencies:
            a.adjust()
        self.delivered[:, HOME] = share
        self.delivered[:, FAMILY_BED] = share
        self._record(year, occupied, counts, self._queue)

    def _choose(
        self, idx: np.ndarray, sim_month: int, year: YearStats, occupied: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Reviewers weigh the settings; queues, beds and places change accordingly (``occupied`` is
        kept up to date as day-care places are taken). Returns the rows that took a day-care place
        and the reviewers' priority groups."""
        p = self.people
        if not len(idx):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8)
        lvl = p.ability[idx].astype(np.int64)
        county = p.county[idx].astype(np.int64)
        prio = self._priority(idx)
        priority_person = prio < self.n_g - 1
        net = np.zeros((len(idx), N_SETTINGS))
        net[:, INSTITUTION] = np.where(priority_person, self.price_public[lvl], self.price_private[lvl])
        net[:, HOME] = self.price_home[lvl]
        net[:, FAMILY_BED] = self.price_family_bed[lvl]
        net[:, DAY_CARE] = self.b.prices.day_care
        if self.vouchers is not None:
            net -= self.vouchers.values(self.start_key + sim_month, p, idx)
            np.maximum(net, 0.0, out=net)
        dist = np.zeros(len(idx))
        if self.distance_km is not None:
            dist = self.distance_km[min(sim_month // MONTHS, len(self.distance_km) - 1), county]
        x = ChoiceInputs(
            ability=lvl,
            family=p.family[idx].astype(np.int64),
            econ=p.econ[idx].astype(np.int64),
            current=p.care_setting[idx].astype(np.int64),
            net_price=net,
            wait_months=self.expected_wait[county],
            unmet_share=1.0 - self.delivered[county, HOME],
            distance_km=dist,
        )
        u = self.streams.sparse_uniforms("care_choice", sim_month, p.pid[idx])
        chosen = choose(probabilities(utilities(self.choice, x)), u)
        chosen[prio == 0] = INSTITUTION  # 集中供养: policy-guaranteed people live in institutions

        cur = p.care_setting[idx]
        was_waiting = p.wait_since[idx] >= 0
        w = p.weight[idx].astype(np.float64)
        # leave the queue
        leave = was_waiting & (chosen != INSTITUTION)
        np.add.at(year.left, (county[leave], prio[leave]), w[leave])
        p.wait_since[idx[leave]] = -1
        # join the queue (keeping the current setting while waiting)
        join = ~was_waiting & (chosen == INSTITUTION) & (cur != INSTITUTION)
        np.add.at(year.arrivals, (county[join], prio[join]), w[join])
        p.wait_since[idx[join]] = sim_month
        # leave a bed or a day-care place
        move = (chosen != cur) & (chosen != INSTITUTION)
        release = idx[move & ((cur == INSTITUTION) | (cur == DAY_CARE))]
        held = p.provider[release].astype(np.int64)
        np.subtract.at(occupied, held[held >= 0], p.weight[release][held >= 0])
        p.provider[release] = -1
        # home-based settings need no place
        home_based = move & (chosen != DAY_CARE)
        p.care_setting[idx[home_based]] = chosen[home_based]
        # day care needs a place: first come (by person id) while places last, else stay put
        want = idx[move & (chosen == DAY_CARE)]
        placed = np.zeros(0, dtype=np.int64)
        if len(want):
            free = self._beds - occupied
            n = len(want)
            none = [[] for _ in range(self.n_c)]
            got, where = admit(
                p.weight[want].astype(np.float64), p.county[want].astype(np.int64),
                np.zeros(n, dtype=np.int8),
                np.zeros(n), p.pid[want], none, self.day_care_providers, free,
            )  # fmt: skip
            placed = want[got]
            p.provider[placed] = where
            p.care_setting[placed] = DAY_CARE
            np.add.at(occupied, where, p.weight[placed])
        # anyone who left a place without taking another is cared for by family
        cs = p.care_setting[idx]
        orphan = idx[(p.provider[idx] < 0) & ((cs == INSTITUTION) | (cs == DAY_CARE))]
        p.care_setting[orphan] = FAMILY_CARE
        return placed, prio

    def _occupied(self, holders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Real people in each provider's places, and their monthly bill at list prices."""
        p = self.people
        k = p.provider[holders].astype(np.int64)
        w = p.weight[holders].astype(np.float64)
        occ = np.bincount(k, weights=w, minlength=len(self.providers))
        lvl = np.minimum(p.ability[holders], 4).astype(np.int64)
        rev = np.bincount(k, weights=w * self.price_of_provider[k, lvl], minlength=len(self.providers))
        return occ, rev

    def _shift(
        self, rows: np.ndarray, level_was: np.ndarray | None = None, setting_was: np.ndarray | None = None
    ) -> None:
        """Move ``rows`` in the counts by (county, setting, level) from the level and setting they
        had (where given; current otherwise) to their current ones; with neither given, add them.
        The dead go to a level of their own that no output reads."""
        p = self.people
        county = p.county[rows].astype(np.int64) * N_SETTINGS
        level, setting = p.ability[rows], p.care_setting[rows]
        key = (county + setting) * (N_LEVELS + 1) + level
        w = p.weight[rows]
        if level_was is not None or setting_was is not None:
            level = level if level_was is None else level_was
            setting = setting if setting_was is None else setting_was
            key = np.concatenate([(county + setting) * (N_LEVELS + 1) + level, key])
            w = np.concatenate([-w, w])
        self._cells += np.bincount(key, weights=w, minlength=self._cells.size).reshape(self._cells.shape)

    @property
    def cells(self) -> np.ndarray:
        """(county, setting, level) living real people now."""
        return self._cells[:, :, :N_LEVELS]

    def _recount(self) -> None:
        """Count everyone by (county, setting, level) in full (at the start; kept up to date from the
        rows that change after that)."""
        self._cells = np.zeros((self.n_c, N_SETTINGS, N_LEVELS + 1))
        self._shift(np.arange(self.people.n))  # the dead, if any, go to their own level

    def _admit_all(self) -> None:
        """This month's admissions in every county (called by the salabim admission office)."""
        p = self.people
        month = self._month
        year = self._year()
        office = self.office
        queue, prio, occupied = self._ctx["queue"], self._ctx["priority"], self._ctx["occupied"]
        beds = self._beds
        county = p.county[queue].astype(np.int64)
        w_all = p.weight[queue].astype(np.float64)
        waiting = np.bincount(county, weights=w_all, minlength=self.n_c)
        admitted = np.zeros(self.n_c)
        self._ctx["new_holders"] = np.zeros(0, dtype=np.int64)
        if len(queue):
            # within public and within private beds the emptiest homes fill first (operators compete
            # for residents, so no home is left with only what the others did not take)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(beds > 0, occupied / beds, np.inf)
            order = [sorted(ks, key=lambda k: ratio[k]) for pair in self.bed_providers for ks in pair]
            got, where = admit(
                w_all, county, prio, p.wait_since[queue], p.pid[queue],
                order[0::2], order[1::2], beds - occupied,
            )  # fmt: skip
            who = queue[got]
            waited = (month - p.wait_since[who]).astype(np.float64)
            self._ctx["new_holders"] = who[p.provider[who] < 0]  # the rest held a day-care place
            p.provider[who] = where
            p.care_setting[who] = INSTITUTION
            p.wait_since[who] = -1
            w = w_all[got]
            np.add.at(occupied, where, w)
            np.add.at(year.admissions, (county[got], prio[got]), w)
            np.add.at(year.wait_sum, (county[got], prio[got]), w * waited)
            admitted = np.bincount(county[got], weights=w, minlength=self.n_c)
            for g in np.unique(prio[got]):
                sel = prio[got] == g
                wg = float(w[sel].sum())
                office.waits[g].tally(float((w[sel] * waited[sel]).sum() / wg), wg)
        still = waiting - admitted
        for c in range(self.n_c):
            office.waiting[c].value = float(still[c])
        # expected wait for someone joining now: the queue ahead over this month's admissions
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(admitted > 0, still / admitted, np.where(still > 0, MAX_WAIT, 0.0))
        self.expected_wait = np.minimum(expected, MAX_WAIT)

    def _record(self, year: YearStats, occupied: np.ndarray, counts: np.ndarray, queue: np.ndarray) -> None:
        """Add this month to the year's tallies (``queue``: the rows still waiting)."""
        p = self.people
        year.months += 1
        year.setting_all += counts.sum(axis=2)
        year.setting_need += counts[:, :, NEEDS_CARE_FROM:].sum(axis=2)
        year.people += counts.sum(axis=(1, 2))
        beds = self._beds
        inst = self.provider_setting == INSTITUTION
        nursing = np.array([q.nursing_share for q in self.providers])
        c = self.provider_county
        year.beds += np.bincount(c[inst], weights=beds[inst], minlength=self.n_c)
        year.nursing_beds += np.bincount(c[inst], weights=(beds * nursing)[inst], minlength=self.n_c)
        year.occupied += np.bincount(c[inst], weights=occupied[inst], minlength=self.n_c)
        year.places += np.bincount(c[~inst], weights=beds[~inst], minlength=self.n_c)
        year.places_used += np.bincount(c[~inst], weights=occupied[~inst], minlength=self.n_c)
        year.waiting += np.bincount(p.county[queue], weights=p.weight[queue], minlength=self.n_c)
        year.hours_needed += np.array([a.hours_needed for a in self.agencies])
        year.hours_delivered += np.array([a.hours_delivered for a in self.agencies])

    def still_waiting(self) -> np.ndarray:
        """(county, group) real people waiting now (for the year-end and conservation checks)."""
        p = self.people
        q = np.flatnonzero((p.wait_since >= 0) & (p.ability != DEAD))
        out = np.zeros((self.n_c, self.n_g))
        np.add.at(out, (p.county[q], self._priority(q)), p.weight[q])
        return out

    def close_year(self, year: int) -> None:
        """Snapshot who is still waiting at the end of ``year``."""
        if year in self.stats:
            self.stats[year].still = self.still_waiting()

    # ------------------------------------------------------------------ outputs

    def frames(self) -> dict[str, pd.DataFrame]:
        """coverage.csv, capacity.csv and waiting.csv rows (monthly averages within each year)."""
        cov, cap, wait = [], [], []
        for y, s in sorted(self.stats.items()):
            m = max(s.months, 1)
            for c, county in enumerate(self.county_ids):
                for j, setting in enumerate(CARE_SETTINGS):
                    cov.append((y, county, setting, s.setting_need[c, j] / m, s.setting_all[c, j] / m))
                beds, occ = s.beds[c] / m, s.occupied[c] / m
                need, done = s.hours_needed[c] / m, s.hours_delivered[c] / m
                cap.append(
                    (
                        y,
                        county,
                        beds,
                        s.nursing_beds[c] / m,
                        occ,
                        s.waiting[c] / m,
                        1000 * beds / (s.people[c] / m) if s.people[c] else 0.0,
                        occ / beds if beds else 0.0,
                        s.nursing_beds[c] / s.beds[c] if s.beds[c] else 0.0,
                        s.places[c] / m,
                        s.places_used[c] / m,
                        need,
                        done,
                        need - done,
                    )
                )
                for g, group in enumerate(self.group_names):
                    adm = s.admissions[c, g]
                    wait.append(
                        (
                            y,
                            county,
                            group,
                            s.arrivals[c, g],
                            adm,
                            s.left[c, g],
                            s.still[c, g],
                            s.wait_sum[c, g] / adm if adm else float("nan"),
                        )
                    )
        return {
            "coverage": pd.DataFrame(cov, columns=["year", "county", "setting", "people", "people_all"]),
            "capacity": pd.DataFrame(
                cap,
                columns=[
                    "year",
                    "county",
                    "beds",
                    "nursing_beds",
                    "occupied",
                    "waiting",
                    "beds_per_1000",
                    "occupancy",
                    "nursing_share",
                    "day_care_places",
                    "day_care_used",
                    "carer_hours_needed",
                    "carer_hours_delivered",
                    "unmet_carer_hours",
                ],
            ),
            "waiting": pd.DataFrame(
                wait,
                columns=[
                    "year",
                    "county",
                    "priority_group",
                    "arrivals",
                    "admissions",
                    "left",
                    "still_waiting",
                    "mean_wait_months",
                ],
            ),
        }


def _per_bed(schemes: list[CompiledFacilityScheme], plan: Plan, month: int, construction: bool) -> float:
    """Subsidy per bed of ``plan`` in force in ``month``: construction (one-off) or operating (monthly),
    in the units the facility payments are booked in (schemes.facility.basis_units)."""
    total, spec = 0.0, plan.spec
    for s in schemes:
        basis = s.spec.basis
        if not s.active.at(month) or s.amount is None or basis == "meal_servings" or not spec.beds:
            continue
        if construction != (basis in CONSTRUCTION_BASES):
            continue
        per_bed = (s.amount.at(month) or 0.0) * basis_units(basis, spec) / spec.beds
        total += per_bed if construction else per_bed / 12
    return total


class VoucherTable:
    """Monthly value, per care setting, of the vouchers and purchased services a person is entitled to.

    The person schemes that name the settings they pay for (``uses``) count; entitlements come from
    the schemes' own :meth:`PersonSchemes.entitlements` (exclusions of other schemes' recipients
    included), and the choice model subtracts them from list prices, so a voucher makes the settings
    it pays for cheaper.
    """

    def __init__(self, schemes: PersonSchemes) -> None:
        self.schemes = schemes
        self.uses = {
            s.id: np.isin(np.arange(N_SETTINGS), [CARE_SETTINGS.index(u) for u in s.spec.uses])
            for s in schemes.schemes
            if s.spec.uses
        }

    def values(self, month: int, people: People, idx: np.ndarray) -> np.ndarray:
        ps = self.schemes
        cols = {f: getattr(people, f)[idx] for f in ps.grid.people_fields()}
        cells = ps.grid.cells(cols)
        county = people.county[idx]
        out = np.zeros((len(idx), N_SETTINGS))
        received: dict[str, np.ndarray] = {}
        for s in ps.schemes:  # in order: a scheme may exclude the recipients of those before it
            a, _ = ps.entitlements(s, month, cells, county, received)
            received[s.id] = a > 0
            if s.id in self.uses:
                out[:, self.uses[s.id]] += a[:, None]
        return out


__all__ = ["CareSystem", "VoucherTable", "compile_priority"]
