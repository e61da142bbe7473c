"""The A-vs-B table in a real browser: what the grid draws, which AppTest cannot see.

Found by hand in headless Chromium: with an arm that has no behaviour model, the table's empty cells
(people served, beds, occupancy: not modelled by that arm, see compare.BEHAVIOUR_MEASURES) were drawn
as the word "None", because the grid draws a cell from its data and ignores the Styler's na_rep
(app.grid). The grid is a canvas, so the test reads the page's accessible cell texts to know which
cells are empty and measures the ink drawn in each cell of a screenshot: a dash is about 9 px wide at
the grid's font, the word "None" about 30.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
from app_browser import ROOT
from PIL import Image
from test_app_state_e2e import SHOTS, _address, _number, _open, _query, _set_number, _settle

from agingsim.report.labels import label, measure_label

YUQUAN = ROOT / "scenarios" / "yuquan_home_services.toml"
YUQUAN_ZH = "玉泉区政府购买居家上门服务和助餐服务"


def _lines(image: np.ndarray, axis: int) -> list[int]:
    """Positions of the grid's rules: rows (axis 1) or columns (axis 0) not white almost throughout."""
    dark = (image < 245).mean(axis=axis)
    return [int(i) for i in np.flatnonzero(dark > 0.8)]


def _ink_widths(shot: Path) -> list[list[int]]:
    """Per drawn row below the header, per column after the first: the width in pixels of what is
    drawn in the cell (anything far from the cell's own background colour)."""
    image = np.asarray(Image.open(shot).convert("L")).astype(int)
    xs, ys = _lines(image, 0), _lines(image, 1)
    ys = [y for y in ys if y > ys[0] + 5]  # below the grid's top border: the header's bottom rule on
    widths = []
    for top, bottom in itertools.pairwise(ys):
        if bottom - top < 20:
            break  # the grid's bottom edge
        row = []
        for left, right in itertools.pairwise(xs[1:]):
            cell = image[top + 3 : bottom - 2, left + 3 : right - 2]
            ink = np.flatnonzero((np.abs(cell - np.median(cell)) > 60).any(axis=0))
            row.append(int(ink[-1] - ink[0] + 1) if len(ink) else 0)
        widths.append(row)
    return widths


def test_an_arm_without_a_behaviour_model_shows_dashes_not_none(server, browser, tmp_path: Path):
    url, _ = server
    text = YUQUAN.read_text(encoding="utf-8")
    assert 'behaviour = "default"' in text
    upload = tmp_path / "yuquan_no_behaviour.toml"
    upload.write_text(text.replace('behaviour = "default"', ""), encoding="utf-8")
    page = _open(browser, _address(url, s=YUQUAN.name, view="compare"))
    page.locator('[data-testid="stFileUploader"] input[type=file]').first.set_input_files(str(upload))
    _settle(page)
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label("compare_with", "zh")).first
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name=YUQUAN_ZH, exact=True).first.click()  # B: the bundled file
    _settle(page)
    assert _query(page)["b"] == YUQUAN.name and _query(page)["s"].startswith("upload:")

    grid = page.locator(".st-key-view_compare [data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    cells = grid.locator("[role=gridcell]").all_inner_texts()
    rows = [cells[i : i + 4] for i in range(0, len(cells), 4)]  # measure, A, B, B − A
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "compare_without_behaviour.png"
    grid.screenshot(path=str(shot))
    widths = _ink_widths(shot)
    assert len(widths) >= 8, widths
    served = label("card_served_short", "zh")
    assert any(r[0].startswith(served) and r[1] == "" and r[3] == "" and r[2] != "" for r in rows), rows
    empty = dashes = 0
    for row, drawn in zip(rows, widths, strict=False):  # the rows on screen
        for value, ink in zip(row[1:], drawn, strict=True):
            if value == "":
                empty += 1
                dashes += 0 < ink <= 14
            else:
                assert ink > 14, (row, drawn)  # a number is drawn wider than a dash
    assert empty >= 6 and dashes == empty, (rows, widths)
    page.close()


def test_the_a_vs_b_interval_is_drawn_and_its_count_is_the_bands_count(server, browser):
    """In Chromium: the comparison view with replications set shows B − A's interval table below
    the A-vs-B table (B, the file's 90 CNY meals, spends less than A's 300: the median and both ends
    of the total's interval are negative, and it excludes 0); the count is the page's one setting
    for uncertainty, so it survives a language switch and a reload, and the spending view then
    draws its bands from the same 2 replications."""
    url, _ = server
    edit = json.dumps({YUQUAN.name: {"policy.schemes[1].groups[0].amount#money": 300}})
    page = _open(browser, _address(url, s=YUQUAN.name, b="@file", view="compare", e=edit))
    reps = label("app_replications", "zh")
    _set_number(page, reps, 2)
    assert _query(page).get("k") == "2"
    grids = page.locator(".st-key-view_compare [data-testid='stDataFrame']")
    assert grids.count() >= 2, "no interval table"
    interval = grids.nth(1)
    interval.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    heads = interval.locator("[role=columnheader]").all_inner_texts()
    assert label("col_diff_p50", "zh") in " ".join(heads), heads
    cells = interval.locator("[role=gridcell]").all_inner_texts()
    rows = [cells[i : i + 6] for i in range(0, len(cells), 6)]
    total = next(r for r in rows if r[0].startswith(measure_label("cost_total_wan", "zh")))
    assert all(c.startswith("-") for c in total[1:4]), total
    assert total[5] == label("verdict_excludes_zero", "zh"), total
    SHOTS.mkdir(parents=True, exist_ok=True)
    interval.screenshot(path=str(SHOTS / "compare_interval.png"))

    def english_head() -> str:
        grid = page.locator(".st-key-view_compare [data-testid='stDataFrame']").nth(1)
        grid.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        return " ".join(grid.locator("[role=columnheader]").all_inner_texts())

    page.get_by_text("English", exact=True).click()  # the same interval, in English
    _settle(page)
    assert _number(page, label("app_replications", "en")) == "2"
    assert label("col_diff_p50", "en") in english_head()
    page.reload(wait_until="domcontentloaded")  # and after a reload, from the address
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=60_000)
    _settle(page)
    assert _query(page).get("k") == "2" and label("col_diff_p50", "en") in english_head()
    page.get_by_text(label("tab_costs", "en"), exact=True).last.click()
    _settle(page)
    assert _number(page, label("app_replications", "en")) == "2"
    page.close()
