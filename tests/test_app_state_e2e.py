"""The page's state in a real browser (issue 19's six state defects, and issue 18's shared-server case).

Each test reproduces one defect found by hand in headless Chromium and pins down the fixed behaviour:
a language switch keeps the scenario and every lever change (and redraws the dropdowns in the new
language); comparison charts follow scheme B; reset resets the inputs; lever changes are kept per
scenario across a scenario switch; the address reproduces the page in a new session; two quick
downloads both arrive. The last test drives four sessions at once and checks each sees its own
setting. The browser tests' one streamlit server (app_browser), every scenario at 20,000 simulated people.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path

import pytest
from app_browser import ROOT, TIMEOUT_MS
from playwright.sync_api import expect

from agingsim.report.labels import label

GUIYANG = "guiyang_service_circle.toml"
GUIYANG_ZH = "贵阳市15分钟养老服务圈建设补贴"
BED_SCHEME_ZH = "街道养老服务中心建设补助"
BED_SCHEME_EN = "Construction subsidy per new bed (street centres built by private operators)"
BED_AMOUNT_ZH = "补贴标准（元/张新建床位）"
BED_AMOUNT_EN = "Amount (CNY per new bed)"
BED_LEVER = "policy.facility_schemes[0].amount#money"
M2_SCHEME_ZH = "社区养老服务站建设补助"
M2_AMOUNT_ZH = "补贴标准（元/平方米）"
SHANXI_ZH = "山西省社区居家养老补贴由补床位转向服务券"
SHOTS = ROOT / "out" / "e2e"


def _address(url: str, **query: str) -> str:
    return f"{url}/?{urllib.parse.urlencode(query)}" if query else url


def _open(browser, address: str):
    page = browser.new_page()
    page.goto(address, wait_until="domcontentloaded")
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=TIMEOUT_MS)
    _settle(page)
    return page


def _settle(page) -> None:
    """Wait for the script run an action started to finish: no "running" icon in the status widget
    and no element drawn by the previous run still waiting to be replaced (twice in a row)."""
    busy = page.locator(
        '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"], '
        '[data-stale="true"]'
    )
    page.wait_for_timeout(400)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if busy.count() == 0 else 0
        if quiet >= 2:
            return
        page.wait_for_timeout(250)
    raise AssertionError("the app kept running")


def _cards(page) -> list[str]:
    return [v.strip() for v in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]


def _pick(page, select_label: str, option: str) -> None:
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=select_label).first
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option).first.click()
    _settle(page)


def _selected(page, select_label: str) -> str:
    """What a dropdown shows (its label, the option shown, and any text in its search field)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=select_label).first
    return str(
        box.evaluate(
            "el => el.innerText + ' ' + Array.from(el.querySelectorAll('input'))"
            ".map(i => i.value + ' ' + (i.getAttribute('aria-label') || '') + ' ' + (i.placeholder || ''))"
            ".join(' ')"
        )
    )


def _expand(page, title: str) -> None:
    """Open the lever box titled ``title``. A click that lands while the page is redrawing the box
    (a rerun just ended) can be lost, so the box is checked open and clicked again if not; it is
    never clicked while open (that would close it)."""
    summary = page.locator('[data-testid="stExpander"] summary').filter(has_text=title).first
    details = summary.locator("xpath=..")
    for _ in range(10):
        if details.get_attribute("open") is not None:
            return
        summary.click()
        page.wait_for_timeout(300)
    raise AssertionError(f"the lever box {title!r} did not open")


def _set_number(page, name: str, value: float) -> None:
    field = page.get_by_label(name, exact=True).first
    field.fill(str(value))
    field.press("Enter")
    _settle(page)


def _number(page, name: str) -> str:
    return page.get_by_label(name, exact=True).first.input_value()


def _query(page) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))


