"""The page's state in one place: what the user chose, kept apart from the widgets that show it.

Streamlit forgets a widget's value when the widget is not drawn in a run (another scenario's levers,
a view not open, a language's labels) and keeps a widget's value when the file's value it stands
for changes. So widgets here only *show* the state: each is drawn with its value from
:class:`PageState` under a key that names the language and a reset generation, and its value is
written back after it is drawn. The state lives in the session and in the page's address
(``st.query_params``), so a reload or a link sent to a colleague reproduces the page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agingsim.report.lang import LANGS

#: Query parameter names (short: the address is what a colleague gets).
Q_LANG, Q_SCENARIO, Q_COMPARE, Q_REGION, Q_VIEW, Q_PEOPLE, Q_EDITS = "lang", "s", "b", "r", "view", "n", "e"
#: the grouping of the who-gains view (results.distribution.DIMENSIONS)
Q_GROUP = "g"
GROUPINGS = ("county", "age_band", "ability_level", "econ_status", "residence")
Q_HEADERS = "h"  # CSV headers: "zh" or "en" when chosen, else the page's language
Q_REPLICATIONS = "k"  # the spending view's replications for uncertainty bands, when more than one
#: the replications the spending view offers (each a full run with parameter draws)
REPLICATIONS = (1, 50)
Q_CIRCLE_YEAR = "y"  # the service-circle view's year, when the user moved it off the last one


@dataclass
class PageState:
    """Scenario, scheme B, language, view, and every lever changed, per scenario (by source id).

    ``edits[source][lever id]`` holds only values that differ from the file's, so a scenario with no
    entry is the file as it is; ``people[source]`` is the simulated-people count chosen for it and
    ``replications[source]`` the replications its uncertainty bands are drawn from (none: one run,
    no bands; per scenario, so that opening another scenario does not start that many runs of it);
    ``circle_year[source]`` the year its service-circle map shows (none: the run's last);
    ``gen`` changes when the user resets a scenario's levers, so its widgets are drawn afresh.
    """

    lang: str = "zh"
    scenario: str = ""
    compare: str = ""
    same_region: bool = True
    view: str = "costs"
    #: what the who-gains view groups people by (one of GROUPINGS)
    group_by: str = "county"
    edits: dict[str, dict[str, Any]] = field(default_factory=dict)
    people: dict[str, int] = field(default_factory=dict)
    replications: dict[str, int] = field(default_factory=dict)
    circle_year: dict[str, int] = field(default_factory=dict)
    gen: int = 0
    #: the CSV downloads' header language when the user chose one (None: the page's language)
    headers: str | None = None

    def chinese_headers(self) -> bool:
        return (self.headers or self.lang) == "zh"

    def changed(self, source: str) -> dict[str, Any]:
        return self.edits.get(source, {})

    def set_lever(self, source: str, lever: str, value: Any, default: Any) -> None:
        """Record the value shown for a lever: kept if it differs from the file's, else dropped."""
        mine = self.edits.setdefault(source, {})
        if _same(value, default):
            mine.pop(lever, None)
        else:
            mine[lever] = _plain(value)
        if not mine:
            self.edits.pop(source, None)

    def reset(self, source: str) -> None:
        """Back to the file's values for this scenario (its widgets are drawn again from them)."""
        self.edits.pop(source, None)
        self.gen += 1

    def to_query(self) -> dict[str, str]:
        """The address parameters that reproduce the page (uploads cannot travel in an address)."""
        q = {Q_LANG: self.lang, Q_SCENARIO: self.scenario, Q_VIEW: self.view}
        if self.compare:
            q[Q_COMPARE] = self.compare
        if self.group_by != "county":
            q[Q_GROUP] = self.group_by
        if not self.same_region:
            q[Q_REGION] = "0"
        people = self.people.get(self.scenario)
        if people:
            q[Q_PEOPLE] = str(people)
        reps = self.replications.get(self.scenario, 1)
        if reps > 1:
            q[Q_REPLICATIONS] = str(reps)
        year = self.circle_year.get(self.scenario)
        if year is not None:
            q[Q_CIRCLE_YEAR] = str(year)
        if self.headers:
            q[Q_HEADERS] = self.headers
        edits = {k: v for k, v in self.edits.items() if v and not k.startswith("upload:")}
        if edits:
            q[Q_EDITS] = json.dumps(edits, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return q

    @classmethod
    def from_query(cls, query: Mapping[str, str], scenarios: list[str], default: str) -> PageState:
        """The state a link describes; anything unreadable or unknown is left at its default (a
        link is user input: it may be old, cut short or edited by hand)."""
        state = cls(scenario=default)
        if query.get(Q_LANG) in LANGS:
            state.lang = str(query[Q_LANG])
        if query.get(Q_SCENARIO) in scenarios:
            state.scenario = str(query[Q_SCENARIO])
        compare = query.get(Q_COMPARE, "")
        if compare == "@file" or compare in scenarios:
            state.compare = str(compare)
        state.same_region = query.get(Q_REGION) != "0"
        if query.get(Q_GROUP) in GROUPINGS:
            state.group_by = str(query[Q_GROUP])
        if query.get(Q_VIEW):
            state.view = str(query[Q_VIEW])
        if query.get(Q_HEADERS) in LANGS:
            state.headers = str(query[Q_HEADERS])
        try:
            people = int(query.get(Q_PEOPLE, ""))
            if people > 0:
                state.people[state.scenario] = people
        except ValueError:
            pass
        try:
            reps = int(query.get(Q_REPLICATIONS, ""))
            if REPLICATIONS[0] < reps <= REPLICATIONS[1]:
                state.replications[state.scenario] = reps
        except ValueError:
            pass
        year = str(query.get(Q_CIRCLE_YEAR, ""))
        if year.isascii() and year.isdigit():  # a year the run lacks shows its last (views.view_circle)
            state.circle_year[state.scenario] = int(year)
        try:
            edits = json.loads(query.get(Q_EDITS, "") or "{}")
        except ValueError:
            edits = {}
        if isinstance(edits, dict):
            for source, values in edits.items():
                if source in scenarios and isinstance(values, dict):
                    kept = {str(k): v for k, v in values.items() if _is_value(v)}
                    if kept:
                        state.edits[source] = kept
        return state


def _is_value(v: Any) -> bool:
    return isinstance(v, bool | int | float) and v == v and v not in (float("inf"), float("-inf"))


def _plain(v: Any) -> Any:
    """Widget values as JSON-ready numbers (numpy scalars from a slider become Python numbers)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v
    try:
        return v.item()
    except AttributeError:
        return v


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b)) < 1e-12
    return bool(a == b)


def widget_key(state: PageState, *parts: object) -> str:
    """A widget's key: what it shows, the language (labels and options are drawn afresh in the
    other language) and the reset generation (a reset draws the levers again from the file)."""
    return "|".join(str(p) for p in (*parts, state.lang, state.gen))
