"""The mesa.Model that runs one month of the pipeline at a time.

Older people live in numpy arrays (:class:`~agingsim.population.People`); Mesa provides the
schedule, the model-level data collector and, in later modules, the agents that are few and
heterogeneous enough to be objects (providers, governments). One month:

    cohort entry → ability transitions and death → ageing → person-level schemes → ledger → collect

Data flows one way; nothing downstream reaches back except through next month's state.

Large runs overlap the months (:meth:`AgingModel.run`, ``overlap``): month t's care stage and the
person schemes that read it run on a second thread while month t+1's cohort entry and transitions
run on this one. The ability transitions never read care state (setting, queue, place), the care
stage reads a copy of the levels, ages and codes that the next transition overwrites (People.at),
entrants go to rows the care stage does not see, and everything that moves rows or reads the care
stage's results (January, the run's end) waits for it; so the results are byte-identical.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from agingsim.startup import MESA_DEFERRED, defer_submodules, shallow_inspect

with shallow_inspect():  # mesa's module loggers inspect the whole stack at import (startup.py)
    defer_submodules("mesa", MESA_DEFERRED)  # and it imports scipy.spatial for nothing (startup.py)
    import mesa

from agingsim.ability import build_ability_model
from agingsim.ability.transitions import (
    PackedTables,
    apply_moves,
    code_span,
    fused_worth_it,
    month_transition,
    state_code,
)
from agingsim.fiscal.funding import compile_funding
from agingsim.fiscal.ledger import Ledger
from agingsim.parallel import background, chunks, n_threads, run_parallel
from agingsim.population.attributes import DEAD
from agingsim.population.people import FIELDS, People
from agingsim.population.synth import Synthesiser
from agingsim.results.collectors import PopulationCollector
from agingsim.rng import RandomStreams
from agingsim.scenario import Scenario
from agingsim.schemes.facility import book_facility_schemes, compile_facilities
from agingsim.schemes.monthly import PersonSchemes
from agingsim.schemes.oneoff import OneOffSchemes
from agingsim.schemes.programme import book_programmes, compile_programmes

if TYPE_CHECKING:
    from agingsim.services.care_system import CareSystem, MonthStart

MONTHS_PER_YEAR = 12
#: Distance assumed to a day-care facility where the geography has none open (beyond any walk).
NO_FACILITY_KM = 5.0


@dataclass(frozen=True)
class EntryPlan:
    """How many simulated people turn 60 in each month, and whom each stands for."""

    count: np.ndarray  # (n_months,) simulated entrants
    weight: np.ndarray  # (n_months,) real people per simulated entrant
    male_share: np.ndarray  # (n_months,) probability that an entrant is a man
    #: real people turning 60 in each run year, and where they come from ("flat", "base", "projection")
    real_per_year: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fed_by: tuple[str, ...] = ()

    @classmethod
    def from_scenario(cls, scenario: Scenario, weight0: float, synth: Synthesiser | None = None) -> EntryPlan:
        """Entrants from the population base's cohorts (``synth.cohorts``) or the flat ``[entry]``."""
        run = scenario.run
        cohorts = synth.cohorts if synth is not None else None
        counts, weights, male, reals = [], [], [], []
        for y in range(run.years):
            year = run.start_year + y
            if cohorts is not None:
                by_sex = cohorts.entrants[y]
                real = float(by_sex.sum())
                p_male = float(by_sex[0] / real) if real > 0 else 0.5
            else:
                entry = scenario.region.entry
                assert entry is not None  # the schema requires [entry] without a population base
                real = entry.entrants_per_year * (1.0 + entry.annual_growth) ** (year - entry.base_year)
                p_male = entry.male_share
            reals.append(real)
            n_year = round(real / weight0)
            w = real / n_year if n_year else 0.0
            base, extra = divmod(n_year, MONTHS_PER_YEAR)
            for m in range(MONTHS_PER_YEAR):
                counts.append(base + (m < extra))
                weights.append(w)
                male.append(p_male)
        fed_by = cohorts.fed_by if cohorts is not None else ("flat",) * run.years
        return cls(
            np.asarray(counts, dtype=np.int64),
            np.asarray(weights),
            np.asarray(male),
            np.asarray(reals),
            fed_by,
        )


