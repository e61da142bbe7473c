"""Helpers for the app's real-browser tests: an `agingsim app` server and Debian's chromium.

The fixtures ``server`` and ``browser`` (registered for every test module by conftest.py) are
session-scoped: one server and one browser for all the browser tests of a run, since starting them
and the server's first page load cost seconds each and no test depends on a fresh server (each page is
its own streamlit session). The server simulates few people ($AGINGSIM_APP_PEOPLE) so each run takes
about a second on a shared machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
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
TIMEOUT_MS = 120_000  # a generous bound on a shared 2-core machine, not a speed requirement


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit_server(people: int = 20_000, env: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    """`agingsim app` (the README's command: streamlit's server, the opening run warmed up beside it)
    on a free localhost port; yields its address and its log file."""
    port = free_port()
    cmd = [sys.executable, "-m", "agingsim", "app", "--server.headless", "true", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    log = Path(tempfile.mkstemp(prefix="agingsim-streamlit-", suffix=".log")[1])
    environ = os.environ | {"AGINGSIM_APP_PEOPLE": str(people)} | (env or {})
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True, env=environ)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.25)
        else:
            raise RuntimeError("streamlit did not answer its health check within 60 s")
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.unlink(missing_ok=True)


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator[object]:
    """A headless Debian chromium driven by Playwright (a persistent context: downloads allowed)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: `make test` installs Debian's chromium"
    profile = tempfile.mkdtemp(prefix="agingsim-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": width, "height": height},
            accept_downloads=True,
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


#: Simulated people of the shared server: the app's smallest option, so each run is about a second.
SERVER_PEOPLE = 20_000


@pytest.fixture(scope="session")
def server() -> Iterator[tuple[str, Path]]:
    """One `agingsim app` server for every browser test: its address and its log file."""
    with streamlit_server(people=SERVER_PEOPLE) as found:
        yield found


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless chromium for every browser test (each test opens and closes its own pages)."""
    with chromium() as context:
        yield context
