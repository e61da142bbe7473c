"""Issue 7: briefing-ready outputs. The workbook and deck carry the ledger's numbers, the deck has the
expected slides, charts render Chinese in a CJK font without missing glyphs, and a folder that is not
an agingsim output is a clear error.

Small runs (2 years, 5,000 simulated people) keep this file to a few seconds.
"""

from __future__ import annotations

import itertools
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from openpyxl import load_workbook
from PIL import Image
from pptx import Presentation

from agingsim.cli import main as report_main
from agingsim.compare import compare_results
from agingsim.report import charts, exports, key_charts
from agingsim.report.data import headline_period, load_results
from agingsim.report.deck import DECK_ASSUMPTION_ROWS
from agingsim.report.fonts import missing_glyphs, svg_glyph_id, use_cjk_font
from agingsim.report.labels import (
    ABILITY,
    BAND_MEASURES,
    CARE_SETTINGS,
    FUNDING,
    LABELS,
    MEASURES,
    PAYER_LEVELS,
    SCHEME_FAMILIES,
    fmt_number,
    fmt_wan,
    label,
)
from agingsim.results.output import csv_writer, json_writer, write_outputs
from agingsim.scenario import load_scenario
from agingsim.simulate import run_scenario

ROOT = Path(__file__).resolve().parents[1]
GUIYANG = ROOT / "scenarios" / "guiyang_service_circle.toml"
YUQUAN = ROOT / "scenarios" / "yuquan_home_services.toml"


def _small(path: Path):
    return run_scenario(load_scenario(path).with_run(years=2, simulated_people=5000))


@pytest.fixture(scope="module")
def gy_result():
    return _small(GUIYANG)


@pytest.fixture(scope="module")
def gy_dir(tmp_path_factory, gy_result) -> Path:
    """A small Guiyang run folder (supply-side schemes, city : county 6 : 4)."""
    out = tmp_path_factory.mktemp("gy") / "run"
    gy_result.write(out)
    return out


