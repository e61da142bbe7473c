"""Supply: the providers' starting beds and places, planned facilities, operators' investment and
the starting residents' seats (a stage of :class:`~agingsim.services.care_system.CareSystem`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from agingsim.choice.mnl import DAY_CARE, FAMILY_CARE, INSTITUTION
from agingsim.population.attributes import DEAD
from agingsim.providers.agents import BedProvider
from agingsim.scenario.schema import RESIDENTIAL_TYPES
from agingsim.schemes.facility import CONSTRUCTION_BASES, CompiledFacilityScheme, Plan, basis_units
from agingsim.services.admission import admit

#: Street centres (≥ 30 beds, seed 002 三(二)) and institutions hold residential beds; community
#: stations offer day-care places.
INSTITUTION_TYPES = RESIDENTIAL_TYPES
DAY_CARE_TYPES = frozenset({"community_station"})


class Supply:
    """Builds ``self.providers`` (Mesa BedProvider agents) from the behaviour file's rates and the
    scenario's build plans, and books what operators invested at the end of the run."""

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
            self.providers.append(
                BedProvider(
                    self.model,
                    c,
                    DAY_CARE,
                    "public",
                    np.full(5, self.b.prices.day_care),
                    community_places(float(places[c]), sup.day_care_places_growth, self.start_key),
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
                p.pid[users], providers, [[] for _ in range(self.n_c)], free, kernels=self.kernels,
            )  # fmt: skip
            p.provider[users[got]] = where
            rest = np.ones(len(users), dtype=bool)
            rest[got] = False
            p.care_setting[users[rest]] = FAMILY_CARE


def community_places(stock: float, growth: float, start_key: int) -> Callable[[int], float]:
    """Starting community places by month key: ``stock`` at the start, changing by ``growth`` a
    year (compounded monthly) after it, as the bulletins' community places do; a fixed stock when
    ``growth`` is 0."""
    if growth == 0.0:
        return lambda m: stock
    monthly = (1.0 + growth) ** (1.0 / 12.0)
    return lambda m: stock * monthly ** max(m - start_key, 0)


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
