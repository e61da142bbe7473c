"""The fiscal ledger: every yuan by month, line item, rule, payer level and region.

Each month each scheme reports, per county of the beneficiaries and per rule (eligible group) that
set the amount, the CNY paid and the people paid for. The ledger splits it across payer levels with
the shares in force that month (e.g. seed 002 city : county = 6 : 4; seed 004 city : district = 1 : 1).
Summaries are in 万元 (10,000 CNY), by year × payer level and year × line item, with a present value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from agingsim.scenario.schema import PAYER_LEVELS, RegionFile

WAN = 10_000.0
#: CNY per fen (分), the smallest unit money is paid in: amounts are compared to the fen, so a float
#: sum's last bits (1,000,000.0000000001 vs 1,000,000) never decide a rule.
FEN = 0.01


def in_fen(amount_cny: float) -> int:
    """An amount in whole fen (rounded half to even, as Python's round)."""
    return round(amount_cny / FEN)


LEDGER_COLUMNS = [
    "year",
    "month",
    "line_item",
    "rule",
    "scheme_family",
    "payer_level",
    "payer_region",
    "county",
    "funding",
    "amount_cny",
    "beneficiaries",
]


@dataclass
class Ledger:
    city: str
    province: str
    county_ids: list[str]
    #: "county" when the region's sub-units are counties; "city" for a province's prefecture cities,
    #: whose own county governments are then booked together as "<city>/counties".
    units_are: str = "county"
    rows: list[dict[str, object]] = field(default_factory=list)
    #: payments committed within the simulated years but falling due after them (a later construction
    #: instalment, the last year's operating subsidy paid the year after): not spent in the run, owed
    #: at its end (liabilities.csv)
    liabilities: list[dict[str, object]] = field(default_factory=list)
    _regions: dict[tuple[str, int], str] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def for_region(cls, region: RegionFile) -> Ledger:
        """The empty ledger of a scenario's region (its city, province, counties and their kind)."""
        return cls(
            region.city or region.id, region.province, [c.id for c in region.counties], region.units_are
        )

    def payer_region(self, level: str, unit: str) -> str:
        if self.units_are == "city":
            return {"province": self.province, "city": unit, "county": f"{unit}/counties"}[level]
        return {"province": self.province or "province", "city": self.city, "county": unit}[level]

    def record(
        self,
        year: int,
        month: int,
        line_item: str,
        family: str,
        rules: list[str],
        amount: np.ndarray,
        beneficiaries: np.ndarray,
        shares: dict[str, float],
        lottery_share: float = 0.0,
        after_horizon: bool = False,
    ) -> None:
        """Book one scheme-month: ``amount`` and ``beneficiaries`` are (n_counties, n_rules).

        Each payer's part is split into its general budget and, for ``lottery_share`` of it, its
        welfare-lottery funds (``funding`` column). ``after_horizon``: the payment falls due after the
        simulated years, so it is a liability at the horizon, not spending."""
        into = self.liabilities if after_horizon else self.rows
        counties, groups = np.nonzero(amount)
        if not len(counties):
            return
        levels = [(level, shares.get(level, 0.0)) for level in PAYER_LEVELS]
        levels = [(level, share) for level, share in levels if share != 0.0]
        parts = [(f, p) for f, p in (("budget", 1.0 - lottery_share), ("lottery", lottery_share)) if p != 0.0]
        # one row per county × rule × payer level × funding, as plain Python values (a few hundred a
        # month): the numpy scalars are converted once, not per row
        paid = amount[counties, groups].astype(np.float64).tolist()
        people = beneficiaries[counties, groups].astype(np.float64).tolist()
        for c, g, cny, bens in zip(counties.tolist(), groups.tolist(), paid, people, strict=True):
            county = self.county_ids[c]
            for level, share in levels:
                region = self._region(level, c)
                for funding, part in parts:
                    into.append(
                        {
                            "year": year,
                            "month": month,
                            "line_item": line_item,
                            "rule": rules[g],
                            "scheme_family": family,
                            "payer_level": level,
                            "payer_region": region,
                            "county": county,
                            "funding": funding,
                            "amount_cny": cny * share * part,
                            "beneficiaries": bens,
                        }
                    )

    def _region(self, level: str, c: int) -> str:
        """:meth:`payer_region` of county index ``c``, worked out once per level and county."""
        key = (level, c)
        region = self._regions.get(key)
        if region is None:
            region = self._regions[key] = self.payer_region(level, self.county_ids[c])
        return region

    def frame(self) -> pd.DataFrame:
        """All rows in time order (facility payments are booked up front, people's monthly)."""
        frame = pd.DataFrame(self.rows, columns=LEDGER_COLUMNS)
        return frame.sort_values(["year", "month"], kind="stable").reset_index(drop=True)

    def liabilities_frame(self) -> pd.DataFrame:
        """liabilities.csv: what the run committed but had not paid at its horizon, by date due."""
        frame = pd.DataFrame(self.liabilities, columns=LEDGER_COLUMNS)
        frame = frame.sort_values(["year", "month"], kind="stable").reset_index(drop=True)
        return frame.rename(columns={"year": "year_due", "month": "month_due"})[LIABILITY_COLUMNS]


#: liabilities.csv: the ledger's columns with the date a payment falls due (and no beneficiaries).
LIABILITY_COLUMNS = ["year_due", "month_due", *LEDGER_COLUMNS[2:-1]]


def summarise(ledger: pd.DataFrame, by: str) -> pd.DataFrame:
    """Year × ``by`` (payer_level or line_item) in 万元, with a total column, zeros where nothing."""
    table = ledger.pivot_table(index="year", columns=by, values="amount_cny", aggfunc="sum", fill_value=0.0)
    table = table / WAN
    table["total"] = table.sum(axis=1)
    return table.reset_index().rename_axis(columns=None)


def present_value(ledger: pd.DataFrame, rate: float, base_year: int) -> float:
    """Σ amount / (1 + rate)^(year − base_year), in CNY."""
    if ledger.empty:
        return 0.0
    by_year = ledger.groupby("year")["amount_cny"].sum()
    factors = (1.0 + rate) ** -(by_year.index.to_numpy() - base_year)
    return float((by_year.to_numpy() * factors).sum())


def lottery_report(
    ledger: pd.DataFrame,
    retained: dict[str, float],
    min_share: float,
    min_share_province: float,
    years: list[int],
) -> pd.DataFrame:
    """Per year and level: lottery funds retained, spent on elderly services, share, and the rule.

    Seeds 000 二(一)8 and 001 二(三)9: at least 55% of welfare-lottery funds for social welfare go to
    elderly services; 001 二(三)9: at least 70% of the provincial civil-affairs department's.
    Spending is compared with funds (and with the minimum share of them) in whole fen.
    """
    spent = ledger[ledger["funding"] == "lottery"].groupby(["year", "payer_level"])["amount_cny"].sum()
    rows = []
    for year in years:
        for level, amount in retained.items():
            used = float(spent.get((year, level), 0.0))
            required = min_share_province if level == "province" else min_share
            share = used / amount if amount else float("nan")
            rows.append(
                {
                    "year": year,
                    "payer_level": level,
                    "retained_cny": amount,
                    "spent_on_elderly_cny": used,
                    "share": share,
                    "required_min_share": required,
                    "meets_rule": bool(amount and in_fen(used) >= in_fen(required * amount)),
                    "overspent": in_fen(used) > in_fen(amount),
                }
            )
    return pd.DataFrame(rows)
