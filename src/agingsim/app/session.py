"""This session's state, kept in ``st.session_state`` across script runs: the page state (the one
source of truth for scenario, levers, language and view, read from the address), the session's
folder, its uploads and the last run shown for each scenario.
"""

from __future__ import annotations

import streamlit as st

from agingsim.app import runs
from agingsim.app.state import PageState

#: The scenario the page opens on: one that spends money (the baseline has no policy, so a finance
#: user's first screen would show no cost at all).
OPENING = "zhumadian_basic_services.toml"


def page_state() -> PageState:
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
