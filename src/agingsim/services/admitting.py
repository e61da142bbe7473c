"""Admission to beds: the month's admissions in priority order over every county (run by the
salabim admission office), the occupancy and revenue of each provider, and the expected wait
that the next reviewers see. The priority order itself is services/admission.py's.
"""

from __future__ import annotations

import numpy as np

from agingsim.choice.mnl import INSTITUTION
from agingsim.services.admission import admit

#: Expected waits beyond this are treated as this (months) in the choice.
MAX_WAIT = 60.0


class Admitting:
    """Admissions from the queue (``self._ctx`` holds this month's queue, priorities and occupancy)."""

    def _admit_all(self) -> None:
        """This month's admissions in every county (called by the salabim admission office)."""
        p = self.people
        month = self._month
        year = self._year()
        queue, prio, occupied = self._ctx["queue"], self._ctx["priority"], self._ctx["occupied"]
        beds = self._beds
        if self.kernels is not None and len(queue):  # the same admissions, one compiled pass
            county, ws, pid, tie = p.county[queue], p.wait_since[queue], p.pid[queue], self._tie(queue)
            public_order = np.lexsort((pid, ws, *(() if tie is None else (tie,)), prio, county))
            (ptr_pub, flat_pub), (ptr_priv, flat_priv) = self._bed_flat
            waiting, admitted, got, w, waited, self._ctx["new_holders"] = self.kernels.admit_beds(
                queue, prio, public_order, np.lexsort((pid, ws, county)), p.county, p.weight, p.wait_since,
                p.provider, p.care_setting, occupied, beds, ptr_pub, flat_pub, ptr_priv, flat_priv, month,
                INSTITUTION, year.admissions, year.wait_sum,
            )  # fmt: skip
            self._tally(prio[got], w, waited)
            self._close_month(waiting, admitted)
            return
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
                order[0::2], order[1::2], beds - occupied, self._tie(queue), self.kernels,
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
            self._tally(prio[got], w, waited)
        self._close_month(waiting, admitted)

    def _tally(self, prio: np.ndarray, w: np.ndarray, waited: np.ndarray) -> None:
        """The admitted's waits by priority group to the office's monitors (weights ``w``)."""
        for g in np.unique(prio):
            sel = prio == g
            wg = float(w[sel].sum())
            self.office.waits[g].tally(float((w[sel] * waited[sel]).sum() / wg), wg)

    def _close_month(self, waiting: np.ndarray, admitted: np.ndarray) -> None:
        """Each county's list after the month's admissions (the office's monitors), and the wait
        the next reviewers expect from it."""
        still = waiting - admitted
        for c in range(self.n_c):
            self.office.waiting[c].value = float(still[c])
        # expected wait for someone joining now: the queue ahead over this month's admissions
        with np.errstate(divide="ignore", invalid="ignore"):
            expected = np.where(admitted > 0, still / admitted, np.where(still > 0, MAX_WAIT, 0.0))
        self.expected_wait = np.minimum(expected, MAX_WAIT)

    def _occupied(self, holders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Real people in each provider's places, and their monthly bill at list prices."""
        p = self.people
        if self.kernels is not None:
            return self.kernels.occupancy(holders, p.provider, p.weight, p.ability, self.price_of_provider)
        k = p.provider[holders].astype(np.int64)
        w = p.weight[holders].astype(np.float64)
        occ = np.bincount(k, weights=w, minlength=len(self.providers))
        lvl = np.minimum(p.ability[holders], 4).astype(np.int64)
        rev = np.bincount(k, weights=w * self.price_of_provider[k, lvl], minlength=len(self.providers))
        return occ, rev
