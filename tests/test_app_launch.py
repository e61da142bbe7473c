"""`agingsim app`: the launcher's warm-up runs the page's opening scenario into the cache the page
reads, a page arriving while it runs waits for it (one run per key), and a failing warm-up is
logged without taking the server down (issue 19, cold start)."""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agingsim.app import launch, runs, sidebar
from agingsim.app.session import OPENING
from agingsim.cli import main as cli_main
from agingsim.report.labels import label

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PEOPLE = 20_000  # the app's smallest option: the opening run well under a few seconds


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> runs.RunCache:
    """An empty process-wide run cache (the page and the warm-up both use runs.CACHE), at 20,000
    simulated people by default."""
    cache = runs.RunCache(root=runs.CACHE.root / f"launch-{time.monotonic_ns()}")
    monkeypatch.setattr(runs, "CACHE", cache)
    monkeypatch.setattr(sidebar, "INTERACTIVE_PEOPLE", PEOPLE)
    return cache


def _counted(monkeypatch: pytest.MonkeyPatch, before=None) -> list[int]:
    """Count the model runs the cache makes (runs.run_scenario), optionally calling ``before`` first."""
    calls: list[int] = []
    real = runs.run_scenario

    def counting(*args, **kwargs):
        calls.append(1)
        if before is not None:
            before(len(calls))
        return real(*args, **kwargs)

    monkeypatch.setattr(runs, "run_scenario", counting)
    return calls


def test_the_warm_run_is_the_pages_first_run(fresh_cache: runs.RunCache, monkeypatch) -> None:
    """The first page session finds the opening run in the cache: the model is not run again."""
    calls = _counted(monkeypatch)
    assert launch.warm_up()
    assert len(calls) == 1 and fresh_cache.made == 1
    key = launch.opening_run_key()
    assert fresh_cache.get(key) is not None

    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["page"].scenario == OPENING
    assert len(calls) == 1 and fresh_cache.made == 1  # the page took the warm run
    assert at.session_state["last_run"] is fresh_cache.get(key)
    assert label("app_cached", "zh") in [c.value for c in at.caption]


def test_a_page_arriving_during_the_warm_run_waits_for_it(fresh_cache: runs.RunCache, monkeypatch) -> None:
    """A caller of the same key while the warm run is in progress waits for it instead of running
    the model a second time, and gets the same run."""
    gate, waiting = threading.Event(), threading.Event()
    calls = _counted(monkeypatch, before=lambda n: gate.wait(120) if n == 1 else None)
    scenario, key = launch._opening()
    real_get = fresh_cache.get
    page_thread: list[threading.Thread] = []

    def get(k: str):
        if page_thread and threading.current_thread() is page_thread[0]:
            waiting.set()  # the page has looked in the cache while the warm run holds the key
        return real_get(k)

    monkeypatch.setattr(fresh_cache, "get", get)
    warm = launch.start_warm_up()
    found: list[tuple[runs.Run, bool]] = []
    page = threading.Thread(target=lambda: found.append(fresh_cache.run(scenario)))
    page_thread.append(page)
    while not calls:  # the warm run has started (and is held at the gate)
        assert warm.is_alive(), "the warm-up ended before its run"
        time.sleep(0.01)
    page.start()
    assert waiting.wait(60)
    gate.set()
    warm.join(120)
    page.join(120)
    assert len(calls) == 1, "the model ran twice for one key"
    ((run, cached),) = found
    assert cached and run is fresh_cache.get(key) and run.key == key
    assert fresh_cache.made == 1


def test_a_failing_warm_up_is_logged_and_the_page_runs_itself(
    fresh_cache: runs.RunCache, monkeypatch, caplog
) -> None:
    """A warm-up that fails logs why and leaves the cache empty; the page then makes the run."""

    def broken(*args, **kwargs):
        raise RuntimeError("no model today")

    monkeypatch.setattr(runs, "run_scenario", broken)
    with caplog.at_level(logging.ERROR, logger="agingsim.app.launch"):
        thread = launch.start_warm_up()
        thread.join(120)
    assert not thread.is_alive()
    assert "warming up the opening scenario failed" in caplog.text and "no model today" in caplog.text
    assert fresh_cache.made == 0
    monkeypatch.undo()
    monkeypatch.setattr(runs, "CACHE", fresh_cache)
    monkeypatch.setattr(sidebar, "INTERACTIVE_PEOPLE", PEOPLE)
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception, at.exception
    assert fresh_cache.made == 1 and at.session_state["last_run"] is fresh_cache.get(launch.opening_run_key())


def test_a_server_whose_warm_up_fails_keeps_serving(tmp_path: Path) -> None:
    """`agingsim app` with an opening scenario that does not parse: the warm-up's failure is in the
    log and the server still answers."""
    from app_browser import streamlit_server

    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / OPENING).write_text("this is [not toml\n", encoding="utf-8")
    with streamlit_server(env={"AGINGSIM_HOME": str(tmp_path)}) as (url, log):
        for _ in range(600):
            if "warming up the opening scenario failed" in log.read_text():
                break
            time.sleep(0.1)
        assert "warming up the opening scenario failed" in log.read_text(), log.read_text()
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
            assert r.status == 200


def test_the_launcher_passes_streamlits_options_and_says_a_bad_one(monkeypatch, capsys) -> None:
    """Everything after `app` is streamlit run's: its help is streamlit run's, an unknown option is
    a usage error (exit 2)."""
    monkeypatch.setattr(launch, "start_warm_up", lambda: None)
    assert cli_main(["app", "--help"]) == 0
    assert "--server.port" in capsys.readouterr().out
    assert cli_main(["app", "--server.no-such-option", "1"]) == 2
