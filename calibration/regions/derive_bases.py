"""Derive the population-base tables china_population.csv and shanxi_population.csv.

Run from the repository root: ``.venv/bin/python calibration/regions/derive_bases.py``. It only
combines published figures (calibration/data/); each row's source says how.

Method (cohort survival from the 2010 census). The 7th census table by age × sex was not found
(calibration/data/README.md, "Not found"), but the 6th census (1 November 2010) by single year of age
and sex was (census2010_pop_age1_sex.csv). Both censuses count people at 0:00 on 1 November, so the
people aged x on 1 November 2020 are exactly the people aged x − 10 on 1 November 2010 minus those
who died (or left) in between. Each cohort is survived ten years with UN WPP 2024's central death rates
by sex and 5-year age for the periods it passes through (wpp2024_china_mx5_by_year.csv; a single-year
rate at exact age a is log-linear between group midpoints, the end slopes continued), the same rates the
validation scenario uses from 2021 on. The survivors are then scaled, band by band and both sexes
together, to the 2020 census counts that were found: 60-64, 65-69, 70-79 and 80+ (bulletin no. 5 and
the 2020 ageing bulletin). Ages 40-59 are not scaled: the only 2020 census figure below 60 that was
found is 15-59 as a whole, and the survivors of the 2010 census are already within 0.3% of the 2020
census at 60-64 (printed by this script), so no migration term is added (assumption: net migration of
people aged 30-59 negligible nationally; UN WPP 2024 puts it at 0.02% of the population a year).

Why not the former method (UN WPP 2024's 1 July 2020 5-year shape, split by cohort births): WPP's
groups are at 1 July, four months before the census, which moves a third of a birth year across
every group edge; with the 1959-61 famine and the 1962-65 boom at the 55-59 / 60-64 edges, WPP's 55-59
at 1 July is 6% below the same cohorts at 1 November. Splitting by births also ignored that the famine
cohorts' survival from birth was far lower. The census of the same cohorts has neither problem.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "calibration" / "data"
OUT = ROOT / "calibration" / "regions"

CENSUS2010 = (
    "6th census, 1 November 2010, by single year of age and sex (UN Statistics Division Demographic "
    "Statistics Database; calibration/data/census2010_pop_age1_sex.csv)"
)
MX = (
    "UN WPP 2024 central death rates by sex and 5-year age, periods 2010-2015 to 2020-2025 "
    "(calibration/data/wpp2024_china_mx5_by_year.csv)"
)
BULLETIN5 = (
    "7th census bulletin no. 5 (NBS, 2021-05-11; "
    "calibration/data/census2020_pop_age_sex.csv, regions_pop60.csv)"
)
AGEING2020 = (
    "2020年度国家老龄事业发展公报 census bands 60-69 / 70-79 / 80+ in 万 "
    "(calibration/data/census2020_pop_age_sex.csv)"
)

# 7th census, 1 November 2020 (calibration/data/census2020_pop_age_sex.csv, regions_pop60.csv)
CENSUS_15_59 = 894_376_020
CENSUS_60 = 264_018_766
CENSUS_65 = 190_635_280
CENSUS_60_69 = 147_400_000
CENSUS_70_79 = 80_820_000
CENSUS_80 = 35_800_000

REF_2010 = 2010 + 304 / 365  # 1 November 2010 as a decimal year
YOUNGEST, TOP = 40, 100  # table ages 40..99 single, 100+ open
YEARS = 10  # 2010 census to 2020 census


def census_2010() -> pd.DataFrame:
    """(age 0..100, sex) people on 1 November 2010; age 100 is 100+."""
    c = pd.read_csv(DATA / "census2010_pop_age1_sex.csv")
    c["age"] = c["age"].astype(str).str.rstrip("+").astype(int)
    return c.pivot(index="age", columns="sex", values="people")[["M", "F"]]


def log_mx(period: pd.DataFrame, sex: str, exact_age: np.ndarray) -> np.ndarray:
    """log m at exact ages: log-linear between 5-year midpoints, end slopes continued (Gompertz)."""
    g = period[period["sex"] == sex].sort_values("age")
    mid = g["age"].to_numpy(float) + 2.5
    lm = np.log(g["mx"].to_numpy(float))
    out = np.interp(exact_age, mid, lm)
    lo, hi = exact_age < mid[0], exact_age > mid[-1]
    out[lo] = lm[0] + (lm[1] - lm[0]) / (mid[1] - mid[0]) * (exact_age[lo] - mid[0])
    out[hi] = lm[-1] + (lm[-1] - lm[-2]) / (mid[-1] - mid[-2]) * (exact_age[hi] - mid[-1])
    return out


def survival_10y() -> pd.DataFrame:
    """(age on 1 Nov 2010, sex) probability of surviving to 1 November 2020.

    Year k of the ten runs from REF_2010 + k; a person of completed age a at the start has mean exact
    age a + 1 + k during it (even spread over [a, a + 1)); the rate is the WPP period's in force at
    the year's midpoint."""
    mx = pd.read_csv(DATA / "wpp2024_china_mx5_by_year.csv")
    ages = np.arange(0, TOP + 1)
    out = {}
    for sex in ("M", "F"):
        cum = np.zeros(len(ages), float)
        for k in range(YEARS):
            mid_t = REF_2010 + k + 0.5
            period = mx[(mx["period_start"] <= mid_t) & (mid_t < mx["period_end"])]
            cum += np.exp(log_mx(period, sex, ages + 1.0 + k))
        out[sex] = np.exp(-cum)
    return pd.DataFrame(out, index=ages)


