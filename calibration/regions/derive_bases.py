"""Derive the population-base tables china_population.csv and shanxi_population.csv.

Run from the repository root: ``.venv/bin/python calibration/regions/derive_bases.py``. It only
rescales published figures (calibration/data/): the 7th census detail by 5-year age × sex was not
found (calibration/data/README.md, "Not found"), so UN WPP 2024's 1 July 2020 estimate gives the shape
by sex and 5-year group, scaled to the census counts that were found. Each row's source says which.

Single years 40-69: WPP's single-year population (popAge1dt) was not to be had (its file is too large
for the copies reachable here), so each 5-year group is split by the WPP 2024 annual births of the
cohorts in it (calibration/data/wpp2024_china_births1.csv). People aged x on 1 November 2020 were born
between 1 November 2019-x and 31 October 2020-x, so their weight is 2/12 of the births of year 2019-x
plus 10/12 of those of 2020-x. This keeps the 1959-61 famine trough and the 1962-63 boom that a smooth
split blurs; it ignores that survival from birth differs between the cohorts of one group (the famine
cohorts' higher infant mortality makes their share a little too high). Ages 70+ (born before 1950, no
births in the file) stay 5-year groups, split by base.py's monotone spline.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "calibration" / "data"
OUT = ROOT / "calibration" / "regions"

WPP = "UN WPP 2024 estimate of 1 July 2020 (calibration/data/wpp2024_china_pop5.csv)"
BULLETIN5 = "7th census bulletin no. 5 (NBS, 2021-05-11; calibration/data/census2020_pop_age_sex.csv, regions_pop60.csv)"
AGEING2020 = "2020年度国家老龄事业发展公报 census bands 60-69 / 70-79 / 80+ in 万 (calibration/data/census2020_pop_age_sex.csv)"

# 7th census, 1 November 2020 (calibration/data/census2020_pop_age_sex.csv, regions_pop60.csv)
CENSUS_15_59 = 894_376_020
CENSUS_60 = 264_018_766
CENSUS_65 = 190_635_280
CENSUS_60_69 = 147_400_000
CENSUS_70_79 = 80_820_000
CENSUS_80 = 35_800_000


BIRTHS = "UN WPP 2024 annual births (calibration/data/wpp2024_china_births1.csv, object births1dt)"
#: youngest and oldest age split into single years by cohort births (born 1950 or later)
SPLIT_AGES = (40, 69)


def birth_weights() -> pd.Series:
    """Weight of each single age 40-69 at 1 November 2020 within its 5-year group, from cohort births."""
    b = pd.read_csv(DATA / "wpp2024_china_births1.csv").set_index("year")["births"]
    ages = range(SPLIT_AGES[0], SPLIT_AGES[1] + 1)
    w = pd.Series({x: float(b[2019 - x]) * 2 / 12 + float(b[2020 - x]) * 10 / 12 for x in ages})
    return w / w.groupby(lambda x: x - x % 5).transform("sum")


def wpp_2020() -> pd.DataFrame:
    w = pd.read_csv(DATA / "wpp2024_china_pop5.csv")
    return w[w["year"] == 2020][["sex", "age", "people"]]


def china() -> pd.DataFrame:
    w = wpp_2020()
    both = w.groupby("age")["people"].sum()

    def band(lo: int, hi: int | None) -> float:
        return float(both.loc[lo:hi].sum()) if hi is not None else float(both.loc[lo:].sum())

    c60_64 = CENSUS_60 - CENSUS_65
    c65_69 = CENSUS_60_69 - c60_64
    # 70+ as published in 万 (80.82 + 35.80 million), adjusted together so that 65+ is the exact census
    # count (the 万 rounding leaves 1,234 people over)
    adj70 = (CENSUS_65 - c65_69) / (CENSUS_70_79 + CENSUS_80)
    factors = [
        ((40, 55), CENSUS_15_59 / band(15, 55), f"census 15-59 total {CENSUS_15_59:,} ({BULLETIN5}) / WPP 15-59"),
        ((60, 60), c60_64 / band(60, 60), f"census 60-64 = 60+ minus 65+ = {c60_64:,} ({BULLETIN5}) / WPP 60-64"),
        ((65, 65), c65_69 / band(65, 65), f"census 65-69 = 60-69 ({AGEING2020}) minus 60-64 = {c65_69:,} / WPP 65-69"),
        ((70, 75), CENSUS_70_79 * adj70 / band(70, 75), f"census 70-79 ({AGEING2020}) / WPP 70-79"),
        ((80, 100), CENSUS_80 * adj70 / band(80, None), f"census 80+ ({AGEING2020}) / WPP 80+"),
    ]
    bw = birth_weights()
    rows = []
    for sex in ("M", "F"):
        for (lo, hi), f, how in factors:
            for age in range(lo, hi + 1, 5):
                p = float(w[(w["sex"] == sex) & (w["age"] == age)]["people"].iloc[0])
                note = (
                    f"assumption: {WPP} for sex {sex} age {age}-{age + 4 if age < 100 else ''}, × {f:.5f} = {how}"
                    + ("; 70+ × %.7f so that 65+ = census %s" % (adj70, f"{CENSUS_65:,}") if age >= 70 else "")
                    + ". The census table by age × sex was not found; WPP gives the shape within the band and by sex"
                )
                if SPLIT_AGES[0] <= age <= SPLIT_AGES[1]:
                    # rounded on the running sum, so the single years add up to the group's rounded count
                    cum = [round(p * f * bw.loc[age : x - 1].sum()) for x in range(age, age + 6)]
                    for x in range(age, age + 5):
                        rows.append((x, x, sex, cum[x - age + 1] - cum[x - age], note + (
                            f"; single year {x} = the group's × {bw[x]:.5f}, its share of the group's cohort "
                            f"births ({BIRTHS}: 2/12 of {2019 - x} + 10/12 of {2020 - x}, the census date "
                            "being 1 November)"
                        )))
                else:
                    rows.append((age, "" if age == 100 else age + 4, sex, round(p * f), note))
    return pd.DataFrame(rows, columns=["age_lower", "age_upper", "sex", "people", "source"])


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
            f"assumption: China's base table (china_population.csv: WPP 2024 shape, single years 40-69 by cohort "
            "births, scaled to the national census) "
            f"× {f:.6f} = {how}; {src}. Shanxi's own table by age × sex was not found, so the parent's shape "
            "within each band and by sex is used"
        )
    return out


if __name__ == "__main__":
    cn = china()
    cn.to_csv(OUT / "china_population.csv", index=False)
    shanxi(cn).to_csv(OUT / "shanxi_population.csv", index=False)
    print(cn.groupby(cn["age_lower"] >= 60)["people"].sum())
