"""The app's lever boxes in AppTest: the page draws a box's levers only while the box is open
(agingsim.app.sidebar.section_key), so a test opens the box before it touches a lever, as a user
clicks it open."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from agingsim.app.levers import find_levers, lever_id
from agingsim.scenario.files import read_toml


def box_key(path: Path, lever: str, source_id: str | None = None) -> str:
    """The session-state key of the box holding ``lever`` (a lever id) of scenario ``path``."""
    for section in find_levers(read_toml(path)):
        if any(lever_id(lev) == lever for lev in section.levers):
            return f"box|{source_id or path.name}|{section.id}"
    raise KeyError(f"{path.name} has no lever {lever}")


def open_box(at: AppTest, path: Path, lever: str, source_id: str | None = None) -> None:
    """Open the box holding ``lever`` of scenario ``path`` and redraw, if it is shut."""
    key = box_key(path, lever, source_id)
    if key not in at.session_state or not at.session_state[key]:
        at.session_state[key] = True
        at.run()


def lever_input(at: AppTest, path: Path, lever: str, lang: str = "zh", gen: int = 0, source_id: str | None = None):
    """The number box of ``lever`` (its box opened first): widget key as app.state.widget_key."""
    open_box(at, path, lever, source_id)
    return at.number_input(key=f"lv|{source_id or path.name}|{lever}|{lang}|{gen}")
