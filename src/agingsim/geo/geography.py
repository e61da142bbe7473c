"""A region's geography: communities (社区/村) with elders, facilities, and candidate sites.

A geography is described by a small TOML file (``calibration/geo/<name>.toml``, schema.py) that names
up to three tables the user supplies as CSV or GeoJSON points (communities, facilities, candidates:
their columns and checks are in tables.py). This module reads the descriptor and its tables into one
:class:`Geography` on a common km plane.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agingsim.errors import ScenarioError
from agingsim.geo.schema import CostRule, GeographyFile, SpaceStandardsFile, TargetsFile
from agingsim.geo.tables import (
    empty_candidates,
    empty_facilities,
    read_candidates,
    read_communities,
    read_facilities,
)
from agingsim.scenario.files import confine, load_labelled, load_labelled_plain, project_root, resolve_input
from agingsim.scenario.schema import RegionFile


@dataclass(frozen=True)
class WalkParams:
    """Walking assumptions turning minutes into a straight-line reach in km."""

    minutes: float
    speed_kmh: float
    detour_factor: float

    @property
    def walk_km(self) -> float:
        """Distance walked along streets in ``minutes``."""
        return self.speed_kmh * self.minutes / 60.0

    @property
    def radius_km(self) -> float:
        """Straight-line reach: a place this far as the crow flies is ``minutes`` away on foot."""
        return self.walk_km / self.detour_factor


@dataclass(frozen=True)
class Geography:
    """Communities, facilities and candidate sites of one region, on a common km plane."""

    name: str
    communities: pd.DataFrame
    facilities: pd.DataFrame
    candidates: pd.DataFrame
    walk: WalkParams
    counties: tuple[str, ...]
    synthetic: bool = False
    name_en: str = ""
    costs: dict[str, CostRule] = field(default_factory=dict)
    standards: SpaceStandardsFile | None = None
    targets: TargetsFile | None = None
    path: Path | None = None
    #: every file read, for the run record (path → file)
    files: tuple[Path, ...] = ()

    def with_walk(
        self, minutes: float | None = None, speed_kmh: float | None = None, detour_factor: float | None = None
    ) -> Geography:
        """A copy with walking assumptions overridden (a scenario's [geography], CLI flags)."""
        w = self.walk
        return replace(
            self,
            walk=WalkParams(
                minutes if minutes is not None else w.minutes,
                speed_kmh if speed_kmh is not None else w.speed_kmh,
                detour_factor if detour_factor is not None else w.detour_factor,
            ),
        )

    def community_xy(self) -> np.ndarray:
        return self.communities[["x_km", "y_km"]].to_numpy(float)


# --------------------------------------------------------------------------- the descriptor file


def geography_folder() -> Path:
    return project_root() / "calibration" / "geo"


def resolve_geography(name: str | Path) -> Path:
    """A name in calibration/geo (``guiyang_synthetic``) or a path to a geography TOML."""
    text = str(name)
    if text.endswith(".toml") or "/" in text:
        return Path(text)
    path = geography_folder() / f"{text}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in geography_folder().glob("*.toml"))
        raise ScenarioError(path, "", f"unknown geography '{text}'; known: {', '.join(known) or '(none)'}")
    return path


def read_geography_file(path: Path) -> tuple[GeographyFile, dict[str, Any], Any]:
    """The descriptor validated, with its provenance labels and plain data (every figure labelled)."""
    return load_labelled_plain(Path(path), GeographyFile)


def load_geography(path: str | Path, counties: tuple[str, ...] | None = None) -> Geography:
    """Read a geography TOML and the tables it names; raise :class:`ScenarioError` naming file and row.

    ``counties`` (the scenario region's county ids) restricts the ``county`` column; without it the
    counties are those of the region the file names, or else those found in the communities table.
    """
    path = resolve_geography(path)
    spec, _labels, _plain = read_geography_file(path)
    if counties is None and spec.region:
        region, _ = load_labelled(resolve_input(spec.region, "regions", path, "region"), RegionFile)
        counties = tuple(c.id for c in region.counties)

    base = path.parent
    comm_path = confine(base / spec.communities, path, "communities")
    communities, proj = read_communities(comm_path, counties)
    files = [path, comm_path]
    facilities, candidates = empty_facilities(), empty_candidates()
    if spec.facilities:
        files.append(confine(base / spec.facilities, path, "facilities"))
        facilities = read_facilities(files[-1], proj, communities, counties)
    if spec.candidates:
        files.append(confine(base / spec.candidates, path, "candidates"))
        candidates = read_candidates(files[-1], proj, spec.costs, counties)
    if counties is None:
        counties = tuple(dict.fromkeys(communities["county"]))
    return Geography(
        name=spec.name,
        name_en=spec.name_en,
        synthetic=spec.synthetic,
        communities=communities,
        facilities=facilities,
        candidates=candidates,
        walk=WalkParams(spec.walk.minutes, spec.walk.speed_kmh, spec.walk.detour_factor),
        counties=tuple(counties),
        costs=dict(spec.costs),
        standards=spec.space_standards,
        targets=spec.targets,
        path=path,
        files=tuple(files),
    )


def load_scenario_geography(ref: Any, scenario_path: Path, region: Any) -> tuple[Geography, list[tuple]]:
    """The geography of a scenario's ``[geography]`` section (``ref``: schema.GeographyRef), its
    counties restricted to the scenario region's and its walk overridden by the section.

    Returns the geography and ``[(path, labels, plain)]`` of the geography file for the scenario's
    provenance table.
    """
    name = ref.communities
    if name.endswith(".toml") or "/" in name:
        path = confine(scenario_path.parent / name, scenario_path, "geography.communities")
        if not path.is_file():
            raise ScenarioError(scenario_path, "geography.communities", f"file not found: {name}")
    else:
        path = geography_folder() / f"{name}.toml"
        if not path.is_file():
            known = sorted(p.stem for p in geography_folder().glob("*.toml"))
            raise ScenarioError(
                scenario_path,
                "geography.communities",
                f"unknown geography '{name}'; known: {', '.join(known) or '(none)'}",
            )
    spec, labels, plain = read_geography_file(path)
    if spec.region and spec.region != region.id:
        raise ScenarioError(
            scenario_path,
            "geography.communities",
            f"{path.name} is a geography of region '{spec.region}', not of this scenario's '{region.id}'",
        )
    geography = load_geography(path, tuple(c.id for c in region.counties))
    geography = geography.with_walk(ref.minutes, ref.walk_speed_kmh, ref.detour_factor)
    return geography, [(path, labels, plain)]
