"""The page's views (costs, coverage, capacity, service circle, groups, who gains, population,
comparison, downloads, assumptions): each lays out the tables and charts of one run.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from agingsim.app import downloads, figures, runs, sources
from agingsim.app.grid import show_table
from agingsim.app.results import payer_years, show_chart
from agingsim.app.session import page_state
from agingsim.app.sidebar import all_sources, source_title
from agingsim.app.state import REPLICATIONS, PageState, widget_key
from agingsim.compare import SHARES
from agingsim.report import tables
from agingsim.report.data import (
    compare_measures,
    scorecard_headers,
    scorecard_rows,
    spending_by_county,
    spending_by_group,
)
from agingsim.report.labels import (
    BETTER,
    Lang,
    column_label,
    fmt_number,
    label,
    provenance_label,
)
from agingsim.report.notes_zh import assumption_note
from agingsim.schemes.person import person_line_items

if TYPE_CHECKING:  # matplotlib comes with the first chart, after the first card is on the page
    from pandas.io.formats.style import Styler

    from agingsim.report.key_charts import Chart


def _charts(run: runs.Run, lang: Lang) -> dict[str, Chart]:
    charts, _ = run.charts(lang)
    return {c.id: c for c in charts}


def _scorecard(run: runs.Run, lang: Lang) -> None:
    """The policy targets the run is scored against (targets.csv in its folder), when it has them."""
    scorecard = scorecard_rows(run.results, lang)
    if scorecard:
        st.markdown(f"**{label('deck_scorecard', lang)}**")
        table = pd.DataFrame(scorecard, columns=scorecard_headers(lang))
        show_table(table)


def view_costs(state: PageState, run: runs.Run, lang: Lang) -> None:
    charts = _charts(run, lang)
    _scorecard(run, lang)
    if "cost_by_payer" not in charts:  # no policy: the population projection is the answer
        view_population(run, lang)
        return
    show_chart(run, charts["cost_by_payer"], lang)
    st.markdown(f"**{label('table_by_payer', lang)}**")
    show_table(figures.payer_table(run.result, lang).style.format("{:,.2f}"), hide_index=None)
    show_chart(run, charts["cost_by_line_item"], lang)
    _bands(state, run, lang)


def _bands(state: PageState, run: runs.Run, lang: Lang) -> None:
    """Uncertainty bands: opt-in replications (each is a full run), drawn as the report's fan charts.
    The count is the page state's (per scenario, in the address), so another view, a reload or a
    link shows the same bands; the widget only shows it (app.state)."""
    n = _replications_input(state, lang, "replications")
    if n <= 1:
        st.caption(label("app_bands_none", lang))
        return
    bar = st.progress(0.0, text=label("app_replicating", lang, n=n))
    found = runs.bands(run, int(n), on_done=lambda r: bar.progress(min((r + 1) / n, 1.0)))
    bar.empty()
    if found is None:
        st.caption(label("app_bands_none", lang))
        return
    from agingsim.report import charts as report_charts
    from agingsim.report.key_charts import Chart

    footer = run.results.footer(lang)
    for measure, what, unit in (
        ("cost_total_wan", "h_cost_total", "axis_cost_wan"),
        ("needing_care", "card_need_short", "axis_people"),
        ("needing_care_served", "card_served_short", "axis_people"),
    ):
        frame = found[measure]
        if frame.empty or frame["p95"].abs().sum() == 0:
            continue
        draw = partial(report_charts.fan_chart, frame, lang, footer, label(what, lang), label(unit, lang))
        show_chart(run, Chart(f"band_{measure}_{n}", label(what, lang), draw), lang)


def _replications_input(state: PageState, lang: Lang, where: str) -> int:
    """The scenario's replications for uncertainty (page state, per scenario, in the address as
    k=): one setting for the spending view's bands and the A-vs-B interval, so neither view shows
    a count the other has changed; the widget only shows it (app.state)."""
    low, high = REPLICATIONS
    source = state.scenario
    shown = min(max(state.replications.get(source, low), low), high)
    key = widget_key(state, where, source)
    n = int(st.number_input(label("app_replications", lang), low, high, shown, 1, key=key))
    if n > low:
        state.replications[source] = n
    else:
        state.replications.pop(source, None)
    return n


def _difference_interval(state: PageState, comparison: runs.Comparison, lang: Lang) -> None:
    """B − A with its 90% interval over paired replications (``agingsim compare --replications``),
    below the single comparison at the central values."""
    from agingsim.report.data import interval_measures

    n = _replications_input(state, lang, "replications_compare")
    if n <= 1:
        st.caption(label("app_interval_none", lang))
        return
    bar = st.progress(0.0, text=label("app_replicating", lang, n=n))
    done = [0]

    def step() -> None:
        done[0] += 1
        bar.progress(min(done[0] / (2 * n), 1.0))

    results = runs.difference(comparison, n, on_done=step)
    bar.empty()
    st.markdown(f"**{label('app_interval_title', lang, n=n)}**")
    show_table(interval_table(interval_measures(results, lang), lang))
    st.caption(label("app_interval_note", lang, n=n))


def interval_table(rows: list[tuple[str, str, list[float], str]], lang: Lang) -> Styler:
    """The interval rows (report.data.interval_measures) as shown: B − A's median and 5th–95th
    percentile, the relative median, and whether the interval excludes zero; shares in points."""
    heads = [label(k, lang) for k in ("col_measure", "col_diff_p50", "col_diff_p05", "col_diff_p95")]
    heads += [label("col_rel_p50", lang), label("col_verdict", lang)]
    table = pd.DataFrame(
        [[words, v[3], v[2], v[4], v[6], verdict] for _, words, v, verdict in rows], columns=heads
    )
    numbers = heads[1:4]
    styled = table.style.format({c: "{:+,.2f}" for c in numbers}, na_rep=tables.MISSING).format(
        "{:+.1%}", subset=[heads[4]], na_rep=tables.MISSING
    )
    shares = [i for i, r in enumerate(rows) if r[0] in SHARES]
    if shares:
        styled = styled.format(
            lambda v: label("points", lang, d=f"{100 * v:+.1f}"), subset=pd.IndexSlice[shares, numbers],
            na_rep=tables.MISSING,
        )  # fmt: skip
    return styled


def view_coverage(run: runs.Run, lang: Lang) -> None:
    charts = _charts(run, lang)
    if "coverage_by_setting" in charts:
        show_chart(run, charts["coverage_by_setting"], lang)
    else:
        st.info(label("app_pending", lang, file="coverage.csv"))


def view_capacity(run: runs.Run, lang: Lang) -> None:
    from agingsim.report import charts as report_charts
    from agingsim.report.key_charts import Chart

    charts = _charts(run, lang)
    chart = charts.get("beds_occupancy_waits")
    capacity = run.results.frame("capacity.csv")
    if chart is None and capacity is not None and set(report_charts.BEDS_COLUMNS) <= set(capacity.columns):
        draw = partial(report_charts.beds_occupancy_waits, capacity, lang, run.results.footer(lang))
        chart = Chart("beds_occupancy_waits", label("title_beds", lang), draw)
    if chart is None:
        st.info(label("app_pending", lang, file="capacity.csv"))
        return
    show_chart(run, chart, lang)
    waiting = run.results.frame("waiting.csv")
    if waiting is not None:
        show_table(_display(run, waiting, lang))


def _display(run: runs.Run, frame: pd.DataFrame, lang: Lang, numbers: bool = False) -> pd.DataFrame:
    """An output table in words: names for codes, headers from the label table, no None (with
    ``numbers``, numeric columns keep NaN for a Styler to show as a dash: tables.display)."""
    sc = run.result.scenario
    return tables.display(
        frame,
        lang,
        counties=tables.region_names(sc),
        line_items=run.results.line_item_names,
        groups=tables.group_names(sc),
        numbers=numbers,
    )


def view_groups(run: runs.Run, lang: Lang) -> None:
    table = figures.groups_table(run.result, lang)
    if table.empty:
        st.info(label("app_no_policy", lang))
        return
    if getattr(run.result, "groups_served", None) is None:
        st.caption(label("card_paid_for", lang))
    show_table(_display(run, table, lang))


def view_who(
    base: runs.Run | None, comparison: runs.Comparison | None, state: PageState, run: runs.Run, lang: Lang
) -> None:
    """Who gains, who loses: people and spending by group, and who gains or loses an entitlement
    against scheme B or the file's own values (app.who); then spending by county of residence and by
    eligible group (each sums to the total), with the change against the file's own values."""
    led = run.result.ledger
    if led.empty:
        st.info(label("app_no_policy", lang))
        return
    from agingsim.app import who

    reform = None
    if comparison is not None:
        names = [_scenario_name(r, lang) for r in (comparison.a, comparison.b)]
        reform = (comparison.a, comparison.b, names[0], names[1])
    elif base is not None:
        reform = (base, run, label("who_file_values", lang), label("who_your_changes", lang))
    _record_groups([run, *(reform[:2] if reform else ())], lang)
    who.section(run, reform, state, lang, _display, show_chart)
    st.caption(label("who_note", lang))
    for title, table, keys in (
        ("who_county", spending_by_county(led, run.result.population, _person_lines(run)), ["county"]),
        ("who_group", spending_by_group(led, _person_lines(run)), ["line_item", "rule"]),
    ):
        if base is not None and not base.result.ledger.empty:
            before = (
                spending_by_county(base.result.ledger, base.result.population, _person_lines(base))
                if keys == ["county"]
                else spending_by_group(base.result.ledger, _person_lines(base))
            )
            merged = table.merge(before[[*keys, "spending_wan"]], on=keys, how="outer", suffixes=("", "_a"))
            merged = merged.fillna({"spending_wan": 0.0, "spending_wan_a": 0.0})
            merged.insert(
                len(keys) + 1, "spending_change_wan", merged["spending_wan"] - merged.pop("spending_wan_a")
            )
            table = merged
        st.markdown(f"**{label(title, lang)}**")
        fmt = {
            column_label(c, lang): partial(_number_text, decimals=2 if c.endswith("_wan") else 0)
            for c in table.columns
            if c not in keys
        }
        # numeric columns stay numbers (a scheme switched off leaves NaN, a dash on screen): a
        # column of numbers and "—" is not one Arrow type
        shown = _display(run, table, lang, numbers=True).style.format(fmt, na_rep=tables.MISSING)
        show_table(shown)


