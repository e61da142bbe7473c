"""Issue 18 classes 3 (sweeps' side files), 7 and 9: the run key covers every input, plans are bounded,
a torn failure log is tolerated, workers die with their parent, nothing is written beside inputs,
orphans are cleaned, and ``agingsim query`` only reads the store."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from agingsim.errors import AgingsimError, ScenarioError
from agingsim.sweep import Store, load_sweep, query, run_sweep
from agingsim.sweep.plan import Plan

ROOT = Path(__file__).resolve().parents[1]

POLICY = """
[[policy.schemes]]
id = "home_care"
name = "居家服务"
family = "demand"
eligible = "ability >= mild"
payment = "delivered"
delivery_rate = { value = 0.8, assumption = "test" }
amount = { mild = 100, moderate = 200, severe = 300, complete = 300, assumption = "test" }
payers = { city = 0.5, county = 0.5, source = "test" }
"""

SWEEP = """
[sweep]
name = "{name}"
scenario = "{scenario}"
replications = {replications}

[set]
"run.years" = 1
"run.simulated_people" = 1000

{axes}
"""

AXIS = """
[[axes]]
name = "severe"
key = "policy.schemes[0].amount.severe"
values = {values}
"""


@pytest.fixture
def world(tiny_copy):
    path = tiny_copy.scenario
    path.write_text(path.read_text(encoding="utf-8") + POLICY, encoding="utf-8")

    def sweep_file(
        values: str = "[300, 600]", name: str = "s", replications: int = 1, axes: str | None = None
    ) -> Path:
        text = SWEEP.format(
            name=name,
            scenario="tiny.toml",
            replications=replications,
            axes=AXIS.format(values=values) if axes is None else axes,
        )
        out = tiny_copy.dir / f"{name}.toml"
        out.write_text(text, encoding="utf-8")
        return out

    sweep_file.dir = tiny_copy.dir  # type: ignore[attr-defined]
    return sweep_file


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


# --------------------------------------------------------------------------- run key


def test_run_key_covers_the_geography_files(tmp_path):
    """A resume reused a stale result after the facilities changed: the key ignored geography."""
    shutil.copytree(ROOT / "calibration/geo/guiyang_synthetic", tmp_path / "guiyang_synthetic")
    shutil.copy(ROOT / "calibration/geo/guiyang_synthetic.toml", tmp_path / "geo.toml")
    text = (ROOT / "scenarios/guiyang_service_circle.toml").read_text(encoding="utf-8")
    text = text.replace('communities = "guiyang_synthetic"', 'communities = "geo.toml"')
    (tmp_path / "gy.toml").write_text(text, encoding="utf-8")
    sweep = tmp_path / "sw.toml"
    sweep.write_text(SWEEP.format(name="gy", scenario="gy.toml", replications=1, axes=""), encoding="utf-8")
    before = [r.key for r in Plan(load_sweep(sweep)).runs]
    facilities = tmp_path / "guiyang_synthetic/facilities.csv"
    facilities.write_text(
        facilities.read_text(encoding="utf-8").replace("30.000,900.000", "31.000,900.000", 1)
    )
    after = [r.key for r in Plan(load_sweep(sweep)).runs]
    assert before != after


# --------------------------------------------------------------------------- plan size


def test_plan_size_is_bounded_with_a_clear_message(world, tmp_path):
    """Millions of points or replications used to be planned until memory ran out."""
    values = "[" + ", ".join(str(100 + i) for i in range(500)) + "]"
    axes = AXIS.format(values=values) + AXIS.replace("severe", "moderate", 2).format(values=values)
    with pytest.raises(
        ScenarioError, match=r"plans 250,000 runs \(250,000 points × 1 replications\); at most 100,000"
    ):
        load_sweep(world(axes=axes))
    with pytest.raises(ScenarioError, match="at most 100,000"):
        load_sweep(world(values="[300, 600]", replications=60_000))


# --------------------------------------------------------------------------- failure log


def test_torn_last_line_of_the_failure_log(world, tmp_path):
    """A kill mid-write leaves half a JSON line: resume and query used to crash on it."""
    store = tmp_path / "store"
    sweep = world()
    run_sweep(sweep, store=store, workers=1, progress=False)
    st = Store(store, "s")
    st.failures_path.write_text(
        '{"run_key": "aaa", "point": 0, "replication": 0, "seed": 1, "params": {}, "error": "x"}\n'
        '{"run_key": "bbb", "point": 1, "repl',
        encoding="utf-8",
    )
    assert [f["run_key"] for f in st.failures()] == ["aaa"]
    assert query(store, "SELECT count(*) AS n FROM failures")["n"][0] == 1
    report = run_sweep(sweep, store=store, workers=1, progress=False)  # the resume
    assert report.failures == []
    assert st.failures_path.read_text(encoding="utf-8").endswith("\n") or not st.failures_path.exists()


# --------------------------------------------------------------------------- nothing beside inputs


def test_sweeps_write_nothing_beside_their_inputs(world, tmp_path_factory, monkeypatch):
    """Sweeps wrote `.NAME.sweep-*.toml` copies beside the inputs (and left them when killed)."""
    import agingsim.sweep.plan as plan_mod

    sweep = world()
    before = sorted(p.name for p in world.dir.iterdir())
    seen: list[list[str]] = []
    real = plan_mod.load_scenario

    def watching(*args, **kwargs):
        seen.append(sorted(p.name for p in world.dir.iterdir()))
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_mod, "load_scenario", watching)
    report = run_sweep(sweep, store=tmp_path_factory.mktemp("store"), workers=1, progress=False)
    assert report.done == 2 and seen
    assert all(listing == before for listing in seen), seen
    assert sorted(p.name for p in world.dir.iterdir()) == before


def test_orphans_are_cleaned_on_start(world, tmp_path):
    store = tmp_path / "store"
    sweep = world()
    runs = store / "s" / "runs"
    runs.mkdir(parents=True)
    dead = runs / f".abc.{_dead_pid()}.tmp"
    dead.write_bytes(b"half a parquet file")
    live = runs / f".def.{os.getpid()}.tmp"  # another sweep writing this store right now
    live.write_bytes(b"being written")
    old_copy = world.dir / ".tiny.sweep-x1y2.toml"  # left by a killed sweep of an earlier version
    old_copy.write_text("x", encoding="utf-8")
    os.utime(old_copy, (time.time() - 7200, time.time() - 7200))
    run_sweep(sweep, store=store, workers=1, progress=False)
    assert not dead.exists() and not old_copy.exists()
    assert live.exists()


# --------------------------------------------------------------------------- workers


def test_workers_exit_with_their_parent(tmp_path):
    """After SIGKILL of the sweep's process its worker processes stayed alive."""
    script = (
        "import sys, time\n"
        "from agingsim.sweep.runner import start_pool\n"
        "pool = start_pool(2)\n"
        "time.sleep(3)\n"
        "print(' '.join(str(p) for p in pool._processes), flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()
        pids = [int(p) for p in line.split()]
        assert len(pids) == 2
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.time() + 20
    alive = pids
    while alive and time.time() < deadline:
        time.sleep(0.5)
        alive = [p for p in pids if _alive(p)]
    assert not alive, f"workers {alive} outlived their parent"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


# --------------------------------------------------------------------------- query


@pytest.fixture
def store_with_runs(world, tmp_path) -> Path:
    store = tmp_path / "store"
    run_sweep(world(), store=store, workers=1, progress=False)
    return store


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO '{store}/x.csv'",  # wrote a file
        "COPY (SELECT 1) TO '{outside}/x.csv'",
        "ATTACH '{outside}/x.duckdb'",
        "CREATE TABLE t AS SELECT 1",
        "SET enable_external_access = true",
        "INSTALL httpfs",
    ],
)
def test_query_is_read_only(store_with_runs, tmp_path_factory, sql):
    outside = tmp_path_factory.mktemp("outside")
    with pytest.raises(ScenarioError, match="SQL: read-only"):
        query(store_with_runs, sql.format(store=store_with_runs, outside=outside))
    assert not list(store_with_runs.rglob("x.csv")) and not list(outside.iterdir())


