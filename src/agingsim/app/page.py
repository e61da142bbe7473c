"""The Streamlit page: sidebar (language, scenario, levers, scheme B), headline cards and views.

Everything the page computes comes from :mod:`agingsim.app.runs` (scenario, run, cache),
:mod:`agingsim.app.figures` (cards and tables) and :mod:`agingsim.report` (charts and files); this
module only lays them out. A bad upload or lever value shows the validator's message, runs nothing
and keeps the previous results on the page.
"""

from __future__ import annotations

import hashlib
import os
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from agingsim import __version__
from agingsim.app import figures, region_upload, runs
from agingsim.app.levers import (
    Lever,
    Section,
    _localise,
    all_levers,
    find_levers,
    lever_id,
    overrides_for,
)
from agingsim.app.state import LANGS, PageState
from agingsim.errors import ScenarioError
from agingsim.report import tables
from agingsim.report.data import (
    compare_measures,
    line_item_difference,
    payer_difference_by_year,
    scorecard_headers,
    scorecard_rows,
    spending_by_county,
    spending_by_group,
    window_subtotal,
)
from agingsim.report.labels import (
    BETTER,
    Lang,
    column_label,
    fmt_money,
    fmt_number,
    label,
    payer_label,
    period_label,
    provenance_label,
)
from agingsim.report.notes_zh import assumption_note

if TYPE_CHECKING:  # matplotlib comes with the first chart, after the first card is on the page
    from agingsim.report.exports import Chart

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
#: Smaller simulated populations offered for speed (only those below the file's own count).
FAST_PEOPLE = (100_000, 50_000, 20_000)
#: The page starts at this many simulated people when the file asks for more, so that a lever that
#: needs a full run answers within seconds (issue 6: ≤ 3 s at city scale); the file's own count is
#: one click away and the page says the run is reduced. A server with faster cores can start higher
#: ($AGINGSIM_APP_PEOPLE).
INTERACTIVE_PEOPLE = int(os.environ.get("AGINGSIM_APP_PEOPLE", "100000"))
#: The scenario the page opens on: one that spends money (the baseline has no policy, so a finance
#: user's first screen would show no cost at all).
OPENING = "zhumadian_basic_services.toml"
PROVENANCE_SHOWN = 110  # characters of a lever's source/assumption shown under it (all in the tooltip)


def main() -> None:
    """Draw the page once (Streamlit re-runs this on every interaction)."""
    st.set_page_config(page_title="养老服务补贴测算 agingsim", layout="wide")
    state = _state()
    try:
        _page(state)
    finally:  # the address always says what the page shows, whatever happened in the run
        query = state.to_query()
        if st.query_params.to_dict() != query:
            st.query_params.from_dict(query)


def _state() -> PageState:
    """This session's page state: made once, from the address (a link or a reload), then kept."""
    if "page" not in st.session_state:
        names = [p.name for p in runs.bundled_paths()]
        default = OPENING if OPENING in names else names[0]
        st.session_state["page"] = PageState.from_query(st.query_params.to_dict(), names, default)
        st.session_state["workdir"] = runs.session_folder()
        st.session_state["uploads"] = {}
        st.session_state["upload_errors"] = {}
        st.session_state["last_runs"] = {}
    return st.session_state["page"]