@pytest.fixture(scope="module")
def gy_report_and_warnings(gy_dir) -> tuple[Path, list[str]]:
    """The full zh report (PNG, SVG, XLSX, PPTX) and every warning raised while making it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path, _files, _notes = exports.make_report(load_results(gy_dir), gy_dir / "report", lang="zh")
    return path, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def gy_report(gy_report_and_warnings) -> Path:
    return gy_report_and_warnings[0]


@pytest.fixture(scope="module")
def cmp_dir(tmp_path_factory, gy_result) -> Path:
    """A compare folder: A = Yuquan (demand side), B = Guiyang (supply side), as `agingsim compare` writes."""
    a, b = _small(YUQUAN), gy_result
    out = tmp_path_factory.mktemp("cmp") / "compare"
    write_outputs(
        out,
        {
            "comparison.csv": csv_writer(compare_results(a, b), "%.4f"),
            "summary.json": json_writer({"a": a.summary(), "b": b.summary(), "seed": a.scenario.run.seed}),
        },
    )
    return out


def _glyph_warnings(caught: list[warnings.WarningMessage] | list[str]) -> list[str]:
    messages = [m if isinstance(m, str) else str(m.message) for m in caught]
    return [m for m in messages if "missing from font" in m or "Glyph" in m]


# ------------------------------------------------------------------------------------------ fonts
def test_the_cjk_font_has_a_glyph_for_every_label():
    """Every word the report can print in either language renders in the font (no boxes)."""
    texts = [t for pair in LABELS.values() for t in pair]
    for table in (PAYER_LEVELS, SCHEME_FAMILIES, FUNDING, ABILITY, CARE_SETTINGS, MEASURES, BAND_MEASURES):
        texts += [t for pair in table.values() for t in pair]
    assert missing_glyphs("".join(texts)) == []
    assert missing_glyphs("贵阳市15分钟养老服务圈建设补贴 · 万元 ≥ m² –") == []


def test_a_font_without_chinese_is_caught():
    """The glyph check and the warning check are not vacuous: DejaVu Sans has no Chinese."""
    import matplotlib

    dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    assert sorted(missing_glyphs("省级", dejavu)) == sorted("省级")
    fig = Figure()
    fig.text(0.5, 0.5, "省级财政", family="DejaVu Sans")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(Path("/dev/null"), format="png")
    assert _glyph_warnings(caught)


def test_charts_with_chinese_labels_save_without_missing_glyph_warnings(gy_report_and_warnings):
    path, caught = gy_report_and_warnings
    assert _glyph_warnings(caught) == []
    assert caught == [], caught  # no warning of any kind while drawing and exporting
    assert {p.stem for p in path.glob("*.png")} == {
        "cost_by_payer",
        "cost_by_line_item",
        "population_pyramid",
        "coverage_by_setting",  # the scenario has a behaviour model: coverage.csv and capacity.csv
        "beds_occupancy_waits",
    }


# ------------------------------------------------------------------------------------------ files
def test_png_is_300_dpi_and_svg_draws_chinese_with_the_cjk_glyphs(gy_report):
    for stem in ("cost_by_payer", "cost_by_line_item", "population_pyramid"):
        with Image.open(gy_report / f"{stem}.png") as img:
            assert round(img.info["dpi"][0]) == 300
            assert img.size == (3000, 1680)
        svg = (gy_report / f"{stem}.svg").read_text(encoding="utf-8")
        # every glyph outline is Noto Sans CJK's (the footer and titles are Chinese), none DejaVu's
        assert f'id="{svg_glyph_id("年")}"' in svg
        assert "DejaVuSans-" not in svg
    svg = (gy_report / "cost_by_payer.svg").read_text(encoding="utf-8")
    for char in "市级县万元随机种子":
        assert f'id="{svg_glyph_id(char)}"' in svg


def test_every_chart_has_the_footer_line(gy_dir):
    results = load_results(gy_dir)
    built, _ = key_charts.build_charts(results, "en")
    for chart in built:
        texts = [t.get_text() for sub in chart.figure.subfigs for t in sub.texts]
        footer = next(t for t in texts if t.startswith("Scenario:"))
        assert results.summary["scenario_en"] in footer
        assert (
            f"seed {results.summary['seed']}" in footer and f"agingsim {results.summary['version']}" in footer
        )
        assert re.search(r"\d{4}-\d{2}-\d{2}$", footer)


def test_workbook_numbers_equal_the_ledger(gy_dir, gy_report):
    ledger = pd.read_csv(gy_dir / "ledger.csv")
    summary = json.loads((gy_dir / "summary.json").read_text(encoding="utf-8"))
    wb = load_workbook(gy_report / "report.xlsx")
    assert wb.sheetnames == [
        "摘要",
        "财政台账",
        "按财政层级（万元）",
        "按补贴项目（万元）",
        "人口",
        "参数与来源",
        "覆盖情况",  # coverage.csv of the behaviour model
        "目标对照",  # targets.csv: the seed's targets the run is scored against
    ]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"

    by_payer = wb["按财政层级（万元）"]
    header = [c.value for c in by_payer[1]]
    assert header == ["年份", "市级", "县级", "合计"]
    expected = (
        ledger.pivot_table(index="year", columns="payer_level", values="amount_cny", aggfunc="sum") / 1e4
    )
    rows = list(by_payer.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == sorted(ledger["year"].unique())
    for r in rows:
        year = r[0].value
        assert r[1].value == pytest.approx(expected.loc[year, "city"], abs=1e-9)
        assert r[2].value == pytest.approx(expected.loc[year, "county"], abs=1e-9)
        assert r[3].value == pytest.approx(ledger[ledger.year == year]["amount_cny"].sum() / 1e4, abs=1e-9)
        assert r[3].number_format == "#,##0.00"

    by_item = wb["按补贴项目（万元）"]
    assert "街道养老服务中心建设补助" in [c.value for c in by_item[1]]  # the scheme's name, not its id
    totals = [r[-1].value for r in by_item.iter_rows(min_row=2)]
    assert sum(totals) == pytest.approx(ledger["amount_cny"].sum() / 1e4, abs=1e-9)

    sheet = wb["财政台账"]
    heads = [c.value for c in sheet[1]]
    amounts = [r[heads.index("金额（元）")] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(amounts) == len(ledger)
    assert sum(amounts) == pytest.approx(ledger["amount_cny"].sum(), rel=1e-12)

    summ = {r[0].value: r[1] for r in wb["摘要"].iter_rows(min_row=2)}
    assert summ["总支出"].value == summary["headline"]["cost_total_wan"]
    assert summ["总支出"].number_format == "#,##0.00"
    assert summ["市级支出"].value == summary["headline"]["cost_by_payer_wan"]["city"]

    assumptions = pd.read_csv(gy_dir / "assumptions.csv")
    rows = list(wb["参数与来源"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(assumptions)
    assert {r[4] for r in rows} == {"来源", "假设"}
    discount = next(r for r in rows if r[1] == "policy.fiscal.discount_rate")
    assert discount[3] == 0.03  # a number, not the text "0.03"

    population = pd.read_csv(gy_dir / "population.csv")
    people = [r[5] for r in wb["人口"].iter_rows(min_row=2, values_only=True)]
    assert sum(people) == pytest.approx(population["people"].sum())


def test_the_workbooks_coverage_lottery_and_rationing_sheets_are_in_the_reports_language(tmp_path):
    """The coverage, welfare-lottery (000 二(一)8) and rationing tables in a Chinese workbook: Chinese
    headers, county names, care settings, line items and 是/否 (they were the raw CSVs, with
    "family_care", "yicheng" and "False" under English headers); in English, words, not codes.
    Every row and number of the CSV is kept."""
    from agingsim.report.workbook import workbook_sheets

    zhumadian = ROOT / "scenarios" / "zhumadian_basic_services.toml"
    out = tmp_path / "run"
    run_scenario(load_scenario(zhumadian).with_run(years=2, simulated_people=3000)).write(out)
    results = load_results(out)
    for lang in ("zh", "en"):
        sheets = {s.name: s for s in workbook_sheets(results, lang)}
        for csv, name, zh_headers in (
            ("coverage.csv", ("覆盖情况", "Coverage"), ["年份", "县（区）", "照护方式"]),
            (
                "lottery.csv",
                ("福彩公益金", "Welfare lottery funds"),
                ["年份", "财政层级", "留存福彩公益金（元）"],
            ),
            ("rationing.csv", ("资金不足轮候", "Budget rationing"), ["年份", "月份", "补贴项目", "县（区）"]),
        ):
            table = pd.read_csv(out / csv)
            sheet = sheets[name[0] if lang == "zh" else name[1]]
            rows = [list(r) for r in sheet.rows]
            assert len(rows) == len(table) > 0
            text = {str(v) for r in rows for v in r if isinstance(v, str)}
            codes = {"family_care", "home_services", "True", "False", "city", "county", "home_adaptation"}
            assert not text & codes, (csv, lang, text & codes)
            if lang == "zh":
                assert sheet.headers[: len(zh_headers)] == zh_headers
                assert all(any("\u4e00" <= c <= "\u9fff" for c in h) for h in sheet.headers), sheet.headers
                assert "yicheng" not in text
            numbers = [v for r in rows for v in r if isinstance(v, float)]
            expected = table.select_dtypes("float").to_numpy().ravel()
            assert sorted(numbers) == pytest.approx(sorted(expected), nan_ok=True)
    lottery = [list(r) for r in {s.name: s for s in workbook_sheets(results, "zh")}["福彩公益金"].rows]
    assert {r[6] for r in lottery} <= {"是", "否"}


def test_deck_has_the_expected_slides_and_the_ledger_total(gy_dir, gy_report):
    ledger = pd.read_csv(gy_dir / "ledger.csv")
    deck = Presentation(str(gy_report / "briefing.pptx"))
    titles = [s.shapes.title.text for s in deck.slides]
    last_year = int(pd.read_csv(gy_dir / "population.csv")["year"].max())
    map_year = headline_period(load_results(gy_dir).arms[0]["headline"])[1]
    assert titles == [
        "贵阳市15分钟养老服务圈建设补贴",
        "测算要点",
        "主要结果",
        "分级财政支出（按年份）",
        "各补贴项目支出（按年份）",
        f"{last_year - 1}年末老年人口结构（按能力等级）",  # the stock dated 1 January last_year
        "需要照护者的照护方式",
        "床位、入住率与轮候",
        f"{map_year}年15分钟养老服务圈",  # the scenario has a [geography]; the cards' last year
        "政策目标对照（记分卡）",  # targets.csv
        "主要参数与来源",
    ]
    assert "贵阳市" in deck.slides[0].placeholders[1].text_frame.text
    table = next(sh.table for sh in deck.slides[2].shapes if sh.has_table)
    cells = {r.cells[0].text: r.cells[1].text for r in table.rows}
    assert cells["总支出"] == fmt_wan(ledger["amount_cny"].sum() / 1e4)
    city = ledger[ledger.payer_level == "city"]["amount_cny"].sum() / 1e4
    assert cells["市级支出"] == fmt_wan(city)
    for slide in list(deck.slides)[3:8]:
        assert sum(sh.shape_type == 13 for sh in slide.shapes) == 1  # one picture per chart slide
    assumptions = list(deck.slides)[10]
    table = next(sh.table for sh in assumptions.shapes if sh.has_table)
    assert 2 <= len(table.rows) <= DECK_ASSUMPTION_ROWS + 1
    note = next(sh.text_frame.text for sh in assumptions.shapes if sh.has_text_frame and sh.shape_type == 17)
    assert re.fullmatch(r"另有 \d+ 项参数见工作簿“参数与来源”表。", note)


def test_english_report_with_chosen_formats(gy_dir, tmp_path, capsys):
    out = tmp_path / "en"
    assert (
        report_main(["report", str(gy_dir), "--lang", "en", "--formats", "xlsx,svg", "--out", str(out)]) == 0
    )
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(
        [
            "report.xlsx",
            "report.json",
            *(
                f"{stem}.{ext}"
                for stem in (
                    "cost_by_payer",
                    "cost_by_line_item",
                    "population_pyramid",
                    "coverage_by_setting",
                    "beds_occupancy_waits",
                )
                for ext in ("svg", "csv")  # each chart with the table it is drawn from
            ),
        ]
    )
    wb = load_workbook(out / "report.xlsx", read_only=True)
    assert wb.sheetnames[:3] == ["Summary", "Ledger", "By payer (10,000 CNY)"]


def test_every_chart_has_its_table_as_a_csv_with_a_bom(gy_dir, tmp_path):
    """Issue 19: a CSV behind every chart, UTF-8 with a BOM like the app's CSVs; the payer chart's
    table is the run's yearly spending by payer, the pyramid's the population of the year drawn."""
    out = tmp_path / "csv"
    assert report_main(["report", str(gy_dir), "--formats", "png", "--out", str(out)]) == 0
    pngs = {p.stem for p in out.glob("*.png")}
    assert pngs and {p.stem for p in out.glob("*.csv")} == pngs
    for stem in pngs:
        data = (out / f"{stem}.csv").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf"), stem
        assert len(pd.read_csv(out / f"{stem}.csv", encoding="utf-8-sig")) > 0, stem
    by_payer = pd.read_csv(out / "cost_by_payer.csv", encoding="utf-8-sig")
    ledger = pd.read_csv(gy_dir / "ledger.csv")
    assert by_payer.drop(columns=["year", "total"], errors="ignore").to_numpy().sum() == pytest.approx(
        ledger["amount_cny"].sum() / 1e4
    )
    pyramid = pd.read_csv(out / "population_pyramid.csv", encoding="utf-8-sig")
    population = pd.read_csv(gy_dir / "population.csv")
    last = population["year"].max()
    assert set(pyramid["year"]) == {last}
    assert pyramid["people"].sum() == population.loc[population["year"] == last, "people"].sum()


def test_a_run_without_behaviour_names_the_charts_it_skips(tmp_path, capsys):
    run_dir = tmp_path / "tiny_run"
    assert report_main(["run", str(Path(__file__).parent / "data" / "tiny.toml"), "--out", str(run_dir)]) == 0
    assert report_main(["report", str(run_dir), "--formats", "png", "--out", str(tmp_path / "r")]) == 0
    assert "coverage.csv" in capsys.readouterr().err  # the skipped charts are named


def test_compare_folder_report(cmp_dir, tmp_path):
    out = tmp_path / "cmp_report"
    assert report_main(["report", str(cmp_dir), "--out", str(out), "--formats", "png,xlsx,pptx"]) == 0
    assert (out / "compare_cost_total.png").is_file()
    comparison = pd.read_csv(cmp_dir / "comparison.csv")
    wb = load_workbook(out / "report.xlsx")
    assert wb.sheetnames == ["摘要", "方案对比"]
    rows = list(wb["方案对比"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(comparison)
    total = comparison[comparison.measure == "cost_total_wan"]
    summ = {r[0]: r for r in wb["摘要"].iter_rows(min_row=2, values_only=True)}
    # Yuquan runs 2024-2025 and Guiyang 2021-2022: no year in common, so each arm is summed over
    # its own years and B - A is left empty (the sum of its empty years read 0 before: "no difference")
    assert total["b_minus_a"].isna().all()
    row = summ[MEASURES["cost_total_wan"][0] + "，各自年份合计（无共同年份）"]
    assert row[1] == pytest.approx(total["a"].sum()) and row[2] == pytest.approx(total["b"].sum())
    assert row[3] is None or row[3] != row[3]  # empty, or NaN
    deck = Presentation(str(out / "briefing.pptx"))
    assert [s.shapes.title.text for s in deck.slides] == [
        "方案对比",
        "主要结果",
        "方案对比：年度总支出",
        "方案对比：获得正式照护的失能老年人（中度及以上）",  # both arms have a behaviour model
        "方案对比：每服务一名失能老年人的年支出",
    ]
    subtitle = deck.slides[0].placeholders[1].text_frame.text
    assert "玉泉区" in subtitle and "贵阳市" in subtitle


# ------------------------------------------------------------------------------------------ errors
def test_a_folder_that_is_not_an_agingsim_output_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    assert report_main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not an agingsim output folder" in err and "agingsim run" in err and "Traceback" not in err
    assert not (tmp_path / "report").exists()

    assert report_main(["report", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err

    (tmp_path / "summary.json").write_text("{not json", encoding="utf-8")
    assert report_main(["report", str(tmp_path)]) == 2
    assert "summary.json: not valid JSON" in capsys.readouterr().err


def test_incomplete_folder_and_unknown_format(gy_dir, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.json").write_bytes((gy_dir / "summary.json").read_bytes())
    assert report_main(["report", str(broken)]) == 2
    assert "incomplete output" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        report_main(["report", str(gy_dir), "--formats", "png,docx"])
    assert exc.value.code == 2
    assert "unknown format(s) docx" in capsys.readouterr().err


def test_report_never_overwrites_other_files_and_is_atomic(gy_dir, tmp_path, monkeypatch, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine", encoding="utf-8")
    # the user's choice of --out: exit 2 with FILE: KEY: PROBLEM
    assert report_main(["report", str(gy_dir), "--out", str(mine), "--formats", "xlsx"]) == 2
    assert f"{mine}: --out: exists and is not an agingsim report folder" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["keep.txt"]
    # --out the run folder itself would replace the run
    assert report_main(["report", str(gy_dir), "--out", str(gy_dir), "--formats", "xlsx"]) == 2
    assert (gy_dir / "ledger.csv").is_file()

    out = tmp_path / "rep"
    assert report_main(["report", str(gy_dir), "--out", str(out), "--formats", "xlsx"]) == 0
    assert (
        report_main(["report", str(gy_dir), "--out", str(out), "--formats", "xlsx"]) == 0
    )  # replaces its own

    def boom(*_args, **_kwargs):
        raise RuntimeError("disk full")

    from agingsim.report import deck

    monkeypatch.setattr(deck, "write_deck", boom)
    fresh = tmp_path / "fresh"
    # the top-level handler reports it (exit 1, no traceback); nothing is left behind
    assert report_main(["report", str(gy_dir), "--out", str(fresh), "--formats", "xlsx,pptx"]) == 1
    assert "disk full" in capsys.readouterr().err
    assert not fresh.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ------------------------------------------------------------------------------------------ charts
def test_coverage_and_beds_charts_from_hand_built_frames(gy_dir, tmp_path):
    """coverage.csv comes with the behaviour issue; the charts take its documented shape already."""
    coverage = pd.DataFrame(
        [
            (year, county, setting, people, beds, occupied, waiting)
            for year in (2021, 2022)
            for county in ("nanming", "yunyan")
            for setting, people, beds, occupied, waiting in (
                ("family", 500, 100, 60, 30),
                ("home_services", 200, 0, 0, 0),
                ("institution", 80, 0, 0, 0),
                ("unserved", 120, 0, 0, 0),
            )
        ],
        columns=["year", "county", "setting", "people", "beds", "occupied", "waiting"],
    )
    fig = charts.coverage_by_setting(coverage, "zh", "footer")
    (ax,) = fig.subfigs[0].axes
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == pytest.approx(coverage["people"].sum())
    legend = fig.subfigs[0].legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["家庭照护", "居家上门服务", "机构养老", "未获服务"]

    beds = coverage.drop_duplicates(["year", "county"])
    fig = charts.beds_occupancy_waits(beds, "en", "footer")
    top = fig.subfigs[0].axes[0]
    occupancy = next(
        line for ax in fig.subfigs[0].axes for line in ax.get_lines() if len(line.get_xdata()) == 2
    )
    assert occupancy.get_ydata() == pytest.approx([60.0, 60.0])
    assert top.get_title(loc="left") == "Beds, occupancy and waiting lists"

    # the report draws them when the folder has coverage.csv, with a sheet of its own
    folder = tmp_path / "with_coverage"
    folder.mkdir()
    for f in gy_dir.iterdir():
        if f.is_file():
            (folder / f.name).write_bytes(f.read_bytes())
    coverage.to_csv(folder / "coverage.csv", index=False)
    results = load_results(folder)
    built, notes = key_charts.build_charts(results, "zh")
    assert [c.id for c in built][-2:] == ["coverage_by_setting", "beds_occupancy_waits"]
    assert notes == []
    path, _files, _notes = exports.make_report(results, folder / "report", formats=("xlsx",))
    assert "覆盖情况" in load_workbook(path / "report.xlsx", read_only=True).sheetnames


def test_fan_chart_draws_the_median_and_the_90_percent_band():
    frame = pd.DataFrame(
        {
            "year": [2025, 2026, 2027],
            "p05": [90.0, 95, 99],
            "p50": [100.0, 110, 120],
            "p95": [110.0, 130, 150],
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = charts.fan_chart(frame, "zh", "页脚", what="总支出", ylabel=label("axis_cost_wan", "zh"))
        fig.savefig(Path("/dev/null"), format="png")
    assert _glyph_warnings(caught) == []
    (ax,) = fig.subfigs[0].axes
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == 90 and band[:, 1].max() == 150
    median = ax.get_lines()[-1]
    assert list(median.get_ydata()) == [100, 110, 120]
    assert ax.get_title(loc="left") == "总支出（中位数与90%区间）"


def test_pyramid_shows_the_population_of_the_year(gy_dir):
    pop = pd.read_csv(gy_dir / "population.csv")
    year = int(pop["year"].min())
    fig = charts.population_pyramid(pop, year, "zh", "footer")
    (ax,) = fig.subfigs[0].axes
    widths = np.array([p.get_width() for p in ax.patches])
    this_year = pop[pop.year == year]
    assert -widths[widths < 0].sum() == pytest.approx(this_year[this_year.sex == "M"]["people"].sum())
    assert widths[widths > 0].sum() == pytest.approx(this_year[this_year.sex == "F"]["people"].sum())


def test_the_pyramid_is_dated_as_the_app_and_the_headline_date_its_stock(gy_dir):
    """report.labels.fiscal_period: a 2-year run from 2024 covers FY2024–FY2025; its last stock,
    dated 1 January 2026, is the end of 2025 (as the app's card and the headline rows say), not
    "2026年" (a finance bureau would hold it against the yearbook's 2026 figure, a year later)."""
    pop = pd.read_csv(gy_dir / "population.csv")
    first, last = int(pop["year"].min()), int(pop["year"].max())
    assert last == first + 2
    [chart] = [
        c for c in key_charts.build_charts(load_results(gy_dir), "zh")[0] if c.id == "population_pyramid"
    ]
    assert chart.title == f"{first + 1}年末老年人口结构（按能力等级）"
    (ax,) = charts.population_pyramid(pop, last, "en", "footer").subfigs[0].axes
    assert ax.get_title(loc="left") == f"Older population by ability level, end of {first + 1}"
    (ax,) = charts.population_pyramid(pop, first, "zh", "footer").subfigs[0].axes
    assert ax.get_title(loc="left").startswith(f"{first}年初")


def test_palette_stays_distinct_in_greyscale():
    for n in range(2, 9):
        lum = [charts.luminance(c) for c in charts.shades(n)]
        assert all(b - a > 0.03 for a, b in itertools.pairwise(lum)), (n, lum)
    payer = sorted(charts.luminance(charts._shade_at(p)) for p in charts.PAYER_SHADE.values())
    assert min(b - a for a, b in itertools.pairwise(payer)) > 0.1
    assert len(set(charts.HATCHES)) == len(charts.HATCHES)


def test_number_formatting():
    assert fmt_number(1234567.891) == "1,234,568"
    assert fmt_wan(18837.0) == "18,837.00"
    assert label("h_cost_payer", "zh", level="省级") == "省级支出"


def test_rcparams_name_the_cjk_font():
    import matplotlib as mpl

    family = use_cjk_font()
    assert family == "Noto Sans CJK SC"
    assert mpl.rcParams["font.sans-serif"][0] == family and mpl.rcParams["axes.unicode_minus"] is False


def test_agingsim_cli_has_the_report_subcommand(gy_dir, tmp_path):
    from agingsim import cli

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    if "report" not in sub.choices:
        pytest.skip("agingsim.cli does not register `report` yet (the lead wires report.cli.add_parser)")
    assert cli.main(["report", str(gy_dir), "--formats", "xlsx", "--out", str(tmp_path / "r")]) == 0


def test_report_on_a_sweep_folder_draws_bands_across_runs(tmp_path):
    """Issue 7 §3: `agingsim report` also works on a sweep's folder: fan charts of the spread across
    runs, a workbook whose quantiles equal the store's, and a deck with one slide per chart."""
    import openpyxl
    import pandas as pd
    from pptx import Presentation

    from agingsim.cli import main
    from agingsim.sweep.store import Store

    store = Store(tmp_path / "store", "demo")
    store.prepare()
    (store.dir / "sweep.toml").write_text("[sweep]\nname = 'demo'\n")
    for k in range(5):
        store.write(
            f"key{k}",
            pd.DataFrame(
                {
                    "run_key": f"key{k}",
                    "seed": 7,
                    "replication": k,
                    "version": "test",
                    "year": [2024, 2025],
                    "cost_total_wan": [100.0 + 10 * k, 200.0 + 10 * k],
                    "cost_city_wan": [50.0 + 5 * k, 100.0 + 5 * k],
                    "needing_care": [1000.0 + k, 1100.0 + k],
                }
            ),
        )
    out = tmp_path / "rep"
    assert main(["report", str(store.dir), "--out", str(out)]) == 0
    assert (out / "fan_cost_total_wan.png").is_file() and (out / "fan_needing_care.svg").is_file()
    sheet = openpyxl.load_workbook(out / "report.xlsx")["分位数"]
    rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "财政支出合计"]
    assert [(r[1], r[3]) for r in rows] == [(2024, 120.0), (2025, 220.0)]  # medians across the 5 runs
    assert rows[0][2] == pytest.approx(pd.Series([100, 110, 120, 130, 140]).quantile(0.05))
    deck = Presentation(str(out / "briefing.pptx"))
    assert len(deck.slides) == 1 + 3  # title + cost total, city, needing care (no empty province chart)
    # a sweep's runs are design points: their spread is said as such, never as a 90% interval
    titles = [s.shapes.title.text for s in list(deck.slides)[1:]]
    assert all(t.endswith("（各次运行的中位数与5%–95%分位）") for t in titles), titles
    assert not any("90%" in t for t in titles)
    svg = (out / "fan_needing_care.svg").read_text(encoding="utf-8")
    assert "90%" not in svg
