"""The page's sidebar: the scenario (bundled or uploaded), its levers drawn from the file, linked
levers across schemes, and the simulated people.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import streamlit as st

from agingsim.app import region_upload, sources, workdirs
from agingsim.app.levers import (
    Lever,
    Section,
    _localise,
    all_levers,
    find_levers,
    lever_id,
)
from agingsim.app.state import PageState, widget_key
from agingsim.errors import ScenarioError
from agingsim.report.labels import (
    Lang,
    fmt_number,
    label,
)

PROVENANCE_SHOWN = 110  # characters of a lever's source/assumption shown under it (all in the tooltip)


#: The page starts at this many simulated people when the file asks for more, so that a lever that
#: needs a full run answers within seconds (issue 6: ≤ 3 s at city scale); the file's own count is
#: one click away and the page says the run is reduced. A server with faster cores can start higher
#: ($AGINGSIM_APP_PEOPLE).
INTERACTIVE_PEOPLE = int(os.environ.get("AGINGSIM_APP_PEOPLE", "100000"))


#: Smaller simulated populations offered for speed (only those below the file's own count).
FAST_PEOPLE = (100_000, 50_000, 20_000)


def all_sources() -> dict[str, sources.Source]:
    """The bundled scenarios and this session's uploads, by source id."""
    return sources.bundled_sources() | st.session_state["uploads"]


def source_title(source: sources.Source, lang: Lang) -> str:
    title = source.title[0 if lang == "zh" else 1]
    if not source.uploaded:
        return title
    # two uploads of one scenario share its name: the file's name and a short hash tell them apart
    return label("app_upload_name", lang, name=title, file=source.name, digest=source.digest[:6])


def pick_source(state: PageState, lang: Lang, status: Any) -> sources.Source:
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
                source = sources.from_upload(upload.name, data)
                sources.load(source, workdir=st.session_state["workdir"])
            except ScenarioError as exc:
                errors[digest] = str(exc)
            else:
                workdirs.save_upload(st.session_state["workdir"], source, data)
                st.session_state["uploads"][source.id] = source
                state.scenario = source.id
        if digest in errors:
            status.error(
                f"{label('app_upload_refused', lang, name=upload.name)}\n\n```\n{errors[digest]}\n```"
            )
    region_upload.sidebar(state, lang, status, all_sources())
    found = all_sources()
    if state.scenario not in found:
        state.scenario = next(iter(found))
    options = list(found)
    state.scenario = pick.selectbox(
        label("app_scenario", lang),
        options,
        index=options.index(state.scenario),
        format_func=lambda n: source_title(found[n], lang),
        key=widget_key(state, "scenario", len(options)),
    )
    return found[state.scenario]


def section_key(source: sources.Source, section: Section) -> str:
    """The key of a lever box: whether it is open is kept per scenario and box, whatever the
    language. Only an open box draws its levers (Streamlit's ``expander(on_change="rerun").open``):
    a scenario's ~35 levers, their captions and help icons, ~100 elements, took the browser
    0.5–1.5 s to lay out on the first page, and its cards waited behind them (issue 19, cold start)."""
    return f"box|{source.id}|{section.id}"


def scenario_levers(
    source: sources.Source, state: PageState, lang: Lang
) -> tuple[list[Section], dict[str, Any]]:
    """Draw the levers of the source from the state; return them and the values shown, by lever id."""
    sections = find_levers(source.raw)
    st.sidebar.subheader(label("app_levers", lang))
    st.sidebar.caption(label("app_levers_help", lang))
    summary = st.sidebar.container()
    _linked_levers(sections, source, state, lang)
    edits = state.changed(source.id)
    values: dict[str, Any] = {}
    for section in sections:
        title, opened, key = section.title(lang), section.id == "run", section_key(source, section)
        box = st.sidebar.expander(title, opened, key=key, on_change="rerun")
        if not box.open:  # drawn when opened: a closed box's values are the page state's
            values |= {lever_id(lev): edits.get(lever_id(lev), lev.default) for lev in section.levers}
            continue
        with box:
            for lev in section.levers:
                lid = lever_id(lev)
                shown = _lever_widget(
                    lev, widget_key(state, "lv", source.id, lid), lang, edits.get(lid, lev.default)
                )
                state.set_lever(source.id, lid, shown, lev.default)
                values[lid] = shown
    changed = [lev for lev in all_levers(sections) if lever_id(lev) in state.changed(source.id)]
    if changed:
        summary.markdown(f":orange[**{label('app_changed', lang, n=len(changed))}**]")
        summary.caption(
            "\n".join(
                f"- {lev.title(lang)}: {shown_value(lev.default)} → {shown_value(values[lever_id(lev)])}"
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


def _linked_levers(sections: list[Section], source: sources.Source, state: PageState, lang: Lang) -> None:
    """One widget per linked group: moving it sets every lever of the group (drawn again from the
    state, so each scheme's own lever shows the new value and can still be set apart)."""
    for key_name, fields, levers in linked_groups(sections):
        edits = state.changed(source.id)
        current = [edits.get(lever_id(lev), lev.default) for lev in levers]
        key = widget_key(state, "linked", source.id, key_name, *[lever_id(lev) for lev in levers[:1]])
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


def shown_value(value: Any) -> str:
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


def _people_options(source: sources.Source) -> list[int]:
    """The simulated-people counts offered: the file's own, then the smaller FAST_PEOPLE."""
    full = source.raw.get("run", {}).get("simulated_people")
    full = full.get("value") if isinstance(full, dict) else full
    return [full, *[n for n in FAST_PEOPLE if n < full]] if isinstance(full, int) else []


def default_people(source: sources.Source) -> int | None:
    """The count a page starts the source at: the largest offered up to INTERACTIVE_PEOPLE (the
    launcher's warm-up runs the opening scenario at it too)."""
    options = _people_options(source)
    return next((n for n in options if n <= INTERACTIVE_PEOPLE), options[-1]) if options else None


def sim_people(source: sources.Source, state: PageState, lang: Lang) -> int | None:
    """The simulated-people count: the file's, or a smaller one for speed (the page then says so)."""
    options = _people_options(source)
    if not options:
        return None
    wanted = state.people.get(source.id)
    if wanted not in options:
        wanted = default_people(source)
    people = st.sidebar.selectbox(
        label("lever_sim_people", lang),
        options,
        index=options.index(wanted),
        format_func=fmt_number,
        key=widget_key(state, "people", source.id),
    )
    state.people[source.id] = people
    return people
