"""Running what the page shows: the current scenario with its levers, the comparison with scheme B,
and why a lever needs a full run; errors become the validator's message, never a traceback.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from agingsim.app import runs, sources
from agingsim.app.levers import (
    Section,
    all_levers,
    lever_id,
    overrides_for,
)
from agingsim.app.session import page_state
from agingsim.app.sidebar import all_sources, scenario_levers, sim_people, source_title
from agingsim.app.state import PageState, widget_key
from agingsim.errors import ScenarioError
from agingsim.report.labels import (
    Lang,
    fmt_number,
    label,
)


def _invalid(status: Any, lang: Lang, exc: Exception) -> None:
    status.error(f"{label('app_invalid', lang)}\n\n```\n{exc}\n```")


def run_current(source: sources.Source, state: PageState, lang: Lang, status: Any) -> runs.Run | None:
    """Load the scenario with the levers' values and run it (or take it from the cache)."""
    sections, values = scenario_levers(source, state, lang)
    people = sim_people(source, state, lang)
    overrides = overrides_for(sections, values)
    st.session_state["current"] = (source, overrides)
    full = source.raw.get("run", {}).get("simulated_people")
    try:
        scenario = sources.load(
            source,
            overrides,
            workdir=st.session_state["workdir"],
            simulated_people=people if people != full else None,
        )
    except ScenarioError as exc:
        _invalid(status, lang, exc)
        return None
    if people is not None and people != full:
        status.info(label("app_reduced", lang, n=fmt_number(people), full=fmt_number(full)))
    run = run_with_status(scenario, lang, status)
    # after the run (its status line first): deciding which levers need a full run loads the file
    # once more per change, which the cards need not wait for
    if overrides and not runs.payments_only(source, scenario, st.session_state["workdir"]):
        _full_run_why(source, sections, values, scenario, state, lang, status)
    return run


def _full_run_why(
    source: sources.Source,
    sections: list[Section],
    values: dict[str, Any],
    scenario: Any,
    state: PageState,
    lang: Lang,
    status: Any,
) -> None:
    """Why the change is a full run, naming the changed levers that each alone change the people or
    care simulated (simulate.dynamics_key decides), so the user knows which to leave for speed."""
    changed = [lev for lev in all_levers(sections) if lever_id(lev) in state.changed(source.id)]
    changes = {
        lever_id(lev): overrides_for(sections, {lever_id(lev): values[lever_id(lev)]}) for lev in changed
    }
    blockers = runs.replay_blockers(source, scenario, changes, st.session_state["workdir"])
    if blockers is None:
        status.caption(label("app_full_run_always", lang))
        return
    status.caption(label("app_full_run_why", lang))
    names = [lev.title(lang) for lev in changed if lever_id(lev) in blockers]
    if names:
        status.caption(
            label("app_full_run_levers", lang, levers="、".join(names) if lang == "zh" else "; ".join(names))
        )


def run_with_status(scenario: Any, lang: Lang, status: Any, quiet: bool = False) -> runs.Run | None:
    months = scenario.run.years * 12
    key = runs.run_key(scenario)
    if runs.CACHE.get(key) is None and not runs.CACHE.replays(scenario):
        text = label("app_running", lang, people=fmt_number(scenario.run.simulated_people), months=months)
        bar = status.progress(0.0, text=text)
        progress = runs.Progress(months, lambda f: bar.progress(f, text=text))
    else:
        bar, progress = None, None
    try:
        # who gets what by group costs a full run ~16% more: recorded now only on the who view,
        # else on first need (app.views.view_who, downloads: runs.Run.with_groups)
        run, cached = runs.CACHE.run(scenario, progress=progress, record_groups=page_state().view == "who")
    except ScenarioError as exc:
        _invalid(status, lang, exc)
        return None
    except Exception as exc:  # a failed run must not take the page (and the last results) with it
        status.error(label("app_failed", lang, error=f"{type(exc).__name__}: {exc}"))
        return None
    finally:
        if bar is not None:
            bar.empty()
    if quiet:
        pass
    elif cached:
        status.caption(label("app_cached", lang))
    elif run.result.replayed_from:
        status.caption(label("app_replayed", lang, s=f"{run.result.run_time_s:.2f}"))
    else:
        status.caption(label("app_ran", lang, s=f"{run.result.run_time_s:.1f}"))
    return run


def run_comparison(
    source: sources.Source, a: runs.Run, state: PageState, lang: Lang, status: Any
) -> runs.Comparison | None:
    """Scheme B: the file's own values, or another scenario (bundled or uploaded), on A's seed."""
    others = all_sources()
    options = ["", "@file", *others]
    names = {"": label("compare_none", lang), "@file": label("compare_file", lang)}
    names |= {k: source_title(s, lang) for k, s in others.items()}
    st.sidebar.subheader(label("tab_compare", lang))
    if state.compare not in options:
        state.compare = ""
    state.compare = st.sidebar.selectbox(
        label("compare_with", lang),
        options,
        index=options.index(state.compare),
        format_func=names.get,
        key=widget_key(state, "compare", len(options)),
    )
    choice = state.compare
    if not choice:
        return None
    sa = a.result.scenario
    if choice != "@file":
        state.same_region = st.sidebar.checkbox(
            label("compare_same_region", lang),
            value=state.same_region,
            key=widget_key(state, "compare_region"),
        )
    same_region = choice != "@file" and state.same_region
    b_source = source if choice == "@file" else others[choice]
    overrides: dict[str, Any] = {}
    run_settings: dict[str, int | None] = {"seed": sa.run.seed}
    if choice == "@file" or same_region:
        population = source.raw.get("population", {})
        if choice != "@file":
            overrides = {f"population.{k}": str(v) for k, v in population.items() if isinstance(v, str)}
        run_settings |= {
            "start_year": sa.run.start_year,
            "years": sa.run.years,
            "simulated_people": sa.run.simulated_people,
        }
    try:
        b_scenario = sources.load(b_source, overrides, workdir=st.session_state["workdir"], **run_settings)
    except ScenarioError as exc:
        _invalid(status, lang, exc)
        return None
    b = run_with_status(b_scenario, lang, status)
    return runs.compare(a, b) if b is not None else None
