"""Who gets what, and who gains or loses under a reform, by county, age band, ability level, economic
status (特困/低保/低保边缘/普通) and urban/rural residence (issue 19 item 3).

Person-level schemes pay from bins of people (schemes.monthly.PersonSchemes.count): a bin is a county
and a rule-grid cell, and the grid holds only the attributes the rules mention. So the run records,
beside each month's bins, how each bin's people split by the reporting groups
(:class:`DistributionRecorder`, one weighted bincount a month, only when asked for). After the run
the payments are made again from those bins (:func:`months`: a fresh PersonSchemes on the recorded
bins, exactly as simulate.replay_payments does, so budget caps and delivery are the run's) and each
bin's payment is spread over its groups in proportion to their people: entitlement depends only on
the bin, so this is exact, and the groups' spending sums to the ledger's per line item and payer.
One-off payments (schemes.oneoff) depend on who was paid before and on the quota's queue, not on
the bin: the run records each month's one-off rows with their groups
(:meth:`DistributionRecorder.record_once`) and pays them again, once per person, as
simulate.replay_payments does, each payment landing in its payee's group. The per-month hot path is
untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from agingsim.policy.dated import month_key
from agingsim.population.attributes import ABILITY_LEVELS, DEAD, ECON_STATUSES, RESIDENCES
from agingsim.population.people import People
from agingsim.scenario import Scenario
from agingsim.scenario.schema import PAYER_LEVELS, age_band_labels
from agingsim.schemes.monthly import PersonSchemes
from agingsim.schemes.oneoff import OneOffSchemes, Rows

#: Age bands of the distributional tables: 60-64, …, 80-84, 85+.
AGE_EDGES: tuple[int, ...] = (60, 65, 70, 75, 80, 85)
AGE_BANDS: tuple[str, ...] = age_band_labels(AGE_EDGES)
#: The group dimensions a table can be cut by, in the order of the group code.
DIMENSIONS: tuple[str, ...] = ("county", "age_band", "ability_level", "econ_status", "residence")
_LEVELS = len(ABILITY_LEVELS) + 1  # + dead (never paid; dropped from the tables)


@dataclass(frozen=True)
class MonthBins:
    """One month: the bins the schemes paid from (PersonSchemes.count) and every occupied bin's
    people by age band, economic status and residence (``sub_*``: bin index into ``keys``)."""

    occupied: np.ndarray
    weight: np.ndarray
    keys: np.ndarray
    sub_bin: np.ndarray
    sub_extra: np.ndarray
    sub_weight: np.ndarray
    #: the care system's delivered shares that month (None without behaviour)
    delivered: np.ndarray | None
    #: the rows one-off schemes looked at that month (schemes.oneoff.Rows) and each one's age band,
    #: economic status and residence, coded as ``sub_extra`` (None without one-off schemes)
    once_rows: Rows | None = None
    once_extra: np.ndarray | None = None


class DistributionRecorder:
    """Records :class:`MonthBins` each month, after PersonSchemes.count (AgingModel
    ``record_distribution``)."""

    def __init__(self, schemes: PersonSchemes) -> None:
        self.schemes = schemes
        self.months: list[MonthBins] = []
        grid = schemes.grid
        self._lut = np.zeros(len(schemes.county_ids) * grid.size, dtype=np.int64)
        months = np.arange(np.iinfo(np.int16).max + 1) // 12
        age_band = np.searchsorted(np.asarray(AGE_EDGES), np.maximum(months, 60), side="right") - 1
        # the group attributes a bin already fixes (its grid has the axis, or age bands that split at
        # every edge of AGE_EDGES) are read from the bin; only the others from the people's rows,
        # which keeps the monthly count small
        cell_age = self._cell_age(grid)
        from_cell = {
            "age": cell_age,
            "econ": grid.codes.get("econ"),
            "residence": grid.codes.get("residence"),
        }
        sizes = {"age": len(AGE_BANDS), "econ": len(ECON_STATUSES), "residence": len(RESIDENCES)}
        #: the attributes read from rows, each with its stride in the recorded code
        self._row_axes = [a for a in ("age", "econ", "residence") if from_cell[a] is None]
        self._strides = {
            a: int(np.prod([sizes[b] for b in self._row_axes[i + 1 :]])) for i, a in enumerate(self._row_axes)
        }
        self._sizes = sizes
        self._from_cell = from_cell
        self._span = int(np.prod([sizes[a] for a in self._row_axes]))
        #: age in months → age band × its stride (0 when the bin holds the age band)
        self._age_part = (age_band * self._strides.get("age", 0)).astype(np.int64)
        #: by row: economic status and residence parts (fixed for life), until rows move (as
        #: PersonSchemes._rows does for the grid cell)
        self._fixed = np.zeros(0, dtype=np.int64)
        self._seen, self._layout = 0, -1

    @staticmethod
    def _cell_age(grid: object) -> np.ndarray | None:
        """Each grid cell's age band of AGE_EDGES, if every grid age band lies within one."""
        starts = grid.age_starts  # type: ignore[attr-defined]
        if not set(AGE_EDGES[1:]) <= set(int(a) for a in starts):
            return None
        band = np.searchsorted(np.asarray(AGE_EDGES), starts, side="right") - 1
        return band[grid.codes["age"]]  # type: ignore[attr-defined]

    def _fixed_part(self, people: People) -> np.ndarray:
        if self._layout != people.layout:
            self._fixed = np.empty(people.capacity, dtype=np.int64)
            self._seen, self._layout = 0, people.layout
        n = people.n
        if self._seen < n:
            new = slice(self._seen, n)
            part = np.zeros(n - self._seen, dtype=np.int64)
            for axis in ("econ", "residence"):
                if axis in self._strides:
                    part += getattr(people, axis)[new].astype(np.int64) * self._strides[axis]
            self._fixed[new] = part
            self._seen = n
        return self._fixed[:n]

    def record(self, people: People, bins: tuple[np.ndarray, np.ndarray]) -> None:
        """This month's bins (PersonSchemes.count's result, whose row keys it reuses)."""
        assert self.schemes.month_keys is not None
        key, w = self.schemes.month_keys
        full = np.bincount(key, weights=w, minlength=len(self._lut))
        keys = np.flatnonzero(full)
        self._lut[keys] = np.arange(len(keys))
        sub_key = self._lut.take(key)
        if self._span > 1:
            sub_key *= self._span
            if "age" in self._strides:
                sub_key += self._age_part.take(people.age_m[: people.n])
            if len(self._row_axes) > ("age" in self._strides):
                sub_key += self._fixed_part(people)
        sub = np.bincount(sub_key, weights=w, minlength=len(keys) * self._span)
        nz = np.flatnonzero(sub)
        sub_bin, part = nz // self._span, nz % self._span
        cells = keys[sub_bin] % self.schemes.grid.size
        codes = {
            axis: (part // self._strides[axis]) % self._sizes[axis]
            if axis in self._strides
            else self._from_cell[axis][cells].astype(np.int64)  # type: ignore[index]
            for axis in ("age", "econ", "residence")
        }
        extra = _extra_code(codes["age"], codes["econ"], codes["residence"])
        delivered = self.schemes.delivered
        self.months.append(
            MonthBins(
                bins[0],
                bins[1],
                keys,
                sub_bin,
                extra,
                sub[nz],
                None if delivered is None else np.array(delivered, copy=True),
            )
        )

    def record_once(self, people: People, rows: Rows, live: np.ndarray) -> None:
        """This month's one-off rows (OneOffSchemes.rows; ``live``: where they are in ``people``),
        after :meth:`record`: their payments are made again from them (:func:`months`)."""
        age = np.searchsorted(np.asarray(AGE_EDGES), people.age_m[live] // 12, side="right") - 1
        extra = _extra_code(age, people.econ[live].astype(np.int64), people.residence[live].astype(np.int64))
        self.months[-1] = replace(self.months[-1], once_rows=rows, once_extra=extra)


class _NoLedger:
    """Takes the replayed payments and keeps nothing: the run's ledger already has them."""

    def record(self, *args: object, **kwargs: object) -> None:
        return None


@dataclass(frozen=True)
class SchemeMonth:
    """One scheme in one month, per recorded sub-bin: CNY paid, people entitled, people paid for,
    and the payer shares in force."""

    amount: np.ndarray
    entitled: np.ndarray
    served: np.ndarray
    shares: dict[str, float]
    #: the group of each element, where it is not the month's sub-bins' (a one-off scheme's rows)
    group: np.ndarray | None = None


def n_groups(n_counties: int) -> int:
    return n_counties * len(AGE_BANDS) * _LEVELS * len(ECON_STATUSES) * len(RESIDENCES)


def _extra_code(age_band: np.ndarray, econ: np.ndarray, residence: np.ndarray) -> np.ndarray:
    """Age band, economic status and residence in one code (MonthBins.sub_extra's layout)."""
    return (age_band * len(ECON_STATUSES) + econ) * len(RESIDENCES) + residence


def _group_code(county: np.ndarray, level: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """The group code (decoded by _group_columns) of county, ability level and :func:`_extra_code`."""
    span = len(ECON_STATUSES) * len(RESIDENCES)
    return ((county * len(AGE_BANDS) + extra // span) * _LEVELS + level) * span + extra % span


def months(
    scenario: Scenario, record: list[MonthBins]
) -> Iterator[tuple[int, np.ndarray, np.ndarray, dict[str, SchemeMonth]]]:
    """Each month's (calendar month key, group code per sub-bin, people per sub-bin, what each
    person-level scheme paid per sub-bin), replayed from the record on ``scenario``'s terms.

    The record must come from a run with the same people and care as ``scenario`` (its own run, or
    one it was replayed on: simulate.dynamics_key)."""
    schemes = PersonSchemes(scenario)
    size, start = schemes.grid.size, scenario.run.start_year
    ability = schemes.grid.codes["ability"]
    # the payments are made again only for what budget caps leave to be paid (cap_share)
    capped = any(s.budget_cap is not None for s in schemes.schemes)
    once_ids = [r.once_rows[0] for r in record if r.once_rows is not None and r.once_rows[0].size]
    # one-off payments are made again from the recorded rows, once per person, as replay_payments does
    one_off = OneOffSchemes(schemes, 1 + max(int(i.max()) for i in once_ids)) if once_ids else None
    for m, rec in enumerate(record):
        schemes.delivered = rec.delivered
        if capped:
            schemes.pay_bins(m, start, rec.occupied, rec.weight, _NoLedger())  # type: ignore[arg-type]
        month = month_key(start) + m
        county, cells = rec.keys // size, rec.keys % size
        group = _group_code(county[rec.sub_bin], ability[cells][rec.sub_bin], rec.sub_extra)
        received: dict[str, np.ndarray] = {}
        paid: dict[str, SchemeMonth] = {}
        for scheme in schemes.schemes:
            if scheme.spec.once is not None:  # paid per person once (schemes.oneoff): not by bin
                continue
            a, _ = schemes.entitlements(scheme, month, cells, county, received)
            received[scheme.id] = a > 0
            shares = scheme.payers.at(month)
            rate = schemes.delivery(scheme, month, county, cells)
            if not (a > 0).any() or shares is None:
                continue
            reg = schemes.registered[scheme.id][county] if scheme.id in schemes.registered else 1.0
            caps = scheme.budget_cap.at(month) if scheme.budget_cap else None
            served = schemes.cap_share[scheme.id][1][county] if caps and np.any(rate) else 1.0
            entitled = (a > 0) * reg
            w = rec.sub_weight
            b = rec.sub_bin
            paid[scheme.id] = SchemeMonth(
                (a * reg * rate * served)[b] * w,
                entitled[b] * w,
                (entitled * rate * served)[b] * w,
                shares,
            )
        if one_off and rec.once_rows is not None and rec.once_extra is not None:
            _, o_county, o_cell, _ = rec.once_rows
            o_group = _group_code(o_county, ability[o_cell], rec.once_extra)
            once = one_off.pay(rec.once_rows, m, start, _NoLedger(), detail=True)  # type: ignore[arg-type]
            for sid, got in once.items():
                paid[sid] = SchemeMonth(got.amount, got.entitled, got.served, got.shares, o_group)
        yield month, group, rec.sub_weight, paid


def _group_columns(codes: np.ndarray, county_ids: list[str]) -> dict[str, np.ndarray]:
    """Group code → its county, age band, ability level, economic status and residence."""
    n_res, n_econ = len(RESIDENCES), len(ECON_STATUSES)
    res, rest = codes % n_res, codes // n_res
    econ, rest = rest % n_econ, rest // n_econ
    level, rest = rest % _LEVELS, rest // _LEVELS
    age, county = rest % len(AGE_BANDS), rest // len(AGE_BANDS)
    return {
        "county": np.asarray(county_ids, dtype=object)[county],
        "age_band": np.asarray(AGE_BANDS, dtype=object)[age],
        "ability_level": np.asarray([*ABILITY_LEVELS, "dead"], dtype=object)[level],
        "econ_status": np.asarray(ECON_STATUSES, dtype=object)[econ],
        "residence": np.asarray(RESIDENCES, dtype=object)[res],
    }


def _alive(codes: np.ndarray) -> np.ndarray:
    return (codes // (len(ECON_STATUSES) * len(RESIDENCES))) % _LEVELS != DEAD


@dataclass(frozen=True)
class Distribution:
    """distribution.csv's two parts, by year and group (monthly means of people, CNY in the year):
    ``people`` (everyone 60+) and ``payments`` (per person-level line item: people entitled, people
    paid for, CNY paid in all and by payer level)."""

    people: pd.DataFrame
    payments: pd.DataFrame


PAYMENT_COLUMNS = [
    "year",
    "line_item",
    *DIMENSIONS,
    "entitled",
    "served",
    "spending_cny",
    *(f"{level}_cny" for level in PAYER_LEVELS),
]


def distribution(scenario: Scenario, record: list[MonthBins]) -> Distribution:
    """Spending, people entitled and served, and people, by year, line item and group."""
    county_ids = [c.id for c in scenario.region.counties]
    size = n_groups(len(county_ids))
    people: dict[int, np.ndarray] = {}
    months_in: dict[int, int] = {}
    #: (year, line item) → entitled, served, spending, spending by payer level (rows) per group
    tally: dict[tuple[int, str], np.ndarray] = {}
    for month, group, weight, paid in months(scenario, record):
        year = month // 12
        months_in[year] = months_in.get(year, 0) + 1
        people[year] = people.get(year, np.zeros(size)) + np.bincount(group, weights=weight, minlength=size)
        for line, p in paid.items():
            g = group if p.group is None else p.group
            t = tally.setdefault((year, line), np.zeros((3 + len(PAYER_LEVELS), size)))
            t[0] += np.bincount(g, weights=p.entitled, minlength=size)
            t[1] += np.bincount(g, weights=p.served, minlength=size)
            spent = np.bincount(g, weights=p.amount, minlength=size)
            t[2] += spent
            for i, level in enumerate(PAYER_LEVELS):
                t[3 + i] += spent * p.shares.get(level, 0.0)
    years = sorted(people)
    codes_of = [np.flatnonzero((people[y] > 0) & _alive(np.arange(size))) for y in years]
    people_frame = _frame(
        county_ids,
        {"year": np.repeat(years, [len(c) for c in codes_of]).astype(np.int64)},
        np.concatenate(codes_of) if codes_of else np.zeros(0, dtype=np.int64),
        {"people": [people[y][c] / months_in[y] for y, c in zip(years, codes_of, strict=True)]},
    )
    keys = sorted(tally)
    pay_codes = [np.flatnonzero(tally[k].any(axis=0)) for k in keys]
    values = {
        name: [
            tally[k][i, c] / (months_in[k[0]] if i < 2 else 1.0) for k, c in zip(keys, pay_codes, strict=True)
        ]
        for i, name in enumerate(PAYMENT_COLUMNS[-3 - len(PAYER_LEVELS) :])
    }
    payments_frame = _year_line_frame(county_ids, keys, pay_codes, values)
    return Distribution(people_frame, payments_frame)


def _frame(
    county_ids: list[str], head: dict[str, np.ndarray], codes: np.ndarray, values: dict[str, list[np.ndarray]]
) -> pd.DataFrame:
    """One table from per-part arrays: the head columns, the groups of ``codes``, the values."""
    data: dict[str, object] = {**head, **_group_columns(codes, county_ids)}
    for name, parts in values.items():
        data[name] = np.concatenate(parts) if parts else np.zeros(0)
    return pd.DataFrame(data)


def _year_line_frame(
    county_ids: list[str],
    keys: list[tuple[int, str]],
    codes: list[np.ndarray],
    values: dict[str, list[np.ndarray]],
) -> pd.DataFrame:
    """A table keyed by (year, line item) per part, the part's group ``codes`` and its values."""
    counts = [len(c) for c in codes]
    head = {
        "year": np.repeat([k[0] for k in keys], counts).astype(np.int64),
        "line_item": np.repeat(np.asarray([k[1] for k in keys], dtype=object), counts),
    }
    return _frame(county_ids, head, np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64), values)


class Incomparable(ValueError):
    """A and B cannot be compared group by group; ``reason`` names why (for the page's words)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


GAIN_COLUMNS = [
    "year",
    "line_item",
    *DIMENSIONS,
    "entitled_a",
    "entitled_b",
    "losing",
    "gaining",
    "spending_a_cny",
    "spending_b_cny",
]


def gains_losses(
    a: Scenario, record_a: list[MonthBins], b: Scenario, record_b: list[MonthBins]
) -> tuple[pd.DataFrame, bool]:
    """Per year, line item and group: people entitled under A and under B, people who lose the
    entitlement (entitled under A, not B) and who gain it, and CNY paid under each (monthly means of
    people). With one record (B's payments replayed on A's people: the same people in the same
    bins) each bin is compared, which is person by person since entitlement is the bin's. With two
    records (B run in full on the same seed) the people of a group and month are compared as a
    whole: losing = max(0, A − B), so people of one group who gain while others lose offset.
    Returns the table and whether it was compared bin by bin."""
    if len(record_a) != len(record_b) or a.run.start_year != b.run.start_year:
        raise Incomparable("months", "A and B cover different months: gains and losses need the same horizon")
    county_ids = [c.id for c in a.region.counties]
    if county_ids != [c.id for c in b.region.counties]:
        raise Incomparable("counties", "A and B have different counties")
    same = record_a is record_b
    size = n_groups(len(county_ids))
    months_in: dict[int, int] = {}
    tally: dict[tuple[int, str], np.ndarray] = {}
    zero = SchemeMonth(np.zeros(0), np.zeros(0), np.zeros(0), {})
    for (month, ga, _, pa), (_, gb, _, pb) in zip(months(a, record_a), months(b, record_b), strict=True):
        year = month // 12
        months_in[year] = months_in.get(year, 0) + 1
        for line in sorted(set(pa) | set(pb)):
            sa, sb = pa.get(line, zero), pb.get(line, zero)
            la = ga if sa.group is None else sa.group  # a one-off line's rows have groups of their own
            lb = gb if sb.group is None else sb.group
            t = tally.setdefault((year, line), np.zeros((6, size)))
            ea = np.bincount(la, weights=sa.entitled, minlength=size) if sa.entitled.size else np.zeros(size)
            eb = np.bincount(lb, weights=sb.entitled, minlength=size) if sb.entitled.size else np.zeros(size)
            t[0] += ea
            t[1] += eb
            # one record: bin by bin (row by row for a one-off line), the same people on both sides
            rows = la if sa.entitled.size else lb
            da = sa.entitled if sa.entitled.size else np.zeros(len(rows))
            db = sb.entitled if sb.entitled.size else np.zeros(len(rows))
            if same and len(da) == len(db):
                t[2] += np.bincount(rows, weights=np.maximum(da - db, 0.0), minlength=size)
                t[3] += np.bincount(rows, weights=np.maximum(db - da, 0.0), minlength=size)
            else:
                t[2] += np.maximum(ea - eb, 0.0)
                t[3] += np.maximum(eb - ea, 0.0)
            if sa.amount.size:
                t[4] += np.bincount(la, weights=sa.amount, minlength=size)
            if sb.amount.size:
                t[5] += np.bincount(lb, weights=sb.amount, minlength=size)
    keys = sorted(tally)
    codes = [np.flatnonzero(tally[k].any(axis=0)) for k in keys]
    values = {
        name: [tally[k][i, c] / (months_in[k[0]] if i < 4 else 1.0) for k, c in zip(keys, codes, strict=True)]
        for i, name in enumerate(GAIN_COLUMNS[-6:])
    }
    table = _year_line_frame(county_ids, keys, codes, values)
    return table, same