def _person_lines(run: runs.Run) -> frozenset[str]:
    return person_line_items(run.result.scenario.file.policy)


def _record_groups(needed: list[runs.Run], lang: Lang) -> None:
    """Runs made without their bins by group (runs.RunCache.run: recorded only on this view) get
    them now, with a note while the extra run goes (one per set of simulated people and care)."""
    missing = [r for r in needed if not r.grouped]
    if not missing:
        return
    with st.spinner(label("who_recording", lang)):
        for r in missing:
            r.with_groups()


def _scenario_name(run: runs.Run, lang: Lang) -> str:
    sc = run.result.scenario
    return (sc.file.scenario.name_en or sc.name) if lang == "en" else sc.name


def _number_text(v: Any, decimals: int) -> str:
    return fmt_number(v, decimals) if isinstance(v, int | float) else str(v)


def view_circle(state: PageState, run: runs.Run, lang: Lang) -> None:
    """The 15-minute service circle (issue 8) in a year of the run: the map and the shares within
    reach. The year is the page state's (per scenario, in the address), so another view, a reload or
    a link shows the same map; one the run does not cover (a shorter run, an edited link) shows the last."""
    from agingsim.geo.coverage import coverage_by_community, coverage_summary

    g = run.result.scenario.geography
    if g is None:
        return
    sc = run.result.scenario
    years = list(range(sc.run.start_year, sc.run.start_year + sc.run.years))
    wanted = state.circle_year.get(state.scenario)
    shown = wanted if wanted in years else years[-1]
    key = widget_key(state, "circle_year", state.scenario, years[0], years[-1])
    year = int(st.select_slider(label("circle_year", lang), years, value=shown, key=key))
    if year == years[-1]:
        state.circle_year.pop(state.scenario, None)
    else:
        state.circle_year[state.scenario] = year
    st.caption(label("circle_caption", lang, minutes=f"{g.walk.minutes:g}"))
    if g.synthetic:
        st.caption(f":orange[{label('map_synthetic', lang)}]")
    st.image(run.map_png(lang, year), width="stretch")
    st.download_button(
        "PNG 300 dpi",
        partial(run.map_png, lang, year, 300),
        file_name=f"service_circle_{year}.png",
        mime="image/png",
        key="png|circle",
        on_click="ignore",
    )
    table = coverage_summary(coverage_by_community(g, year), g.counties)
    show_table(_display(run, table, lang))
    chinese = _chinese_headers(page_state(), lang, "circle")
    st.download_button(
        label("dl_circle_csv", lang),
        downloads.excel_csv(table.to_csv(index=False).encode("utf-8"), chinese),
        file_name=f"service_circle_{year}.csv",
        mime="text/csv",
        key="csv|circle",
        on_click="ignore",
    )


