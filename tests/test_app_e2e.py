"""The app in a real browser: headless Debian chromium driven by Playwright against `streamlit run app.py`.

Pins down what AppTest cannot see: the page loads in a browser, the default scenario runs and its
numbers appear, the language switch works both ways, and Chinese text is drawn with real glyphs (a
machine without a CJK font draws every character as the same empty box). The screenshot is kept in
out/e2e/app_zh.png for a person to look at. The browser and font come from `make test`'s set-up
(Debian packages chromium and fonts-wqy-microhei); if they are missing the test fails, it is not
skipped, because CI must run it. It uses the browser tests' shared server and browser (app_browser),
at 20,000 simulated people: what it checks does not depend on the number of people.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from app_browser import ROOT, TIMEOUT_MS

SHOTS = ROOT / "out" / "e2e"
LOAD_TIMEOUT_MS = TIMEOUT_MS  # a generous bound on a shared 2-core machine, not a speed requirement


@pytest.fixture
def app_url(server: tuple[str, Path]) -> str:
    """The address of the browser tests' shared `streamlit run app.py` (app_browser.server)."""
    return server[0]


def _glyph_png(page: object, text: str) -> bytes:
    """A screenshot of ``text`` alone, drawn in the page's own font at a large size."""
    page.evaluate(  # type: ignore[attr-defined]
        """t => { let d = document.getElementById('glyph-probe');
                  if (!d) { d = document.createElement('div'); d.id = 'glyph-probe';
                            d.style = 'position:fixed;top:0;left:0;z-index:2147483647;background:#fff;color:#000;'
                                    + 'font-size:64px;line-height:80px;padding:4px;font-family:sans-serif';
                            document.body.appendChild(d); }
                  d.textContent = t; }""",
        text,
    )
    png = page.locator("#glyph-probe").screenshot()  # type: ignore[attr-defined]
    page.evaluate("() => document.getElementById('glyph-probe').remove()")  # type: ignore[attr-defined]
    return png


def test_page_runs_default_scenario_switches_language_and_draws_chinese_glyphs(app_url, browser) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{app_url}/?s=default.toml", wait_until="domcontentloaded")
    # the address opens the Zhumadian baseline, which runs on load: its headline card appears in Chinese
    page.get_by_text("2044年末60岁及以上人口").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    page.get_by_text("养老服务补贴测算").first.wait_for()
    zh = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    assert re.fullmatch(r"[\d,]+ 人", zh.strip()), zh

    # English, then back to Chinese: the same number under the other language's labels
    page.get_by_text("English", exact=True).click()
    page.get_by_text("People 60+ at the end of 2044").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    en = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    assert en.strip() == zh.strip().replace(" 人", " people")
    page.get_by_text("中文", exact=True).click()
    page.get_by_text("2044年末60岁及以上人口").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    page.locator("img").first.wait_for(timeout=LOAD_TIMEOUT_MS)  # the population chart
    time.sleep(0.5)  # let the chart image finish painting before the screenshot

    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = page.screenshot(path=str(SHOTS / "app_zh.png"), full_page=True)
    assert len(shot) > 10_000

    # Chinese drawn as glyphs: two different characters differ, and neither is the "missing glyph"
    # box a private-use code point gets (without a CJK font, all three would be the same box)
    yang, lao, missing = (_glyph_png(page, t) for t in ("养老服务", "补贴测算", "\ue000\ue001\ue002\ue003"))
    assert yang != lao, "two different Chinese strings render identically: boxes, not glyphs"
    assert yang != missing and lao != missing, "Chinese renders like a missing-glyph box"
    page.close()
