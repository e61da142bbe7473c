"""Issue 19 item 3 on the page: the "谁受益、谁受损 / Who gains, who loses" view groups people by
county, age band, ability level, economic status or residence (the choice kept in the address), its
table's spending adds up to the ledger's, and switching an allowance off shows exactly who loses it."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from app_levers import open_box
from streamlit.testing.v1 import AppTest

from agingsim.app import sources
from agingsim.app.state import GROUPINGS, PageState
from agingsim.fiscal.ledger import WAN
from agingsim.report.labels import column_label, label
from agingsim.results.distribution import DIMENSIONS
from agingsim.scenario.variant import load_scenario_with
from agingsim.simulate import run_scenario

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
NINGHE = ROOT / "scenarios" / "ninghe_allowances.toml"
PEOPLE = 20_000
SWITCH = "lv|ninghe_allowances.toml|policy.schemes[0].active#switch|zh|0"


def _engine(overrides: dict | None = None):
    scenario = load_scenario_with(NINGHE, overrides or {}, label=sources.APP_LABEL).with_run(
        simulated_people=PEOPLE
    )
    return run_scenario(scenario, record_payments=True, record_distribution=True)


def _app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({"s": NINGHE.name, "n": str(PEOPLE), "view": "who"} | query)
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, first_column: str, has: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if d.value.columns[0] == first_column and has in d.value.columns]
    assert found, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_the_page_groupings_are_the_distribution_dimensions() -> None:
    assert GROUPINGS == DIMENSIONS
    state = PageState.from_query({"g": "econ_status"}, ["x.toml"], "x.toml")
    assert state.group_by == "econ_status" and state.to_query()["g"] == "econ_status"
    assert PageState.from_query({"g": "nonsense"}, ["x.toml"], "x.toml").group_by == "county"


def test_who_view_by_econ_status_sums_to_the_ledger_and_is_in_words() -> None:
    """Done-when: the distributional table's spending sums to the ledger's (every person-level line,
    the one-off home adaptation included)."""
    at = _app(g="econ_status")
    table = _table(at, column_label("econ_status", "zh"), column_label("people", "zh"))
    result = _engine()
    assert result.ledger["line_item"].isin(["home_adaptation"]).any()
    ledger = result.ledger
    spent = table[column_label("spending_wan", "zh")].astype(float).sum()
    assert spent == pytest.approx(ledger["amount_cny"].sum() / WAN, abs=1e-4)
    assert set(table[column_label("econ_status", "zh")]) <= {
        "特困（集中供养）",
        "特困（分散供养）",
        "低保",
        "低保边缘",
        "普通",
    }
    assert "dibao" not in table.to_string() and "None" not in table.to_string()
    # the grouping is page state: another one redraws the table and goes into the address
    at.radio(key="who_by|zh").set_value("age_band").run()
    assert not at.exception
    assert at.query_params["g"] == ["age_band"] or at.query_params["g"] == "age_band"
    by_age = _table(at, column_label("age_band", "zh"), column_label("people", "zh"))
    assert by_age[column_label("spending_wan", "zh")].astype(float).sum() == pytest.approx(spent, abs=1e-4)
    assert [c.value for c in at.caption if c.value == label("who_gains_pick", "zh")]


def test_switching_an_allowance_off_shows_exactly_who_loses_it() -> None:
    """The advanced-age allowance switched off: against the file's own values, the people who lose
    it are those the file pays it to (the same simulated people: compared bin by bin), no one gains."""
    at = _app()
    open_box(at, NINGHE, "policy.schemes[0].active#switch")
    at.toggle(key=SWITCH).set_value(False).run()
    assert not at.exception, at.exception
    gains = _table(at, column_label("county", "zh"), column_label("losing", "zh"))
    base = _engine().distribution()
    mine = base.payments[base.payments["line_item"] == "advanced_age_allowance"]
    expected = mine["entitled"].sum() / base.people["year"].nunique()
    assert gains[column_label("losing", "zh")].astype(float).sum() == pytest.approx(expected, rel=1e-9)
    assert gains[column_label("gaining", "zh")].astype(float).sum() == 0
    assert [c.value for c in at.caption if c.value == label("who_gains_note_bins", "zh")]


def test_the_workbook_has_the_groups_sheet_summing_to_the_ledger(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from agingsim.report.exports import make_report

    result = _engine()
    folder = result.write(tmp_path / "run")
    table = pd.read_csv(folder / "distribution.csv")
    total = result.ledger["amount_cny"].sum() / WAN  # every person-level line, one-off ones included
    for _, part in table.groupby("dimension"):
        assert part["spending_wan"].sum() == pytest.approx(total, abs=1e-3)
    from agingsim.report.data import load_results

    out, _, _ = make_report(load_results(folder), tmp_path / "report", lang="zh", formats=("xlsx",))
    wb = load_workbook(io.BytesIO((out / "report.xlsx").read_bytes()), read_only=True)
    ws = wb[label("sheet_who", "zh")]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == column_label("dimension", "zh")
    spent = sum(r[3] for r in rows[1:] if r[0] == column_label("econ_status", "zh"))
    assert spent == pytest.approx(total, abs=1e-3)
    assert "低保" in {r[1] for r in rows[1:]}


def test_scheme_b_equal_to_a_shows_no_gain_and_no_loss() -> None:
    """Scheme B = the file's own values, no lever changed: the same people, the same payments, so
    the page says no one gains or loses (a reform that changes nothing shows exactly zero)."""
    at = _app(b="@file")
    assert [s.value for s in at.success if s.value == label("who_gains_none", "zh")]
    assert not [d for d in at.dataframe if column_label("losing", "zh") in d.value.columns]
