"""Who gains, who loses (issue 19 item 3): the distributional tables and their chart, over the whole
horizon, cut by one group dimension (county, age band, ability level, economic status, residence).

Built from results.distribution's yearly tables; people are monthly means averaged over the years,
spending is summed over the horizon, so a table's spending adds up to the ledger's person-level
lines (monthly ones by their bins, one-off ones by the people paid).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from agingsim.fiscal.ledger import WAN
from agingsim.population.attributes import ABILITY_LEVELS, ECON_STATUSES, RESIDENCES
from agingsim.report.charts import _figure, _legend_below, _shade_at, _thousands, _wrap
from agingsim.report.labels import Lang, ability_label, column_label, econ_label, label, residence_label
from agingsim.results.distribution import AGE_BANDS, DIMENSIONS

#: The natural order of each dimension's values (counties keep the region's order).
ORDER: dict[str, tuple[str, ...]] = {
    "age_band": AGE_BANDS,
    "ability_level": ABILITY_LEVELS,
    "econ_status": ECON_STATUSES,
    "residence": RESIDENCES,
}
#: distribution.csv: every dimension's table stacked, over the horizon
DISTRIBUTION_CSV = "distribution.csv"


def ordered(frame: pd.DataFrame, by: str, counties: list[str] | None = None) -> pd.DataFrame:
    order = list(ORDER.get(by, ())) or list(counties or [])
    if order:
        rank = {v: i for i, v in enumerate(order)}
        frame = frame.sort_values(by, key=lambda s: s.map(lambda v: rank.get(v, len(rank))), kind="stable")
    return frame.reset_index(drop=True)


def group_spending(people: pd.DataFrame, payments: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group: people 60+ (yearly average), spending over the horizon (万元) and spending per
    person 60+ per year (CNY). ``spending_wan`` sums to the ledger's for the lines covered."""
    years = max(people["year"].nunique(), 1)
    heads = people.groupby(by)["people"].sum() / years
    spent = payments.groupby(by)["spending_cny"].sum() if len(payments) else pd.Series(dtype=float)
    out = pd.DataFrame({by: heads.index, "people": heads.to_numpy()})
    out["spending_wan"] = [float(spent.get(g, 0.0)) / WAN for g in out[by]]
    out["spending_per_person_cny"] = (
        out["spending_wan"] * WAN / years / out["people"].where(out["people"] > 0)
    )
    return out


def group_lines(payments: pd.DataFrame, by: str, years: int) -> pd.DataFrame:
    """Per group and line item: people entitled and paid for (monthly means over the horizon) and
    spending over the horizon (万元)."""
    if payments.empty:
        return pd.DataFrame(columns=[by, "line_item", "entitled", "served", "spending_wan"])
    g = payments.groupby([by, "line_item"])[["entitled", "served", "spending_cny"]].sum().reset_index()
    g[["entitled", "served"]] = g[["entitled", "served"]] / max(years, 1)
    g["spending_wan"] = g.pop("spending_cny") / WAN
    return g


