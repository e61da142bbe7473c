"""Derive the population bases of the bundled policy regions (issue 14, item 3) from China's base.

Run from the repository root after ``derive_bases.py`` (and whenever china_population.csv changes):
``.venv/bin/python calibration/regions/derive_region_bases.py``. It writes zhumadian_population.csv,
guiyang_population.csv, ninghe_population.csv and yuquan_population.csv; shanxi.toml reads
shanxi_population.csv (derive_bases.py) directly. tests/test_region_bases.py fails if a written table
no longer matches what this script derives from the current china_population.csv.

No city or district table by age × sex was found (calibration/data/README.md, "Not found"), so each
region takes the shape by sex and single year / 5-year group of the closest parent that has a table
(China's base; no provincial table was found either), scaled band by band to what is published for
the region, or else for its province (calibration/data/census2020_region_age_shares.csv):

* ages 40-59: the region's 15-59 count over China's 15-59 (so the region's 40-59 share of its 15-59
  is China's, an assumption);
* ages 60-64 and 65+: the region's 60+ minus 65+ and its 65+, where a 65+ figure is published; else
  the whole 60+ block scaled to the region's 60+ (China's split inside 60+).

Every row of a written table says which figures and which assumption it rests on.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from derive_bases import CENSUS_15_59  # noqa: E402  (one constant, one place)

SHARES = "calibration/data/census2020_region_age_shares.csv"
TOTALS = "calibration/data/regions_pop60.csv"
PARENT = (
    "China's base table (china_population.csv: the 2010 census cohorts by single year and sex survived "
    "ten years by WPP 2024 rates, scaled to the national 2020 census bands)"
)


@dataclass(frozen=True)
class Spec:
    """What is known of one region at the 2020 census, and where it comes from."""

    id: str
    name: str
    total: int
    total_how: str
    share_15_59: float  # percent
    share_60: float  # percent
    share_65: float | None  # percent, None when not published
    shares_how: str


def shares(region_id: str) -> pd.Series:
    table = pd.read_csv(HERE.parent / "data" / "census2020_region_age_shares.csv").set_index("region_id")
    return table.loc[region_id]


def total(region_id: str) -> int:
    table = pd.read_csv(HERE.parent / "data" / "regions_pop60.csv").set_index("region_id")
    return int(table.loc[region_id, "pop_total"])


def specs() -> list[Spec]:
    """The four regions derived here, with every figure's origin."""
    zmd, tj, nmg, cn = shares("zhumadian"), shares("tianjin"), shares("neimenggu"), shares("china")
    return [
        Spec(
            "zhumadian",
            "驻马店市",
            total("zhumadian"),
            f"total {total('zhumadian'):,} (7th census, male 3,474,414 + female 3,534,013; {TOTALS})",
            float(zmd.share_15_59_pct),
            float(zmd.share_60plus_pct),
            None,
            f"Zhumadian's own 15-59 {zmd.share_15_59_pct}% and 60+ {zmd.share_60plus_pct}% (7th census via a "
            f"secondary article, rounded to 0.1 point, {SHARES}); its 65+ was not found, so China's split "
            "inside 60+ is used",
        ),
        Spec(
            "guiyang",
            "贵阳市",
            total("guiyang"),
            f"total {total('guiyang'):,} (7th census, Guizhou bulletin no. 2; {TOTALS})",
            float(cn.share_15_59_pct),
            14.0,
            None,
            "Guiyang's and Guizhou's age shares were not found: assumption 14% aged 60+ (below the national "
            f"18.70% because a growing provincial capital draws young migrants) and the national 15-59 share "
            f"{cn.share_15_59_pct}% ({SHARES}); China's split inside 60+",
        ),
        Spec(
            "ninghe",
            "天津市宁河区",
            total("ninghe"),
            f"total {total('ninghe'):,} (7th census, Tianjin district table via secondary sources; {TOTALS})",
            float(tj.share_15_59_pct),
            float(tj.share_60plus_pct),
            float(tj.share_65plus_pct),
            f"Ninghe's own age shares were not found: Tianjin's 15-59 {tj.share_15_59_pct}%, 60+ "
            f"{tj.share_60plus_pct}% and 65+ {tj.share_65plus_pct}% "
            f"(NBS bulletin no. 5 table 5-2, {SHARES}); "
            "an outer, semi-rural district is probably older than the municipality",
        ),
        Spec(
            "yuquan",
            "呼和浩特市玉泉区",
            400_000,
            "total assumed 400,000 (Yuquan's 7th-census count was not found: its boundary was redrawn and "
            "published separately, Hohhot bulletin no. 3; about 11.6% of Hohhot's 3,446,100, "
            f"{TOTALS})",
            float(nmg.share_15_59_pct),
            float(nmg.share_60plus_pct),
            float(nmg.share_65plus_pct),
            "Yuquan's and Hohhot's age shares were not found: "
            f"Inner Mongolia's 15-59 {nmg.share_15_59_pct}%, "
            f"60+ {nmg.share_60plus_pct}% and 65+ {nmg.share_65plus_pct}% (NBS bulletin no. 5 table 5-2, "
            f"{SHARES})",
        ),
    ]


