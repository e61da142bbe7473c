"""From a sweep file to runs: each design point's modified scenario, its run keys, and its validation.

A run's key is the hash of everything that decides its result (the modified scenario and any modified
region, margins or ability file, the hashes of the files they refer to, seed, replication, agingsim
version), so a finished run is recognised in the store whatever machine or worker computed it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agingsim import __version__
from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.scenario import Scenario, load_scenario
from agingsim.scenario.files import display_path, file_sha256, overlaid, read_toml, resolve_input
from agingsim.scenario.provenance import is_wrapped_figure
from agingsim.sweep.overrides import FILE_FOLDERS, FILE_REFS, KeyPath, dumps, set_value
from agingsim.sweep.spec import Sweep

KEY_LENGTH = 24  # hex digits of SHA-256 kept in a run key: 96 bits, no collision in any sweep


@dataclass(frozen=True)
class RunSpec:
    """One run: a design point, a replication, and the key it is stored under."""

    key: str
    point: int
    replication: int
    seed: int
    params: dict[str, Any]


@dataclass
class Override:
    """A value the sweep sets, with where it came from in the sweep file (for error messages)."""

    key: KeyPath
    value: Any
    where: str  # "axis KEY" or "set.KEY"


@dataclass
class Point:
    """A design point: parameter values and the modified files they produce."""

    index: int
    params: dict[str, Any]
    overrides: list[Override]
    scenario: dict[str, Any]
    files: dict[str, tuple[Path, dict[str, Any]]] = field(default_factory=dict)  # kind → (original, data)
    inputs: list[str] = field(default_factory=list)  # hashes of referenced files not modified

    @property
    def seed(self) -> int:
        seed = self.scenario["run"]["seed"]
        return int(seed["value"] if is_wrapped_figure(seed) else seed)

    def run_key(self, replication: int) -> str:
        payload = {
            "texts": {"scenario": dumps(self.scenario)}
            | {k: dumps(d) for k, (_, d) in sorted(self.files.items())},
            "inputs": self.inputs,
            "seed": self.seed,
            "replication": replication,
            "version": __version__,
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:KEY_LENGTH]


class Plan:
    """Every run of a sweep, and how to turn a design point into a validated :class:`Scenario`."""

    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep
        self._hashes: dict[Path, str] = {}
        self._raw: dict[Path, dict[str, Any]] = {}
        self.base = self._read(sweep.scenario_path)
        self.points = [self._point(i, params) for i, params in enumerate(sweep.points())]
        self.runs = [
            RunSpec(p.run_key(r), p.index, r, p.seed, p.params)
            for p in self.points
            for r in range(sweep.meta.replications)
        ]

    def _read(self, path: Path) -> dict[str, Any]:
        if path not in self._raw:
            self._raw[path] = read_toml(path)
        return copy.deepcopy(self._raw[path])

    def _hash(self, path: Path) -> str:
        if path not in self._hashes:
            self._hashes[path] = file_sha256(path) if path.is_file() else f"missing:{path}"
        return self._hashes[path]

    def _fail(self, ov: Override, problem: str) -> ScenarioError:
        return ScenarioError(self.sweep.path, ov.where, problem)

    def _referenced(self, scenario: dict[str, Any], kind: str, ov: Override | None = None) -> Path:
        name = scenario.get("population", {}).get(FILE_REFS[kind], "")
        try:
            key = f"population.{FILE_REFS[kind]}"
            return resolve_input(str(name), FILE_FOLDERS[kind], self.sweep.scenario_path, key)
        except ScenarioError as exc:
            if ov is None:
                raise
            raise self._fail(ov, f"value {ov.value!r}: {exc.key}: {exc.problem}") from None

    def _point(self, index: int, params: dict[str, Any]) -> Point:
        sweep = self.sweep
        overrides = [Override(k, v, f"set.{k.text}") for k, v in sweep.fixed]
        overrides += [Override(a.key, params[a.name], f"axis {a.key.text}") for a in sweep.axes]
        point = Point(index, params, overrides, copy.deepcopy(self.base))
        # scenario keys first: they may change which region, margins or ability file is used
        for ov in sorted(overrides, key=lambda o: o.key.file != "scenario"):
            label = f"set by sweep {sweep.name}, {ov.where}"
            if ov.key.file == "scenario":
                data, shown = point.scenario, display_path(sweep.scenario_path)
            else:
                if ov.key.file not in point.files:
                    original = self._referenced(point.scenario, ov.key.file, ov)
                    point.files[ov.key.file] = (original, self._read(original))
                original, data = point.files[ov.key.file]
                shown = display_path(original)
            try:
                set_value(data, ov.key, ov.value, label)
            except ValueError as exc:
                raise self._fail(ov, f"{exc} (in {shown})") from None
        point.inputs = self._input_hashes(point)
        return point

    def _input_hashes(self, point: Point) -> list[str]:
        """Hashes of the unmodified files a point refers to, the life table included."""
        hashes = []
        ability: tuple[Path, dict[str, Any]] | None = None
        for kind in FILE_REFS:
            try:
                original = self._referenced(point.scenario, kind)
            except ScenarioError:
                hashes.append(f"unresolved:{kind}")  # the point fails validation and never runs
                continue
            if kind in point.files:
                data = point.files[kind][1]
            else:
                hashes.append(self._hash(original))
                data = self._read(original) if kind == "ability" and original.is_file() else {}
            if kind == "ability":
                ability = (original, data)
        if ability is not None:
            table = ability[1].get("mortality", {}).get("life_table")
            if isinstance(table, str):
                hashes.append(self._hash((ability[0].parent / table).resolve()))
        hashes += self._geography_hashes(point.scenario)
        return hashes

    def _geography_hashes(self, scenario: dict[str, Any]) -> list[str]:
        """Hashes of the geography file and the communities, facilities and candidates tables it
        names: a resume must not reuse a result computed with other facilities."""
        ref = scenario.get("geography")
        if not isinstance(ref, dict) or not isinstance(ref.get("communities"), str):
            return []
        from agingsim.geo.geography import geography_folder

        name = ref["communities"]
        if name.endswith(".toml") or "/" in name:
            path = (self.sweep.scenario_path.parent / name).resolve()
        else:
            path = geography_folder() / f"{name}.toml"
        hashes = [self._hash(path)]
        if path.is_file():
            try:
                spec = self._read(path)
            except ScenarioError:
                return [*hashes, f"unreadable:{path}"]
            for key in ("communities", "facilities", "candidates"):
                table = spec.get(key)
                if isinstance(table, str):
                    hashes.append(self._hash((path.parent / table).resolve()))
        return hashes

    def load(self, point: Point) -> Scenario:
        """The point's scenario, validated by the project's loader; errors name the sweep and axis.

        The changed files are read in place of the originals (:func:`overlaid`), so relative
        references resolve as in the originals and nothing is written beside the inputs."""
        base_path = self.sweep.scenario_path
        changed = {"scenario": base_path} | {k: p for k, (p, _) in point.files.items()}
        overlay = {base_path: point.scenario} | {p: d for p, d in point.files.values()}
        try:
            with overlaid(overlay):
                loaded = load_scenario(base_path)
        except ScenarioError as exc:
            raise self._explain(point, exc, changed) from None
        # name the modified files after their originals in the run's provenance (assumptions.csv)
        names = {
            display_path(p): f"{display_path(p)} (as set by sweep {self.sweep.name})"
            for p in changed.values()
        }
        figures = [replace(f, file=names.get(f.file, f.file)) for f in loaded.figures]
        inputs = {names.get(k, k): v for k, v in loaded.inputs.items()}
        return replace(loaded, path=base_path, figures=figures, inputs=inputs)

    def _explain(self, point: Point, exc: ScenarioError, changed: dict[str, Path]) -> ScenarioError:
        originals: dict[str, tuple[str, str]] = {}
        for kind, p in changed.items():
            for form in (str(p), str(Path(p).resolve())):
                originals[form] = (kind, display_path(p))
        errors = exc.errors if isinstance(exc, ScenarioErrors) else [exc]
        out = []
        for e in errors:
            kind, shown = originals.get(e.path, (None, e.path))
            if kind is None:
                out.append(e)
                continue
            blamed = [ov for ov in point.overrides if ov.key.file == kind and ov.key.matches(e.key)]
            if blamed:
                out += [
                    self._fail(ov, f"value {ov.value!r} makes {shown} invalid: {e.key}: {e.problem}")
                    for ov in blamed
                ]
            elif point.overrides:
                where = f"point {point.index} {json.dumps(point.params, ensure_ascii=False)}"
                out.append(ScenarioError(self.sweep.path, where, f"{shown}: {e.key}: {e.problem}"))
            else:
                out.append(ScenarioError(shown, e.key, e.problem))
        return ScenarioErrors(out)


def remove_orphan_copies(folders: list[Path], age_s: float = 3600) -> list[Path]:
    """Remove ``.NAME.sweep-*.toml`` copies that sweeps of earlier versions wrote beside their
    inputs and left when killed (sweeps no longer write beside inputs)."""
    import time

    removed = []
    for folder in dict.fromkeys(folders):
        for stale in folder.glob(".*.sweep-*.toml"):
            try:
                if time.time() - stale.stat().st_mtime > age_s:
                    stale.unlink()
                    removed.append(stale)
            except OSError:
                continue
    return removed
