"""One-off payments with a yearly quota of beneficiaries (e.g. home adaptation, seeds 000 §14, 001 §21).

A monthly scheme pays bins of people while they are eligible; a one-off scheme (``once = "person"``
or ``"household"``) pays each person once, the first month they are eligible and within the quota,
and never again: who has been paid is kept per person id for the whole run. The amount is the
scheme's (or its best group's) standard, CNY per person or per household; a household payment
counts ``people_per_household`` eligible elders as one household, so it pays
``weight / people_per_household`` households per simulated person.

The quota caps the *number* of beneficiaries a year (not the CNY): a county quota each county's, a
city or province quota the whole region's. When it binds, the queue is served in a stated order:
the scheme's ``ration_order`` classes in order, then first come (the month first eligible), then
person id (the order of applications within a month is not known). A simulated person stands for
several real ones, so the one at the quota's edge is served in part (the share of the real people
they stand for that fits) and the rest of them wait: a quota is filled exactly, never exceeded.
Everyone left waits, in the same order, for the next year's quota.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agingsim.fiscal.ledger import Ledger
from agingsim.policy.dated import month_key
from agingsim.population.people import People
from agingsim.schemes.monthly import PersonSchemes
from agingsim.schemes.person import CompiledScheme

NOT_YET = np.iinfo(np.int32).max
#: (person id, county, grid cell, weight) of the rows a month's one-off payments look at
Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class RowsPaid:
    """One one-off scheme in one month, per row of the month's :data:`Rows`: people queued for it
    (eligible, not yet paid, registered), people paid for, CNY paid, and the payer shares in force."""

    entitled: np.ndarray
    served: np.ndarray
    amount: np.ndarray
    shares: dict[str, float]


def fill(units: np.ndarray, left: float) -> np.ndarray:
    """Share of each of an ordered queue's ``units`` served from ``left`` places, in order."""
    before = np.cumsum(units) - units
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(units > 0, (left - before) / units, 1.0)
    return np.clip(share, 0.0, 1.0)


