"""Issue 19's briefing deck and workbook: a centred 16:9 title, a slide of headline cards, a
comparison's waterfall, and the scorecard of policy targets when a run folder has targets.csv."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
from pptx import Presentation

from agingsim.app import runs, sources
from agingsim.report.data import load_results
from agingsim.report.exports import make_report
from agingsim.report.key_charts import build_charts
from agingsim.report.labels import fmt_money, label

ROOT = Path(__file__).resolve().parents[1]
YUQUAN = ROOT / "scenarios" / "yuquan_home_services.toml"
PEOPLE = 20_000


def _run(overrides: dict | None = None) -> runs.Run:
    source = sources.from_file(YUQUAN)
    run, _ = runs.CACHE.run(sources.load(source, overrides or {}, simulated_people=PEOPLE))
    return run


def _slides(path: Path) -> tuple[Presentation, list[str], list[str]]:
    prs = Presentation(str(path))
    titles = [s.shapes.title.text_frame.text if s.shapes.title is not None else "" for s in prs.slides]
    texts = []
    for slide in prs.slides:
        parts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [c.text for row in shape.table.rows for c in row.cells]
        texts.append("\n".join(parts))
    return prs, titles, texts


def test_the_deck_has_a_centred_title_headline_cards_and_the_scorecard(tmp_path: Path) -> None:
    run = _run()
    folder = tmp_path / "run"
    shutil.copytree(run.folder, folder)
    targets = pd.DataFrame(
        [
            ["t1", "居家上门服务覆盖特困老人", "Home services reach the tekun elders", "004-三(一)1", 2030, 1.0, 0.96, "share", False],
            ["t2", "助餐服务年度预算", "Meal service budget", "004-三(二)", 2026, 500.0, 420.5, "万元", True],
        ],
        columns=["target_id", "target", "target_en", "clause", "year", "required", "model_value", "unit", "met"],
    )  # fmt: skip
    targets.to_csv(folder / "targets.csv", index=False)
    results = load_results(folder)
    out, _, _ = make_report(results, tmp_path / "report", lang="zh", formats=("xlsx", "pptx"))
    prs, titles, texts = _slides(out / "briefing.pptx")

    title = prs.slides[0].shapes.title
    assert abs((title.left + title.width / 2) - prs.slide_width / 2) < prs.slide_width * 0.01
    assert prs.slide_width * 9 == prs.slide_height * 16

    h = results.arms[0]["headline"]
    cards = texts[titles.index(label("deck_cards", "zh"))]
    assert fmt_money(h["cost_total_wan"], "zh") in cards

    score = texts[titles.index(label("deck_scorecard", "zh"))]
    assert "居家上门服务覆盖特困老人" in score and "004-三(一)1" in score
    assert label("target_met", "zh") in score and label("target_missed", "zh") in score
    book = openpyxl.load_workbook(out / "report.xlsx")
    sheet = book[label("sheet_scorecard", "zh")]
    assert [c.value for c in sheet[2]][:3] == ["居家上门服务覆盖特困老人", "004-三(一)1", 2030]

    # without targets.csv there is no scorecard (nothing invented)
    plain, _, _ = make_report(load_results(run.folder), tmp_path / "plain", lang="en", formats=("pptx",))
    _, titles_en, _ = _slides(plain / "briefing.pptx")
    assert label("deck_scorecard", "en") not in titles_en and label("deck_cards", "en") in titles_en


def test_a_comparison_deck_has_the_waterfall(tmp_path: Path) -> None:
    a, b = _run({"policy.schemes[1].groups[0].amount": 300}), _run()
    comparison = runs.compare(a, b, root=tmp_path)
    items = pd.read_csv(comparison.folder / "line_items.csv")
    total = b.result.headline()["cost_total_wan"] - a.result.headline()["cost_total_wan"]
    assert abs(items["b_minus_a_wan"].sum() - total) < 0.02
    charts, _ = build_charts(comparison.results, "zh")
    assert "compare_waterfall" in [c.id for c in charts]
    out, _, _ = make_report(comparison.results, tmp_path / "report", lang="zh", formats=("pptx",))
    _, titles, _ = _slides(out / "briefing.pptx")
    assert label("title_waterfall", "zh") in titles