def test_query_cannot_read_files_outside_the_store(store_with_runs):
    with pytest.raises(ScenarioError, match="SQL: Permission Error"):  # the user's SQL: exit 2
        query(store_with_runs, f"SELECT * FROM read_csv('{ROOT / 'pyproject.toml'}')")
    frame = query(store_with_runs, "SELECT count(*) AS n FROM runs")
    assert isinstance(frame, pd.DataFrame) and frame["n"][0] > 0


def test_a_lost_dask_scheduler_says_how_to_resume(world, tmp_path_factory):
    """A killed Dask scheduler gave a traceback; now a clear message naming the resume command."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    code = (
        "import time\nfrom distributed import LocalCluster\n"
        f"c = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, scheduler_port={port}, "
        "dashboard_address=None, host='127.0.0.1')\nprint(c.scheduler_address, flush=True)\ntime.sleep(600)\n"
    )
    cluster = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        address = cluster.stdout.readline().strip()
        assert address.startswith("tcp://")
        store = tmp_path_factory.mktemp("store")

        def kill_scheduler(spec):
            cluster.send_signal(signal.SIGKILL)

        with pytest.raises(AgingsimError, match="lost the Dask scheduler") as info:
            run_sweep(
                world(replications=8),
                store=store,
                scheduler=address,
                progress=False,
                on_result=kill_scheduler,
            )
        assert "resume with agingsim sweep" in str(info.value)
        assert len(Store(store, "s").finished()) >= 1  # what finished is kept for the resume
    finally:
        cluster.kill()
        cluster.wait()
