"""The Streamlit page: it lays out, in order, the sidebar (:mod:`.sidebar`: language, scenario,
levers, scheme B), the runs (:mod:`.running`), the headline cards and what changed (:mod:`.results`)
and the chosen view (:mod:`.views`), with the session's state in :mod:`.session`.

Everything the page computes comes from :mod:`agingsim.app.runs` (scenario, run, cache),
:mod:`agingsim.app.figures` (cards and tables) and :mod:`agingsim.report` (charts and files); these
modules only lay them out. A bad upload or lever value shows the validator's message, runs nothing
and keeps the previous results on the page.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from agingsim import __version__
from agingsim.app import runs
from agingsim.app.results import baseline_run, draw_cards, what_changed
from agingsim.app.running import run_comparison, run_current
from agingsim.app.session import page_state
from agingsim.app.sidebar import pick_source
from agingsim.app.state import PageState, widget_key
from agingsim.app.views import (
    view_assumptions,
    view_capacity,
    view_circle,
    view_compare,
    view_costs,
    view_coverage,
    view_downloads,
    view_groups,
    view_population,
    view_who,
)
from agingsim.report.labels import (
    Lang,
    label,
)
from agingsim.report.lang import LANGS

VIEWS = (
    "costs",
    "coverage",
    "capacity",
    "circle",
    "groups",
    "who",
    "population",
    "compare",
    "downloads",
    "assumptions",
)
VIEW_LABELS = {
    "costs": "tab_costs",
    "coverage": "tab_coverage",
    "capacity": "tab_capacity",
    "circle": "tab_circle",
    "groups": "tab_groups",
    "who": "tab_who",
    "population": "tab_population",
    "compare": "tab_compare",
    "downloads": "tab_downloads",
    "assumptions": "tab_assumptions",
}


def main() -> None:
    """Draw the page once (Streamlit re-runs this on every interaction)."""
    st.set_page_config(page_title="养老服务补贴测算 agingsim", layout="wide")
    state = page_state()
    try:
        _page(state)
    finally:  # the address always says what the page shows, whatever happened in the run
        query = state.to_query()
        if st.query_params.to_dict() != query:
            st.query_params.from_dict(query)


def _page(state: PageState) -> None:
    state.lang = st.sidebar.radio(
        "语言 / Language",
        list(LANGS),
        index=LANGS.index(state.lang),
        format_func=lambda v: "中文" if v == "zh" else "English",
        horizontal=True,
        key="lang",
    )
    lang: Lang = state.lang  # type: ignore[assignment]
    st.title(label("app_title", lang))
    st.caption(label("app_caption", lang, version=__version__))
    status = st.container()
    source = pick_source(state, lang, status)
    run = run_current(source, state, lang, status)
    last_runs: dict[str, runs.Run] = st.session_state["last_runs"]
    if run is not None:
        last_runs[source.id] = run
    shown = last_runs.get(source.id)  # never another scenario's results beside this one's levers
    st.session_state["last_run"] = shown
    if shown is None:
        return
    comparison = run_comparison(source, shown, state, lang, status)
    base = baseline_run(source, state, lang, status) if run is not None else None
    draw_cards(shown, lang, base)
    if base is not None:
        what_changed(shown, base, source, state, lang)
    geography = shown.result.scenario.geography is not None
    views = [v for v in VIEWS if v != "circle" or geography]
    state.view = st.radio(
        label("tab_costs", lang),
        views,
        index=views.index(state.view) if state.view in views else 0,
        format_func=lambda v: label(VIEW_LABELS[v], lang),
        horizontal=True,
        key=widget_key(state, "view"),
        label_visibility="collapsed",
    )
    view = {
        "costs": partial(view_costs, state),
        "coverage": view_coverage,
        "capacity": view_capacity,
        "circle": partial(view_circle, state),
        "groups": view_groups,
        "who": partial(view_who, base, comparison, state),
        "population": view_population,
        "compare": partial(view_compare, comparison),
        "downloads": view_downloads,
        "assumptions": view_assumptions,
    }[state.view]
    with st.container(key=f"view_{state.view}"):  # the view's own box (class st-key-view_…)
        view(shown, lang)
