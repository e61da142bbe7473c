"""Providers respond to occupancy, prices and subsidies; they are few, so they are Mesa agents.

A :class:`BedProvider` is the bed stock of one operator type in one county (公办 public, 民办 private,
公建民营 publicly built and privately run), for one setting: institution beds or community day-care
places. Stocks come from the behaviour file's starting supply and from the scenario's build plans
(``[[policy.facilities]]``). Privately run stocks marked ``responsive`` decide once a year:

* **expand** when a bed earns more than it costs to build, net of the construction subsidy:
  ``profit = 12 × (occupancy × (price − variable cost) − fixed cost + operating subsidy per bed-month)``
  against ``required = (capital cost − construction subsidy per bed) / payback years``; the stock grows
  by ``max_growth × (1 − exp(−sensitivity × (profit / required − 1)))`` when profit exceeds required;
* **shrink** by ``closure_rate`` when occupancy is below ``closure_occupancy`` and a bed loses money.

So a construction or operating subsidy raises investment even where beds stand half empty, which is
why the model can show supply-side subsidies building beds nobody uses. Public stocks follow plans.

A :class:`HomeCareAgency` employs the county's home carers: capacity in hours, hiring towards the
hours people ask for, attrition; the share of hours delivered rations purchased home services.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from agingsim.scenario.schema import Carers, Investment
from agingsim.startup import MESA_DEFERRED, defer_submodules, shallow_inspect

with shallow_inspect():  # as in model.py: mesa's import-time stack look-ups and unused subpackages
    defer_submodules("mesa", MESA_DEFERRED)
    import mesa


def profit_per_bed_year(
    occupancy: float, price: float, inv: Investment, operating_subsidy_per_bed_month: float
) -> float:
    """Operating profit of one bed over a year at this occupancy and average monthly price (CNY)."""
    margin = occupancy * (price - inv.variable_cost_per_resident_month) - inv.fixed_cost_per_bed_month
    return 12.0 * (margin + operating_subsidy_per_bed_month)


def required_per_bed_year(inv: Investment, construction_subsidy_per_bed: float) -> float:
    """Yearly return a new bed must earn to pay back its net capital cost."""
    return max(inv.capital_cost_per_bed - construction_subsidy_per_bed, 0.0) / inv.payback_years


def growth_share(profit: float, required: float, inv: Investment) -> float:
    """Share of the stock added this year (0 unless a bed more than pays for itself)."""
    if required <= 0.0:
        return inv.max_growth if profit > 0 else 0.0
    excess = profit / required - 1.0
    if excess <= 0.0:
        return 0.0
    return inv.max_growth * (1.0 - math.exp(-inv.sensitivity * excess))


SubsidyAt = Callable[[int], float]


class BedProvider(mesa.Agent):
    """The beds of one operator type in one county for one setting (institution or day care)."""

    def __init__(
        self,
        model: mesa.Model,
        county: int,
        setting: int,
        operator: str,
        prices: np.ndarray,
        base_beds: Callable[[int], float],
        responsive: bool = False,
        construction_subsidy: SubsidyAt | None = None,
        operating_subsidy: SubsidyAt | None = None,
        nursing_share: float = 0.0,
    ) -> None:
        super().__init__(model)
        self.county = county
        self.setting = setting
        self.operator = operator
        self.prices = prices  # monthly CNY by ability level
        self.base_beds = base_beds  # month key → beds from starting stock and build plans
        self.responsive = responsive
        self.construction_subsidy = construction_subsidy or (lambda m: 0.0)
        self.operating_subsidy = operating_subsidy or (lambda m: 0.0)
        self.nursing_share = nursing_share
        self.added = 0.0  # beds added (or, if negative, closed) by the operator's own decisions
        #: month key → beds added that month by investment (for booking construction subsidies)
        self.openings: dict[int, float] = {}
        self.occupied = 0.0
        self.revenue = 0.0  # CNY a month from residents at list prices
        self._occ_sum = 0.0
        self._rev_sum = 0.0
        self._months = 0

    def beds(self, month: int) -> float:
        return max(self.base_beds(month) + self.added, 0.0)

    def observe(self, occupied: float, revenue: float) -> None:
        """Record one month of occupancy and revenue (called by the care system)."""
        self.occupied, self.revenue = occupied, revenue
        self._occ_sum += occupied
        self._rev_sum += revenue
        self._months += 1

    def decide(self, month: int, inv: Investment) -> float:
        """The yearly decision (January): beds added (+) or closed (−) now; resets the year's tally."""
        months, occ_sum, rev_sum = self._months, self._occ_sum, self._rev_sum
        self._occ_sum = self._rev_sum = 0.0
        self._months = 0
        beds = self.beds(month)
        if not self.responsive or months == 0 or beds <= 0:
            return 0.0
        occupancy = min(occ_sum / (beds * months), 1.0)
        price = rev_sum / occ_sum if occ_sum > 0 else float(self.prices.mean())
        profit = profit_per_bed_year(occupancy, price, inv, self.operating_subsidy(month))
        required = required_per_bed_year(inv, self.construction_subsidy(month))
        change = beds * growth_share(profit, required, inv)
        if change == 0.0 and occupancy < inv.closure_occupancy and profit < 0:
            change = -beds * inv.closure_rate
        if change:
            self.added += change
            self.openings[month] = self.openings.get(month, 0.0) + change
        return change


class HomeCareAgency(mesa.Agent):
    """A county's home carers (居家上门服务): hours on hand against hours asked for."""

    def __init__(self, model: mesa.Model, county: int, carers: float, params: Carers) -> None:
        super().__init__(model)
        self.county = county
        self.carers = carers
        self.params = params
        self.hours_needed = 0.0
        self.hours_delivered = 0.0

    @property
    def capacity_hours(self) -> float:
        return self.carers * self.params.hours_per_carer_month

    def deliver(self, hours_needed: float) -> float:
        """Deliver what capacity allows this month; return the share of needed hours delivered."""
        self.hours_needed = hours_needed
        self.hours_delivered = min(hours_needed, self.capacity_hours)
        return self.hours_delivered / hours_needed if hours_needed > 0 else 1.0

    def adjust(self) -> None:
        """Hire towards the hours asked for, lose a share to attrition (after this month's delivery)."""
        p = self.params
        gap = self.hours_needed / p.hours_per_carer_month - self.carers
        self.carers = max(self.carers * (1.0 - p.attrition_per_month) + p.hiring_share * max(gap, 0.0), 0.0)
