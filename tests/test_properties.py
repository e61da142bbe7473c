"""Issue 18: property-based tests (Hypothesis) of bad input. Scenario files are made by mutating the
bundled ones — a number becomes NaN, infinite, negative or huge, a key is removed or renamed, a value
changes type, a file reference points elsewhere — and run through the command line in this process.

Whatever the mutation, ``agingsim run`` either exits 0 with finite outputs, or exits 2 with every
message naming a file and a key; it never shows a traceback, never takes unbounded time, and never
leaves a folder behind. Runs are tiny (200 simulated people, one year) so the suite fits in CI.
"""

from __future__ import annotations

import io
import json
import math
import re
import shutil
import tempfile
import tomllib
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agingsim.cli import main
from agingsim.scenario.files import resolve_input
from agingsim.sweep.overrides import dumps

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(
    p.relative_to(ROOT).as_posix()
    for p in [*ROOT.glob("scenarios/*.toml"), *ROOT.glob("scenarios/headline/*.toml")]
)
#: The files a scenario names, by its population key and the calibration folder of bare names.
REFS = {"region": "regions", "margins": "margins", "ability_model": "ability", "behaviour": "behaviour"}
#: Bounded examples: the whole module runs in well under 2 minutes on a CI core.
SETTINGS = settings(
    max_examples=25,
    deadline=timedelta(seconds=60),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every CI run: a failure is reproducible
    database=None,
)
#: A message line: ``error: FILE: KEY: PROBLEM`` (FILE an input path, or ``--out``'s folder).
ERROR_LINE = re.compile(r"^error: (?P<file>[^:]+\.(toml|csv|geojson|json)|[^:]+): (?P<key>[^:]+): .+")

NUMBERS = [float("nan"), float("inf"), float("-inf"), -1.0, -1e9, 1e15, 1e300, 0, 0.5, 7]
SWAPS = ["text", True, [1, 2], {"x": 1}]
PATHS = [
    "../../../../etc/passwd.toml",
    "/etc/hostname.toml",
    "nowhere.toml",
    "../scenarios/default.toml",
    "x/../../y",
]


