"""Statistics of the care stage: the counts by (county, setting, level) kept up to date from the
rows that change, the year's tallies, and the coverage / capacity / waiting tables.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from agingsim.choice.mnl import INSTITUTION, N_SETTINGS
from agingsim.population.attributes import CARE_SETTINGS, DEAD, N_LEVELS, NEEDS_CARE_FROM

MONTHS = 12
_NO_ROWS = np.zeros(0, dtype=np.int8)


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


class Statistics:
    """Counts and yearly tallies (``self._cells``, ``self.stats``)."""

    def _year(self) -> YearStats:
        y = self.start_year + self._month // MONTHS
        if y not in self.stats:
            self.stats[y] = YearStats.empty(self.n_c, self.n_g)
        return self.stats[y]

    def _shift(
        self, rows: np.ndarray, level_was: np.ndarray | None = None, setting_was: np.ndarray | None = None
    ) -> None:
        """Move ``rows`` in the counts by (county, setting, level) from the level and setting they
        had (where given; current otherwise) to their current ones; with neither given, add them.
        The dead go to a level of their own that no output reads."""
        p = self.people
        if self.kernels is not None:
            none = _NO_ROWS
            self.kernels.count_moves(
                rows, p.county, p.care_setting, p.ability, p.weight,
                none if setting_was is None else setting_was, none if level_was is None else level_was,
                N_SETTINGS, N_LEVELS + 1, self._cells.reshape(-1),
            )  # fmt: skip
            return
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