class OneOffSchemes:
    """Pays the one-off schemes of a scenario each month, once per person, within their quotas."""

    def __init__(self, persons: PersonSchemes, capacity: int) -> None:
        self.persons = persons
        self.schemes = [s for s in persons.schemes if s.spec.once is not None]
        n_c = len(persons.county_ids)
        #: per scheme, by person id: share of the real people a row stands for not yet paid, and
        #: the month first seen eligible (queue order)
        self.unpaid = {s.id: np.ones(capacity) for s in self.schemes}
        self.since = {s.id: np.full(capacity, NOT_YET, dtype=np.int32) for s in self.schemes}
        #: (scheme, payer level, year) → beneficiaries paid so far, per county
        self.used: dict[tuple[str, str, int], np.ndarray] = {}
        self._n_c = n_c
        #: grid cells anyone could be paid a one-off payment in: the only rows looked at
        self.candidate_cells = np.zeros(persons.grid.size, dtype=bool)
        for s in self.schemes:
            self.candidate_cells |= s.eligible
        #: the same by (county × grid size + cell) key: one gather per row, no division
        self._candidate_keys = np.tile(self.candidate_cells, n_c)
        if self.schemes:  # the compiled count lists these rows as it goes (PersonSchemes.count)
            persons.once_keys = self._candidate_keys

    def __bool__(self) -> bool:
        return bool(self.schemes)

    def rows(self, people: People, counted: bool = False) -> tuple[Rows, np.ndarray]:
        """This month's rows that could be paid a one-off payment: (pid, county, grid cell, weight)
        of each (people as they stand after the month's transitions, as for the monthly schemes),
        and where they are in ``people``; the keys of this month's count of the monthly schemes
        when given (``counted``)."""
        key, weight = self.persons.row_keys(people) if not counted else self.persons.month_keys
        listed = self.persons.month_once if counted else None
        live = listed if listed is not None else np.flatnonzero(self._candidate_keys[key])
        county, cell = np.divmod(key[live], self.persons.grid.size)
        return (people.pid[live], county, cell, weight[live]), live

    def pay(
        self, rows: Rows, sim_month: int, start_year: int, ledger: Ledger, detail: bool = False
    ) -> dict[str, RowsPaid]:
        """Pay this month's one-off payments to ``rows`` (:meth:`rows`) and book them; with
        ``detail``, what each scheme paid each of the rows (who gets what, results.distribution)."""
        month = month_key(start_year) + sim_month
        paid: dict[str, RowsPaid] = {}
        for scheme in self.schemes:
            got = self._pay_scheme(scheme, month, *rows, ledger, detail)
            if got is not None:
                paid[scheme.id] = got
        return paid

    def _pay_scheme(
        self,
        scheme: CompiledScheme,
        month: int,
        pid: np.ndarray,
        county: np.ndarray,
        cell: np.ndarray,
        weight: np.ndarray,
        ledger: Ledger,
        detail: bool = False,
    ) -> RowsPaid | None:
        shares = scheme.payers.at(month)
        amount, which = scheme.table(month, self.persons.grid)
        a = amount[cell] * scheme.counties[county]
        unpaid = self.unpaid[scheme.id]
        rows = np.flatnonzero((a > 0) & (unpaid[pid] > 0))
        if shares is None or rows.size == 0:
            return None
        ids = pid[rows]
        since = self.since[scheme.id]
        since[ids] = np.minimum(since[ids], month)
        per_household = scheme.per_household.at(month) if scheme.per_household else 1.0
        units = weight[rows] * unpaid[ids] / (per_household or 1.0)  # people or households
        if scheme.id in self.persons.registered:  # only the registered share (schemes.registration)
            units = units * self.persons.registered[scheme.id][county[rows]]
        klass = np.full(rows.size, len(scheme.ration_masks), dtype=np.int64)
        for r in reversed(range(len(scheme.ration_masks))):
            klass[scheme.ration_masks[r][cell[rows]]] = r
        order = np.lexsort((ids, since[ids], klass))
        rows, ids, units = rows[order], ids[order], units[order]
        served = self._within_quota(scheme, month, county[rows], units)
        if (served < 1.0).any():
            self._record_waiting(scheme, month, county[rows], units * (1.0 - served), a[rows])
        unpaid[ids] *= 1.0 - served
        unpaid[ids[served >= 1.0]] = 0.0
        got = None
        if detail:  # per row of the month, in people (a household payment's units are households)
            got = RowsPaid(np.zeros(pid.size), np.zeros(pid.size), np.zeros(pid.size), shares)
            got.entitled[rows] = units * (per_household or 1.0)
            got.served[rows] = units * served * (per_household or 1.0)
            got.amount[rows] = a[rows] * units * served
        keep = served > 0
        rows, units = rows[keep], units[keep] * served[keep]
        if rows.size == 0:
            return got
        n_g, n_c = len(scheme.group_ids), self._n_c
        bin_rule = county[rows] * n_g + which[cell[rows]]
        cny = np.bincount(bin_rule, weights=a[rows] * units, minlength=n_c * n_g).reshape(n_c, n_g)
        bens = np.bincount(bin_rule, weights=units, minlength=n_c * n_g).reshape(n_c, n_g)
        year, cal = divmod(month, 12)
        lottery = scheme.lottery.at(month) or 0.0
        family = scheme.spec.family
        ledger.record(year, cal + 1, scheme.id, family, scheme.group_ids, cny, bens, shares, lottery)
        return got

    def _within_quota(
        self, scheme: CompiledScheme, month: int, county: np.ndarray, units: np.ndarray
    ) -> np.ndarray:
        """Share of each queued row served: each county's queue filled in order up to its county quota,
        then the region's queue (what the county quotas let through) up to a city/province quota."""
        quotas = scheme.quota.at(month) if scheme.quota else None
        served = np.ones(len(units))
        if not quotas:
            return served
        year = month // 12
        for level in sorted(quotas, key=lambda lv: lv != "county"):  # county quotas first
            used = self.used.setdefault((scheme.id, level, year), np.zeros(self._n_c))
            if level == "county":
                left = quotas[level] - used
                for c in np.unique(county):
                    mine = np.flatnonzero(county == c)
                    served[mine] *= fill(units[mine] * served[mine], left[c])
            else:
                served *= fill(units * served, quotas[level] - used.sum())
        for level in quotas:
            used = self.used[(scheme.id, level, year)]
            used += np.bincount(county, weights=units * served, minlength=self._n_c)
        return served

    def _record_waiting(
        self,
        scheme: CompiledScheme,
        month: int,
        county: np.ndarray,
        units: np.ndarray,
        cny: np.ndarray,
    ) -> None:
        """Rationing rows (rationing.csv) for each county with ``units`` left waiting in the queue."""
        year, cal = divmod(month, 12)
        waiting = units > 0
        for c in np.unique(county[waiting]):
            mine = waiting & (county == c)
            self.persons.rationing.append(
                {
                    "year": year,
                    "month": cal + 1,
                    "line_item": scheme.id,
                    "county": self.persons.county_ids[c],
                    "people_waiting": float(units[mine].sum()),
                    "unpaid_cny": float((cny[mine] * units[mine]).sum()),
                }
            )