def leaves(data: Any, path: tuple = ()) -> list[tuple]:
    """Every key path of the parsed file (tables, arrays and values)."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append((*path, k))
            out += leaves(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data[:3]):  # the first items are enough
            out.append((*path, i))
            out += leaves(v, (*path, i))
    return out


def get_parent(data: Any, path: tuple) -> tuple[Any, Any]:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node, path[-1]


@st.composite
def mutated(draw: Any, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """One mutation of parsed TOML data; returns the data and a description for the failure report."""
    paths = leaves(data)
    path = draw(st.sampled_from(paths))
    parent, last = get_parent(data, path)
    value = parent[last]
    in_run = path[0] == "run"  # valid large run sizes are slow, not wrong: only invalid ones here
    kinds = ["number", "swap", "remove"] + ([] if in_run else ["rename", "path"])
    kind = draw(st.sampled_from(kinds))
    if kind == "remove" and isinstance(parent, list):
        kind = "swap"
    if kind == "number":
        options = NUMBERS[:7] if in_run else NUMBERS
        new = draw(st.sampled_from(options))
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and draw(st.booleans())
            and not in_run
        ):
            new = draw(st.sampled_from([-value, value * 1e6, value * 1e12]))
        parent[last] = new
    elif kind == "swap":
        parent[last] = draw(st.sampled_from(SWAPS))
    elif kind == "remove":
        del parent[last]
    elif kind == "rename":
        if isinstance(parent, dict):
            parent[f"{last}x"] = parent.pop(last)
        else:
            parent[last] = draw(st.sampled_from(SWAPS))
    else:
        parent[last] = draw(st.sampled_from(PATHS))
    return (
        data,
        f"{kind} at {'.'.join(map(str, path))}: {value!r:.60} → {parent.get(last) if isinstance(parent, dict) else parent[last]!r:.60}",
    )


def world(tmp: Path, scenario: str) -> tuple[Path, dict[str, Path]]:
    """The scenario and the files it names, copied into ``tmp`` (the scenario refers to the copies)."""
    src = ROOT / scenario
    data = tomllib.loads(src.read_text(encoding="utf-8"))
    data["run"]["simulated_people"] = 200
    data["run"]["years"] = 1
    files = {}
    for ref, kind in REFS.items():
        name = data["population"].get(ref)
        if name is None:
            continue
        original = resolve_input(name, kind, src, f"population.{ref}")
        copy = tmp / f"{kind}_{original.name}"
        shutil.copy(original, copy)
        data["population"][ref] = copy.name
        files[ref] = copy
        if kind == "ability":
            table = tomllib.loads(original.read_text(encoding="utf-8"))["mortality"]["life_table"]
            shutil.copy(original.parent / table, tmp / table)
    path = tmp / "scenario.toml"
    path.write_text(dumps(data), encoding="utf-8")
    return path, files


def run_cli(scenario: Path, out: Path) -> tuple[int, str]:
    err, std = io.StringIO(), io.StringIO()
    with redirect_stderr(err), redirect_stdout(std):
        code = main(["run", str(scenario), "--out", str(out)])
    return code, err.getvalue()


def check_outcome(tmp: Path, scenario: Path, what: str) -> None:
    before = sorted(p.name for p in tmp.iterdir())
    out = tmp / "out"
    code, err = run_cli(scenario, out)
    assert "Traceback" not in err, f"{what}\n{err}"
    assert code in (0, 2), f"{what}: exit {code}\n{err}"
    if code == 2:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert lines, what
        for line in lines:
            m = ERROR_LINE.match(line)
            assert m, f"{what}: not FILE: KEY: PROBLEM: {line}"
        assert not out.exists(), what
    else:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        for key, value in _numbers(summary):
            assert math.isfinite(value), f"{what}: summary {key} = {value}"
        for csv in out.glob("*.csv"):
            frame = pd.read_csv(csv)
            numeric = frame.select_dtypes("number").to_numpy(dtype=float)
            assert not (numeric == float("inf")).any() and not (numeric == float("-inf")).any(), (
                f"{what}: {csv.name}"
            )
        shutil.rmtree(out)
    after = sorted(p.name for p in tmp.iterdir())
    assert after == before, f"{what}: left behind {set(after) - set(before)}"


def _numbers(data: Any, key: str = "") -> list[tuple[str, float]]:
    if isinstance(data, dict):
        return [x for k, v in data.items() for x in _numbers(v, f"{key}.{k}")]
    if isinstance(data, list):
        return [x for i, v in enumerate(data) for x in _numbers(v, f"{key}[{i}]")]
    if isinstance(data, int | float) and not isinstance(data, bool):
        return [(key, float(data))]
    return []


@SETTINGS
@given(st.data())
def test_mutated_scenario_files(data):
    """Mutations of a bundled scenario file itself."""
    scenario = data.draw(st.sampled_from(SCENARIOS), label="scenario")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        path, _ = world(tmp, scenario)
        parsed = tomllib.loads(path.read_text(encoding="utf-8"))
        changed, what = data.draw(mutated(parsed), label="mutation")
        path.write_text(dumps(changed), encoding="utf-8")
        check_outcome(tmp, path, f"{scenario}: {what}")


@SETTINGS
@given(st.data())
def test_mutated_files_a_scenario_names(data):
    """Mutations of the region, margins, ability-model or behaviour file a scenario names."""
    scenario = data.draw(st.sampled_from(["scenarios/default.toml", "scenarios/ninghe_allowances.toml"]))
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        path, files = world(tmp, scenario)
        ref = data.draw(st.sampled_from(sorted(files)), label="file")
        target = files[ref]
        parsed = tomllib.loads(target.read_text(encoding="utf-8"))
        changed, what = data.draw(mutated(parsed), label="mutation")
        target.write_text(dumps(changed), encoding="utf-8")
        check_outcome(tmp, path, f"{scenario} → {target.name}: {what}")


@settings(SETTINGS, max_examples=15)
@given(st.data())
def test_mutated_life_table(data):
    """Mutations of the life-table CSV: a cell becomes text, NaN, negative or huge, a row is dropped or
    gets an extra cell."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        path, _ = world(tmp, "scenarios/ninghe_allowances.toml")
        table = next(tmp.glob("*.csv"))
        lines = table.read_text(encoding="utf-8").splitlines()
        i = data.draw(st.integers(1, len(lines) - 1), label="row")
        cells = lines[i].split(",", 5)
        kind = data.draw(st.sampled_from(["cell", "drop", "extra", "duplicate"]))
        if kind == "cell":
            j = data.draw(st.integers(0, 4), label="column")
            cells[j] = data.draw(st.sampled_from(["abc", "nan", "inf", "-0.1", "1e300", "", "0"]))
            lines[i] = ",".join(cells)
        elif kind == "drop":
            del lines[i]
        elif kind == "extra":
            lines[i] += ",9"
        else:
            lines.append(lines[i])
        table.write_text("\n".join(lines) + "\n", encoding="utf-8")
        check_outcome(tmp, path, f"life table row {i}: {kind}")