class AgingModel(mesa.Model):
    """Synthetic older people ageing month by month through the five ability levels and death."""

    def __init__(
        self,
        scenario: Scenario,
        replication: int = 0,
        record_payments: bool = False,
        record_distribution: bool = False,
        overlap: bool | None = None,
    ) -> None:
        run = scenario.run
        streams = RandomStreams(run.seed, replication)
        super().__init__(rng=streams.generator("mesa"))
        self.scenario = scenario
        self.streams = streams
        self.replication = replication
        self.n_months = run.years * MONTHS_PER_YEAR
        self.month = 0
        self.ability_model = build_ability_model(scenario)
        #: the ability model's tables for the current calendar year (set each 1 January)
        self.year_ability = self.ability_model.for_year(run.start_year)
        self.synth = Synthesiser.from_scenario(scenario)

        n0 = run.simulated_people
        self.weight0 = self.synth.start_60plus / n0
        self.entry = EntryPlan.from_scenario(scenario, self.weight0, self.synth)
        self.people = People(capacity=n0 + int(self.entry.count.sum()))
        #: the columns of this year's entrants (drawn in its first month: _enter_cohort)
        self._entrants: dict[str, np.ndarray] | None = None
        self.people.add(self.synth.initial(streams.generator("population"), n0, self.weight0))
        #: packed transition tables of ``year_ability``, rebuilt when the year's tables change
        self.code_span = code_span(scenario.ability.age_max, self.n_months)
        self.tables = PackedTables.build(self.year_ability, self.code_span)
        self._set_codes(0)
        self._alive = np.empty(self.people.capacity, bool)  # scratch: who is alive after the month
        #: the fused compiled month (ability.fused) for runs large enough to pay for loading it;
        #: None runs the numpy engine. Both give identical results.
        self._fused = None
        if fused_worth_it((n0 + self.entry.count.sum() / 2) * self.n_months):
            from agingsim.ability import fused

            self._fused = fused
            self._rows = np.empty(self.people.capacity, np.int64)  # scratch: movers, by thread chunk
            #: and their levels before and after the month
            self._was = np.empty(self.people.capacity, np.int8)
            self._now = np.empty(self.people.capacity, np.int8)

        self.collector = PopulationCollector([c.id for c in scenario.region.counties], self.code_span)
        self.collector.entrants_from = {run.start_year + k: f for k, f in enumerate(self.entry.fed_by)}
        if self._fused is not None:  # numba is loaded: the yearly count in one pass
            from agingsim.results import fused as fused_results

            self.collector.fused = fused_results
        self.alive_people = float(self.people.weight.sum(dtype=np.float64))
        self.month_deaths = 0.0
        self.month_entrants = 0.0
        region = scenario.region
        self.ledger = Ledger.for_region(region)
        policy = scenario.file.policy
        self.person_schemes = PersonSchemes(scenario, self.code_span) if policy and policy.schemes else None
        ps = self.person_schemes
        self.one_off = OneOffSchemes(ps, self.people.capacity) if ps is not None else None
        if ps is not None and self._fused is not None:  # numba is loaded: bin the month in one pass
            from agingsim.schemes import fused as fused_schemes

            ps.fused = fused_schemes
        plans, self.facility_schemes = {}, []
        if policy and (policy.facilities or policy.facility_schemes):
            shares = np.array([c.share_60plus for c in region.counties])
            plans, self.facility_schemes = compile_facilities(
                policy, self.ledger.county_ids, shares, scenario.path
            )
        self.care = self._care_system(plans) if scenario.behaviour is not None else None
        if self.care is None:  # supply is the build plan: its payments are known now
            book_facility_schemes(self.facility_schemes, self.ledger, run.start_year, run.years)
        if policy and policy.programmes:  # fixed programme lines: known from the start
            shares = np.array([c.share_60plus for c in region.counties])
            programmes = compile_programmes(policy, self.ledger.county_ids, shares, scenario.path)
            book_programmes(programmes, self.ledger, run.start_year, run.years)
        #: funding sources beside the budget, by line (applied to the ledger frame: fiscal.funding)
        self.funding = compile_funding(policy, scenario.path) if policy and policy.funding else {}
        #: with ``record_payments``: each month's bins of people that person-level schemes pay from
        #: (PersonSchemes.count), and how many ledger rows were booked before the months began, so
        #: the payments can be replayed under other amounts (simulate.replay_payments)
        self.payment_bins: list[tuple[np.ndarray, np.ndarray]] | None = [] if record_payments else None
        #: and each month's rows that one-off schemes look at (OneOffSchemes.rows)
        self.payment_rows: list[tuple[np.ndarray, ...]] | None = [] if record_payments else None
        #: with ``record_distribution``: each month's bins split by the groups of the distributional
        #: tables (results.distribution), so who gets what can be worked out after the run
        self.distribution = None
        if record_distribution and self.person_schemes is not None:
            from agingsim.results.distribution import DistributionRecorder

            self.distribution = DistributionRecorder(self.person_schemes)
        self.rows_before_months = len(self.ledger.rows)
        self.rows_after_months = 0
        #: whether :meth:`run` overlaps each month's care stage with the next month's population step
        #: (on a second thread; same results). By default where the run uses the compiled kernels
        #: (large enough to pay the hand-offs) and there is a second core to run it on.
        has_tail = self.care is not None or self.person_schemes is not None
        auto = self._fused is not None and n_threads() > 1
        self.overlap = has_tail and (auto if overlap is None else bool(overlap))
        self._overlapping = False
        self._frozen: dict[str, np.ndarray] = {}  # copies of the fields the transition writes
        self._hidden: tuple[str, ...] = ()
        self._copied: Future[None] | None = None
        self._pending: Future[None] | None = None
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "month": "month",
                "people": "alive_people",
                "entrants": "month_entrants",
                "deaths": "month_deaths",
            }
        )

    def _care_system(self, plans: dict) -> CareSystem:
        """Providers, queues and care choice (the behaviour model of calibration/behaviour/); imported
        here so that runs without behaviour do not load salabim and the care stages."""
        from agingsim.services.care_system import CareSystem, VoucherTable

        sc = self.scenario
        policy = sc.file.policy
        ps = self.person_schemes
        vouchers = VoucherTable(ps) if ps is not None and any(s.spec.uses for s in ps.schemes) else None
        distance = None
        if sc.geography is not None:
            from agingsim.geo import county_access

            years = list(range(sc.run.start_year, sc.run.start_year + sc.run.years))
            access = county_access(sc.geography, years)
            table = access.pivot(index="year", columns="county", values="mean_distance_km")
            ids = [c.id for c in sc.region.counties]
            distance = table.reindex(index=years, columns=ids).fillna(NO_FACILITY_KM).to_numpy()
        with shallow_inspect():  # salabim's Environment inspects the stack for its caller (startup.py)
            return CareSystem(
                self,
                sc.behaviour,
                self.people,
                self.streams,
                [c.id for c in sc.region.counties],
                sc.run.start_year,
                dict(policy.definitions) if policy else {},
                sc.ability.age_max,
                plans,
                self.facility_schemes,
                vouchers,
                sc.path,
                distance,
            )

    @property
    def year(self) -> int:
        return self.scenario.run.start_year + self.month // MONTHS_PER_YEAR

    def step(self) -> None:
        """One month. Called by :meth:`run` with the overlap on, it returns with the month's care
        stage still running on a thread of its own (:meth:`_care_month`); called directly, the
        month is whole when it returns."""
        if self.month >= self.n_months:
            self.running = False
            return
        if self.month % MONTHS_PER_YEAR == 0:
            self._new_year()
        n_before = self.people.n
        self._enter_cohort()  # rows from n_before on: none that last month's care stage reads
        if self._copied is not None:  # last month's levels and ages copied before they change
            self._copied.result()
            self._copied = None
        moves = self._transition()  # the rows that changed level, their levels before and after
        self.datacollector.collect(self)  # its figures are the population stage's alone
        self._settle()
        month, n = self.month, self.people.n
        if self._overlapping and month + 1 < self.n_months:
            view = self.people.at(n, self._frozen, hidden=self._hidden)
            self._copied = background(lambda: self._freeze(n))
            # the care stage's first part here, on the live arrays, while the care thread copies them
            start = None if self.care is None else self.care.begin_step(month, *moves, n_before)
            self._pending = background(lambda: self._care_month(month, moves, n_before, view, start))
        else:
            self._care_month(month, moves, n_before, self.people)
        self.month += 1
        if self.month == self.n_months:
            self.collector.snapshot(self.year, self.people)
            self._finish()
            self.running = False

    def _care_month(
        self,
        month: int,
        moves: tuple[np.ndarray, np.ndarray, np.ndarray],
        n_before: int,
        people: People,
        start: MonthStart | None = None,
    ) -> None:
        """The month's care stage and what reads it: the person schemes' count and payments.

        ``moves``: the rows whose level changed this month, their levels before and after.

        ``people``: the arrays as they stand after the month's transitions (with the overlap, a view
        of them, People.at, whose levels, ages and codes are copies taken before the next month's
        transition changes the live ones); ``start``: the care stage's first part, already run
        (CareSystem.begin_step), else the whole stage runs here."""
        if self.care is not None:
            self.care.people = people
            try:
                if start is None:
                    self.care.step(month, *moves, n_before)
                else:
                    self.care.finish_step(start)
            finally:
                self.care.people = self.people
        if self.person_schemes is not None:
            if self.care is not None:
                self.person_schemes.delivered = self.care.delivered
            bins = self.person_schemes.count(people)
            if self.payment_bins is not None:
                self.payment_bins.append(bins)
            if self.distribution is not None:
                self.distribution.record(people, bins)
            self.person_schemes.pay_bins(month, self.scenario.run.start_year, *bins, self.ledger)
            if self.one_off:  # paid per person, once (schemes.oneoff)
                rows, live = self.one_off.rows(people, counted=True)  # keys of the count above
                if self.payment_rows is not None:
                    self.payment_rows.append(rows)
                if self.distribution is not None:
                    self.distribution.record_once(people, rows, live)
                self.one_off.pay(rows, month, self.scenario.run.start_year, self.ledger)

    def _freeze(self, n: int) -> None:
        """Copy the first ``n`` rows of the fields the transition writes that the care stage reads
        (into ``self._frozen``); reads the arrays by capacity, not ``people.n``, which the next
        month's cohort entry moves on meanwhile."""
        data = self.people._data
        for name, buf in self._frozen.items():
            np.copyto(buf[:n], data[name][:n])

    def _settle(self) -> None:
        """Wait for the month's care stage running on its own thread, if any (re-raising its error)."""
        if self._copied is not None:
            self._copied.result()
            self._copied = None
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _finish(self) -> None:
        """End of the run: facilities that operators built join the facility payments."""
        self.rows_after_months = len(self.ledger.rows)
        if self.care is None:
            return
        self.care.close_year(self.year - 1)
        self.care.book_investment()
        run = self.scenario.run
        book_facility_schemes(self.facility_schemes, self.ledger, run.start_year, run.years)

    def run(self, progress: object | None = None) -> None:
        """Run every month; ``progress`` is anything with ``update(n)`` (e.g. a tqdm bar).

        With ``self.overlap``, each month's care stage (and the person schemes that read it) runs on
        a second thread while the next month's cohort entry and transitions run on this one. Safe
        because the two touch disjoint data: the transitions read and write only levels, ages and
        codes (never care setting, queue or place), and the care stage reads copies of those taken
        before they change (its first part, CareSystem.begin_step, runs on this thread before the
        next month starts, so it reads the live arrays); the cohort entry appends rows past the
        ones the care stage sees (the arrays never move: People holds the whole run's capacity);
        January's compaction, the year's close and the run's end wait for the care stage; the care
        stage's random draws are keyed by (purpose, month), so which thread draws them does not
        matter, and only it writes the ledger, in the months' order. Results are byte-identical to
        the plain loop (tests/test_overlap.py)."""
        self._overlapping = self.overlap
        if self.overlap and not self._frozen:
            fields = ("ability", "age_m", *(("code",) if self.person_schemes is not None else ()))
            self._frozen = {f: np.empty(self.people.capacity, FIELDS[f]) for f in fields}
            self._hidden = ("code",) if self.person_schemes is None else ()
        try:
            while self.running and self.month < self.n_months:
                self.step()
                if progress is not None:
                    progress.update(1)  # type: ignore[attr-defined]
        finally:
            self._overlapping = False
            self._settle()

    # --------------------------------------------------------------- pipeline stages

    def _new_year(self) -> None:
        """1 January: record the stock, then drop last year's dead from the arrays."""
        self.collector.snapshot(self.year, self.people)  # county, code, weight: no care stage writes
        self._settle()  # the compaction moves rows: last month's care stage finishes first
        # the stages that keep arrays by row hand them over to move with the rows
        stages = [s for s in (self.care, self.person_schemes) if s is not None]
        moving = [stage.moving_rows(self.people) for stage in stages]
        self.people.compact(self.people.ability != DEAD, also=[a for arrays in moving for a in arrays])
        for stage, arrays in zip(stages, moving, strict=True):
            stage.rows_moved(self.people, bool(arrays))
        year_ability = self.ability_model.for_year(self.year)
        if year_ability is not self.year_ability:
            self.year_ability = year_ability
            self.tables = PackedTables.build(year_ability, self.code_span)
        if self.care is not None:
            self.care.close_year(self.year - 1)
            self.care.new_year(self.month)
            if self._overlapping and self.care.kernels is not None:  # on the care thread meanwhile
                n = self.people.n
                self._pending = background(lambda: self.care.pack_fixed(n))

    def _enter_cohort(self) -> None:
        """People turning 60 this month join (the population is open)."""
        n = int(self.entry.count[self.month])
        self.month_entrants = 0.0
        if self.month % MONTHS_PER_YEAR == 0 or self._entrants is None:  # the year's, drawn at once
            self._entrants = self._year_entrants()
        if n == 0:
            return
        w = float(self.entry.weight[self.month])
        a = int(self.entry.count[self.month - self.month % MONTHS_PER_YEAR : self.month].sum())
        cols = {name: values[a : a + n] for name, values in self._entrants.items()}  # this month's
        self.people.add(cols)
        self._set_codes(self.people.n - n)
        self.month_entrants = n * w
        self.alive_people += self.month_entrants
        self.collector.add_flow(self.year, "entrants", cols["county"], cols["weight"])

    def _year_entrants(self) -> dict[str, np.ndarray]:
        """The entrants of this month's year, month after month, each month from its own generator:
        the same people as drawn month by month (Synthesiser.entrants_of), in one pass of the
        margins, not twelve."""
        start = self.month - self.month % MONTHS_PER_YEAR
        stop = min(start + MONTHS_PER_YEAR, self.n_months)
        months = [
            (
                self.streams.generator("entry", m),
                int(self.entry.count[m]),
                float(self.entry.male_share[m]),
                float(self.entry.weight[m]),
            )
            for m in range(start, stop)
            if self.entry.count[m] > 0
        ]
        return self.synth.entrants_of(months)

    def _set_codes(self, first: int) -> None:
        """Packed state codes of the rows from ``first`` on (new people)."""
        p = self.people
        p.code[first:] = state_code(self.code_span, p.age_m[first:], p.sex[first:], p.ability[first:])

    def _transition(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ability change and death for everyone alive, then everyone alive ages a month.

        Each person's 32-bit draw is keyed by id and month (rng.RandomStreams.draws); only the rows
        that change level or die are touched after the comparison with their row's threshold.
        Returns the rows that changed level (incl. death) this month, in row order, with their levels
        before and after."""
        p = self.people
        keys = self.streams.keys("ability", self.month)
        if self._fused is not None:
            rows, was, now = self._fused_month(keys)
            died = rows[now == DEAD]
        else:
            rows, now = month_transition(self.year_ability, self.tables, p.code, p.pid, keys)
            was = p.ability[rows]
            died = apply_moves(p.code, p.ability, rows, now, self.code_span)
            alive = np.not_equal(p.ability, DEAD, out=self._alive[: p.n])
            np.add(p.age_m, alive, out=p.age_m, casting="unsafe")
            np.add(p.code, alive, out=p.code, casting="unsafe")
        dead_w = p.weight[died]
        self.month_deaths = float(dead_w.sum(dtype=np.float64))
        self.alive_people -= self.month_deaths
        self.collector.add_flow(self.year, "deaths", p.county[died], dead_w)
        return rows, was, now

    def _fused_month(self, keys: tuple[np.uint32, np.uint32]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The same month as the numpy branch of :meth:`_transition` in one compiled pass per
        thread chunk (ability.fused.month_rows); returns the rows that changed level, with their
        levels before and after."""
        p, t, ab = self.people, self.tables, self.year_ability
        code, ability, age_m, pid, buf = p.code, p.ability, p.age_m, p.pid, self._rows
        # with the overlap the second core runs last month's care stage: split over both cores too,
        # the transition's chunks and the care stage took turns (a tenth slower than one chunk here)
        parts = [slice(0, p.n)] if self._overlapping else chunks(p.n)
        found = [0] * len(parts)
        kernel = self._fused.month_rows

        def run(i: int, sl: slice) -> None:
            found[i] = kernel(
                sl.start, sl.stop, code, ability, age_m, pid, keys[0], keys[1],
                t.threshold, t.cell, ab.cumulative, ab.order, self.code_span, buf, self._was, self._now,
            )  # fmt: skip

        run_parallel([lambda i=i, sl=sl: run(i, sl) for i, sl in enumerate(parts)])
        found_in = list(zip(parts, found, strict=True))
        rows, was, now = (
            np.concatenate([a[sl.start : sl.start + k] for sl, k in found_in])
            for a in (buf, self._was, self._now)
        )
        return rows, was, now
