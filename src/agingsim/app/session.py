"""This session's state, kept in ``st.session_state`` across script runs: the page state (the one
source of truth for scenario, levers, language and view, read from the address), the session's
folder, its uploads and the last run shown for each scenario.
"""

from __future__ import annotations

import streamlit as st

from agingsim.app import sources, workdirs
from agingsim.app.state import PageState

#: The scenario the page opens on: one that spends money (the baseline has no policy, so a finance
#: user's first screen would show no cost at all).
OPENING = "zhumadian_basic_services.toml"


def opening_name(names: list[str] | None = None) -> str:
    """The scenario a page without one in its address opens on: OPENING, or the first bundled one
    (the launcher's warm-up runs the same, agingsim.app.launch)."""
    names = [p.name for p in sources.bundled_paths()] if names is None else names
    return OPENING if OPENING in names else names[0]


def page_state() -> PageState:
    """This session's page state: made once, from the address (a link or a reload), then kept."""
    if "page" not in st.session_state:
        names = [p.name for p in sources.bundled_paths()]
        st.session_state["page"] = PageState.from_query(st.query_params.to_dict(), names, opening_name(names))
        st.session_state["workdir"] = workdirs.session_folder()
        st.session_state["uploads"] = {}
        st.session_state["upload_errors"] = {}
        st.session_state["last_runs"] = {}
    return st.session_state["page"]