def _key(state: PageState, *parts: object) -> str:
    """A widget's key: what it shows, the language (labels and options are drawn afresh in the
    other language) and the reset generation (a reset draws the levers again from the file)."""
    return "|".join(str(p) for p in (*parts, state.lang, state.gen))


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
    source = _pick_source(state, lang, status)
    run = _run_current(source, state, lang, status)
    last_runs: dict[str, runs.Run] = st.session_state["last_runs"]
    if run is not None:
        last_runs[source.id] = run
    shown = last_runs.get(source.id)  # never another scenario's results beside this one's levers
    st.session_state["last_run"] = shown
    if shown is None:
        return
    comparison = _run_comparison(source, shown, state, lang, status)
    base = _baseline(source, state, lang, status) if run is not None else None
    _cards(shown, lang, base)
    if base is not None:
        _what_changed(shown, base, source, state, lang)
    geography = shown.result.scenario.geography is not None
    views = [v for v in VIEWS if v != "circle" or geography]
    state.view = st.radio(
        label("tab_costs", lang),
        views,
        index=views.index(state.view) if state.view in views else 0,
        format_func=lambda v: label(VIEW_LABELS[v], lang),
        horizontal=True,
        key=_key(state, "view"),
        label_visibility="collapsed",
    )
    view = {
        "costs": _view_costs,
        "coverage": _view_coverage,
        "capacity": _view_capacity,
        "circle": _view_circle,
        "groups": _view_groups,
        "who": partial(_view_who, base, comparison, state),
        "population": _view_population,
        "compare": partial(_view_compare, comparison),
        "downloads": _view_downloads,
        "assumptions": _view_assumptions,
    }[state.view]
    with st.container(key=f"view_{state.view}"):  # the view's own box (class st-key-view_…)
        view(shown, lang)


# ============================================================================ sidebar
def _sources() -> dict[str, runs.Source]:
    """The bundled scenarios and this session's uploads, by source id."""
    return runs.bundled_sources() | st.session_state["uploads"]


def _title(source: runs.Source, lang: Lang) -> str:
    title = source.title[0 if lang == "zh" else 1]
    if not source.uploaded:
        return title
    # two uploads of one scenario share its name: the file's name and a short hash tell them apart
    return label("app_upload_name", lang, name=title, file=source.name, digest=source.digest[:6])


def _pick_source(state: PageState, lang: Lang, status: Any) -> runs.Source:
    """The scenario in the state. A new upload that loads becomes the scenario (and an entry of the
    dropdown, so the bundled ones stay one click away); one that does not is refused with the
    validator's message, and the page stays on the scenario it shows."""
    pick = st.sidebar.container()
    upload = st.sidebar.file_uploader(label("app_upload", lang), type=["toml"], key="upload")
    errors: dict[str, str] = st.session_state["upload_errors"]
    if upload is not None:
        data = upload.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        known = {s.digest for s in st.session_state["uploads"].values()}
        if digest not in known and digest not in errors:
            try:
                source = runs.from_upload(upload.name, data)
                runs.load(source, workdir=st.session_state["workdir"])
            except ScenarioError as exc:
                errors[digest] = str(exc)
            else:
                runs.save_upload(st.session_state["workdir"], source, data)
                st.session_state["uploads"][source.id] = source
                state.scenario = source.id
        if digest in errors:
            status.error(
                f"{label('app_upload_refused', lang, name=upload.name)}\n\n```\n{errors[digest]}\n```"
            )
    region_upload.sidebar(state, lang, status, _sources())
    sources = _sources()
    if state.scenario not in sources:
        state.scenario = next(iter(sources))
    options = list(sources)
    state.scenario = pick.selectbox(
        label("app_scenario", lang),
        options,
        index=options.index(state.scenario),
        format_func=lambda n: _title(sources[n], lang),
        key=_key(state, "scenario", len(options)),
    )
    return sources[state.scenario]


def _levers(source: runs.Source, state: PageState, lang: Lang) -> tuple[list[Section], dict[str, Any]]:
    """Draw the levers of the source from the state; return them and the values shown, by lever id."""
    sections = find_levers(source.raw)
    st.sidebar.subheader(label("app_levers", lang))
    st.sidebar.caption(label("app_levers_help", lang))
    summary = st.sidebar.container()
    _linked_levers(sections, source, state, lang)
    edits = state.changed(source.id)
    values: dict[str, Any] = {}
    for section in sections:
        with st.sidebar.expander(section.title(lang), expanded=section.id == "run"):
            for lev in section.levers:
                lid = lever_id(lev)
                shown = _lever_widget(
                    lev, _key(state, "lv", source.id, lid), lang, edits.get(lid, lev.default)
                )
                state.set_lever(source.id, lid, shown, lev.default)
                values[lid] = shown
    changed = [lev for lev in all_levers(sections) if lever_id(lev) in state.changed(source.id)]
    if changed:
        summary.markdown(f":orange[**{label('app_changed', lang, n=len(changed))}**]")
        summary.caption(
            "\n".join(
                f"- {lev.title(lang)}: {_shown(lev.default)} → {_shown(values[lever_id(lev)])}"
                for lev in changed
            )
        )
        summary.button(label("app_reset", lang), on_click=state.reset, args=(source.id,), key="reset")
    return sections, values


