"""The headline numbers the page shows, computed from a run as plain values (testable without a page).

Money is in 万元 with thousands separators and years are fiscal years (China's fiscal year is the
calendar year). Figures the behaviour model adds (people in need served, coverage, capacity, groups)
are used when a run has them; until then the cards say what they show instead (people paid for).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from agingsim.compare import yearly_figures
from agingsim.fiscal.ledger import WAN
from agingsim.report.labels import Lang, fiscal_period, fmt_money, fmt_number, label, payer_label
from agingsim.simulate import RunResult

PAYER_ORDER = ("province", "city", "county")
#: Headline keys the behaviour model may give for people in need served and cost per person served.
SERVED_KEYS = ("needing_care_served_last",)
COST_PER_SERVED_KEYS = ("cost_per_person_year_served_cny",)


@dataclass(frozen=True)
class Card:
    """One headline card: what, the number as shown, and a line under it."""

    id: str
    title: str
    value: str
    note: str = ""
    number: float | None = None


def fiscal_years(result: RunResult) -> tuple[int, int]:
    """The run's fiscal years, both ends included (labels.fiscal_period: one convention everywhere)."""
    run = result.scenario.run
    return fiscal_period(run.start_year, run.years)


def card_year(result: RunResult, today: dt.date | None = None) -> int:
    """The next fiscal year (the one a budget is being drawn up for), within the run's years."""
    first, last = fiscal_years(result)
    return min(max((today or dt.date.today()).year + 1, first), last)


def cost_by_payer(result: RunResult, year: int | None = None) -> dict[str, float]:
    """万元 by payer level, for one fiscal year or the whole horizon, in province-city-county order."""
    led = result.ledger
    if led.empty:
        return {}
    if year is not None:
        led = led[led["year"] == year]
    sums = led.groupby("payer_level")["amount_cny"].sum() / WAN
    return {
        lv: float(sums[lv])
        for lv in [*PAYER_ORDER, *sorted(set(sums.index) - set(PAYER_ORDER))]
        if lv in sums
    }


