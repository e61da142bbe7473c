"""The app's lever boxes in AppTest: the page draws a box's levers only while the box is open
(agingsim.app.sidebar.section_key), so a test opens the box before it touches a lever, as a user
clicks it open."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from agingsim.app import sources
from agingsim.app.levers import find_levers, lever_id
from agingsim.app.sidebar import section_key


def lever_key(path: Path, lever: str, lang: str = "zh", gen: int = 0) -> str:
    """The widget key of a lever (app.state.widget_key): scenario, lever, language, reset generation."""
    return f"lv|{path.name}|{lever}|{lang}|{gen}"


def box_key(path: Path, lever: str) -> str:
    """The session-state key of the box holding ``lever`` (a lever id) of scenario ``path``."""
    source = sources.from_file(path)
    for section in find_levers(source.raw):
        if any(lever_id(lev) == lever for lev in section.levers):
            return section_key(source, section)
    raise KeyError(f"{path.name} has no lever {lever}")


def open_box(at: AppTest, path: Path, lever: str) -> None:
    """Open the box holding ``lever`` of scenario ``path`` and redraw, if it is shut."""
    key = box_key(path, lever)
    if key not in at.session_state or not at.session_state[key]:
        at.session_state[key] = True
        at.run()


def lever_input(at: AppTest, path: Path, lever: str, lang: str = "zh", gen: int = 0):
    """The number box of ``lever``, its box opened first."""
    open_box(at, path, lever)
    return at.number_input(key=lever_key(path, lever, lang, gen))