def linked_groups(sections: list[Section]) -> list[tuple[str, dict[str, Any], list[Lever]]]:
    """Levers that usually move together across schemes, as (label key, fields, levers): one
    city : county (or province : city) split for every scheme that shares it, and one switch-over
    year where one scheme stops in the month another starts (Shanxi: beds → vouchers)."""
    out: list[tuple[str, dict[str, Any], list[Lever]]] = []
    splits: dict[tuple[Any, Any], list[Lever]] = {}
    for lev in all_levers(sections):
        if lev.paired and lev.name[0] == "lever_payer_split":
            splits.setdefault((lev.name[1]["a"], lev.name[1]["b"]), []).append(lev)
    for (a, b), levers in splits.items():
        if len(levers) >= 2:
            out.append(("lever_split_all", {"a": a, "b": b, "n": len(levers)}, levers))
    dates: dict[tuple[int, str], list[Lever]] = {}
    for lev in all_levers(sections):
        if lev.kind == "month":
            dates.setdefault((int(lev.default), lev.extra["month"]), []).append(lev)
    for (year, month), levers in dates.items():
        kinds = {lev.name[0] for lev in levers}
        if {"lever_starts", "lever_stops"} <= kinds:
            out.append(("lever_switch_year", {"month": month, "year": year}, levers))
    return out


def _linked_levers(sections: list[Section], source: runs.Source, state: PageState, lang: Lang) -> None:
    """One widget per linked group: moving it sets every lever of the group (drawn again from the
    state, so each scheme's own lever shows the new value and can still be set apart)."""
    for key_name, fields, levers in linked_groups(sections):
        edits = state.changed(source.id)
        current = [edits.get(lever_id(lev), lev.default) for lev in levers]
        key = _key(state, "linked", source.id, key_name, *[lever_id(lev) for lev in levers[:1]])
        shown = {k: _localise(v, lang) for k, v in fields.items()}
        text = label(key_name, lang, **shown)
        pairs = [(lever_id(lev), lev.default) for lev in levers]
        callback = {"on_change": _set_linked, "args": (state, source.id, pairs, key)}
        if key_name == "lever_split_all":
            st.sidebar.slider(text, 0.0, 1.0, float(current[0]), 0.05, key=key, **callback)
        else:
            st.sidebar.number_input(text, value=int(current[0]), step=1, format="%d", key=key, **callback)
        if len(set(current)) > 1:
            st.sidebar.caption(label("lever_linked_differ", lang))


def _set_linked(state: PageState, source: str, pairs: list[tuple[str, Any]], key: str) -> None:
    value = st.session_state[key]
    for lid, default in pairs:
        state.set_lever(source, lid, value, default)
    state.gen += 1  # every lever of the group is drawn again with the new value


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}" if isinstance(value, int) else str(value)


