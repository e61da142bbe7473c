"""Every table on the page is drawn here, so all of them read alike: full width and a missing value
shown as a dash (report.tables.MISSING), as in the report's workbook.

Why not a Styler's ``na_rep``: the page's grid (st.dataframe) draws a cell from the data, not from
the Styler's text for it, and wrote "None" in every empty cell of the A-vs-B table (found in a real
browser; AppTest reads the data and saw nothing wrong). Its own ``placeholder`` (Streamlit 1.52)
is what it draws for a missing value.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from agingsim.report.tables import MISSING


def show_table(data: Any, hide_index: bool | None = True) -> None:
    """``data`` (a frame or a Styler) as a full-width grid; missing values as the dash."""
    st.dataframe(data, width="stretch", hide_index=hide_index, placeholder=MISSING)
