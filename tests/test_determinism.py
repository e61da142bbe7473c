"""Non-negotiable 6 / issue 2 §7: same scenario and seed → byte-identical outputs; replications use
spawned seed streams; person-keyed common random numbers."""

from __future__ import annotations

import json

import numpy as np

from agingsim.cli import main
from agingsim.rng import RandomStreams

DATA_FILES = ("population.csv", "demography.csv")


def run_to(tmp_path, name, *extra):
    out = tmp_path / name
    assert main(["run", "tests/data/tiny.toml", "--out", str(out), *extra]) == 0
    return out


def test_same_seed_gives_byte_identical_outputs(tmp_path):
    a, b = run_to(tmp_path, "a"), run_to(tmp_path, "b")
    for name in DATA_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    sa.pop("run_time_s"), sb.pop("run_time_s")
    assert sa == sb


def test_summary_records_scenario_seed_and_version(tmp_path):
    out = run_to(tmp_path, "a", "--seed", "99")
    s = json.loads((out / "summary.json").read_text())
    assert s["seed"] == 99 and s["replication"] == 0
    assert s["version"] and s["scenario"] == "测试情景"
    assert len(s["scenario_sha256"]) == 64
    assert s["scenario_file"].endswith("tiny.toml")
    assert set(s["inputs_sha256"]) >= {"tests/data/tiny_region.toml", "calibration/ability/default.toml"}


def test_other_seed_or_replication_gives_other_results(tmp_path):
    base = (run_to(tmp_path, "a") / "population.csv").read_bytes()
    assert (run_to(tmp_path, "b", "--seed", "8") / "population.csv").read_bytes() != base
    assert (run_to(tmp_path, "c", "--replication", "1") / "population.csv").read_bytes() != base


def test_replications_are_spawned_seed_streams():
    streams = RandomStreams(1234, replication=3)
    child = np.random.SeedSequence(1234).spawn(4)[3]
    assert streams.seed_sequence("x").entropy == child.entropy
    assert streams.seed_sequence("x").spawn_key[:1] == child.spawn_key


def test_a_persons_draw_does_not_depend_on_who_else_exists():
    """Common random numbers: person 7's number is the same whether or not 0–6 and 8+ exist."""
    s = RandomStreams(5)
    everyone = s.draws("ability", 12, np.arange(100, dtype=np.int32))
    alone = s.draws("ability", 12, np.array([7], dtype=np.int32))
    later = s.draws("ability", 12, np.array([150, 7], dtype=np.int32))  # more people, other order
    assert alone[0] == everyone[7] == later[1]
    assert s.draws("ability", 13, np.array([7], dtype=np.int32))[0] != alone[0]  # next month: new draw
    assert s.draws("choice", 12, np.array([7], dtype=np.int32))[0] != alone[0]  # other purpose: new draw
    assert RandomStreams(5, 1).draws("ability", 12, np.array([7], dtype=np.int32))[0] != alone[0]


def test_results_do_not_depend_on_the_number_of_threads(tmp_path, monkeypatch):
    """Non-negotiable 6: identical output with 1 or 2 threads, with chunks small enough that the tiny
    world's draws and transitions really are split across threads."""
    import agingsim.parallel

    monkeypatch.setattr(agingsim.parallel, "MIN_CHUNK", 1000)
    outputs = []
    for threads in ("1", "2"):
        monkeypatch.setenv("AGINGSIM_THREADS", threads)
        assert len(agingsim.parallel.chunks(20_000)) == int(threads)
        outputs.append((run_to(tmp_path, f"t{threads}") / "population.csv").read_bytes())
    assert outputs[0] == outputs[1]


def test_the_fused_kernel_gives_the_numpy_engines_outputs_byte_for_byte(tmp_path, monkeypatch):
    """Issue 17: a run on the compiled month (ability.fused, used for large runs) writes exactly the
    files of the numpy engine, on 1 and 2 threads with the rows really split across them."""
    import agingsim.model
    import agingsim.parallel

    monkeypatch.setattr(agingsim.parallel, "MIN_CHUNK", 1000)
    numpy_run = run_to(tmp_path, "numpy")
    monkeypatch.setattr(agingsim.model, "fused_worth_it", lambda person_months: True)
    for threads in ("1", "2"):
        monkeypatch.setenv("AGINGSIM_THREADS", threads)
        fused_run = run_to(tmp_path, f"fused{threads}")
        for name in DATA_FILES:
            assert (fused_run / name).read_bytes() == (numpy_run / name).read_bytes(), (name, threads)
