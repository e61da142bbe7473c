"""``agingsim app [streamlit options]``: the Streamlit server, started in this process the way
``streamlit run`` starts it, with the opening scenario's run warmed up beside it.

The warm-up imports the page's modules and runs the scenario the page opens on (session.OPENING, at
the page's default simulated people) into the process-wide run cache the page reads
(runs.CACHE), on a background thread that starts with the server. A first session that asks for
that run while it is still going waits for it (RunCache.run: one run per key), so nothing is run
twice; the run is the one the page would make itself (same key, same result). A warm-up that fails
is logged and changes nothing: the page then loads and runs as without it.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agingsim.scenario import Scenario

LOG = logging.getLogger("agingsim.app.launch")

#: The page's script (the same two lines as the checkout's app.py, shipped inside the package so an
#: install without the checkout can start it too).
SCRIPT = Path(__file__).with_name("streamlit_app.py")


def opening_run_key() -> str:
    """The run key of the page's first run: the opening scenario, unchanged, at the page's default
    simulated people (sidebar.default_people), as run_current loads it."""
    return _opening()[1]


def _opening() -> tuple[Scenario, str]:
    from agingsim.app import runs, sources
    from agingsim.app.session import opening_name
    from agingsim.app.sidebar import default_people

    source = sources.bundled_sources()[opening_name()]
    people = default_people(source)
    full = source.raw.get("run", {}).get("simulated_people")
    scenario = sources.load(source, {}, simulated_people=people if people != full else None)
    return scenario, runs.run_key(scenario)


def warm_up() -> bool:
    """Import the page's modules and run the opening scenario into runs.CACHE; whether it ran (False
    after logging why, when it failed: the page will then make the run itself)."""
    t0 = time.perf_counter()
    try:
        import agingsim.app.page  # noqa: F401  (the page's imports: pandas, the loader, streamlit's elements)
        from agingsim.app import runs

        scenario, key = _opening()
        runs.CACHE.run(scenario)  # record_groups as the page's opening view (costs) asks: none
    except Exception:  # a failed warm-up must never take the server down
        LOG.exception("agingsim app: warming up the opening scenario failed; the page will run it itself")
        return False
    LOG.info("agingsim app: opening run %s ready after %.2f s", key, time.perf_counter() - t0)
    return True


def start_warm_up() -> threading.Thread:
    """The warm-up on a daemon thread (the server's exit is never held up by it)."""
    thread = threading.Thread(target=warm_up, name="agingsim-warm-up", daemon=True)
    thread.start()
    return thread


def main(options: list[str]) -> int:
    """Start the server with ``streamlit run``'s own command (its options: ``--server.port`` …),
    the warm-up beside it; returns when the server stops."""
    from streamlit.web import cli as stcli

    if not any(o in ("-h", "--help") for o in options):
        start_warm_up()
    try:
        stcli.main.main(args=["run", str(SCRIPT), *options], prog_name="streamlit", standalone_mode=True)
    except SystemExit as exc:  # click ends with SystemExit; a bad option is a usage error (2)
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    return 0
