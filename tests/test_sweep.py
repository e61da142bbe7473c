"""Issue 5: sweeps give the same rows wherever they run, resume after a crash, reject bad files early."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from agingsim.cli import main as sweep_main
from agingsim.errors import ScenarioError
from agingsim.sweep import Store, load_sweep, query, run_sweep
from agingsim.sweep import runner as sweep_runner
from agingsim.sweep.overrides import dumps
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
payers = { city = 0.5, county = 0.5, source = "test: 1 : 1 (seed 004 style)" }
"""

SWEEP = """
[sweep]
name = "{name}"
scenario = "tiny.toml"
design = "{design}"
replications = {replications}
{extra}

[set]
"run.years" = 2
"run.simulated_people" = 2000

{axes}
"""

GRID_AXES = """
[[axes]]
name = "severe"
key = "policy.schemes[0].amount.severe"
values = [300, 600]

[[axes]]
name = "delivery"
key = "policy.schemes[0].delivery_rate"
range = [0.5, 1.0]
steps = 2
"""

RANGE_AXES = """
[[axes]]
name = "severe"
key = "policy.schemes[0].amount.severe"
range = [200, 800]

[[axes]]
name = "delivery"
key = "policy.schemes[0].delivery_rate"
range = [0.5, 1.0]
"""

#: Columns that depend on the machine, not on the inputs.
TIMING = ["run_time_s"]


@pytest.fixture
def world(tiny_copy):
    """The tiny test world with one person-level scheme, and a function writing sweep files beside it."""
    path = tiny_copy.scenario
    path.write_text(path.read_text(encoding="utf-8") + POLICY, encoding="utf-8")

    def sweep_file(
        axes: str = GRID_AXES,
        name: str = "grid",
        design: str = "grid",
        replications: int = 2,
        extra: str = "",
    ) -> Path:
        text = SWEEP.format(name=name, design=design, replications=replications, extra=extra, axes=axes)
        out = tiny_copy.dir / f"{name}.toml"
        out.write_text(text, encoding="utf-8")
        return out

    sweep_file.dir = tiny_copy.dir  # type: ignore[attr-defined]
    return sweep_file


def rows(store: Path, name: str) -> pd.DataFrame:
    frame = Store(store, name).read()
    return frame.drop(columns=TIMING).sort_values(["run_key", "year"]).reset_index(drop=True)


def test_toml_writer_round_trips_every_bundled_file():
    files = [
        *glob.glob(str(ROOT / "scenarios/*.toml")),
        *glob.glob(str(ROOT / "calibration/**/*.toml"), recursive=True),
    ]
    assert files
    for name in files:
        data = tomllib.loads(Path(name).read_text(encoding="utf-8"))
        assert tomllib.loads(dumps(data)) == data, name


def test_serial_processes_and_dask_give_identical_rows(world, tmp_path):
    from distributed import LocalCluster

    sweep = world()
    serial = run_sweep(sweep, store=tmp_path / "serial", workers=1, progress=False)
    assert (serial.total, serial.done, serial.failures) == (8, 8, [])  # 2 × 2 points × 2 replications
    expected = rows(tmp_path / "serial", "grid")
    assert len(expected) == 8 * 3  # 1 January of 2024, 2025, 2026
    assert (
        expected["cost_total_wan"].notna().sum() == 8 * 2 and (expected["cost_total_wan"].dropna() > 0).all()
    )
    assert sorted(expected["severe"].unique()) == [300, 600]
    assert sorted(expected["delivery"].unique()) == [0.5, 1.0]
    # replications are different draws; parameters change costs, not the people (common random numbers)
    one = expected[(expected.severe == 300) & (expected.delivery == 0.5)]
    assert one.groupby("replication")["deaths"].sum().nunique() == 2

    run_sweep(sweep, store=tmp_path / "procs", workers=2, progress=False)
    pd.testing.assert_frame_equal(rows(tmp_path / "procs", "grid"), expected)

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        report = run_sweep(
            sweep, store=tmp_path / "dask", scheduler=cluster.scheduler_address, progress=False
        )
    assert report.done == 8
    pd.testing.assert_frame_equal(rows(tmp_path / "dask", "grid"), expected)

    again = run_sweep(sweep, store=tmp_path / "serial", workers=2, progress=False)
    assert (again.skipped, again.done) == (8, 0)  # finished runs are skipped


