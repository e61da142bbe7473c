"""Published disability measures as the model sees them: ``calibration/mappings/disability_measures.toml``.

Every survey defines disability its own way (CLHLS ADL grades, the 2015 survey's 失能半失能, the
census's self-rated 生活不能自理, NHSA's unstated definition). The table maps each onto the model's
GB/T 42195 levels once, with a source or assumption per row, so the fit and the report cannot disagree
about what a published figure is compared with.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from agingsim.errors import AgingsimError
from agingsim.population.attributes import ABILITY_LEVELS
from agingsim.scenario.files import project_root, read_toml
from agingsim.scenario.provenance import Provenance

MEASURES_PATH = Path("calibration") / "mappings" / "disability_measures.toml"


@dataclass(frozen=True)
class Measure:
    """One published measure: the model levels it counts (a prevalence) or moves between (a rate)."""

    id: str
    name: str
    levels: tuple[str, ...] = ()
    from_: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    weights: str = ""  # a mapping file with a reporting share per level (census)
    data: str = ""
    label: Provenance | None = None

    @property
    def is_rate(self) -> bool:
        return bool(self.from_)

    def columns(self) -> list[int]:
        return [ABILITY_LEVELS.index(x) for x in self.levels]

    def of(self, prevalence: np.ndarray) -> np.ndarray:
        """Share in this measure from level prevalence (last axis = the five levels)."""
        if self.is_rate or self.weights:
            raise AgingsimError(f"{MEASURES_PATH}: {self.id}: not a prevalence over levels")
        return np.asarray(prevalence)[..., self.columns()].sum(axis=-1)


def _levels(path: Path, i: int, row: dict, key: str) -> tuple[str, ...]:
    value = row.get(key, [])
    if not isinstance(value, list) or any(v not in ABILITY_LEVELS for v in value):
        raise AgingsimError(f"{path}: measure[{i}].{key}: must be a list of {', '.join(ABILITY_LEVELS)}")
    return tuple(value)


@cache
def load_measures(path: Path | None = None) -> dict[str, Measure]:
    """The table by id; AgingsimError naming the row that is wrong."""
    path = path or project_root() / MEASURES_PATH
    if not path.is_file():
        raise AgingsimError(f"{path}: disability measures table not found")
    rows = read_toml(path).get("measure")
    if not isinstance(rows, list) or not rows:
        raise AgingsimError(f"{path}: measure: needs [[measure]] rows")
    out: dict[str, Measure] = {}
    for i, row in enumerate(rows):
        mid = row.get("id")
        if not isinstance(mid, str) or not mid or mid in out:
            raise AgingsimError(f"{path}: measure[{i}].id: needs a unique id")
        kinds = [k for k in ("source", "assumption") if isinstance(row.get(k), str) and row[k].strip()]
        if len(kinds) != 1:
            raise AgingsimError(f"{path}: measure[{i}] ({mid}): needs one source or assumption")
        m = Measure(
            id=mid,
            name=str(row.get("name", mid)),
            levels=_levels(path, i, row, "levels"),
            from_=_levels(path, i, row, "from"),
            to=_levels(path, i, row, "to"),
            weights=str(row.get("weights", "")),
            data=str(row.get("data", "")),
            label=Provenance(kinds[0], row[kinds[0]].strip()),  # type: ignore[arg-type]
        )
        if bool(m.from_) != bool(m.to):
            raise AgingsimError(f"{path}: measure[{i}] ({mid}): a rate needs both from and to")
        out[mid] = m
    return out


def measure(mid: str) -> Measure:
    """One measure of the bundled table by id."""
    table = load_measures()
    if mid not in table:
        raise AgingsimError(f"{MEASURES_PATH}: no measure '{mid}'")
    return table[mid]


def levels_of(mid: str) -> list[str]:
    """The model levels a prevalence measure counts."""
    return list(measure(mid).levels)
