"""Issue 14 item 4 / issue 19: "The app offers the same upload" as ``agingsim region import``.

Pinned: the page offers the template; a filled workbook uploads, imports into the session's own
folder (never calibration/regions/) and the chosen scenario's policy runs on it, with cards; a
malformed workbook shows the importer's problems (sheet, row, column, problem) in the page's language,
writes nothing and leaves the page on its scenario; every problem the importer's malformed-workbook
cases raise has a Chinese text (the same message as the CLI's, translated, not a different check).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from region_workbook_builder import PEOPLE, fill
from streamlit.testing.v1 import AppTest
from test_region_workbook import MALFORMED

from agingsim.app import region_upload, sources
from agingsim.app.state import PageState
from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.region import import_workbook, template_bytes
from agingsim.report.labels import label
from agingsim.report.problems import ENGLISH_ONLY, translate_problem

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
ZHUMADIAN = ROOT / "scenarios" / "zhumadian_basic_services.toml"
YUQUAN = ROOT / "scenarios" / "yuquan_home_services.toml"
N = 20_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _regions_files() -> set[Path]:
    return set((ROOT / "calibration" / "regions").rglob("*"))


def _malformed(tmp_path: Path, case: str) -> bytes:
    spec, _expected = MALFORMED[case]
    path = tmp_path / f"{case}.xlsx"
    fill(path, **{k: v for k, v in spec.items() if k != "edit"})
    if "edit" in spec:
        spec["edit"](path)
    return path.read_bytes()


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update({"s": ZHUMADIAN.name, "n": str(N)})
    at.run()
    assert not at.exception, at.exception
    return at


def test_upload_round_trip_runs_the_policy_on_the_region_with_cards(app: AppTest, tmp_path: Path) -> None:
    before = _regions_files()
    template = app.get("download_button")
    assert any(b.proto.label == label("region_template", "zh") for b in template)
    data = fill(tmp_path / "filled.xlsx").read_bytes()
    app.file_uploader(key="region_upload").set_value(("测试县.xlsx", data, XLSX)).run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    state = app.session_state["page"]
    assert state.scenario.startswith("upload:")  # uploads never travel in the address
    # a link to the page cannot carry the upload: opened elsewhere it falls back to a bundled file
    linked = PageState.from_query(dict(app.query_params), [ZHUMADIAN.name], ZHUMADIAN.name)
    assert linked.scenario == ZHUMADIAN.name
    assert state.people[state.scenario] == N  # the people count chosen for the policy's scenario
    run = app.session_state["last_run"]
    scenario = run.result.scenario
    assert scenario.region.name == "测试县"
    assert [c.id for c in scenario.region.counties] == ["chengguan", "xiangcun"]
    assert scenario.geography is None and scenario.file.policy is not None
    workdir = app.session_state["workdir"]
    imported = [k for k in scenario.inputs if Path(k).is_relative_to(workdir / region_upload.REGIONS_DIR)]
    assert any(k.endswith(".toml") for k in imported) and any(k.endswith(".csv") for k in imported)
    assert app.metric and all(m.value for m in app.metric)  # the cards of a spending scenario
    assert any(label("card_total", "zh", first=0, last=0)[:4] in m.label for m in app.metric)
    assert _regions_files() == before  # nothing written into calibration/regions/
    policy = [s for s in app.selectbox if s.label.startswith("在 测试县")]
    assert policy and policy[0].value == ZHUMADIAN.name
    assert label("region_no_link", "zh") in [c.value for c in app.caption]

    # another scenario's policy on the same region, then back: each is the page's scenario in turn
    first = state.scenario
    policy[0].set_value(YUQUAN.name).run()
    assert not app.exception, app.exception
    assert app.session_state["page"].scenario not in (first, ZHUMADIAN.name)
    assert app.session_state["last_run"].result.scenario.region.name == "测试县"
    yuquan_title = sources.from_file(YUQUAN).title[0]
    assert app.session_state["last_run"].result.scenario.name.startswith(yuquan_title)
    policy = [s for s in app.selectbox if s.label.startswith("在 测试县")]
    policy[0].set_value(ZHUMADIAN.name).run()
    assert not app.exception, app.exception
    assert app.session_state["page"].scenario == first
    assert app.session_state["last_run"].result.scenario.name.startswith(
        sources.from_file(ZHUMADIAN).title[0]
    )


@pytest.mark.parametrize(
    "case", ["text_in_number_cell", "shares_not_summing_to_one", "missing_sheet", "bad_sex"]
)
def test_malformed_upload_shows_its_problems_in_chinese_and_writes_nothing(
    app: AppTest, tmp_path: Path, case: str
) -> None:
    before_cards = [m.value for m in app.metric]
    before = _regions_files()
    app.file_uploader(key="region_upload").set_value(("坏.xlsx", _malformed(tmp_path, case), XLSX)).run()
    assert not app.exception, app.exception
    assert label("region_refused", "zh", name="坏.xlsx") in [e.value for e in app.error]
    table = app.table[0].value
    assert list(table.columns) == [
        label(f"region_col_{c}", "zh") for c in ("sheet", "row", "col", "item", "problem")
    ]
    problems = list(table[label("region_col_problem", "zh")])
    assert problems and not any(ENGLISH_ONLY[0] in p for p in problems), problems
    _spec, expected = MALFORMED[case]
    assert expected.split(":")[0].split(" row ")[0].split(" column ")[0] in set(
        table[label("region_col_sheet", "zh")]
    )
    assert app.session_state["page"].scenario == ZHUMADIAN.name
    assert [m.value for m in app.metric] == before_cards
    workdir = app.session_state["workdir"]
    assert not list((workdir / region_upload.REGIONS_DIR).glob("*/*"))  # nothing imported
    assert _regions_files() == before


def test_problem_table_names_sheet_row_column_item() -> None:
    exc = ScenarioErrors(
        [
            ScenarioError(
                "x.xlsx",
                "人口 Population row 7, column D (people)",
                "text in a number cell (got 'a'); write the number only",
            ),
            ScenarioError(
                "x.xlsx",
                "区县 Counties column share_60plus",
                "shares of the 60+ sum to 1.1, not 1 (rows 5–6)",
            ),
            ScenarioError("x.xlsx", "", "a problem no template knows"),
        ]
    )
    zh = region_upload.problem_rows(exc, "zh").to_numpy().tolist()
    assert zh[0] == ["人口 Population", "7", "D", "people", "数字单元格中填了文字（'a'）；只填数字"]
    assert zh[1][:3] == ["区县 Counties", "", "share_60plus"] and "不等于 1" in zh[1][4]
    assert zh[2][4] == "a problem no template knows" + ENGLISH_ONLY[0]  # visibly untranslated
    en = region_upload.problem_rows(exc, "en").to_numpy().tolist()
    assert en[0][4] == "text in a number cell (got 'a'); write the number only"  # the CLI's words


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_every_malformed_workbook_problem_has_chinese(tmp_path: Path, case: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ScenarioError) as err:
        import_workbook(_malformed(tmp_path, case), "bad", out, name="bad.xlsx")
    errors = err.value.errors if isinstance(err.value, ScenarioErrors) else [err.value]
    for e in errors:
        text, translated = translate_problem(e.problem, "zh")
        assert translated, e.problem
        assert text != e.problem


def test_import_upload_leaves_nothing_on_error_and_region_source_points_at_the_upload(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError):
        region_upload.import_upload(tmp_path, "bad.xlsx", b"not a workbook")
    assert not list((tmp_path / region_upload.REGIONS_DIR).glob("*"))
    wb = load_workbook(io.BytesIO(template_bytes()))
    assert wb.sheetnames  # the template the page offers is the CLI's
    region = region_upload.import_upload(tmp_path, "县.xlsx", fill(tmp_path / "f.xlsx").read_bytes())
    assert region.title == ("测试县", "Test County")
    source = region_upload.region_source(sources.from_file(ZHUMADIAN), region)
    assert source.uploaded and source.raw["population"]["region"] == str(region.files.region)
    assert source.raw["policy"] == sources.from_file(ZHUMADIAN).raw["policy"]
    scenario = sources.load(source, workdir=tmp_path, simulated_people=2000)
    people_60 = sum(n for sex in PEOPLE for n in PEOPLE[sex][4:])
    assert scenario.region.name == "测试县" and people_60 > 0