def test_resume_after_the_sweep_is_killed_loses_and_duplicates_nothing(world, tmp_path):
    sweep = world(name="resume", replications=4)  # 16 runs
    store = tmp_path / "store"
    runs = Store(store, "resume").runs
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agingsim.sweep",
            "sweep",
            str(sweep),
            "--store",
            str(store),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(list(runs.glob("*.parquet"))) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and anything it started
        proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.parquet")}
    assert 3 <= len(before) < 16, "the sweep should have been killed halfway"

    report = run_sweep(sweep, store=store, workers=1, progress=False)
    assert (report.skipped, report.done, report.failures) == (len(before), 16 - len(before), [])
    after = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.parquet")}
    assert {k: after[k] for k in before} == before  # nothing written twice
    assert set(after) == {f"{r.key}.parquet" for r in Plan(load_sweep(sweep)).runs}
    assert not list(runs.glob("*.tmp"))
    clean = run_sweep(sweep, store=tmp_path / "clean", workers=1, progress=False)
    assert clean.done == 16
    pd.testing.assert_frame_equal(rows(store, "resume"), rows(tmp_path / "clean", "resume"))


BAD_AXES = [
    (
        "[[axes]]\nkey = 'policy.schemes[0].no_such_figure'\nvalues = [1, 2]",
        "axis policy.schemes[0].no_such_figure",
        "unknown key",
    ),
    (
        "[[axes]]\nkey = 'policy.schemez[0].amount'\nvalues = [1, 2]",
        "axis policy.schemez[0].amount",
        "not found",
    ),
    (
        "[[axes]]\nkey = 'policy.schemes[3].amount'\nvalues = [1]",
        "axis policy.schemes[3].amount",
        "out of range",
    ),
    ("[[axes]]\nkey = 'region:entry.no_such'\nvalues = [1]", "axis region:entry.no_such", "unknown key"),
    ("[[axes]]\nkey = 'policy.schemes[0].delivery_rate'\nvalues = []", "axes[0].values", "empty axis"),
    ("[[axes]]\nkey = 'policy.schemes[0].delivery_rate'", "axes[0]", "empty axis"),
    ("[[axes]]\nkey = 'policy.schemes[0].delivery_rate'\nvalues = 'high'", "axes[0].values", "valid list"),
    (
        "[[axes]]\nkey = 'policy.schemes[0].delivery_rate'\nvalues = ['high', 'low']",
        "axis policy.schemes[0].delivery_rate",
        "holds a number",
    ),
    (
        "[[axes]]\nkey = 'policy.schemes[0].delivery_rate'\nvalues = [0.5, 1.5]",
        "axis policy.schemes[0].delivery_rate",
        "tiny.toml invalid: policy.schemes[0].delivery_rate: out of range: must be in [0, 1] (a share) (got 1.5)",
    ),
    ("[[axes]]\nkey = 'policy.schemes[0].delivery_rate'\nrange = [0.5, 1.0]", "axes[0].steps", "needs steps"),
    (
        "[[axes]]\nkey = 'policy.schemes[0].delivery_rate'\nvalues = [1]\nstep = 3",
        "axes[0].step",
        "unknown key",
    ),
    ("[[axes]]\nkey = 'policy..x'\nvalues = [1]", "axes[0].key", "cannot read the key"),
]


@pytest.mark.parametrize(("axes", "key", "problem"), BAD_AXES)
def test_a_malformed_sweep_file_is_a_clear_error_before_anything_runs(world, tmp_path, axes, key, problem):
    sweep = world(axes=axes, name="bad")
    with pytest.raises(ScenarioError) as exc:
        run_sweep(sweep, store=tmp_path / "store", workers=1, progress=False)
    message = str(exc.value)
    assert message.startswith(f"{sweep}: {key}"), message
    assert problem in message, message
    assert not (tmp_path / "store").exists()


def test_cli_exit_codes_and_sampled_designs_need_ranges(world, tmp_path, capsys):
    sweep = world(axes=GRID_AXES, design="lhs", extra="samples = 4", name="lhs_bad")
    assert sweep_main(["sweep", str(sweep), "--store", str(tmp_path / "s")]) == 2
    assert "design 'lhs' samples a box: give range" in capsys.readouterr().err
    # a store that is not there, or SQL that is not a read, is the user's to fix: exit 2, FILE: KEY: PROBLEM
    assert sweep_main(["query", str(tmp_path / "nothing"), "SELECT 1"]) == 2
    assert f"{tmp_path / 'nothing'}: STORE: no such store folder" in capsys.readouterr().err


def test_sampled_designs_are_reproducible_and_in_bounds(world):
    for design, n in (("lhs", 5), ("sobol", 8)):
        sweep = load_sweep(
            world(axes=RANGE_AXES, design=design, extra=f"samples = {n}\nseed = 3", name=design)
        )
        points = sweep.points()
        assert len(points) == n and points == load_sweep(sweep.path).points()
        assert all(200 <= p["severe"] <= 800 and 0.5 <= p["delivery"] <= 1.0 for p in points)


