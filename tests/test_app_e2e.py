"""The app in a real browser: headless Debian chromium driven by Playwright against `streamlit run app.py`.

Pins down what AppTest cannot see: the page loads in a browser, the default scenario runs and its
numbers appear, the language switch works both ways, and Chinese text is drawn with real glyphs (a
machine without a CJK font draws every character as the same empty box). The screenshot is kept in
out/e2e/app_zh.png for a person to look at. The browser and font come from `make test`'s set-up
(Debian packages chromium and fonts-wqy-microhei); if they are missing the test fails, it is not
skipped, because CI must run it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("AGINGSIM_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / "out" / "e2e"
LOAD_TIMEOUT_MS = 120_000  # a generous bound on a shared 2-core machine, not a speed requirement


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """`streamlit run app.py` on a free localhost port, stopped after the tests."""
    port = _free_port()
    streamlit = Path(sys.executable).with_name("streamlit")
    cmd = [str(streamlit) if streamlit.exists() else shutil.which("streamlit") or "streamlit", "run"]
    cmd += [str(ROOT / "app.py"), "--server.headless", "true", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {proc.stdout.read() if proc.stdout else ''}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.25)
        else:
            raise RuntimeError("streamlit did not answer its health check within 60 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: `make test` installs Debian's chromium"
    profile = tempfile.mkdtemp(prefix="agingsim-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


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