def survivors_2020() -> pd.DataFrame:
    """(age 40..100 on 1 Nov 2020, sex) survivors of the 2010 census cohorts; 100 = 100+."""
    c, s = census_2010(), survival_10y()
    surv = c * s
    rows = {}
    for x in range(YOUNGEST, TOP):
        rows[x] = surv.loc[x - YEARS]
    rows[TOP] = surv.loc[TOP - YEARS :].sum()  # aged 90+ in 2010 are 100+ in 2020
    return pd.DataFrame(rows).T


def bands() -> list[tuple[int, int, float | None, str]]:
    """(first age, last age, 2020 census count or None = not scaled, how) for the table's bands."""
    c60_64 = CENSUS_60 - CENSUS_65
    c65_69 = CENSUS_60_69 - c60_64
    # 70+ as published in 万 (80.82 + 35.80 million), adjusted together so that 65+ is the exact census
    # count (the 万 rounding leaves 1,234 people over)
    adj70 = (CENSUS_65 - c65_69) / (CENSUS_70_79 + CENSUS_80)
    return [
        (40, 59, None, "not scaled: the 2020 census below 60 was found only as 15-59 in total "
         "(assumption: no net migration at these ages nationally)"),
        (60, 64, c60_64, f"census 60-64 = 60+ minus 65+ = {c60_64:,} ({BULLETIN5})"),
        (65, 69, c65_69, f"census 65-69 = 60-69 ({AGEING2020}) minus 60-64 = {c65_69:,}"),
        (70, 79, CENSUS_70_79 * adj70, f"census 70-79 ({AGEING2020}) × {adj70:.7f} so that 65+ = census "
         f"{CENSUS_65:,}"),
        (80, TOP, CENSUS_80 * adj70, f"census 80+ ({AGEING2020}) × {adj70:.7f} so that 65+ = census "
         f"{CENSUS_65:,}"),
    ]


