"""Review and choice: who reviews their care this month (the yearly rota by person id) and what
they choose (choice.mnl), with the queues, places and settings that follow from the choice.
"""

from __future__ import annotations

import numpy as np

from agingsim.choice.mnl import (
    DAY_CARE,
    FAMILY_BED,
    FAMILY_CARE,
    HOME,
    INSTITUTION,
    N_SETTINGS,
    ChoiceInputs,
    choose,
    choose_cumulative,
    cumulative,
    probabilities,
    utilities,
)
from agingsim.population.attributes import ABILITY_LEVELS, CARE_SETTINGS, ECON_STATUSES, FAMILY_SITUATIONS
from agingsim.population.people import People
from agingsim.schemes.monthly import PersonSchemes
from agingsim.services.admission import admit
from agingsim.services.statistics import MONTHS, YearStats


class Review:
    """The review rota (row indices kept from January, by person id modulo the review period) and the
    reviewers' choice; works on the reviewers' rows only."""

    def _rota_rows(
        self,
        residue: int,
        moved: np.ndarray,
        entrants: np.ndarray,
        moved_res: np.ndarray | None = None,
        rebuilt: bool = False,
    ) -> list[np.ndarray]:
        """Rows due for their review this month: person id ≡ ``residue`` (mod the review period), as
        runs each in row order.

        Only rows that could pass the reviewers' filter are returned (with some extra, filtered
        later). Built each January from the rows not cared for by family at intact ability or
        waiting; an intact person at home can only become a reviewer by a change of level, so the
        rows whose level changed since (``moved`` this month) and the entrants since January
        (``entrants`` this month) are added, kept by residue: each month's rows are split once,
        never the whole year's entrants again. ``moved_res``: the moved rows' residues where the
        caller read them (compiled: the caller passes only the moved rows and entrants that may
        review, since an idle row joins the rota again by its next change of level); ``rebuilt``:
        the rota was rebuilt this month (:meth:`_january`).
        """
        p = self.people
        period = self.choice.review_every_months
        late = moved
        new = entrants[:0]  # entrants since the rebuild (this month's are in the rebuilt rota)
        if self._rota is None or rebuilt:
            if self._rota is None:  # numpy (compiled: rebuilt by _january)
                idle = (p.ability == 0) & (p.care_setting == FAMILY_CARE) & (p.wait_since < 0)
                self._rota = self._by_residue(np.flatnonzero(~idle))  # this month's entrants included
                self._rota_late = [[] for _ in range(period)]
        else:
            late, new = np.concatenate([moved, entrants]), entrants
        if moved_res is not None:  # the moved rows' residues known: only the entrants' ids are read
            out, b = self.kernels.split_known(moved, moved_res, new, p.pid, period)
            split = [out[b[r] : b[r + 1]] for r in range(period)]
        else:
            split = self._by_residue(late)
        for r, rows in enumerate(split):
            self._rota_late[r].append(rows)
        return [self._rota[residue], *self._rota_late[residue]]  # each in row order

    def _january(self, n: int | None = None, level: np.ndarray | None = None) -> None:
        """January, compiled: the rota, the rows waiting and the holders of places rebuilt in one
        pass over rows 0 to ``n`` (all; rows moved at the compaction), the rota from the rows'
        ``level`` (``people.ability``); the packed columns of rows not packed yet (all in the first
        month; after a compaction, which moved the packed words with the rows, none). One thread: split
        between two (kernels.january_chunk takes a range of rows) it cost more CPU and no less wall
        time at a million people. Into buffers kept from year to year (``self._scratch``): fresh
        ones of 10 MB each cost up to ~2 ms each to allocate here."""
        p, k = self.people, self.kernels
        period = self.choice.review_every_months
        n = p.n if n is None else n
        if self._scratch is None:
            self._scratch = np.empty((4, p.capacity), np.int64)
        sel, res, queue, holders = self._scratch
        m, n_q, n_h = k.january_chunk(
            0, n, min(self._packed_n, n), self._packed, p.ability if level is None else level,
            p.care_setting, p.wait_since, p.provider, p.pid, p.county, p.family, p.econ, p.flags, period,
            FAMILY_CARE, sel, res, queue, holders,
        )  # fmt: skip
        self._packed_n = n
        out, b = k.by_residue(sel[:m], res[:m], period)
        self._rota = [out[b[r] : b[r + 1]] for r in range(period)]
        self._rota_late = [[] for _ in range(period)]
        self._queue, self._holders = queue[:n_q].copy(), holders[:n_h].copy()

    def pack_fixed(self, n: int) -> None:
        """January, after the compaction, beside the month's cohort entry and transitions (the
        model's overlap; they write none of the columns read here, nor rows below ``n``): the
        rebuild of :meth:`_january` for rows 0 to ``n``, the rota from each row's level at the end
        of last month (``self._level_was``: the transitions are changing ``people.ability``
        meanwhile). The month's care step then goes on as in any other month. The same reviewers
        as a rebuild after the transitions: a row whose level changes now is among the month's
        moved rows, which join the rota of their residue (and are reviewed this month) whether or
        not it held them; the month's entrants join it as in any month, and those idle, like any
        idle row, are dropped by the reviewers' filter until their level changes."""
        self._january(n, self._level_was)

    def _by_residue(self, rows: np.ndarray) -> list[np.ndarray]:
        """``rows`` split by person id modulo the review period (numpy; compiled: kernels.split_known)."""
        period = self.choice.review_every_months
        res = (self.people.pid[rows] % period).astype(np.int8)  # small ints: numpy sorts them by radix
        order = np.argsort(res, kind="stable")
        bounds = np.searchsorted(res[order], np.arange(period + 1))
        return [rows[order[bounds[r] : bounds[r + 1]]] for r in range(period)]

    def _choose(
        self,
        idx: np.ndarray,
        lvl: np.ndarray,
        cur: np.ndarray,
        was_waiting: np.ndarray,
        sim_month: int,
        year: YearStats,
        occupied: np.ndarray,
        known: dict[str, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Reviewers (rows ``idx`` in row order, with their level, care setting and whether they
        wait, as the caller gathered them) weigh the settings; queues, beds and places change
        accordingly (``occupied`` is kept up to date as day-care places are taken). Returns the rows
        that took a day-care place and were holding none (new holders), the reviewers' priority
        groups and which of them wait now.

        Each of the reviewers' columns is gathered once: at a million people the reviewers are
        ~30,000 rows scattered over the arrays, and the gathers, not the arithmetic, were the cost;
        ``known`` holds reviewers' columns the caller gathered already (services.kernels)."""
        p = self.people
        if not len(idx):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int8), np.zeros(0, dtype=bool)
        known = {"ability": lvl, **(known or {})}
        for f in ("county", "family", "econ", "pid"):
            if f not in known:
                known[f] = getattr(p, f)[idx]
        county, family, econ = known["county"], known["family"], known["econ"]
        prio = known["priority"] if "priority" in known else self._priority(idx, known)
        if self.kernels is not None:  # the same numbers as streams.sparse_uniforms, hashed compiled
            key = self.streams.seed_sequence("care_choice", sim_month).generate_state(1, dtype=np.uint64)[0]
            u = self.kernels.sparse_uniforms(known["pid"], key)
        else:
            u = self.streams.sparse_uniforms("care_choice", sim_month, known["pid"])
        if self.vouchers is None:  # everyone in a cell faces the same utilities
            chosen = self._choose_by_cell(county, lvl, family, econ, cur, prio < self.n_g - 1, sim_month, u)
        else:
            lv, ci = lvl.astype(np.int64), county.astype(np.int64)
            x = self._inputs(ci, lv, family.astype(np.int64), econ.astype(np.int64), cur.astype(np.int64),
                             prio < self.n_g - 1, sim_month)  # fmt: skip
            x.net_price -= self.vouchers.values(self.start_key + sim_month, p, idx)
            np.maximum(x.net_price, 0.0, out=x.net_price)
            chosen = choose(probabilities(utilities(self.choice, x)), u)
        chosen[prio == 0] = INSTITUTION  # 集中供养: policy-guaranteed people live in institutions

        if self.kernels is not None:  # the same moves, one pass over the reviewers
            want, waits = self.kernels.apply_choice(
                idx, chosen, cur, was_waiting, county, prio, p.weight, p.wait_since, p.provider,
                p.care_setting, occupied, year.left, year.arrivals, sim_month, INSTITUTION, DAY_CARE,
            )  # fmt: skip
        else:
            want, waits = self._apply_choice(
                idx, chosen, cur, was_waiting, county, prio, sim_month, year, occupied
            )
        # day care needs a place: first come (by person id) while places last, else stay put
        placed = np.zeros(0, dtype=np.int64)
        if len(want) and self.kernels is not None:  # the same places, one compiled pass
            ptr, flat = self._day_care_flat
            placed = self.kernels.day_care_places(
                want, idx, cur, p.weight, p.county, p.pid, p.provider, p.care_setting, occupied, self._beds,
                ptr, flat, INSTITUTION, DAY_CARE,
            )  # fmt: skip
        elif len(want):
            free = self._beds - occupied
            n = len(want)
            none = [[] for _ in range(self.n_c)]
            got, where = admit(
                p.weight[want].astype(np.float64), p.county[want].astype(np.int64),
                np.zeros(n, dtype=np.int8),
                np.zeros(n), p.pid[want], none, self.day_care_providers, free, kernels=self.kernels,
            )  # fmt: skip
            placed = want[got]
            p.provider[placed] = where
            p.care_setting[placed] = DAY_CARE
            np.add.at(occupied, where, p.weight[placed])
            # who left a bed for a day-care place is a holder already (kept from last month, and
            # still holding a place): only the others are new holders, or they would be counted twice
            # (the reviewers ``idx`` are in row order, so each one's setting is found by bisection:
            # np.isin sorted all the institution's reviewers again, 0.4 ms a month at a million)
            placed = placed[cur[np.searchsorted(idx, placed)] != INSTITUTION]
        # anyone who left a place without taking another is cared for by family (only those who
        # were in a place can be left in one without a provider: a new day-care place has one)
        if self.kernels is not None:
            self.kernels.orphans(idx, cur, p.provider, p.care_setting, INSTITUTION, DAY_CARE, FAMILY_CARE)
        else:
            was_placed = idx[(cur == INSTITUTION) | (cur == DAY_CARE)]
            cs = p.care_setting[was_placed]
            orphan = was_placed[(p.provider[was_placed] < 0) & ((cs == INSTITUTION) | (cs == DAY_CARE))]
            p.care_setting[orphan] = FAMILY_CARE
        return placed, prio, waits

    def _apply_choice(
        self,
        idx: np.ndarray,
        chosen: np.ndarray,
        cur: np.ndarray,
        was_waiting: np.ndarray,
        county: np.ndarray,
        prio: np.ndarray,
        sim_month: int,
        year: YearStats,
        occupied: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The reviewers' queues, releases and home-based moves after their choice (numpy; compiled:
        kernels.apply_choice). Returns the rows that want a day-care place and who waits now."""
        p = self.people
        # leave the queue
        wants_bed = chosen == INSTITUTION
        leave = was_waiting & ~wants_bed
        gone = idx[leave]
        np.add.at(year.left, (county[leave], prio[leave]), p.weight[gone].astype(np.float64))
        p.wait_since[gone] = -1
        # join the queue (keeping the current setting while waiting)
        join = ~was_waiting & wants_bed & (cur != INSTITUTION)
        new = idx[join]
        np.add.at(year.arrivals, (county[join], prio[join]), p.weight[new].astype(np.float64))
        p.wait_since[new] = sim_month
        # leave a bed or a day-care place
        move = (chosen != cur) & (chosen != INSTITUTION)
        release = idx[move & ((cur == INSTITUTION) | (cur == DAY_CARE))]
        held = p.provider[release].astype(np.int64)
        np.subtract.at(occupied, held[held >= 0], p.weight[release][held >= 0])
        p.provider[release] = -1
        # home-based settings need no place
        home_based = move & (chosen != DAY_CARE)
        p.care_setting[idx[home_based]] = chosen[home_based]
        return idx[move & (chosen == DAY_CARE)], (was_waiting & wants_bed) | join

    def _inputs(
        self,
        ci: np.ndarray,
        lv: np.ndarray,
        family: np.ndarray,
        econ: np.ndarray,
        cur: np.ndarray,
        public: np.ndarray,
        sim_month: int,
    ) -> ChoiceInputs:
        """What people (or cells) of these counties, levels, families, economic statuses and
        settings face this month at list prices (``public``: the public institution price)."""
        net = np.zeros((len(lv), N_SETTINGS))
        net[:, INSTITUTION] = np.where(public, self.price_public[lv], self.price_private[lv])
        net[:, HOME] = self.price_home[lv]
        net[:, FAMILY_BED] = self.price_family_bed[lv]
        net[:, DAY_CARE] = self.b.prices.day_care
        dist = np.zeros(len(lv))
        if self.distance_km is not None:
            dist = self.distance_km[min(sim_month // MONTHS, len(self.distance_km) - 1), ci]
        return ChoiceInputs(
            ability=lv,
            family=family,
            econ=econ,
            current=cur,
            net_price=net,
            wait_months=self.expected_wait[ci],
            unmet_share=1.0 - self.delivered[ci, HOME],
            distance_km=dist,
        )

    def _choose_by_cell(
        self,
        ci: np.ndarray,
        lv: np.ndarray,
        family: np.ndarray,
        econ: np.ndarray,
        cur: np.ndarray,
        public: np.ndarray,
        sim_month: int,
        u: np.ndarray,
    ) -> np.ndarray:
        """The reviewers' choice without vouchers: utilities depend only on the cell (county,
        level, family, economic status, public price or not, and the current setting if staying
        counts), so the logit is worked out once per cell present (~2,000 cells against ~25,000
        reviewers a month at a million people) and each reviewer reads their cell's running sums.
        The same elementwise operations on the same values as per person: the same choices.
        Compiled (services.choice_kernels), the same operations in two passes, numpy's exp between."""
        n_lv, n_f, n_e = len(ABILITY_LEVELS), len(FAMILY_SITUATIONS), len(ECON_STATUSES)
        n_cur = N_SETTINGS if self.choice.stay else 1
        if self.kernels is not None:
            c, dist = self.choice, np.zeros(self.n_c)
            if self.distance_km is not None:
                dist = self.distance_km[min(sim_month // MONTHS, len(self.distance_km) - 1)]
                dist = np.ascontiguousarray(dist, dtype=np.float64)  # one compiled signature
            cell, e = self.kernels.cell_exponents(
                ci, lv, family, econ, cur, public, n_lv, n_f, n_e, n_cur, c.base, c.price,
                self.price_public, self.price_private, self.price_home, self.price_family_bed,
                float(self.b.prices.day_care), float(c.wait_per_month), self.expected_wait,
                float(c.shortage), 1.0 - self.delivered[:, HOME], float(c.distance_per_km), dist,
                float(c.stay), INSTITUTION, HOME, FAMILY_BED, DAY_CARE,
            )  # fmt: skip
            np.exp(e, out=e)
            return self.kernels.choose_cells(e, cell, u)
        key = ci.astype(np.int64) * n_lv + lv
        key *= n_f
        key += family
        key *= n_e
        key += econ
        key *= 2
        key += public
        if n_cur > 1:
            key *= n_cur
            key += cur
        size = self.n_c * n_lv * n_f * n_e * 2 * n_cur
        present = np.flatnonzero(np.bincount(key, minlength=size))
        rest, c_cur = np.divmod(present, n_cur)
        rest, c_pub = np.divmod(rest, 2)
        rest, c_econ = np.divmod(rest, n_e)
        rest, c_fam = np.divmod(rest, n_f)
        c_ci, c_lv = np.divmod(rest, n_lv)
        x = self._inputs(c_ci, c_lv, c_fam, c_econ, c_cur, c_pub.astype(bool), sim_month)
        cum = cumulative(probabilities(utilities(self.choice, x)))
        slot = np.empty(size, dtype=np.int64)
        slot[present] = np.arange(len(present))
        return choose_cumulative(cum, u, slot[key])


class VoucherTable:
    """Monthly value, per care setting, of the vouchers and purchased services a person is entitled to.

    The person schemes that name the settings they pay for (``uses``) count; entitlements come from
    the schemes' own :meth:`PersonSchemes.entitlements` (exclusions of other schemes' recipients
    included), and the choice model subtracts them from list prices, so a voucher makes the settings
    it pays for cheaper. A scheme under a budget cap counts at the share of its entitled paid in the
    latest month of the same year (1 from each January): once the budget is spent the voucher buys
    nothing, so it no longer moves the choice.
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
                capped = ps.cap_share.get(s.id)  # a spent budget pays nothing until January
                if capped is not None and capped[0] == month // 12:
                    a = a * capped[1][county]
                out[:, self.uses[s.id]] += a[:, None]
        return out