def group_gains(gains: pd.DataFrame, people_a: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group and line item, A vs B: people entitled under each, people who lose and who gain the
    entitlement (monthly means over the horizon) and the change in the average monthly payment per
    person 60+ of the group (CNY, B − A)."""
    cols = [
        by,
        "line_item",
        "entitled_a",
        "entitled_b",
        "losing",
        "gaining",
        "payment_change_cny_per_head_month",
    ]
    if gains.empty:
        return pd.DataFrame(columns=cols)
    years = max(gains["year"].nunique(), 1)
    g = gains.groupby([by, "line_item"])[
        ["entitled_a", "entitled_b", "losing", "gaining", "spending_a_cny", "spending_b_cny"]
    ].sum()
    g[["entitled_a", "entitled_b", "losing", "gaining"]] /= years
    person_months = people_a.groupby(by)["people"].sum() * 12
    heads = g.index.get_level_values(0).map(lambda v: float(person_months.get(v, 0.0)))
    change = (g["spending_b_cny"] - g["spending_a_cny"]).to_numpy()
    g["payment_change_cny_per_head_month"] = [
        c / h if h > 0 else float("nan") for c, h in zip(change, heads, strict=True)
    ]
    out = g.reset_index()
    moved = (
        (out["losing"] > 0)
        | (out["gaining"] > 0)
        | (out["entitled_a"] != out["entitled_b"])
        | (out["spending_a_cny"] != out["spending_b_cny"])
    )
    return out.loc[moved, cols].reset_index(drop=True)


def distribution_csv(people: pd.DataFrame, payments: pd.DataFrame, counties: list[str]) -> pd.DataFrame:
    """distribution.csv: the group table of every dimension, stacked (``dimension, group, people,
    spending_wan, spending_per_person_cny``), each dimension's spending summing to the same total."""
    parts = []
    for dim in DIMENSIONS:
        t = ordered(group_spending(people, payments, dim), dim, counties).rename(columns={dim: "group"})
        t.insert(0, "dimension", dim)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def who_chart(
    table: pd.DataFrame,
    by: str,
    lang: Lang,
    footer: str,
    names: Mapping[str, str],
    gains: pd.DataFrame | None = None,
) -> Figure:
    """Spending per person 60+ per year by group; with ``gains`` (group_gains), people losing
    (hatched, below zero) and gaining an entitlement by group instead, all line items together."""
    fig, (ax,) = _figure(footer)
    dark, light = _shade_at(0.15), _shade_at(0.8)
    if gains is None:
        x = range(len(table))
        ax.bar(x, table["spending_per_person_cny"].fillna(0.0), width=0.7, color=dark)
        ax.set_ylabel(column_label("spending_per_person_cny", lang))
        ax.set_title(label("title_who_per_head", lang, by=column_label(by, lang)), fontsize=13, loc="left")
        groups = list(table[by])
    else:
        g = gains.groupby(by, sort=False)[["losing", "gaining"]].sum()
        groups = list(g.index)
        x = range(len(g))
        ax.bar(x, g["gaining"], width=0.7, color=dark, label=label("legend_gaining", lang))
        ax.bar(
            x,
            -g["losing"],
            width=0.7,
            facecolor=light,
            hatch="///",
            edgecolor="#222222",
            linewidth=0.4,
            label=label("legend_losing", lang),
        )
        ax.axhline(0, color="#333333", linewidth=0.8)
        ax.set_ylabel(label("axis_people", lang))
        ax.set_title(label("title_who_gains", lang, by=column_label(by, lang)), fontsize=13, loc="left")
        _legend_below(
            ax,
            handles=[
                Patch(facecolor=dark, label=label("legend_gaining", lang)),
                Patch(facecolor=light, hatch="///", edgecolor="#222222", label=label("legend_losing", lang)),
            ],
        )
    ax.set_xticks(list(x), [_wrap(str(names.get(v, v)), 10) for v in groups], fontsize=8)
    ax.yaxis.set_major_formatter(_thousands())
    return fig


def who_sheet(results: Any, lang: Lang) -> Any:
    """The workbook's sheet of distribution.csv (a run that recorded its groups), in words; None
    without it. Each dimension's spending adds up to the same total."""
    from agingsim.report.workbook import FMT_PEOPLE, FMT_WAN, Sheet

    table = results.frame(DISTRIBUTION_CSV) if results.kind == "run" else None
    if table is None or table.empty:
        return None
    shown = {
        "county": lambda v: v,
        "age_band": lambda v: v,
        "ability_level": lambda v: ability_label(v, lang),
        "econ_status": lambda v: econ_label(v, lang),
        "residence": lambda v: residence_label(v, lang),
    }
    rows = [
        [
            column_label(r.dimension, lang),
            shown.get(r.dimension, lambda v: v)(r.group),
            float(r.people),
            float(r.spending_wan),
            None if pd.isna(r.spending_per_person_cny) else float(r.spending_per_person_cny),
        ]
        for r in table.itertuples()
    ]
    return Sheet(
        label("sheet_who", lang),
        [
            column_label(c, lang)
            for c in ("dimension", "group", "people", "spending_wan", "spending_per_person_cny")
        ],
        rows,
        [None, None, FMT_PEOPLE, FMT_WAN, FMT_WAN],
        [12, 30, 16, 22, 22],
    )