def china() -> pd.DataFrame:
    surv = survivors_2020()
    s10 = survival_10y()
    c10 = census_2010()
    rows = []
    for sex in ("M", "F"):
        for lo, hi, target, how in bands():
            band = surv.loc[lo:hi]
            f = 1.0 if target is None else target / float(band.sum().sum())
            # rounded on the running sum, so the band adds up to its census count
            cum = np.round(np.cumsum(band[sex].to_numpy() * f))
            counts = np.diff(np.concatenate([[0.0], cum])).astype(int)
            for x, n in zip(range(lo, hi + 1), counts, strict=True):
                a = x - YEARS
                born = f"aged {a}{'+' if x == TOP else ''} on 1 November 2010"
                note = (
                    f"assumption: the same cohort in the 2010 census ({born}, sex {sex}: "
                    f"{int(c10.loc[a:, sex].sum() if x == TOP else c10.loc[a, sex]):,}; {CENSUS2010}) × "
                    + (
                        f"its 10-year survival {s10.loc[a, sex]:.5f}"
                        if x < TOP
                        else "10-year survival by age"
                    )
                    + f" ({MX}) × {f:.5f} = {how}. The 2020 census by age × sex was not found"
                )
                rows.append((x, "" if x == TOP else x, sex, int(n), note))
    return pd.DataFrame(rows, columns=["age_lower", "age_upper", "sex", "people", "source"])


def check_against_2020() -> list[str]:
    """How close the unscaled survivors come to the 2020 census bands (a check, not a fit)."""
    surv = survivors_2020()
    out = []
    for lo, hi, target, _ in bands():
        if target is not None:
            got = float(surv.loc[lo:hi].sum().sum())
            out.append(f"{lo}-{hi}: 2010" if hi < TOP else f"{lo}+: 2010")
            out[-1] += (f" survivors {got:,.0f} vs 2020 census "
                       f"{target:,.0f} ({100 * (got / target - 1):+.2f}%)")
    return out


def shanxi(base: pd.DataFrame) -> pd.DataFrame:
    """China's table scaled to Shanxi's census 60+, 65+ and 15-59 (regions_pop60.csv)."""
    total, p60, p65 = 34_915_616, 6_607_025, 4_504_700
    p15_59 = round(total * 0.6472)
    src = (
        "Shanxi 7th census (山西省第七次全国人口普查公报, 2021-05-26; calibration/data/regions_pop60.csv): "
        f"total {total:,}, 60+ {p60:,}, 65+ {p65:,} (65+ published as 450.47万)"
    )
    out = base.copy()
    lo = out["age_lower"]
    in60_64 = (lo >= 60) & (lo < 65)
    c60_64 = base[in60_64]["people"].sum()
    c65 = base[lo >= 65]["people"].sum()
    c40_59 = base[lo < 60]["people"].sum()
    f_young = (p15_59 * c40_59 / CENSUS_15_59) / c40_59
    for mask, f, how in (
        (lo < 60, f_young, f"Shanxi 15-59 = 64.72% of {total:,} (NBS bulletin no. 5 table 5-2) = {p15_59:,}, "
         "over China's 15-59"),
        (in60_64, (p60 - p65) / c60_64, f"Shanxi 60-64 = 60+ minus 65+ = {p60 - p65:,}"),
        (lo >= 65, p65 / c65, f"Shanxi 65+ = {p65:,}"),
    ):
        # rounded on the running sum, so each band adds up to its census count
        cum = (base.loc[mask, "people"] * f).cumsum().round().astype(int)
        out.loc[mask, "people"] = cum.diff().fillna(cum.iloc[0]).astype(int)
        out.loc[mask, "source"] = (
            "assumption: China's base table (china_population.csv: the 2010 census cohorts survived to "
            "1 November 2020 by WPP 2024 death rates, scaled to the national 2020 census bands 60+) "
            f"× {f:.6f} = {how}; {src}. Shanxi's own table by age × sex was not found, so the parent's shape "
            "within each band and by sex is used"
        )
    return out


if __name__ == "__main__":
    cn = china()
    cn.to_csv(OUT / "china_population.csv", index=False)
    shanxi(cn).to_csv(OUT / "shanxi_population.csv", index=False)
    print(cn.groupby(cn["age_lower"] >= 60)["people"].sum())
    print("check, 2010 census survivors before scaling:")
    for line in check_against_2020():
        print("  " + line)
