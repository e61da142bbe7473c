"""Re-run time of the app after moving one lever, measured in headless chromium (issue 6: ≤ 3 s).

Starts `streamlit run app.py`, opens a city-scale scenario, changes one amount and times the moment
the total-cost card shows a new number; then moves the lever back (a cached setting). Not a test:
timings depend on the machine and its load. Usage:

    python benchmarks/bench_app.py [SCENARIO_FILE_NAME] [SIMULATED_PEOPLE]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_app_e2e import CHROMIUM, FLAGS, app_url  # noqa: E402


def main() -> None:
    from playwright.sync_api import sync_playwright

    scenario = sys.argv[1] if len(sys.argv) > 1 else "zhumadian_basic_services.toml"
    people = sys.argv[2] if len(sys.argv) > 2 else ""
    gen = app_url.__wrapped__()  # the test fixture's server, started the same way
    url = next(gen)
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                tempfile.mkdtemp(),
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                viewport={"width": 1400, "height": 1000},
            )
            page = ctx.new_page()
            page.goto(url)
            card = page.locator('[data-testid="stMetricValue"]').first
            card.wait_for(timeout=300_000)
            page.locator('[data-testid="stSelectbox"]').first.click()
            from agingsim.app.runs import from_file

            title = from_file(ROOT / "scenarios" / scenario).title[0]
            page.get_by_role("option", name=title).click()
            page.get_by_text("测算期总支出").first.wait_for(timeout=300_000)
            if people:
                page.locator('[data-testid="stSelectbox"]').nth(1).click()
                page.get_by_role("option", name=f"{int(people):,}").click()
                time.sleep(1)
                page.wait_for_function(
                    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=300_000
                )
            before = card.inner_text()
            scheme = page.locator('[data-testid="stExpander"]').nth(1)  # the first scheme's levers
            scheme.locator("summary").click()
            box = scheme.locator('[data-testid="stNumberInput"] input').nth(1)  # its first amount
            old = box.input_value()
            for label, value in (("new setting", str(int(float(old)) + 50)), ("back (cached)", old)):
                shown = card.inner_text()
                box.fill(value)
                t0 = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(
                    "s => document.querySelector('[data-testid=\"stMetricValue\"]').innerText !== s",
                    arg=shown,
                    timeout=300_000,
                )
                print(
                    f"{label}: total card {shown} -> {card.inner_text()} in {time.perf_counter() - t0:.2f} s"
                )
            assert card.inner_text() == before
            ctx.close()
    finally:
        gen.close()


if __name__ == "__main__":
    main()