def test_a_language_switch_keeps_the_scenario_and_the_levers_and_redraws_the_dropdowns(server, browser):
    """Defect 1: pick 贵阳, change a lever, switch to English, click a view: still Guiyang, still changed."""
    url, _ = server
    page = _open(browser, url)
    _pick(page, label("app_scenario", "zh"), GUIYANG_ZH)
    _expand(page, BED_SCHEME_ZH)
    _set_number(page, BED_AMOUNT_ZH, 30000)
    page.get_by_text(label("app_changed", "zh", n=1)).first.wait_for(timeout=TIMEOUT_MS)
    zh = _cards(page)

    page.get_by_text("English", exact=True).click()
    _settle(page)
    assert "Guiyang" in _selected(page, label("app_scenario", "en")), "dropdown still in the old language"
    page.get_by_text(label("tab_population", "en"), exact=True).click()
    _settle(page)
    page.get_by_text(label("app_changed", "en", n=1)).first.wait_for(timeout=TIMEOUT_MS)
    assert "Guiyang" in _selected(page, label("app_scenario", "en"))
    en = _cards(page)
    assert [c.split()[0] for c in en] == [c.split()[0] for c in zh], (zh, en)
    _expand(page, BED_SCHEME_EN)
    assert float(_number(page, BED_AMOUNT_EN)) == 30000

    page.get_by_text("中文", exact=True).click()
    _settle(page)
    assert GUIYANG_ZH in _selected(page, label("app_scenario", "zh"))
    assert _cards(page) == zh
    page.close()


def test_comparison_charts_follow_scheme_b(server, browser):
    """Defect 2: charts of A vs the file's values must not stay on screen once B is another scenario."""
    url, _ = server
    edits = json.dumps({"yuquan_home_services.toml": {"policy.schemes[1].groups[0].amount#money": 300}})
    page = _open(
        browser,
        _address(url, s="yuquan_home_services.toml", b="@file", view="compare", e=edits),
    )
    images = page.locator(".st-key-view_compare img")  # the comparison's charts, not the panel above
    images.first.wait_for(timeout=TIMEOUT_MS)
    before = [images.nth(i).get_attribute("src") for i in range(images.count())]
    _pick(page, label("compare_with", "zh"), "宁河区老年人津贴补贴测算")
    images.first.wait_for(timeout=TIMEOUT_MS)
    _settle(page)
    after = [images.nth(i).get_attribute("src") for i in range(images.count())]
    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("B：宁河区老年人津贴补贴测算")).to_have_count(1, timeout=TIMEOUT_MS)
    assert before and after and not set(before) & set(after), "a chart of the old scheme B is still shown"
    page.close()


def test_reset_puts_the_inputs_back_to_the_files_values(server, browser):
    """Defect 3: after reset the widget shows the file's value and the next change does not bring
    the old one back."""
    url, _ = server
    edits = json.dumps({GUIYANG: {BED_LEVER: 30000}})
    page = _open(browser, _address(url, s=GUIYANG, e=edits))
    page.get_by_text(label("app_changed", "zh", n=1)).first.wait_for(timeout=TIMEOUT_MS)
    changed = _cards(page)
    page.get_by_role("button", name=label("app_reset", "zh")).click()
    expect(page.get_by_text(label("app_changed", "zh", n=1))).to_have_count(0, timeout=TIMEOUT_MS)
    _settle(page)
    _expand(page, BED_SCHEME_ZH)
    assert float(_number(page, BED_AMOUNT_ZH)) == 20000
    assert _cards(page) != changed
    _expand(page, M2_SCHEME_ZH)
    _set_number(page, M2_AMOUNT_ZH, 1500)
    page.get_by_text(label("app_changed", "zh", n=1)).first.wait_for(timeout=TIMEOUT_MS)
    assert float(_number(page, BED_AMOUNT_ZH)) == 20000
    assert json.loads(_query(page)["e"]) == {GUIYANG: {"policy.facility_schemes[1].amount#money": 1500}}
    page.close()