def view_population(run: runs.Run, lang: Lang) -> None:
    charts = _charts(run, lang)
    if "population_pyramid" in charts:
        show_chart(run, charts["population_pyramid"], lang)


def view_compare(comparison: runs.Comparison | None, run: runs.Run, lang: Lang) -> None:
    if comparison is None:
        st.info(label("compare_pick", lang))
        return
    results = comparison.results
    state, sources = page_state(), all_sources()
    a, b = (
        source_title(sources[sid], lang)
        if sid in sources and sources[sid].uploaded
        else results.scenario_name(lang, i)
        for i, sid in enumerate((state.scenario, state.compare))
    )
    st.markdown(label("compare_names", lang, a=a, b=b))
    if not comparison.same_people:
        st.warning(label("compare_population_differs", lang))
    show_table(compare_table(compare_measures(results, lang), lang))
    st.caption(label("compare_colours", lang))
    _difference_interval(state, comparison, lang)
    from agingsim.report.key_charts import build_charts

    payer_years(comparison.a.result, comparison.b.result, lang)
    charts, _ = build_charts(results, lang)
    for chart in charts:
        show_chart(run, chart, lang, scope=comparison.folder.name)
    _compare_downloads(comparison, lang)


def _compare_downloads(comparison: runs.Comparison, lang: Lang) -> None:
    """The comparison's files as ``agingsim compare`` + ``agingsim report`` make them: its CSVs, and
    the workbook and deck with the A-vs-B table and the waterfall (not run A's own)."""
    chinese = _chinese_headers(page_state(), lang, "compare")
    st.download_button(
        label("dl_compare", lang),
        partial(comparison.csv_zip, chinese),
        file_name="comparison.zip",
        key="dl_compare",
        on_click="ignore",
    )
    for fmt, what, mime in (
        ("xlsx", "dl_compare_xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (
            "pptx",
            "dl_compare_pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
    ):
        st.download_button(
            label(what, lang),
            partial(comparison.report_file, lang, fmt),
            file_name=f"comparison.{fmt}",
            mime=mime,
            key=f"dl_compare_{fmt}",
            on_click="ignore",
        )


def _chinese_headers(state: PageState, lang: Lang, where: str) -> bool:
    """The "Chinese CSV headers" box, drawn from the page state (one choice for every CSV of the
    page, kept across views and in the address)."""
    key = widget_key(state, "dl_zh", where)
    st.checkbox(
        label("dl_csv_chinese", lang),
        value=state.chinese_headers(),
        key=key,
        on_change=_set_headers,
        args=(state, key),
    )
    return state.chinese_headers()


def _set_headers(state: PageState, key: str) -> None:
    """Before the page is drawn again, so the charts above the box already use the new headers."""
    value = bool(st.session_state[key])
    state.headers = None if value == (state.lang == "zh") else ("zh" if value else "en")


def compare_table(rows: list[tuple[str, str, float, float, float]], lang: Lang) -> Styler:
    """The A-vs-B table (report.data.compare_measures' rows) as shown: B − A coloured by direction,
    shares in per cent and their difference in percentage points, an empty cell as the dash."""
    table = pd.DataFrame(
        [row[1:] for row in rows],
        columns=[
            label("col_measure", lang),
            label("col_a", lang),
            label("col_b", lang),
            label("col_b_minus_a", lang),
        ],
    )
    diff = label("col_b_minus_a", lang)
    colours = [_direction_colour(r[0], r[4]) for r in rows]
    styled = table.style.format({c: "{:,.2f}" for c in table.columns[1:]}, na_rep=tables.MISSING).apply(
        lambda _: colours, subset=[diff]
    )
    shares = [i for i, r in enumerate(rows) if r[0] in SHARES]
    if shares:
        arms = pd.IndexSlice[shares, list(table.columns[1:3])]
        styled = styled.format("{:.1%}", subset=arms, na_rep=tables.MISSING).format(
            lambda v: label("points", lang, d=f"{100 * v:+.1f}"), subset=pd.IndexSlice[shares, [diff]],
            na_rep=tables.MISSING,
        )  # fmt: skip
    return styled


def _direction_colour(measure: str, difference: float) -> str:
    """Green where B is better than A for this measure, red where worse, none where neither (or no
    difference): lower spending is better for a budget, more people served is better for care."""
    better = BETTER.get(measure)
    if better is None or not math.isfinite(difference) or abs(difference) < 1e-9:
        return ""  # NaN: nothing to compare (no year in common, or an arm does not model it)
    good = difference < 0 if better == "lower" else difference > 0
    return "background-color: #e3f4e1" if good else "background-color: #fde2e1"


def view_downloads(run: runs.Run, lang: Lang) -> None:
    st.caption(label("dl_note", lang))
    stem = run.result.scenario.path.stem
    source, overrides = st.session_state["current"]
    st.download_button(
        label("dl_toml", lang),
        partial(sources.scenario_toml, source, overrides),
        file_name=f"{Path(source.name).stem}{'_edited' if overrides else ''}.toml",
        mime="application/toml",
        key="dl_toml",
        on_click="ignore",
        help=label("dl_toml_help", lang),
    )
    chinese = _chinese_headers(page_state(), lang, "downloads")
    st.download_button(
        label("dl_csv", lang),
        partial(run.csv_zip, chinese),
        file_name=f"{stem}_results.zip",
        key="dl_csv",
        on_click="ignore",
    )
    st.download_button(
        label("dl_xlsx", lang),
        partial(run.report_file, lang, "xlsx"),
        file_name=f"{stem}_report.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="dl_xlsx",
        on_click="ignore",
    )
    st.download_button(
        label("dl_pptx", lang),
        partial(run.report_file, lang, "pptx"),
        file_name=f"{stem}_briefing.pptx",
        mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
        key="dl_pptx",
        on_click="ignore",
    )
    st.download_button(
        label("dl_charts", lang),
        partial(run.charts_zip, lang),
        file_name=f"{stem}_charts.zip",
        key="dl_charts",
        on_click="ignore",
    )


def view_assumptions(run: runs.Run, lang: Lang) -> None:
    table = run.result.assumptions()
    changed = table["text"] == sources.APP_LABEL
    table = pd.concat([table[changed], table[~changed]])
    pairs = zip(table["text"], table["provenance"], strict=True)
    table["text"] = [assumption_note(str(text), kind, lang) for text, kind in pairs]  # zh where known
    table["provenance"] = [provenance_label(k, lang) for k in table["provenance"]]
    table.columns = [
        label(k, lang) for k in ("col_file", "col_key", "col_value", "col_provenance", "col_text")
    ]
    show_table(table)