def scaled(base: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """China's table scaled band by band to ``spec`` (module docstring), rows labelled."""
    p15_59 = round(spec.total * spec.share_15_59 / 100)
    p60 = round(spec.total * spec.share_60 / 100)
    lo = base["age_lower"]
    bands: list[tuple[pd.Series, float, str]] = [
        (
            lo < 60,
            p15_59 / CENSUS_15_59,
            f"{spec.name} 15-59 = {spec.share_15_59}% of the total = {p15_59:,}, over China's census 15-59 "
            f"{CENSUS_15_59:,}",
        ),
    ]
    if spec.share_65 is None:
        bands.append(
            (
                lo >= 60,
                p60 / base.loc[lo >= 60, "people"].sum(),
                f"{spec.name} 60+ = {spec.share_60}% of the total = {p60:,}, over China's 60+",
            )
        )
    else:
        p65 = round(spec.total * spec.share_65 / 100)
        in60_64 = (lo >= 60) & (lo < 65)
        bands += [
            (
                in60_64,
                (p60 - p65) / base.loc[in60_64, "people"].sum(),
                f"{spec.name} 60-64 = 60+ {p60:,} minus 65+ {p65:,} = {p60 - p65:,}, over China's 60-64",
            ),
            (
                lo >= 65,
                p65 / base.loc[lo >= 65, "people"].sum(),
                f"{spec.name} 65+ = {spec.share_65}% of the total = {p65:,}, over China's 65+",
            ),
        ]
    out = base.copy()
    for mask, factor, how in bands:
        # rounded on the running sum, so each band adds up to its target
        cum = (base.loc[mask, "people"] * factor).cumsum().round().astype(int)
        out.loc[mask, "people"] = cum.diff().fillna(cum.iloc[0]).astype(int)
        out.loc[mask, "source"] = (
            f"assumption: {PARENT} × {factor:.7f} = {how}; {spec.total_how}; {spec.shares_how}. "
            f"{spec.name}'s own table by age × sex was not found, so the parent's shape within each band "
            "and by sex is used"
        )
    out["people"] = out["people"].astype(int)
    return out


def derive() -> dict[str, pd.DataFrame]:
    base = pd.read_csv(HERE / "china_population.csv", keep_default_na=False)
    base["people"] = base["people"].astype(float)
    return {s.id: scaled(base, s) for s in specs()}


if __name__ == "__main__":
    for region_id, table in derive().items():
        table.to_csv(HERE / f"{region_id}_population.csv", index=False)
        old = table[table["age_lower"] >= 60]["people"].sum()
        print(f"{region_id}: 40-59 {table[table['age_lower'] < 60]['people'].sum():,.0f}, 60+ {old:,.0f}")
