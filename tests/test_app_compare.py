"""Issue 19 in the app's comparison view (方案对比), driven headless with AppTest.

What is pinned down: the comparison's deck and workbook are the report module's files for the
comparison folder (A-vs-B slide and the waterfall), not run A's; the Chinese-header option reaches
every CSV of the page (the comparison zip, each chart's table, the service-circle table) and is
kept in the address; B − A by payer level per year, with the budget window's subtotal and the
whole period, adds up to the total difference, and the present value is a row of the comparison;
the page names the changed levers that prevent a fast payment replay.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
import streamlit
from app_levers import lever_input
from pptx import Presentation
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from agingsim.app import figures, runs, sources
from agingsim.app.levers import all_levers, find_levers, lever_id
from agingsim.report.data import (
    PV,
    compare_measures,
    load_results,
    payer_difference_by_year,
    window_subtotal,
)
from agingsim.report.labels import column_label, label, measure_label

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
YUQUAN = ROOT / "scenarios" / "yuquan_home_services.toml"
ZHUMADIAN = ROOT / "scenarios" / "zhumadian_basic_services.toml"
PEOPLE = 20_000  # the app's smallest simulated-people option
MEAL = "policy.schemes[1].groups[0].amount"  # Yuquan's meal allowance (the file: 90 CNY)
EDIT = json.dumps({YUQUAN.name: {f"{MEAL}#money": 300}})  # the address's lever edits (app.state)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What each download button of the page serves, by widget key (a callable is what a click
    would run): AppTest shows the buttons but cannot click one."""
    found: dict[str, Any] = {}
    original = streamlit.download_button

    def record(label_text: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        found[kwargs.get("key", label_text)] = data
        return original(label_text, data, *args, **kwargs)

    def record_in(dg: Any, label_text: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        found[kwargs.get("key", label_text)] = data
        return in_column(dg, label_text, data, *args, **kwargs)

    in_column = DeltaGenerator.download_button
    monkeypatch.setattr(streamlit, "download_button", record)  # st.download_button
    monkeypatch.setattr(DeltaGenerator, "download_button", record_in)  # a column's
    return found


def _bytes(data: bytes | Callable[[], bytes]) -> bytes:
    return data() if callable(data) else data


def _app(path: Path, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({"s": path.name, "n": str(PEOPLE)} | query)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def compared(served: dict[str, Any]) -> AppTest:
    """Yuquan with the meal allowance at 300 CNY (A) against the file's own 90 CNY (B)."""
    at = _app(YUQUAN, b="@file", view="compare", e=EDIT)
    assert at.session_state["page"].changed(YUQUAN.name) == {f"{MEAL}#money": 300}
    assert not at.error
    return at


def _folder(at: AppTest) -> Path:
    """The comparison folder of the page's run A (runs.compare names it by both runs' keys)."""
    found = sorted(runs.CACHE.root.glob(f"compare-{at.session_state['last_run'].key}-*"))
    assert len(found) == 1, found
    return found[0]


def _slide_titles(data: bytes) -> list[str]:
    prs = Presentation(io.BytesIO(data))
    return [s.shapes.title.text_frame.text if s.shapes.title is not None else "" for s in prs.slides]


def test_the_apps_comparison_deck_has_the_a_vs_b_slide_and_the_waterfall(
    compared: AppTest, served: dict[str, Any]
) -> None:
    """Gap 1: the comparison view's PPTX is the report module's deck of the comparison folder (its
    title slide, the A-vs-B table, the waterfall), and its XLSX the comparison's workbook; run A's
    deck (the downloads view) has neither."""
    deck = _bytes(served["dl_compare_pptx"])
    titles = _slide_titles(deck)
    assert titles[0] == label("deck_compare_title", "zh")
    assert label("title_waterfall", "zh") in titles and label("title_compare", "zh") in titles
    table = next(
        shape.table
        for s in Presentation(io.BytesIO(deck)).slides
        if s.shapes.title is not None and s.shapes.title.text_frame.text == label("deck_headline", "zh")
        for shape in s.shapes
        if shape.has_table
    )
    assert [c.text for c in table.rows[0].cells] == [
        label(k, "zh") for k in ("col_measure", "col_a", "col_b", "col_b_minus_a")
    ]
    book = openpyxl.load_workbook(io.BytesIO(_bytes(served["dl_compare_xlsx"])))
    values = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert label("col_b_minus_a", "zh") in values
    compared.radio(key="view|zh|0").set_value("downloads").run()
    assert label("title_waterfall", "zh") not in _slide_titles(_bytes(served["dl_pptx"]))


def _header(data: bytes) -> list[str]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel on Chinese Windows
    return list(pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", nrows=0).columns)


def test_the_chinese_header_option_reaches_the_comparison_zip_and_each_charts_csv(
    compared: AppTest, served: dict[str, Any]
) -> None:
    """Gap 2: one choice for every CSV of the page, kept in the page state and the address."""
    at = compared
    table = pd.read_csv(_folder(at) / "comparison.csv", nrows=0)
    chart_csv = next(k for k in served if k.startswith("csv|compare-") and k.endswith("compare_cost_total"))
    for chinese in (True, False):  # the Chinese page starts with Chinese headers
        with zipfile.ZipFile(io.BytesIO(_bytes(served["dl_compare"]))) as zf:
            got = _header(zf.read("comparison.csv"))
        want = [column_label(c, "zh") for c in table.columns] if chinese else list(table.columns)
        assert got == want
        head = _header(served[chart_csv])
        assert (column_label("measure", "zh") in head) is chinese and ("measure" in head) is not chinese
        at.checkbox(key="dl_zh|compare|zh|0").set_value(False).run()
    assert at.session_state["page"].headers == "en" and at.query_params["h"] == "en"
    at.radio(key="view|zh|0").set_value("downloads").run()  # the same choice in the other view
    assert at.checkbox(key="dl_zh|downloads|zh|0").value is False
    with zipfile.ZipFile(io.BytesIO(_bytes(served["dl_csv"]))) as zf:
        assert "year" in _header(zf.read("ledger.csv"))


def _payer_tables(at: AppTest) -> list[pd.DataFrame]:
    """The per-year B − A tables on the page: those whose last row is the whole period."""
    total = label("table_period_total", "zh")
    return [d.value for d in at.dataframe if len(d.value.index) and d.value.index[-1] == total]


def test_the_comparison_view_shows_b_minus_a_by_payer_per_year_and_the_present_value(
    compared: AppTest,
) -> None:
    """Gap 3: in the comparison view, the per-year B − A by payer level adds up to the total B − A
    of the comparison; the budget window's subtotal is the years from the card year on; the
    present value is a row of the measures table, B − A of the two headlines' present values."""
    at = compared
    results = load_results(_folder(at))
    table = results.frame("comparison.csv")
    total = table[table["measure"] == "cost_total_wan"]["b_minus_a"].sum()
    everything = label("legend_total", "zh")
    # what changed (A = the file, B = the levers) and the comparison (A = the levers, B = the file)
    shown, changed = sorted(_payer_tables(at), key=lambda t: abs(t[everything].iloc[-1] - total))
    pd.testing.assert_frame_equal(changed, -shown)
    run = at.session_state["last_run"].result
    first, last = figures.fiscal_years(run)
    years = shown.loc[[label("fiscal_year", "zh", year=y) for y in range(first, last + 1)]]
    assert years[everything].sum() == pytest.approx(total, abs=0.05)
    assert shown.loc[label("table_period_total", "zh"), everything] == pytest.approx(total, abs=0.05)
    assert shown.index[-1] == label("table_period_total", "zh")
    window = figures.card_year(run)
    if window > first:  # the window from the first year would be the whole period again
        subtotal = shown.loc[label("table_window_subtotal", "zh", first=window, last=last)]
        in_window = [label("fiscal_year", "zh", year=y) for y in range(window, last + 1)]
        assert subtotal[everything] == pytest.approx(years.loc[in_window, everything].sum())
        assert len(shown) == last - first + 3
    measures = next(d.value for d in at.dataframe if d.value.columns[0] == label("col_measure", "zh"))
    pv = measures[measures.iloc[:, 0].str.startswith(measure_label(PV, "zh"))]
    assert len(pv) == 1
    ha, hb = (arm["headline"][PV] for arm in results.arms)
    assert pv.iloc[0, 1:].tolist() == pytest.approx([ha, hb, hb - ha])
    assert hb < ha  # B (the file's 90 CNY) spends less than A (300 CNY), discounted or not


def test_per_year_b_minus_a_sums_to_the_total_and_the_window_subtotal_to_its_years() -> None:
    """The table behind gap 3, from two ledgers: every year and payer level sums to the total."""
    source = sources.from_file(ZHUMADIAN)
    a, _ = runs.CACHE.run(sources.load(source, {}, simulated_people=PEOPLE))
    b, _ = runs.CACHE.run(sources.load(source, {"policy.schemes[0].amount": 160}, simulated_people=PEOPLE))
    total = b.result.headline()["cost_total_wan"] - a.result.headline()["cost_total_wan"]
    by_year = payer_difference_by_year(a.result.ledger, b.result.ledger)
    assert total != 0 and by_year["total"].sum() == pytest.approx(total, abs=0.02)
    first = int(by_year.index.min()) + 2
    assert window_subtotal(by_year, first)["total"] == pytest.approx(by_year.loc[first:, "total"].sum())
    assert window_subtotal(by_year, int(by_year.index.min()))["total"] == pytest.approx(
        by_year["total"].sum()
    )
    rows = compare_measures(load_results(runs.compare(a, b).folder), "en")
    assert [r[0] for r in rows[:2]] == ["cost_total_wan", PV]
    rate = f"{100 * a.result.headline()['discount_rate']:g}%"
    assert rows[1][1] == f"{measure_label(PV, 'en')}{label('over_years_pv', 'en', rate=rate)}"
    assert rows[1][4] == pytest.approx(b.result.headline()[PV] - a.result.headline()[PV])


def test_the_service_circle_table_downloads_as_csv(served: dict[str, Any]) -> None:
    """Gap 4: the table under the map is a CSV too (UTF-8 with a BOM, Chinese headers on choice)."""
    from agingsim.geo.coverage import coverage_by_community, coverage_summary

    at = _app(ROOT / "scenarios" / "guiyang_service_circle.toml", view="circle")
    assert not at.error
    g = at.session_state["last_run"].result.scenario.geography
    year = next(s for s in at.select_slider if s.label == label("circle_year", "zh")).value
    raw = coverage_summary(coverage_by_community(g, year), g.counties)
    data = _bytes(served["csv|circle"])
    assert _header(data) == [column_label(c, "zh") for c in raw.columns]
    assert len(pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")) == len(raw)
    at.checkbox(key="dl_zh|circle|zh|0").set_value(False).run()
    assert _header(_bytes(served["csv|circle"])) == list(raw.columns)


def _lever(path: Path, key: str):
    levers = {lever_id(lev): lev for lev in all_levers(find_levers(sources.from_file(path).raw))}
    return levers[key]


def test_the_page_names_the_levers_that_need_a_full_run() -> None:
    """Gap 5: with a money lever and the start year changed in Zhumadian, the page names the start
    year (it changes the people simulated) and not the allowance (a payment, replayed); in Yuquan,
    where the subsidies lower the prices in the care choice, it says every change is a full run."""
    at = _app(ZHUMADIAN)
    money, year = "policy.schemes[0].amount#money", "run.start_year#year"
    lever_input(at, ZHUMADIAN, money).set_value(160).run()
    captions = [c.value for c in at.caption]
    assert not any(label("app_full_run_levers", "zh", levers="")[:8] in c for c in captions)
    lever_input(at, ZHUMADIAN, year).set_value(2026).run()
    assert not at.exception and not at.error
    captions = [c.value for c in at.caption]
    named = label("app_full_run_levers", "zh", levers=_lever(ZHUMADIAN, year).title("zh"))
    assert named in captions
    assert _lever(ZHUMADIAN, money).title("zh") not in named
    at = _app(YUQUAN, e=EDIT)
    assert label("app_full_run_always", "zh") in [c.value for c in at.caption]


def _upload(at: AppTest, name: str, data: bytes) -> str:
    at.file_uploader(key="upload").set_value((name, data, "application/toml")).run()
    assert not at.exception and not at.error
    return at.session_state["page"].scenario


def test_two_uploads_are_told_apart_and_compared_as_a_and_b() -> None:
    """Gap 6: two uploads of one scenario (Yuquan, the meal allowance 90 vs 300 CNY) are two entries
    named by file and short hash, not twice "…（上传）"; either can be A (the scenario) and the
    other B, and the comparison names them so."""
    small = YUQUAN.read_bytes().replace(b"years = 10", b"years = 3").replace(b"= 72000", b"= 20000")
    meal = b'amount = { value = 90, assumption = "meal subsidy'
    assert meal in small
    richer = small.replace(meal, meal.replace(b"90", b"300"))
    at = _app(YUQUAN)
    first = _upload(at, "mine.toml", small)
    second = _upload(at, "mine_300.toml", richer)
    assert first != second and at.session_state["page"].scenario == second
    title = sources.from_file(YUQUAN).title[0]
    names = {
        sid: label("app_upload_name", "zh", name=title, file=file, digest=sid[7:13])
        for sid, file in ((first, "mine.toml"), (second, "mine_300.toml"))
    }
    box = next(s for s in at.selectbox if s.label == label("app_scenario", "zh"))
    assert set(names.values()) <= set(box.options) and len(set(box.options)) == len(box.options)
    b_box = next(s for s in at.selectbox if s.label == label("compare_with", "zh"))
    assert set(names.values()) <= set(b_box.options)
    b_box.set_value(first).run()
    at.radio(key="view|zh|0").set_value("compare").run()
    assert not at.exception and not at.error
    shown = [m.value for m in at.markdown]
    assert label("compare_names", "zh", a=names[second], b=names[first]) in shown
    measures = next(d.value for d in at.dataframe if d.value.columns[0] == label("col_measure", "zh"))
    cost = measures[measures.iloc[:, 0].str.startswith(measure_label("cost_total_wan", "zh"))].iloc[0]
    assert cost.iloc[3] < 0  # B (90 CNY meals) spends less than A (300 CNY)
    box = next(s for s in at.selectbox if s.label == label("app_scenario", "zh"))
    box.set_value(first).run()  # and the other way round
    b_box = next(s for s in at.selectbox if s.label == label("compare_with", "zh"))
    b_box.set_value(second).run()
    assert label("compare_names", "zh", a=names[first], b=names[second]) in [m.value for m in at.markdown]


def test_a_difference_that_cannot_be_made_is_not_coloured() -> None:
    """The A-vs-B table colours B - A green or red by BETTER; an empty difference (no year in
    common, or an arm without a behaviour model) was coloured red as if B were worse."""
    from agingsim.app.views import _direction_colour

    assert _direction_colour("needing_care_served", float("nan")) == ""
    assert _direction_colour("needing_care_served", 10.0).endswith("#e3f4e1")  # more served: better
    assert _direction_colour("cost_total_wan", 10.0).endswith("#fde2e1")  # more spent: worse


def test_the_compare_tables_shares_read_in_per_cent_and_their_difference_in_points() -> None:
    """The A-vs-B table showed occupancy and the share served as bare fractions (0.47): a share is
    shown in per cent and B − A of two shares in percentage points, as on the terminal (compare.
    summary_lines); money and people keep two decimals; an empty cell is the dash."""
    from agingsim.app.views import compare_table

    rows = [
        ("cost_total_wan", "总支出", 41486.8398, 31709.4956, -9777.3442),
        ("bed_occupancy", "床位入住率", 0.47295, 0.48530, 0.01235),
        ("needing_care_served_share", "需要照护者获服务比例", float("nan"), 0.15348, float("nan")),
    ]
    for lang, points in (("zh", "+1.2 个百分点"), ("en", "+1.2 pt")):
        body = compare_table(rows, lang)._translate(True, True)["body"]
        shown = [[c["display_value"] for c in r[1:]] for r in body]
        assert shown[0] == ["总支出", "41,486.84", "31,709.50", "-9,777.34"]
        assert shown[1] == ["床位入住率", "47.3%", "48.5%", points]
        assert shown[2] == ["需要照护者获服务比例", "—", "15.3%", "—"]


def _interval(at: AppTest) -> pd.DataFrame:
    """The page's B − A interval table (app.views.interval_table)."""
    head = label("col_diff_p50", "zh")
    found = [d.value for d in at.dataframe if head in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def test_the_comparison_view_gives_b_minus_a_its_interval_over_paired_replications() -> None:
    """With replications set (k= in the address, the same setting as the spending view's bands),
    the comparison view shows B − A's median and 90% interval over paired replications, the figures
    of `agingsim compare --replications` (its folder is written beside the comparison's); the
    count is page state: changing it changes the address, and the other view shows the same."""
    at = _app(YUQUAN, b="@file", view="compare", e=EDIT, k="2")
    assert not at.error
    table = _interval(at)
    folder = _folder(at).with_name(_folder(at).name.replace("compare-", "interval-") + "-k2")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["uncertainty"]["replications"] == 2
    written = pd.read_csv(folder / "difference.csv").set_index("measure")
    total = table[table.iloc[:, 0].str.startswith(measure_label("cost_total_wan", "zh"))]
    assert total.iloc[0, 1] == pytest.approx(written.loc["cost_total_wan", "difference_p50"])
    assert total.iloc[0, 1] < 0  # B (the file's 90 CNY meals) spends less than A (300 CNY)
    key = "replications_compare|" + YUQUAN.name + "|zh|0"
    at.number_input(key=key).set_value(3).run()
    assert at.session_state["page"].replications[YUQUAN.name] == 3 and at.query_params["k"] == "3"
    assert len(_interval(at)) == len(table)
    at.radio(key="view|zh|0").set_value("costs").run()
    assert at.number_input(key="replications|" + YUQUAN.name + "|zh|0").value == 3


def test_a_comparison_of_a_scenario_with_itself_has_an_interval_of_exactly_zero() -> None:
    """Common random numbers and parameter draws through the app: B is A's own file, so every
    replication's B − A is exactly 0 and no interval excludes zero."""
    at = _app(YUQUAN, b="@file", view="compare", k="2")
    table = _interval(at)
    assert (table.iloc[:, 1:4].fillna(0.0) == 0.0).all().all(), table
    assert label("verdict_excludes_zero", "zh") not in set(table.iloc[:, 5])
