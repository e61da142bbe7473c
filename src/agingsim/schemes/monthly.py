"""The monthly payment stage for person-level schemes: entitlement tables → ledger rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from agingsim.ability.intensities import N_STATES
from agingsim.ability.transitions import AGE0_M
from agingsim.fiscal.ledger import Ledger
from agingsim.policy.dated import month_key
from agingsim.population.attributes import CARE_SETTINGS
from agingsim.population.people import People
from agingsim.scenario.loader import Scenario
from agingsim.schemes.person import CompiledScheme, compile_schemes
from agingsim.schemes.registration import registered_shares


class PersonSchemes:
    """Pays every person-level scheme of a scenario each month and books it in the ledger."""

    def __init__(self, scenario: Scenario, code_span: int | None = None) -> None:
        policy = scenario.file.policy
        assert policy is not None
        self.county_ids = [c.id for c in scenario.region.counties]
        self.rules, self.grid, self.schemes = compile_schemes(
            policy, scenario.ability.age_max, self.county_ids, scenario.path
        )
        self.order = {s.id: i for i, s in enumerate(self.schemes)}
        #: scheme id → share of each county's residents holding local 户籍 (schemes.registration)
        self.registered = registered_shares(policy, self.county_ids, scenario.path)
        settings = np.array(CARE_SETTINGS)
        self.uses_mask = {s.id: np.isin(settings, s.spec.uses).astype(float) for s in self.schemes}
        # anyone who could ever receive anything: the only rows worth looking at each month
        self.candidate_cells = np.zeros(self.grid.size, dtype=bool)
        for s in self.schemes:
            if s.spec.once is None:  # one-off schemes pay people, not bins (schemes.oneoff)
                self.candidate_cells |= s.eligible
        #: (scheme, payer level, year) → CNY spent per county, for budget caps
        self.spent: dict[tuple[str, str, int], np.ndarray] = {}
        #: scheme → (year, share of each county's entitled paid in the latest month): a capped
        #: voucher is worth only that share in the care choice (services.review.VoucherTable)
        self.cap_share: dict[str, tuple[int, np.ndarray]] = {}
        #: months in which a capped budget ran out: who waited and what went unpaid
        self.rationing: list[dict[str, object]] = []
        #: set by the care system each month when behaviour is on: share of each (county, care
        #: setting)'s service actually delivered. Schemes with ``uses`` pay only for those settings,
        #: on what was delivered; without it they pay at their stated delivery rate.
        self.delivered: np.ndarray | None = None
        #: (year, scheme, group) → [people entitled, people served] summed over months, for groups.csv
        self.served: dict[tuple[int, str, str], np.ndarray] = {}
        #: by row: the part of the grid cell fixed for life (with the county) and the weight as
        #: float64, kept from month to month until rows move (see :meth:`_rows`)
        self._fixed = np.zeros(0, dtype=np.int64)
        self._weight = np.zeros(0)
        self._seen, self._layout = 0, -1
        #: the rows' keys and weights of the latest :meth:`count` (this month's), for schemes.oneoff
        self.month_keys: tuple[np.ndarray, np.ndarray] | None = None
        #: given the model's packed state codes (``code_span``): the moving part of the grid cell
        #: (age band and ability) of every code, so a month's keys are one gather per row
        self._by_code = None if code_span is None else self._moving_by_code(code_span)
        self._care_stride = self.grid.stride("care_setting")
        #: schemes.fused, set by the model for the large runs that load numba anyway: count() then
        #: makes one compiled pass into ``_key`` (kept from month to month) instead of numpy's six
        self.fused = None
        self._key = np.zeros(0, dtype=np.int64)
        #: the numpy count's row keys (:meth:`row_keys`), kept from month to month
        self._row_key = np.zeros(0, dtype=np.int64)
        self._live = np.zeros(0, dtype=np.int64)
        #: by (county × grid size + cell) key: whether a one-off scheme could pay it (set by
        #: schemes.oneoff), so that the compiled count also lists those rows (``month_once``)
        self.once_keys: np.ndarray | None = None
        #: the rows of the latest compiled count that ``once_keys`` marks, in row order (else None)
        self.month_once: np.ndarray | None = None

    def apply_caps(
        self,
        scheme: CompiledScheme,
        month: int,
        amount: np.ndarray,
        bens: np.ndarray,
        shares: dict[str, float],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pay what the capped budgets still allow this year; the rest of the eligible wait.

        A county cap limits each county's own part; a city or province cap the whole region's. The
        tightest cap sets the share of this month's entitled people served in each county (pro rata:
        the priority order of seed 000 §15 belongs to the admission queues of the behaviour issue).
        """
        caps = scheme.budget_cap.at(month) if scheme.budget_cap else None
        if not caps:
            return amount, bens
        year = month // 12
        due = amount.sum(axis=1)
        served = np.ones(len(due))
        for level, cap in caps.items():
            part = due * shares.get(level, 0.0)
            spent = self.spent.setdefault((scheme.id, level, year), np.zeros(len(due)))
            with np.errstate(divide="ignore", invalid="ignore"):
                if level == "county":
                    frac = np.where(part > 0, (cap - spent) / part, 1.0)
                else:
                    frac = np.full(len(due), (cap - spent.sum()) / part.sum() if part.sum() > 0 else 1.0)
            served = np.minimum(served, np.clip(frac, 0.0, 1.0))
        self.cap_share[scheme.id] = (year, served)
        paid_amount, paid_bens = amount * served[:, None], bens * served[:, None]
        for level in caps:
            self.spent[(scheme.id, level, year)] += paid_amount.sum(axis=1) * shares.get(level, 0.0)
        for c in np.flatnonzero(served < 1.0):
            self.rationing.append(
                {
                    "year": year,
                    "month": month % 12 + 1,
                    "line_item": scheme.id,
                    "county": self.county_ids[c],
                    "people_waiting": float((bens[c] - paid_bens[c]).sum()),
                    "unpaid_cny": float((amount[c] - paid_amount[c]).sum()),
                }
            )
        return paid_amount, paid_bens

    def entitlements(
        self,
        scheme: CompiledScheme,
        month: int,
        cells: np.ndarray,
        county: np.ndarray,
        received: dict[str, np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Monthly CNY per person (before delivery) and the index of the rule that set it."""
        amount, which = scheme.table(month, self.grid)
        a = amount[cells] * scheme.counties[county]
        for other in scheme.spec.exclude_recipients_of:
            a[received[other]] = 0.0
        return a, which[cells]

    def delivery(
        self, scheme: CompiledScheme, month: int, county: np.ndarray, cells: np.ndarray
    ) -> np.ndarray:
        """Share of each bin's entitlement paid this month: the stated rate, or, for schemes naming
        the settings they pay for when behaviour is on, 1 for people using those settings times the
        share of that service delivered in their county (0 for people not using them)."""
        if scheme.spec.uses and self.delivered is not None:
            setting = self.grid.codes["care_setting"][cells]
            return self.uses_mask[scheme.id][setting] * self.delivered[county, setting]
        return np.full(len(cells), scheme.delivery.at(month) or 0.0)

    def served_frame(self) -> pd.DataFrame:
        """groups.csv: per year, scheme and eligible group, people entitled and served (monthly mean)."""
        rows = [(y, s, g, e / 12, d / 12) for (y, s, g), (e, d) in sorted(self.served.items())]
        return pd.DataFrame(rows, columns=["year", "scheme", "group", "eligible", "served"])

    def _rows(self, people: People) -> tuple[np.ndarray, np.ndarray]:
        """Each row's fixed part of its (county, grid cell) and its weight. Attributes other than age,
        ability and care setting never change, so these are computed once per row: for new rows as
        they join, for everyone again only when rows move (the yearly compaction)."""
        if self._layout != people.layout:
            self._fixed = np.empty(people.capacity, dtype=np.int64)
            self._weight = np.empty(people.capacity)
            self._seen, self._layout = 0, people.layout
        n = people.n
        if self._seen < n:
            new = slice(self._seen, n)
            cols = {f: getattr(people, f)[new] for f in self.grid.people_fields()}
            self._fixed[new] = self.grid.fixed_cells(cols, people.county[new])
            self._weight[new] = people.weight[new]
            self._seen = n
        return self._fixed[:n], self._weight[:n]

    def _moving_by_code(self, span: int) -> np.ndarray:
        """:meth:`RuleGrid.moving_cells` of every packed code ``(sex × 6 + state) × span + age_m − 720``
        (ability.transitions.state_code), without the care setting's part."""
        code = np.arange(2 * N_STATES * span)
        cols = {
            "age_m": (code % span + AGE0_M).astype(np.int16),
            "ability": (code // span % N_STATES).astype(np.int8),
            "care_setting": np.zeros(len(code), dtype=np.int8),
        }
        return self.grid.moving_cells(cols)

    def moving_rows(self, people: People) -> list[np.ndarray]:
        """Before ``people.compact``: the arrays by row to move with the rows (People.compact's
        ``also``), the rows' fixed parts and weights, instead of working them out again for
        everyone (at 4.4 M people 0.13 s a year); none when they are not kept in step with the rows
        (then :meth:`_rows` starts again)."""
        in_step = self._layout == people.layout and self._seen == people.n
        return [self._fixed, self._weight] if in_step else []

    def rows_moved(self, people: People, moved: bool) -> None:
        """After ``people.compact``: the arrays of :meth:`moving_rows` moved with the rows, or not."""
        if moved:
            self._seen, self._layout = people.n, people.layout

    def row_keys(self, people: People) -> tuple[np.ndarray, np.ndarray]:
        """Each row's (county × grid size + grid cell) this month, and its weight. With the packed
        codes the model keeps in step with age and ability, age band and ability are one lookup."""
        fixed, w = self._rows(people)
        if self._by_code is None:
            key = self.grid.moving_cells({f: getattr(people, f) for f in self.grid.people_fields()})
        else:
            if len(self._row_key) != people.capacity:  # kept from month to month
                self._row_key = np.zeros(people.capacity, dtype=np.int64)
            # "clip": every code indexes the table, and numpy's bounds-checked take of int16
            # indices is ~1.5× slower than this, ~5× slower into a buffer
            key = np.take(self._by_code, people.code, out=self._row_key[: people.n], mode="clip")
            if self._care_stride:
                key += people.care_setting.astype(np.int64) * self._care_stride
        key += fixed
        return key, w

    def count(self, people: People) -> tuple[np.ndarray, np.ndarray]:
        """This month's occupied (county × grid cell) bins that could receive anything, and the real
        people in each: one weighted bincount over everyone. Entitlement depends only on the bin, so
        every scheme then works on a few thousand bins instead of a million people."""
        n_bins = len(self.county_ids) * self.grid.size
        if self.fused is not None and self._by_code is not None:
            fixed, w = self._rows(people)
            if len(self._key) != people.capacity:
                self._key = np.zeros(people.capacity, dtype=np.int64)
                self._live = np.zeros(people.capacity, dtype=np.int64)
            once = self.once_keys if self.once_keys is not None else np.zeros(n_bins, dtype=bool)
            key, weight = self._key[: people.n], np.zeros(n_bins)
            k = self.fused.bin_keys(
                people.code, people.care_setting, fixed, w, self._by_code, self._care_stride,
                once, key, weight, self._live,
            )  # fmt: skip
            self.month_once = self._live[:k]
        else:
            key, w = self.row_keys(people)
            weight = np.bincount(key, weights=w, minlength=n_bins)
            self.month_once = None
        self.month_keys = (key, w)
        occupied = np.flatnonzero(weight)
        occupied = occupied[self.candidate_cells[occupied % self.grid.size]]
        return occupied, weight[occupied]

    def pay_bins(
        self, sim_month: int, start_year: int, occupied: np.ndarray, weight: np.ndarray, ledger: Ledger
    ) -> None:
        """Pay one month from its bins (:meth:`count`), and book it in the ledger."""
        month = month_key(start_year) + sim_month
        year, cal_month = divmod(month, 12)
        n_cells, n_c = self.grid.size, len(self.county_ids)
        county, cells = occupied // n_cells, occupied % n_cells
        received: dict[str, np.ndarray] = {}
        for scheme in self.schemes:
            if scheme.spec.once is not None:
                continue
            a, rule = self.entitlements(scheme, month, cells, county, received)
            paid = a > 0
            received[scheme.id] = paid
            rate = self.delivery(scheme, month, county, cells)
            shares = scheme.payers.at(month)
            if not paid.any() or not np.any(rate) or shares is None:
                continue
            n_g = len(scheme.group_ids)
            bin_rule = county * n_g + rule
            w = weight * self.registered[scheme.id][county] if scheme.id in self.registered else weight
            amount = np.bincount(bin_rule, weights=a * w * rate, minlength=n_c * n_g).reshape(n_c, n_g)
            bens = np.bincount(bin_rule, weights=paid * w * rate, minlength=n_c * n_g).reshape(n_c, n_g)
            amount, bens = self.apply_caps(scheme, month, amount, bens, shares)
            entitled = np.bincount(rule, weights=paid * w, minlength=n_g)
            for g, group in enumerate(scheme.group_ids):
                tally = self.served.setdefault((year, scheme.id, group), np.zeros(2))
                tally += (entitled[g], bens[:, g].sum())
            ledger.record(
                year,
                cal_month + 1,
                scheme.id,
                scheme.spec.family,
                scheme.group_ids,
                amount,
                bens,
                shares,
                scheme.lottery.at(month) or 0.0,
            )
