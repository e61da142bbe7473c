"""The headline of a run: the cards (with the change from the file's own values), the list of
changed levers and B − A by payer level per year; and how any chart is shown with its downloads.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from agingsim.app import figures, runs, sources
from agingsim.app.grid import show_table
from agingsim.app.levers import (
    all_levers,
    find_levers,
    lever_id,
)
from agingsim.app.running import run_with_status
from agingsim.app.session import page_state
from agingsim.app.sidebar import shown_value
from agingsim.app.state import PageState
from agingsim.errors import ScenarioError
from agingsim.report.data import (
    line_item_difference,
    payer_difference_by_year,
    window_subtotal,
)
from agingsim.report.labels import (
    Lang,
    fmt_money,
    fmt_number,
    label,
    payer_label,
    period_label,
)

if TYPE_CHECKING:  # matplotlib comes with the first chart, after the first card is on the page
    from agingsim.report.key_charts import Chart


#: Cards whose numbers wrap instead of being cut off with "…" on a narrow screen.
CARD_CSS = """<style>
[data-testid="stMetricValue"], [data-testid="stMetricValue"] *,
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere; }
[data-testid="stMetricValue"] { font-size: clamp(1.2rem, 2.1vw, 2.1rem); }
</style>"""


def draw_cards(run: runs.Run, lang: Lang, base: runs.Run | None = None) -> None:
    """The headline cards; with ``base`` (the file's own values) each shows its change under it."""
    result = run.result
    sc = result.scenario
    name = sc.file.scenario.name_en or sc.name if lang == "en" else sc.name
    region = sc.region.name_en or sc.region.name if lang == "en" else sc.region.name
    first, last = figures.fiscal_years(result)
    st.subheader(name)
    st.caption(
        f"{region} · {period_label(first, last, lang)} · "
        f"{label('h_seed', lang)} {sc.run.seed} · {label('lever_sim_people', lang)} "
        f"{fmt_number(sc.run.simulated_people)}"
    )
    st.markdown(CARD_CSS, unsafe_allow_html=True)
    cards = figures.cards(result, lang)
    deltas = figures.deltas(cards, figures.cards(base.result, lang), lang) if base is not None else {}
    for col, card in zip(st.columns(len(cards)), cards, strict=True):
        delta = deltas.get(card.id)
        col.metric(
            card.title,
            card.value,
            delta=delta.text if delta else None,
            delta_color=delta.colour if delta else "normal",
            border=True,
            help=card.note or None,
        )
        if card.note:
            col.caption(card.note)
    if result.ledger.empty:
        st.info(label("app_no_policy", lang))


def baseline_run(source: sources.Source, state: PageState, lang: Lang, status: Any) -> runs.Run | None:
    """The file's own values on the same simulated people and seed: what every changed run is
    compared with (None when nothing is changed or the file alone does not load)."""
    if not state.changed(source.id):
        return None
    full = source.raw.get("run", {}).get("simulated_people")
    full = full.get("value") if isinstance(full, dict) else full
    people = state.people.get(source.id)
    try:
        scenario = sources.load(
            source,
            {},
            workdir=st.session_state["workdir"],
            simulated_people=people if people != full else None,
        )
    except ScenarioError:
        return None
    return run_with_status(scenario, lang, status, quiet=True)


def what_changed(run: runs.Run, base: runs.Run, source: sources.Source, state: PageState, lang: Lang) -> None:
    """Changed levers old → new, B − A by payer per year, the waterfall by line item, present value."""
    with st.expander(label("changed_title", lang), expanded=True):
        st.caption(label("changed_note", lang))
        levers = {lever_id(lev): lev for lev in all_levers(find_levers(source.raw))}
        lines = [
            f"- {levers[k].title(lang)}: {shown_value(levers[k].default)} → {shown_value(v)}"
            for k, v in state.changed(source.id).items()
            if k in levers
        ]
        st.markdown("\n".join(lines))
        ha, hb = base.result.headline(), run.result.headline()
        if "cost_total_wan" not in hb and "cost_total_wan" not in ha:
            return
        total = hb.get("cost_total_wan", 0.0) - ha.get("cost_total_wan", 0.0)
        pv = hb.get("cost_present_value_wan", 0.0) - ha.get("cost_present_value_wan", 0.0)
        st.markdown(
            f"**{label('changed_total', lang, total=fmt_money(total, lang), pv=fmt_money(pv, lang))}**"
        )
        payer_years(base.result, run.result, lang)
        diffs = line_item_difference(base.result.ledger, run.result.ledger)
        if diffs["b_minus_a_wan"].abs().sum() > 0:
            from agingsim.report import charts as report_charts
            from agingsim.report.key_charts import Chart

            footer = run.results.footer(lang)
            names = run.results.line_item_names
            draw = partial(report_charts.waterfall, diffs, lang, footer, names)
            chart = Chart("waterfall", label("title_waterfall", lang), draw)
            show_chart(run, chart, lang, scope=f"vs-{base.key}")


def payer_years(a: Any, b: Any, lang: Lang) -> None:
    """B − A by payer level per fiscal year (two RunResults), with the budget window's subtotal
    (from the year the cards budget for, figures.card_year, to the end) and the whole period's."""
    by_payer = payer_difference_by_year(a.ledger, b.ledger)
    if by_payer.empty:
        return
    first, last = int(by_payer.index.min()), int(by_payer.index.max())
    window = figures.card_year(b)
    rows = [by_payer]
    if window > first:  # from the first year, the window is the whole period
        rows.append(window_subtotal(by_payer, window).to_frame(f"window|{window}").T)
    rows.append(by_payer.sum().to_frame("total").T)
    table = pd.concat(rows)
    table.columns = [
        label("legend_total", lang) if c == "total" else payer_label(c, lang) for c in table.columns
    ]
    table.index = [
        label("fiscal_year", lang, year=int(y))
        if not isinstance(y, str)
        else label("table_window_subtotal", lang, first=window, last=last)
        if y.startswith("window|")
        else label("table_period_total", lang)
        for y in table.index
    ]
    st.markdown(f"**{label('table_diff_by_payer', lang)}**")
    show_table(table.style.format("{:,.2f}"), hide_index=None)


def show_chart(run: runs.Run, chart: Chart, lang: Lang, scope: str = "") -> None:
    """The chart as drawn by the report module, with its PNG (300 dpi) and SVG downloads and the
    table it is drawn from as CSV (UTF-8 with a BOM, as ``agingsim report`` writes it)."""
    st.image(run.screen_png(chart, lang, scope), width="stretch")
    left, right, table, _ = st.columns([1, 1, 1, 3])
    left.download_button(
        "PNG 300 dpi",
        partial(run.chart_file, chart, "png"),
        file_name=f"{chart.id}.png",
        mime="image/png",
        key=f"png|{scope}|{chart.id}",
        on_click="ignore",
    )
    right.download_button(
        "SVG",
        partial(run.chart_file, chart, "svg"),
        file_name=f"{chart.id}.svg",
        mime="image/svg+xml",
        key=f"svg|{scope}|{chart.id}",
        on_click="ignore",
    )
    if chart.data is not None:
        table.download_button(
            "CSV",
            chart.csv(page_state().chinese_headers()),
            file_name=f"{chart.id}.csv",
            mime="text/csv",
            key=f"csv|{scope}|{chart.id}",
            on_click="ignore",
        )
