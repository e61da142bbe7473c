"""Cold start and re-run times of the app, measured in headless chromium (issues 6 and 19).

Starts the server as README says (`agingsim app`: the opening run warmed up with the server) and
times the **cold start**: from starting the server process to its health check answering, and from
opening the page (a fresh server: the page's imports and its first run, or the wait for the warm
run) to the title (the script's first element, drawn before the run) and to the first card. Then,
on a city-scale scenario opened by its address, from pressing Enter in a lever to the total-cost
card showing a new number:

1. **a money lever** (the first scheme's first amount): only payment terms change, so the app
   replays the payments on the people and care already simulated (simulate.replay_payments);
2. **the start year** (one year later, same horizon): people, care and providers change, a full run;
3. **back to the file's values**: a setting already run, from the cache.

Each is repeated ``--repeats`` times with new values (so nothing comes from the cache but step 3);
the browser polls the card every 50 ms (for a new start year, the card's title, which names the years:
a region without growth can give the same 10-year total a year later). Not a test: timings depend on
the machine and its load (the browser shares the same two cores: the load average before and after
is recorded). With each full run, the model's own seconds as the page's status line states them
(``model_s``, to 0.1 s), so what the page spends around the run shows apart from it. Writes
``benchmarks/results/app.json``. Usage::

    python benchmarks/bench_app.py [--scenario FILE_NAME] [--people N] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from app_browser import CHROMIUM, FLAGS, streamlit_server  # noqa: E402

CARD = '[data-testid="stMetricValue"]'
#: what shows a new run: the total-cost card's number, or for a new start year its title, which names
#: the years (a stationary region can give the same 10-year total from a year later)
TOTAL = f"document.querySelector('{CARD}').innerText"
YEARS = "document.querySelector('[data-testid=\"stMetricLabel\"]').innerText"
CAPTION = '[data-testid="stCaptionContainer"]'
CAPTIONS = f"() => [...document.querySelectorAll('{CAPTION}')].map(e => e.innerText)"


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    import agingsim
    from agingsim.app.sources import from_file
    from agingsim.report.labels import label

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="zhumadian_basic_services.toml")
    ap.add_argument("--people", type=int, default=None, help="simulated people the page starts at")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "app.json")
    args = ap.parse_args(argv)

    load_before = os.getloadavg()
    ran = re.compile(re.escape(label("app_ran", "zh", s="@")).replace("@", r"([\d.]+)"))
    people_env = args.people or int(os.environ.get("AGINGSIM_APP_PEOPLE", "100000"))
    times: dict[str, list[float]] = {
        "server_start": [],
        "cold_title": [],
        "cold_first_card": [],
        "money_lever_replayed": [],
        "start_year_full_run": [],
        "back_cached": [],
    }
    model_s: dict[str, list[float]] = {"cold_first_card": [], "start_year_full_run": []}
    t_server = time.perf_counter()
    server = streamlit_server(people=people_env)  # the browser tests' server, started the same way
    url, _log = server.__enter__()
    times["server_start"].append(time.perf_counter() - t_server)
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
            t0 = time.perf_counter()
            page.goto(f"{url}/?s={args.scenario}")
            # the title is the script's first element (drawn before the run): from it to the card is
            # the run plus the browser loading the card's own code (Streamlit loads Metric.js lazily)
            page.locator("h1").first.wait_for(timeout=300_000)
            times["cold_title"].append(time.perf_counter() - t0)
            card = page.locator(CARD).first
            card.wait_for(timeout=300_000)
            times["cold_first_card"].append(time.perf_counter() - t0)
            server_s, card_s = times["server_start"][0], times["cold_first_card"][0]
            title_s = times["cold_title"][0]
            print(
                f"cold start: server {server_s:.2f} s, title {title_s:.2f} s, first card {card_s:.2f} s",
                flush=True,
            )

            def model_seconds(into: str) -> None:
                """The model run's seconds from the status line (a full run's 模拟用时 X 秒)."""
                found = [ran.fullmatch(t.strip()) for t in page.evaluate(CAPTIONS)]
                model_s[into] += [float(m.group(1)) for m in found if m][:1]

            def settle() -> None:
                time.sleep(0.5)
                page.wait_for_function(
                    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=300_000
                )

            page.get_by_text(from_file(ROOT / "scenarios" / args.scenario).title[0]).first.wait_for()
            page.get_by_text("测算期总支出").first.wait_for(timeout=300_000)
            settle()
            model_seconds("cold_first_card")
            people = page.get_by_role("combobox", name=label("lever_sim_people", "zh"))
            shown_people = people.input_value()

            def change(box: Any, value: str, watch: str = TOTAL) -> float:
                shown = page.evaluate(f"() => {watch}")
                box.fill(value)
                t0 = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(
                    f"s => {watch} !== s",
                    arg=shown,
                    polling=50,
                    timeout=300_000,
                )
                seconds = time.perf_counter() - t0
                settle()  # let the rest of the page finish before the next change
                return seconds

            # the lever boxes (app.sidebar.section_key: run settings, then each scheme), which draw
            # their levers once opened; other expanders (e.g. the own-region upload) are not theirs
            levers = page.locator('[class*="st-key-box-"]')  # the key's class, | and . as -
            scheme = levers.nth(1)  # the first scheme's levers
            scheme.locator("summary").click()
            amount = scheme.locator('[data-testid="stNumberInput"] input').nth(1)  # its first amount
            amount.wait_for(timeout=60_000)  # opening the box re-runs the page, which draws them
            settle()
            start = levers.nth(0).locator('[data-testid="stNumberInput"] input')
            old_amount, old_start = amount.input_value(), start.first.input_value()
            for r in range(1, args.repeats + 1):
                t = change(amount, str(int(float(old_amount)) + 50 * r))
                times["money_lever_replayed"].append(t)
                print(f"money lever, new amount: {t:.2f} s", flush=True)
            change(amount, old_amount)
            for r in range(1, args.repeats + 1):
                t = change(start.first, str(int(old_start) + r), YEARS)
                times["start_year_full_run"].append(t)
                model_seconds("start_year_full_run")
                print(f"start year +{r}, full run: {t:.2f} s", flush=True)
            t = change(start.first, old_start, YEARS)
            times["back_cached"].append(t)
            print(f"back to the file's values (cached): {t:.2f} s", flush=True)
            ctx.close()
    finally:
        server.__exit__(None, None, None)

    report = {
        "what": "cold start (server process to health check; page open to first card on a fresh server) and "
        "seconds from Enter in a lever to the new total-cost card (headless chromium, same machine)",
        "scenario": args.scenario,
        "simulated_people": shown_people,
        "target_s": 3.0,
        "seconds": times,
        "best_s": {k: round(min(v), 2) for k, v in times.items() if v},
        "median_s": {k: round(statistics.median(v), 2) for k, v in times.items() if v},
        "model_s": model_s,
        "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
        "agingsim": agingsim.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "date": dt.date.today().isoformat(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(json.dumps({"best_s": report["best_s"], "median_s": report["median_s"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