def test_edits_are_kept_per_scenario_and_the_address_reproduces_the_page(server, browser):
    """Defect 4: Guiyang changed → Shanxi → Guiyang keeps the change (and says so); the address
    opened in a new session shows the same cards (a reload or a colleague's link)."""
    url, _ = server
    page = _open(browser, _address(url, s=GUIYANG))
    _expand(page, BED_SCHEME_ZH)
    _set_number(page, BED_AMOUNT_ZH, 30000)
    page.get_by_text(label("app_changed", "zh", n=1)).first.wait_for(timeout=TIMEOUT_MS)
    changed = _cards(page)
    _pick(page, label("app_scenario", "zh"), SHANXI_ZH)
    assert SHANXI_ZH in _selected(page, label("app_scenario", "zh"))
    expect(page.get_by_text(label("app_changed", "zh", n=1))).to_have_count(0, timeout=TIMEOUT_MS)
    _pick(page, label("app_scenario", "zh"), GUIYANG_ZH)
    page.get_by_text(label("app_changed", "zh", n=1)).first.wait_for(timeout=TIMEOUT_MS)
    _expand(page, BED_SCHEME_ZH)
    assert float(_number(page, BED_AMOUNT_ZH)) == 30000
    assert _cards(page) == changed
    link = page.url
    page.close()

    other = _open(browser, link)
    assert GUIYANG_ZH in _selected(other, label("app_scenario", "zh"))
    assert _cards(other) == changed
    other.reload(wait_until="domcontentloaded")
    other.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=TIMEOUT_MS)
    _settle(other)
    assert _cards(other) == changed
    other.close()


def test_two_quick_downloads_both_arrive(server, browser):
    """Defect 6: the CSV zip and then the workbook within half a second: both files arrive and the
    server logs no MediaFileStorageError."""
    url, log = server
    page = _open(browser, _address(url, s="yuquan_home_services.toml", view="downloads"))
    csv = page.get_by_role("button", name=label("dl_csv", "zh"))
    xlsx = page.get_by_role("button", name=label("dl_xlsx", "zh"))
    csv.wait_for(timeout=TIMEOUT_MS)
    with page.expect_download(timeout=TIMEOUT_MS) as first:
        csv.click()
    with page.expect_download(timeout=TIMEOUT_MS) as second:
        xlsx.click()
    got = [first.value, second.value]
    assert [d.suggested_filename.rsplit("_", 1)[-1] for d in got] == ["results.zip", "report.xlsx"]
    for d in got:
        assert d.failure() is None and Path(d.path()).stat().st_size > 1000
    assert "MediaFileStorageError" not in log.read_text()
    page.close()


def test_each_chart_has_its_table_as_a_csv_download(server, browser):
    """Issue 19: a CSV behind every chart: beside the payer chart, its table (yearly spending by
    payer level, 万元) with a UTF-8 BOM, as ``agingsim report`` writes ``cost_by_payer.csv``; its headers
    follow the page's language unless the address sets them (``h=``)."""
    url, _log = server
    page = _open(browser, _address(url, s="yuquan_home_services.toml", view="costs"))
    button = page.get_by_role("button", name="CSV", exact=True).first
    button.wait_for(timeout=TIMEOUT_MS)
    with page.expect_download(timeout=TIMEOUT_MS) as got:
        button.click()
    assert got.value.suggested_filename.endswith("cost_by_payer.csv")
    data = Path(got.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    head = data.decode("utf-8-sig").splitlines()[0].split(",")
    assert head[0] == "年度" and len(data.decode("utf-8-sig").splitlines()) > 2  # a Chinese page
    page.close()


def test_four_sessions_at_once_each_see_their_own_setting(server, browser):
    """Issue 18: four browser sessions move a lever at the same time on one server; no session shows
    an exception and each one's cards are those of its own setting (checked against a fresh page
    opened on that setting alone)."""
    url, log = server
    amounts = [10000, 20000, 30000, 40000]
    pages = [_open(browser, _address(url, s=GUIYANG)) for _ in amounts]
    opened = _cards(pages[0])  # the file's own 20,000 per bed, on a page opened alone before any move
    for page in pages:
        _expand(page, BED_SCHEME_ZH)

    def move(page, amount: int) -> None:
        field = page.get_by_label(BED_AMOUNT_ZH, exact=True).first
        field.fill(str(amount))
        field.press("Enter")

    # Playwright's sync pages belong to one thread: four Enters in a row, none waiting for its run,
    # so the server runs the four sessions' scripts at the same time
    for page, amount in zip(pages, amounts, strict=True):
        move(page, amount)
    seen = []
    for page in pages:
        _settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        seen.append(_cards(page))
    for page in pages:
        page.close()
    for amount, cards in zip(amounts, seen, strict=True):
        if amount == 20000:  # the file's value: that page was opened alone above (same address)
            assert opened == cards, amount
            continue
        alone = _open(browser, _address(url, s=GUIYANG, e=json.dumps({GUIYANG: {BED_LEVER: amount}})))
        assert _cards(alone) == cards, amount
        alone.close()
    assert len({tuple(c) for c in seen}) == len(amounts), "two settings showed the same cards"
    text = log.read_text()
    assert "Traceback" not in text and "FileNotFoundError" not in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_card_is_cut_off_at_1280_pixels(server, browser, lang: str) -> None:
    """Cards wrap or switch to 亿元 instead of ending in "…" on a 1280 px screen (the Zhumadian total
    is above a billion CNY); the screenshot is kept in out/e2e/ for a person to look at."""
    url, _ = server
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(_address(url, s="zhumadian_basic_services.toml", lang=lang), wait_until="domcontentloaded")
    values = page.locator('[data-testid="stMetricValue"]')
    values.first.wait_for(timeout=TIMEOUT_MS)
    _settle(page)
    cut = values.evaluate_all(
        """els => els.flatMap(el => [el, ...el.querySelectorAll('*')])
                     .filter(e => e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0)
                     .map(e => e.innerText)"""
    )
    texts = _cards(page)
    assert len(texts) >= 3 and not cut, f"cut off: {cut}"
    assert not any("…" in t for t in texts)
    assert any("亿元" in t or "bn CNY" in t for t in texts), texts
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"cards_1280_{lang}.png"))
    page.close()