def _lever_widget(lev: Lever, key: str, lang: Lang, current: Any) -> Any:
    """One lever: a widget labelled with its unit, its provenance under it, a note if changed; drawn
    with the state's value (``current``), the file's when the user has not changed it."""
    unit = lev.unit_text(lang)
    title = lev.title(lang)
    text = (f"{title}（{unit}）" if lang == "zh" else f"{title} ({unit})") if unit else title
    prov = lev.provenance_text(lang)
    d = lev.default
    if lev.kind == "switch":
        value: Any = st.toggle(text, value=bool(current), key=key, help=prov)
    elif lev.kind == "horizon":
        value = st.slider(text, 1, 60, int(current), 1, key=key, help=prov)
    elif lev.kind in ("year", "month"):
        value = st.number_input(text, value=int(current), step=1, format="%d", key=key, help=prov)
    elif lev.kind == "share" and (lev.paired or lev.key.endswith("delivery_rate")):
        value = st.slider(text, 0.0, 1.0, float(current), 0.05, key=key, help=prov)
    elif lev.kind == "share":
        value = st.number_input(text, value=float(current), step=0.05, format="%.2f", key=key, help=prov)
    elif lev.kind == "cap":
        value = st.number_input(text, value=float(current), step=10.0, format="%.2f", key=key, help=prov)
    elif isinstance(d, int):
        step = 10 if abs(d) < 1000 else 100 if abs(d) < 20000 else 1000
        value = st.number_input(text, value=int(current), step=step, format="%d", key=key, help=prov)
    else:
        value = st.number_input(text, value=float(current), step=1.0, key=key, help=prov)
    if lev.kind != "switch" or lev.provenance is not None:
        short = prov if len(prov) <= PROVENANCE_SHOWN else prov[: PROVENANCE_SHOWN - 1] + "…"
        st.caption(short)
    if value is not None and value != d and not (isinstance(d, float) and abs(float(value) - d) < 1e-12):
        st.caption(f":orange[{label('lever_changed', lang, value=d)}]")
    return value


def _sim_people(source: runs.Source, state: PageState, lang: Lang) -> int | None:
    """The simulated-people count: the file's, or a smaller one for speed (the page then says so)."""
    run = source.raw.get("run", {})
    full = run.get("simulated_people")
    full = full.get("value") if isinstance(full, dict) else full
    if not isinstance(full, int):
        return None
    options = [full, *[n for n in FAST_PEOPLE if n < full]]
    wanted = state.people.get(source.id)
    if wanted not in options:
        wanted = next((n for n in options if n <= INTERACTIVE_PEOPLE), options[-1])
    people = st.sidebar.selectbox(
        label("lever_sim_people", lang),
        options,
        index=options.index(wanted),
        format_func=fmt_number,
        key=_key(state, "people", source.id),
    )
    state.people[source.id] = people
    return people


# ============================================================================ running
def _invalid(status: Any, lang: Lang, exc: Exception) -> None:
    status.error(f"{label('app_invalid', lang)}\n\n```\n{exc}\n```")


