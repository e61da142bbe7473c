"""The page's "谁受益、谁受损 / Who gains, who loses" section (issue 19 item 3): people, spending and
spending per head by a group the user picks, and against a reform (scheme B, or the file's own
values when levers are changed) who gains and who loses an entitlement, with a chart and its CSV.

Only drawing lives here: the numbers come from results.distribution (replayed from the run's
recorded bins) and report.who; the chosen grouping is page state (app.state.PageState.group_by).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from agingsim.app import runs
from agingsim.app.grid import show_table
from agingsim.app.state import PageState
from agingsim.report import tables
from agingsim.report.labels import Lang, column_label, fmt_number, label
from agingsim.report.who import group_gains, group_lines, group_spending, ordered, who_chart
from agingsim.results.distribution import DIMENSIONS, Incomparable, gains_losses

#: Gains and losses worked out for a pair of runs (A key, B key) → (table, compared bin by bin).
_GAINS: OrderedDict[tuple[str, str], tuple[pd.DataFrame, bool] | str] = OrderedDict()
_GAINS_KEPT = 8


def gains_of(a: runs.Run, b: runs.Run) -> tuple[pd.DataFrame, bool] | str:
    """A vs B per year, line and group (results.distribution.gains_losses), or the label key of why
    not; cached."""
    key = (a.key, b.key)
    if key not in _GAINS:
        ra, rb = a.result, b.result
        if ra.distribution_bins is None or rb.distribution_bins is None:
            found: tuple[pd.DataFrame, bool] | str = "who_no_record"
        else:
            try:
                found = gains_losses(ra.scenario, ra.distribution_bins, rb.scenario, rb.distribution_bins)
            except Incomparable as exc:
                found = f"who_gains_other_{exc.reason}"
        _GAINS[key] = found
        while len(_GAINS) > _GAINS_KEPT:
            _GAINS.popitem(last=False)
    return _GAINS[key]


def _names(run: runs.Run, by: str, lang: Lang) -> dict[str, str]:
    """Each group value of ``by`` in words (as the tables show it)."""
    dist = run.result.distribution()
    values = sorted(set(dist.people[by])) if dist is not None else []
    shown = tables.display(
        pd.DataFrame({by: values}), lang, counties=tables.region_names(run.result.scenario)
    )
    return dict(zip(values, shown.iloc[:, 0], strict=True)) if values else {}


def _formatted(table: pd.DataFrame, keys: list[str]) -> dict[str, Callable[[Any], str]]:
    def fmt(decimals: int) -> Callable[[Any], str]:
        return lambda v: fmt_number(v, decimals) if isinstance(v, int | float) else str(v)

    return {
        c: fmt(2 if c.endswith("_wan") or c.endswith("_month") else 0) for c in table.columns if c not in keys
    }


def section(
    run: runs.Run,
    reform: tuple[runs.Run, runs.Run, str, str] | None,
    state: PageState,
    lang: Lang,
    display: Callable[[runs.Run, pd.DataFrame, Lang], pd.DataFrame],
    show_chart: Callable[..., None],
) -> None:
    """The group selector, the group table and its chart, and, with ``reform`` (A run, B run, A's
    name, B's name), who gains and who loses."""
    from agingsim.report.key_charts import Chart

    dist = run.result.distribution()
    if dist is None or dist.people.empty:
        st.info(label("who_no_record", lang))
        return
    if state.group_by not in DIMENSIONS:
        state.group_by = DIMENSIONS[0]
    state.group_by = st.radio(
        label("who_by", lang),
        list(DIMENSIONS),
        index=DIMENSIONS.index(state.group_by),
        format_func=lambda v: column_label(v, lang),
        horizontal=True,
        key=f"who_by|{lang}",
    )
    by = state.group_by
    counties = [c.id for c in run.result.scenario.region.counties]
    table = ordered(group_spending(dist.people, dist.payments, by), by, counties)
    st.caption(label("who_dist_note", lang))
    st.markdown(f"**{label('who_dist_title', lang, by=column_label(by, lang))}**")
    show_table(
        display(run, table, lang).style.format(
            {column_label(k, lang): f for k, f in _formatted(table, [by]).items()}
        ),
    )
    footer = run.results.footer(lang)
    names = _names(run, by, lang)
    chart = Chart(
        f"who_per_head_{by}",
        label("title_who_per_head", lang, by=column_label(by, lang)),
        partial(who_chart, table, by, lang, footer, names),
    )
    show_chart(run, chart, lang, scope=f"who-{by}")
    lines = group_lines(dist.payments, by, dist.people["year"].nunique())
    lines = ordered(lines, by, counties)
    st.markdown(f"**{label('who_lines_title', lang, by=column_label(by, lang))}**")
    show_table(
        display(run, lines, lang).style.format(
            {column_label(k, lang): f for k, f in _formatted(lines, [by, "line_item"]).items()}
        ),
    )
    if reform is None:
        st.caption(label("who_gains_pick", lang))
        return
    a, b, a_name, b_name = reform
    st.markdown(f"**{label('who_gains_title', lang, a=a_name, b=b_name)}**")
    found = gains_of(a, b)
    if isinstance(found, str):
        st.warning(label("who_gains_unavailable", lang, why=label(found, lang)))
        return
    gains, by_bin = found
    dist_a = a.result.distribution()
    table = ordered(group_gains(gains, dist_a.people, by), by, counties)
    if table.empty:
        st.success(label("who_gains_none", lang))
        return
    st.caption(label("who_gains_note_bins" if by_bin else "who_gains_note_groups", lang))
    show_table(
        display(b, table, lang).style.format(
            {column_label(k, lang): f for k, f in _formatted(table, [by, "line_item"]).items()}
        ),
    )
    chart = Chart(
        f"who_gains_{by}",
        label("title_who_gains", lang, by=column_label(by, lang)),
        partial(who_chart, table, by, lang, footer, names, table),
        data=table,
    )
    show_chart(run, chart, lang, scope=f"who-gains-{a.key}-{b.key}-{by}")