def test_swept_values_carry_provenance_and_reach_the_run(world):
    axes = (
        GRID_AXES + "\n[[axes]]\nname = 'growth'\nkey = 'region:entry.annual_growth'\nvalues = [0.0, 0.1]\n"
    )
    plan = Plan(load_sweep(world(axes=axes, name="prov")))
    point = next(p for p in plan.points if p.params == {"severe": 600, "delivery": 1.0, "growth": 0.1})
    scenario = plan.load(point)
    assert scenario.file.policy.schemes[0].delivery_rate == 1.0
    assert scenario.region.entry.annual_growth == 0.1
    labels = {f.key: f.text for f in scenario.figures}
    assert (
        labels["policy.schemes[0].amount.severe"] == "set by sweep prov, axis policy.schemes[0].amount.severe"
    )
    assert labels["entry.annual_growth"] == "set by sweep prov, axis region:entry.annual_growth"
    assert not list(world.dir.glob(".*sweep-*"))  # temporary files are removed
    assert not [f.file for f in scenario.figures if ".sweep-" in f.file]  # named after the originals
    assert scenario.path == world.dir / "tiny.toml"
    assert len({r.key for r in plan.runs}) == len(plan.runs) == 16


def test_a_failing_run_is_recorded_and_the_sweep_continues(world, tmp_path, monkeypatch):
    sweep = world(name="fails")
    real = sweep_runner.run_scenario

    def flaky(scenario, replication=0, progress=None):
        if scenario.file.policy.schemes[0].delivery_rate == 1.0 and replication == 1:
            raise RuntimeError("simulated failure")
        return real(scenario, replication=replication)

    monkeypatch.setattr(sweep_runner, "run_scenario", flaky)
    report = run_sweep(sweep, store=tmp_path, workers=1, progress=False)
    assert (report.done, len(report.failures)) == (6, 2)
    assert all(f["params"]["delivery"] == 1.0 and f["replication"] == 1 for f in report.failures)
    assert "RuntimeError: simulated failure" in report.failures[0]["error"]
    assert "Failures (2" in "\n".join(report.lines())
    assert len(Store(tmp_path, "fails").failures()) == 2
    assert query(tmp_path, "SELECT count(*) AS n FROM failures")["n"][0] == 2

    monkeypatch.setattr(sweep_runner, "run_scenario", real)
    retry = run_sweep(sweep, store=tmp_path, workers=1, progress=False)
    assert (retry.skipped, retry.done, retry.failures) == (6, 2, [])
    assert Store(tmp_path, "fails").failures() == []


@pytest.mark.parametrize(
    ("design", "runs", "index"), [("morris", 6, "mu_star"), ("saltelli", 8, "ST")]
)  # morris: 2 trajectories × (2 parameters + 1); saltelli: 2 × (2 parameters + 2)
def test_query_and_sensitivity(world, tmp_path, capsys, design, runs, index):
    sweep = world(axes=RANGE_AXES, design=design, replications=1, extra="samples = 2\nseed = 1", name=design)
    report = run_sweep(sweep, store=tmp_path, workers=1, progress=False)
    assert report.done == runs
    method = "morris" if design == "morris" else "sobol"
    assert [p.name for p in report.sensitivity] == [f"sensitivity_{method}.csv", f"sensitivity_{method}.png"]
    table = pd.read_csv(report.sensitivity[0])
    total = table[table.output == "cost_total_wan"].set_index("parameter")
    assert sorted(total.index) == ["delivery", "severe"] and total[index].notna().all()
    assert any("needing_care_end" in n for n in report.notes)  # policy does not change who needs care

    sql = "SELECT point, sum(cost_total_wan) AS cost FROM runs GROUP BY point ORDER BY point"
    assert len(query(tmp_path, sql)) == runs
    assert sweep_main(["query", str(tmp_path / design), sql, "--csv"]) == 0
    assert capsys.readouterr().out.startswith("point,cost\n0,")
    # the user's SQL: a write or a typo is exit 2, STORE: SQL: PROBLEM, and nothing is changed
    store = str(tmp_path / design)
    assert sweep_main(["query", store, "DROP VIEW runs"]) == 2
    assert f"{store}: SQL: read-only: only SELECT statements are run, not DROP" in capsys.readouterr().err
    assert sweep_main(["query", store, "SELEC 1"]) == 2
    assert f"{store}: SQL: Parser Error" in capsys.readouterr().err
    assert len(query(tmp_path, sql)) == runs


@pytest.mark.parametrize("path", sorted((ROOT / "sweeps").glob("*.toml")), ids=lambda p: p.name)
def test_every_bundled_sweep_file_loads_and_each_point_is_a_valid_scenario(path):
    """The README's `agingsim sweep sweeps/example.toml` must run as shipped: its home-service
    delivery-rate axis failed once the scheme's delivery came from the behaviour model (`uses`),
    and nothing loaded the file. Every design point's scenario is validated by the loader here
    (what the sweep does before running anything), without running the model."""
    plan = Plan(load_sweep(path))
    assert plan.points
    for point in plan.points:
        scenario = plan.load(point)
        assert scenario.figures  # provenance of every value, the swept ones labelled