def _first(h: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for k in keys:
        if isinstance(h.get(k), int | float):
            return float(h[k])
    return None


def served(result: RunResult) -> tuple[float | None, float | None, bool]:
    """(people served, cost per person-year served in CNY, whether these are people in need).

    From the behaviour model's headline when the run has coverage (people needing care served by a
    formal setting in the last year); otherwise people paid for by any scheme (beneficiaries per
    month, averaged over the years) and cost per person-year paid for.
    """
    h = result.headline()
    people, cost = _first(h, SERVED_KEYS), _first(h, COST_PER_SERVED_KEYS)
    if people is not None:
        return people, cost, True
    if result.ledger.empty:
        return None, None, False
    yearly = yearly_figures(result)
    per_month = yearly["people_served_per_month"]
    total = float(result.ledger["amount_cny"].sum())
    person_years = float(per_month.sum())
    return float(per_month.mean()), (total / person_years if person_years > 0 else None), False


def cards(result: RunResult, lang: Lang, today: dt.date | None = None) -> list[Card]:
    """Total cost over the horizon, next fiscal year's cost by payer, people served, cost per person."""
    h = result.headline()
    first, last = fiscal_years(result)
    people_unit = label("unit_people", lang)
    sep = "，" if lang == "zh" else ", "
    out: list[Card] = []
    if "cost_total_wan" in h:
        by_payer = cost_by_payer(result)
        # each amount with its unit, the card figure's (亿元 or 万元), so the parts visibly add up to
        # it: bare numbers in 万元 under a figure in 亿元 read as ten thousand times too large
        total = float(h["cost_total_wan"])
        parts = [f"{payer_label(k, lang)} {fmt_money(v, lang, like=total)}" for k, v in by_payer.items()]
        if isinstance(pv := h.get("cost_present_value_wan"), int | float):
            parts.append(label("card_pv", lang, value=fmt_money(pv, lang, like=total)))
        out.append(
            Card(
                "total",
                label("card_total", lang, first=first, last=last),
                fmt_money(h["cost_total_wan"], lang),
                sep.join(parts),
                float(h["cost_total_wan"]),
            )
        )
        year = card_year(result, today)
        year_payer = cost_by_payer(result, year)
        total_year = sum(year_payer.values())
        yp = year_payer.items()
        out.append(
            Card(
                "year",
                label("card_year", lang, year=year),
                fmt_money(total_year, lang),
                sep.join(f"{payer_label(k, lang)} {fmt_money(v, lang, like=total_year)}" for k, v in yp),
                total_year,
            )
        )
        people, cost, in_need = served(result)
        if people is not None:
            share = h.get("needing_care_served_share_last")
            note = label("card_served_share", lang, share=f"{100 * share:.1f}%") if in_need and share else ""
            out.append(
                Card(
                    "served",
                    label("card_served", lang, year=last) if in_need else label("card_paid_for", lang),
                    f"{fmt_number(people)} {people_unit}",
                    note,
                    people,
                )
            )
        if cost is not None:
            out.append(
                Card(
                    "cost_per_person",
                    label("card_cost_per_person" if in_need else "card_cost_per_paid", lang),
                    f"{fmt_number(cost)} {label('unit_cny_per_person_year', lang)}",
                    "",
                    cost,
                )
            )
    else:
        out.append(
            Card(
                "people",
                label("card_people", lang, year=last),
                f"{fmt_number(h['people_60plus_last'])} {people_unit}",
                label("card_people_first", lang, year=first, value=fmt_number(h["people_60plus_first"])),
                float(h["people_60plus_last"]),
            )
        )
        out.append(
            Card(
                "need",
                label("card_need", lang, year=last),
                f"{fmt_number(h['needing_care_last'])} {people_unit}",
                label("card_people_first", lang, year=first, value=fmt_number(h["needing_care_first"])),
                float(h["needing_care_last"]),
            )
        )
    return out


#: Cards where less is better (spending): their change is green when it falls.
LOWER_IS_BETTER = ("total", "year", "cost_per_person")


@dataclass(frozen=True)
class Delta:
    """A card's change against another run of the same card (B − A), as shown under its value."""

    text: str
    colour: str  # st.metric delta_color: "normal" (up is green), "inverse" (down is green), "off"


def deltas(now: list[Card], before: list[Card], lang: Lang) -> dict[str, Delta]:
    """Each card's change from ``before`` (the file's own values) to ``now``, by card id."""
    old = {c.id: c for c in before}
    out: dict[str, Delta] = {}
    for card in now:
        prev = old.get(card.id)
        if prev is None or card.number is None or prev.number is None:
            continue
        diff = card.number - prev.number
        text = fmt_money(diff, lang) if card.id in ("total", "year") else fmt_number(diff)
        if abs(diff) < 0.005:
            out[card.id] = Delta(label("delta_none", lang), "off")
            continue
        sign = "+" if diff > 0 else ""
        out[card.id] = Delta(sign + text, "inverse" if card.id in LOWER_IS_BETTER else "normal")
    return out


def payer_table(result: RunResult, lang: Lang) -> pd.DataFrame:
    """Fiscal year × payer level in 万元 (with the total), labelled for the page."""
    led = result.ledger
    if led.empty:
        return pd.DataFrame()
    wide = led.pivot_table(index="year", columns="payer_level", values="amount_cny", aggfunc="sum") / WAN
    wide = wide.reindex(columns=[c for c in [*PAYER_ORDER, *wide.columns] if c in wide.columns]).loc[
        :, lambda d: ~d.columns.duplicated()
    ]
    wide = wide.fillna(0.0)
    wide[label("legend_total", lang)] = wide.sum(axis=1)
    wide.columns = [payer_label(c, lang) for c in wide.columns]
    wide.index = [label("fiscal_year", lang, year=int(y)) for y in wide.index]
    return wide


def groups_table(result: RunResult, lang: Lang) -> pd.DataFrame:
    """Eligible groups served, with output column names (the page shows it through
    report.tables.display): groups.csv from the behaviour model if the run has it, else the people
    each scheme's groups were paid for (ledger beneficiaries, monthly average per fiscal year)."""
    groups = getattr(result, "groups_served", None)
    if isinstance(groups, pd.DataFrame) and not groups.empty:
        return groups.copy()
    led = result.ledger
    if led.empty:
        return pd.DataFrame()
    one_payer = led.groupby(["line_item", "rule", "year", "month", "county"])["beneficiaries"].first()
    monthly = one_payer.groupby(["line_item", "rule", "year", "month"]).sum()
    yearly = monthly.groupby(["line_item", "rule", "year"]).mean().unstack("year").fillna(0.0)
    yearly.columns = [label("fiscal_year", lang, year=int(y)) for y in yearly.columns]
    yearly.index.names = ["scheme", "group"]
    return yearly.reset_index()
