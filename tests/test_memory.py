"""Issue 18 class 4: no memory growth across runs. Each behaviour run leaked 15–20 MB at full size
(mesa's per-model agent-id counters held every model; a suspended salabim greenlet kept each
environment): sweep workers grew 165 → 415 MB over 20 runs, the app never levelled off."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import gc, json, sys
from dataclasses import replace

import psutil

from agingsim.model import AgingModel
from agingsim.scenario import load_scenario
from agingsim.simulate import run_scenario

sc = load_scenario(sys.argv[1]).with_run(years=2)
run = sc.run.model_copy(update={"simulated_people": 8000})
sc = replace(sc, file=sc.file.model_copy(update={"run": run}))
proc = psutil.Process()
rss, alive = [], []
for i in range(20):
    run_scenario(sc)
    gc.collect()
    rss.append(proc.memory_info().rss / 1e6)
    alive.append(sum(isinstance(o, AgingModel) for o in gc.get_objects()))
print(json.dumps({"rss": rss, "alive": alive}))
"""


def test_twenty_behaviour_runs_do_not_grow_memory():
    """20 runs with the behaviour model in one process: resident memory after run 20 within 10% of
    after run 5, and no run's model outlives it."""
    scenario = ROOT / "scenarios/headline/demand_vouchers.toml"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(scenario)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout.strip().splitlines()[-1])
    rss, alive = data["rss"], data["alive"]
    assert max(alive) <= 1, alive  # the models of finished runs are freed
    assert rss[19] <= 1.10 * rss[4], [round(x) for x in rss]
