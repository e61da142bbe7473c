"""Issue 19 item 6: the app's full runs do not record who gets what by group (it costs ~16% of a
run); the who view and the downloads that need it (distribution.csv, the workbook's sheet) record it
on first need by one more run of the same scenario, seed and replication, so the groups are exactly
those of a run recorded from the start and still sum to the ledger. A replay's groups come from its
base: the recording run gives them to the base, so later replays have them without a run."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from app_levers import open_box
from streamlit.testing.v1 import AppTest

from agingsim.app import runs, sources
from agingsim.fiscal.ledger import WAN
from agingsim.report.labels import column_label, label
from agingsim.scenario.variant import load_scenario_with
from agingsim.simulate import run_scenario

ROOT = Path(__file__).resolve().parents[1]
NINGHE = ROOT / "scenarios" / "ninghe_allowances.toml"
PEOPLE = 20_000
OFF = {"policy.schemes[0].active": False}  # a payment-only change: replayed on the same people


def _scenario(overrides: dict | None = None):
    return load_scenario_with(NINGHE, overrides or {}, label=sources.APP_LABEL).with_run(
        simulated_people=PEOPLE
    )


def _person_ledger(result) -> pd.DataFrame:
    """The ledger's person-level lines, monthly and one-off: what the groups' spending adds up to."""
    schemes = {s.id for s in result.scenario.file.policy.schemes}
    return result.ledger[result.ledger["line_item"].isin(schemes)]


@pytest.fixture(scope="module")
def recorded():
    """The run recorded from the start, as the engine makes it."""
    return run_scenario(_scenario(), record_payments=True, record_distribution=True)


def test_a_normal_full_run_does_not_record_its_groups(tmp_path: Path) -> None:
    run, cached = runs.RunCache(root=tmp_path).run(_scenario())
    assert not cached and not run.grouped
    assert run.result.distribution_bins is None and run.result.distribution() is None


def test_groups_recorded_lazily_equal_a_recorded_run_and_sum_to_the_ledger(tmp_path: Path, recorded) -> None:
    cache = runs.RunCache(root=tmp_path)
    run, _ = cache.run(_scenario())
    ledger = run.result.ledger.copy()
    assert not (run.folder / "distribution.csv").exists()  # the folder written before the groups
    assert run.with_groups() is True  # one more run
    assert run.grouped and run.with_groups() is False  # and only one
    pd.testing.assert_frame_equal(run.result.ledger, ledger)  # the run's results are untouched
    lazy, full = run.result.distribution(), recorded.distribution()
    pd.testing.assert_frame_equal(lazy.people, full.people)
    pd.testing.assert_frame_equal(lazy.payments, full.payments)
    spent = lazy.payments.groupby("line_item")["spending_cny"].sum()
    paid = _person_ledger(run.result).groupby("line_item")["amount_cny"].sum()
    pd.testing.assert_series_equal(spent.sort_index(), paid.sort_index(), check_names=False, rtol=1e-9)
    # the folder already written is written again with distribution.csv, and the CSV zip has it
    table = pd.read_csv(run.folder / "distribution.csv")
    county = table[table["dimension"] == "county"]
    assert county["spending_wan"].sum() == pytest.approx(paid.sum() / WAN, abs=1e-3)
    with zipfile.ZipFile(io.BytesIO(run.csv_zip())) as zf:
        assert "distribution.csv" in zf.namelist()


def test_the_workbook_of_a_run_without_groups_records_them_for_its_sheet(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    run, _ = runs.RunCache(root=tmp_path).run(_scenario())
    assert not run.grouped
    wb = load_workbook(io.BytesIO(run.report_file("zh", "xlsx")), read_only=True)
    assert label("sheet_who", "zh") in wb.sheetnames and run.grouped


def test_a_replay_gets_its_groups_from_its_base_and_the_base_keeps_them(tmp_path: Path, recorded) -> None:
    cache = runs.RunCache(root=tmp_path)
    base, _ = cache.run(_scenario())
    off, _ = cache.run(_scenario(OFF))
    assert off.result.replayed_from == base.key and not off.grouped
    assert off.with_groups() is True  # the base had none: one run, given to the base too
    assert base.grouped and base.result.distribution_bins is off.result.distribution_bins
    pd.testing.assert_frame_equal(base.result.distribution().people, recorded.distribution().people)
    # the replay's groups are paid under its own terms: no advanced-age allowance any more
    assert "advanced_age_allowance" not in set(off.result.distribution().payments["line_item"])
    spent = off.result.distribution().payments["spending_cny"].sum()
    assert spent == pytest.approx(_person_ledger(off.result)["amount_cny"].sum(), rel=1e-9)
    # a later replay on the same people has the groups at once, with no run
    again, _ = cache.run(_scenario({"policy.schemes[0].active": False, "policy.schemes[1].active": False}))
    assert again.result.replayed_from == base.key and again.grouped


def test_the_who_view_opened_from_another_view_records_the_groups_and_sums_to_the_ledger(recorded) -> None:
    runs.CACHE.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params.update({"s": NINGHE.name, "n": str(PEOPLE), "view": "costs", "g": "county"})
    at.run()
    assert not at.exception, at.exception
    shown = at.session_state["last_run"]
    assert not shown.grouped  # the costs view's full run did not record the groups
    at.radio(key="view|zh|0").set_value("who").run()
    assert not at.exception, at.exception
    assert shown.grouped
    found = [
        d.value
        for d in at.dataframe
        if d.value.columns[0] == column_label("county", "zh")
        and column_label("people", "zh") in d.value.columns
    ]
    assert found, [list(d.value.columns) for d in at.dataframe]
    spent = found[0][column_label("spending_wan", "zh")].astype(float).sum()
    assert spent == pytest.approx(_person_ledger(recorded)["amount_cny"].sum() / WAN, abs=1e-4)


def test_a_scheme_switched_off_keeps_the_group_table_columns_numbers() -> None:
    """The "by scheme and eligible group" table against the file's own values: a scheme switched off
    has no people paid for (NaN), shown as a dash by formatting; the column stays numbers (a column
    of numbers and "—" is not one Arrow type: Streamlit logged an ArrowTypeError)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.query_params.update({"s": NINGHE.name, "n": str(PEOPLE), "view": "who"})
    at.run()
    open_box(at, NINGHE, "policy.schemes[0].active#switch")
    at.toggle(key="lv|ninghe_allowances.toml|policy.schemes[0].active#switch|zh|0").set_value(False).run()
    assert not at.exception, at.exception
    heading = column_label("beneficiaries_per_month", "zh")
    found = [d.value for d in at.dataframe if d.value.columns[0] == column_label("line_item", "zh")]
    found = [
        t for t in found if heading in t.columns and column_label("spending_change_wan", "zh") in t.columns
    ]
    assert found, [list(d.value.columns) for d in at.dataframe]
    column = found[0][heading]
    assert pd.api.types.is_float_dtype(column), column.dtype
    assert column.isna().any()  # the allowance switched off: no one paid for under your changes