def _run_current(source: runs.Source, state: PageState, lang: Lang, status: Any) -> runs.Run | None:
    """Load the scenario with the levers' values and run it (or take it from the cache)."""
    sections, values = _levers(source, state, lang)
    people = _sim_people(source, state, lang)
    overrides = overrides_for(sections, values)
    st.session_state["current"] = (source, overrides)
    full = source.raw.get("run", {}).get("simulated_people")
    try:
        scenario = runs.load(
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
    run = _run(scenario, lang, status)
    # after the run (its status line first): deciding which levers need a full run loads the file
    # once more per change, which the cards need not wait for
    if overrides and not runs.payments_only(source, scenario, st.session_state["workdir"]):
        _full_run_why(source, sections, values, scenario, state, lang, status)
    return run


def _full_run_why(
    source: runs.Source,
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


def _run(scenario: Any, lang: Lang, status: Any, quiet: bool = False) -> runs.Run | None:
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
        # else on first need (app.page._view_who, downloads: runs.Run.with_groups)
        run, cached = runs.CACHE.run(scenario, progress=progress, record_groups=_state().view == "who")
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


def _run_comparison(
    source: runs.Source, a: runs.Run, state: PageState, lang: Lang, status: Any
) -> runs.Comparison | None:
    """Scheme B: the file's own values, or another scenario (bundled or uploaded), on A's seed."""
    others = _sources()
    options = ["", "@file", *others]
    names = {"": label("compare_none", lang), "@file": label("compare_file", lang)}
    names |= {k: _title(s, lang) for k, s in others.items()}
    st.sidebar.subheader(label("tab_compare", lang))
    if state.compare not in options:
        state.compare = ""
    state.compare = st.sidebar.selectbox(
        label("compare_with", lang),
        options,
        index=options.index(state.compare),
        format_func=names.get,
        key=_key(state, "compare", len(options)),
    )
    choice = state.compare
    if not choice:
        return None
    sa = a.result.scenario
    if choice != "@file":
        state.same_region = st.sidebar.checkbox(
            label("compare_same_region", lang), value=state.same_region, key=_key(state, "compare_region")
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
        b_scenario = runs.load(b_source, overrides, workdir=st.session_state["workdir"], **run_settings)
    except ScenarioError as exc:
        _invalid(status, lang, exc)
        return None
    b = _run(b_scenario, lang, status)
    return runs.compare(a, b) if b is not None else None


# ============================================================================ results
#: Cards whose numbers wrap instead of being cut off with "…" on a narrow screen.
CARD_CSS = """<style>
[data-testid="stMetricValue"], [data-testid="stMetricValue"] *,
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  overflow-wrap: anywhere; }
[data-testid="stMetricValue"] { font-size: clamp(1.2rem, 2.1vw, 2.1rem); }
</style>"""


def _cards(run: runs.Run, lang: Lang, base: runs.Run | None = None) -> None:
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


def _baseline(source: runs.Source, state: PageState, lang: Lang, status: Any) -> runs.Run | None:
    """The file's own values on the same simulated people and seed: what every changed run is
    compared with (None when nothing is changed or the file alone does not load)."""
    if not state.changed(source.id):
        return None
    full = source.raw.get("run", {}).get("simulated_people")
    full = full.get("value") if isinstance(full, dict) else full
    people = state.people.get(source.id)
    try:
        scenario = runs.load(
            source,
            {},
            workdir=st.session_state["workdir"],
            simulated_people=people if people != full else None,
        )
    except ScenarioError:
        return None
    return _run(scenario, lang, status, quiet=True)


def _what_changed(run: runs.Run, base: runs.Run, source: runs.Source, state: PageState, lang: Lang) -> None:
    """Changed levers old → new, B − A by payer per year, the waterfall by line item, present value."""
    with st.expander(label("changed_title", lang), expanded=True):
        st.caption(label("changed_note", lang))
        levers = {lever_id(lev): lev for lev in all_levers(find_levers(source.raw))}
        lines = [
            f"- {levers[k].title(lang)}: {_shown(levers[k].default)} → {_shown(v)}"
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
        _payer_years(base.result, run.result, lang)
        diffs = line_item_difference(base.result.ledger, run.result.ledger)
        if diffs["b_minus_a_wan"].abs().sum() > 0:
            from agingsim.report import charts as report_charts
            from agingsim.report.exports import Chart

            footer = run.results.footer(lang)
            names = run.results.line_item_names
            draw = partial(report_charts.waterfall, diffs, lang, footer, names)
            chart = Chart("waterfall", label("title_waterfall", lang), draw)
            _show_chart(run, chart, lang, scope=f"vs-{base.key}")


def _payer_years(a: Any, b: Any, lang: Lang) -> None:
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
    st.dataframe(table.style.format("{:,.2f}"), width="stretch")


def _show_chart(run: runs.Run, chart: Chart, lang: Lang, scope: str = "") -> None:
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
            chart.csv(_state().chinese_headers()),
            file_name=f"{chart.id}.csv",
            mime="text/csv",
            key=f"csv|{scope}|{chart.id}",
            on_click="ignore",
        )


def _charts(run: runs.Run, lang: Lang) -> dict[str, Chart]:
    charts, _ = run.charts(lang)
    return {c.id: c for c in charts}


def _scorecard(run: runs.Run, lang: Lang) -> None:
    """The policy targets the run is scored against (targets.csv in its folder), when it has them."""
    scorecard = scorecard_rows(run.results, lang)
    if scorecard:
        st.markdown(f"**{label('deck_scorecard', lang)}**")
        table = pd.DataFrame(scorecard, columns=scorecard_headers(lang))
        st.dataframe(table, width="stretch", hide_index=True)


def _view_costs(run: runs.Run, lang: Lang) -> None:
    charts = _charts(run, lang)
    _scorecard(run, lang)
    if "cost_by_payer" not in charts:  # no policy: the population projection is the answer
        _view_population(run, lang)
        return
    _show_chart(run, charts["cost_by_payer"], lang)
    st.markdown(f"**{label('table_by_payer', lang)}**")
    st.dataframe(figures.payer_table(run.result, lang).style.format("{:,.2f}"), width="stretch")
    _show_chart(run, charts["cost_by_line_item"], lang)
    _bands(run, lang)


def _bands(run: runs.Run, lang: Lang) -> None:
    """Uncertainty bands: opt-in replications (each is a full run), drawn as the report's fan charts."""
    n = st.number_input(label("app_replications", lang), 1, 50, 1, 1, key="replications")
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
    from agingsim.report.exports import Chart

    footer = run.results.footer(lang)
    for measure, what, unit in (
        ("cost_total_wan", "h_cost_total", "axis_cost_wan"),
        ("needing_care", "card_need_short", "axis_people"),
    ):
        frame = found[measure]
        if frame.empty or frame["p95"].abs().sum() == 0:
            continue
        draw = partial(report_charts.fan_chart, frame, lang, footer, label(what, lang), label(unit, lang))
        _show_chart(run, Chart(f"band_{measure}_{n}", label(what, lang), draw), lang)


def _view_coverage(run: runs.Run, lang: Lang) -> None:
    charts = _charts(run, lang)
    if "coverage_by_setting" in charts:
        _show_chart(run, charts["coverage_by_setting"], lang)
    else:
        st.info(label("app_pending", lang, file="coverage.csv"))


def _view_capacity(run: runs.Run, lang: Lang) -> None:
    from agingsim.report import charts as report_charts
    from agingsim.report.exports import Chart

    charts = _charts(run, lang)
    chart = charts.get("beds_occupancy_waits")
    capacity = run.results.frame("capacity.csv")
    if chart is None and capacity is not None and set(report_charts.BEDS_COLUMNS) <= set(capacity.columns):
        draw = partial(report_charts.beds_occupancy_waits, capacity, lang, run.results.footer(lang))
        chart = Chart("beds_occupancy_waits", label("title_beds", lang), draw)
    if chart is None:
        st.info(label("app_pending", lang, file="capacity.csv"))
        return
    _show_chart(run, chart, lang)
    waiting = run.results.frame("waiting.csv")
    if waiting is not None:
        st.dataframe(_display(run, waiting, lang), width="stretch", hide_index=True)


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


def _view_groups(run: runs.Run, lang: Lang) -> None:
    table = figures.groups_table(run.result, lang)
    if table.empty:
        st.info(label("app_no_policy", lang))
        return
    if getattr(run.result, "groups_served", None) is None:
        st.caption(label("card_paid_for", lang))
    st.dataframe(_display(run, table, lang), width="stretch", hide_index=True)


def _view_who(
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
    who.section(run, reform, state, lang, _display, _show_chart)
    st.caption(label("who_note", lang))
    for title, table, keys in (
        ("who_county", spending_by_county(led, run.result.population), ["county"]),
        ("who_group", spending_by_group(led), ["line_item", "rule"]),
    ):
        if base is not None and not base.result.ledger.empty:
            before = (
                spending_by_county(base.result.ledger, base.result.population)
                if keys == ["county"]
                else spending_by_group(base.result.ledger)
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
        st.dataframe(shown, width="stretch", hide_index=True)


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


def _view_circle(run: runs.Run, lang: Lang) -> None:
    """The 15-minute service circle (issue 8) in a year of the run: the map and the shares within reach."""
    from agingsim.geo.coverage import coverage_by_community, coverage_summary

    g = run.result.scenario.geography
    if g is None:
        return
    sc = run.result.scenario
    years = list(range(sc.run.start_year, sc.run.start_year + sc.run.years))
    year = st.select_slider(label("circle_year", lang), years, value=years[-1], key="circle_year")
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
    st.dataframe(_display(run, table, lang), width="stretch", hide_index=True)
    chinese = _chinese_headers(_state(), lang, "circle")
    st.download_button(
        label("dl_circle_csv", lang),
        runs.excel_csv(table.to_csv(index=False).encode("utf-8"), chinese),
        file_name=f"service_circle_{year}.csv",
        mime="text/csv",
        key="csv|circle",
        on_click="ignore",
    )


def _view_population(run: runs.Run, lang: Lang) -> None:
    charts = _charts(run, lang)
    if "population_pyramid" in charts:
        _show_chart(run, charts["population_pyramid"], lang)


def _view_compare(comparison: runs.Comparison | None, run: runs.Run, lang: Lang) -> None:
    if comparison is None:
        st.info(label("compare_pick", lang))
        return
    results = comparison.results
    state, sources = _state(), _sources()
    a, b = (
        _title(sources[sid], lang)
        if sid in sources and sources[sid].uploaded
        else results.scenario_name(lang, i)
        for i, sid in enumerate((state.scenario, state.compare))
    )
    st.markdown(label("compare_names", lang, a=a, b=b))
    if not comparison.same_people:
        st.warning(label("compare_population_differs", lang))
    rows = compare_measures(results, lang)
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
    styled = table.style.format({c: "{:,.2f}" for c in table.columns[1:]}).apply(
        lambda _: colours, subset=[diff]
    )
    st.dataframe(styled, width="stretch", hide_index=True)
    st.caption(label("compare_colours", lang))
    from agingsim.report.exports import build_charts

    _payer_years(comparison.a.result, comparison.b.result, lang)
    charts, _ = build_charts(results, lang)
    for chart in charts:
        _show_chart(run, chart, lang, scope=comparison.folder.name)
    _compare_downloads(comparison, lang)


def _compare_downloads(comparison: runs.Comparison, lang: Lang) -> None:
    """The comparison's files as ``agingsim compare`` + ``agingsim report`` make them: its CSVs, and
    the workbook and deck with the A-vs-B table and the waterfall (not run A's own)."""
    chinese = _chinese_headers(_state(), lang, "compare")
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
    key = _key(state, "dl_zh", where)
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


def _direction_colour(measure: str, difference: float) -> str:
    """Green where B is better than A for this measure, red where worse, none where neither (or no
    difference): lower spending is better for a budget, more people served is better for care."""
    better = BETTER.get(measure)
    if better is None or abs(difference) < 1e-9:
        return ""
    good = difference < 0 if better == "lower" else difference > 0
    return "background-color: #e3f4e1" if good else "background-color: #fde2e1"


def _view_downloads(run: runs.Run, lang: Lang) -> None:
    st.caption(label("dl_note", lang))
    stem = run.result.scenario.path.stem
    source, overrides = st.session_state["current"]
    st.download_button(
        label("dl_toml", lang),
        partial(runs.scenario_toml, source, overrides),
        file_name=f"{Path(source.name).stem}{'_edited' if overrides else ''}.toml",
        mime="application/toml",
        key="dl_toml",
        on_click="ignore",
        help=label("dl_toml_help", lang),
    )
    chinese = _chinese_headers(_state(), lang, "downloads")
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


def _view_assumptions(run: runs.Run, lang: Lang) -> None:
    table = run.result.assumptions()
    changed = table["text"] == runs.APP_LABEL
    table = pd.concat([table[changed], table[~changed]])
    pairs = zip(table["text"], table["provenance"], strict=True)
    table["text"] = [assumption_note(str(text), kind, lang) for text, kind in pairs]  # zh where known
    table["provenance"] = [provenance_label(k, lang) for k in table["provenance"]]
    table.columns = [
        label(k, lang) for k in ("col_file", "col_key", "col_value", "col_provenance", "col_text")
    ]
    st.dataframe(table, width="stretch", hide_index=True)