def test_the_bands_replications_survive_another_view_a_language_switch_and_a_reload(server, browser):
    """Found by hand in Chromium: the spending view's replications lived only in their widget, so
    looking at another view and coming back (or reloading, or sending the link) silently dropped the
    uncertainty bands. Now the count is the page's state: back on the spending view, in English,
    after a reload and in a new session from the address, the same bands are drawn."""
    url, _ = server
    page = _open(browser, _address(url, s="yuquan_home_services.toml", view="costs"))
    charts = page.locator(".st-key-view_costs img")
    alone = charts.count()
    reps_zh, reps_en = label("app_replications", "zh"), label("app_replications", "en")
    _set_number(page, reps_zh, 2)
    with_bands = charts.count()
    assert with_bands > alone, "two replications drew no bands"
    assert _query(page).get("k") == "2"

    page.get_by_text(label("tab_coverage", "zh"), exact=True).last.click()
    _settle(page)
    page.get_by_text(label("tab_costs", "zh"), exact=True).last.click()
    _settle(page)
    assert _number(page, reps_zh) == "2" and charts.count() == with_bands, "another view dropped the bands"

    page.get_by_text("English", exact=True).click()
    _settle(page)
    assert _number(page, reps_en) == "2" and charts.count() == with_bands

    page.reload(wait_until="domcontentloaded")
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=TIMEOUT_MS)
    _settle(page)
    assert _number(page, reps_en) == "2" and charts.count() == with_bands, "a reload dropped the bands"
    address = page.url
    page.close()
    other = _open(browser, address)  # a colleague opening the link
    assert _number(other, reps_en) == "2" and other.locator(".st-key-view_costs img").count() == with_bands
    other.close()


def test_the_service_circle_year_survives_another_view_and_a_reload(server, browser):
    """Found by hand in Chromium like the bands: the map's year lived in its widget, so moving it to
    2021 and looking at another view and back showed 2030 again. Now it is the page's state."""
    url, _ = server
    page = _open(browser, _address(url, s=GUIYANG, view="circle"))
    year = page.locator(".st-key-view_circle [data-testid='stSlider'] input[type=range]").first

    def shown() -> str | None:
        return year.get_attribute("aria-valuetext")

    assert shown() == "2030"  # the run's last year
    year.focus()
    page.keyboard.press("Home")
    _settle(page)
    assert shown() == "2021" and _query(page).get("y") == "2021"
    page.get_by_text(label("tab_population", "zh"), exact=True).last.click()
    _settle(page)
    page.get_by_text(label("tab_circle", "zh"), exact=True).last.click()
    _settle(page)
    assert shown() == "2021", "another view put the map back to the last year"
    page.reload(wait_until="domcontentloaded")
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=TIMEOUT_MS)
    _settle(page)
    assert shown() == "2021", "a reload put the map back to the last year"
    page.close()
