"""The mapping of GB/T levels onto the census 2020 self-care category (生活不能自理), set by the fit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agingsim.calibration.fitted_file import _comment, _figure
from agingsim.calibration.stationary import Implied
from agingsim.calibration.targets import published, read_data, short_source
from agingsim.errors import AgingsimError
from agingsim.population.attributes import ABILITY_LEVELS
from agingsim.scenario.loader import Scenario
from agingsim.scenario.provenance import Provenance

CENSUS_MAPPING_PATH = Path("calibration") / "mappings" / "census2020_selfcare.toml"
#: The level whose reporting share is estimated; the others are fixed by the assumptions below.
CENSUS_FITTED_LEVEL = "severe"
#: Share of each GB/T level reporting "cannot care for self" (生活不能自理) that is fixed a priori.
CENSUS_FIXED: dict[str, tuple[float, str]] = {
    "intact": (
        0.0,
        "能力完好: no limitation in daily activities, so no report of being unable to care for oneself",
    ),
    "mild": (
        0.0,
        "轻度失能: in the margins' mapping an IADL-level limitation with no ADL impairment; such people "
        "care for themselves (census 'unhealthy but able to care for self' at most)",
    ),
    "moderate": (
        0.0,
        "中度失能: in the margins' mapping the lightest CLHLS ADL grade; difficulty with some basic "
        "activities but not dependence, so counted as able to care for self",
    ),
    "complete": (
        1.0,
        "完全失能: in the margins' mapping the most severe CLHLS ADL grade, dependent in basic activities "
        "of daily living, so unable to care for oneself by definition",
    ),
}
#: Tolerance of the census condition: the model's 60+ share within this many percentage points.
CENSUS_TOLERANCE_PP = 0.25
#: Tolerance of the life-table condition (issue 9): e60 by sex within this many years.
E60_TOLERANCE = 0.5


@dataclass(frozen=True)
class CensusMapping:
    """P(reports "cannot care for self" in the 2020 census | GB/T level), with each share's label."""

    share: dict[str, float]
    labels: dict[str, Provenance]
    path: Path | None = None

    def vector(self) -> np.ndarray:
        return np.array([self.share[level] for level in ABILITY_LEVELS])

    def of(self, prevalence: np.ndarray) -> np.ndarray:
        """Census-category prevalence from GB/T level prevalence (last axis = levels)."""
        return np.asarray(prevalence) @ self.vector()


def census_counts(scenario: Scenario) -> dict[tuple[int, int | None], tuple[float, float]]:
    """The margins' population by age band and sex (census 2020 in the bundled margins)."""
    out: dict[tuple[int, int | None], tuple[float, float]] = {}
    for row in scenario.margins.age_sex:
        if row.age.endswith("+"):
            lo, hi = int(row.age[:-1]), None
        elif "-" in row.age:
            a, b = row.age.split("-")
            lo, hi = int(a), int(b) + 1
        else:
            lo, hi = int(row.age), int(row.age) + 1
        out[(lo, hi)] = (float(row.M), float(row.F))
    return out


def census_selfcare() -> tuple[float, str]:
    """The census 2020 share of people 60+ who cannot care for themselves (0-1), and its source."""
    census = read_data("census2020_health_status_60plus.csv")
    return published(census, age_band="60+", sex="all", residence="all", status="cannot_selfcare")


def fit_census_mapping(imp: Implied, scenario: Scenario, date: dt.date | None = None) -> CensusMapping:
    """The reporting share of :data:`CENSUS_FITTED_LEVEL` that makes the model's 60+ (stationary
    population, census-weighted bands) match the census share; the other levels' shares are fixed.

    One figure sets one share, so this is a fit, not a validation; what it buys is an explicit,
    checkable link between GB/T levels and the census category (clipped to [0, 1] if it cannot match).
    """
    from agingsim.calibration.stationary import census_weighted_share

    date = date or dt.date.today()
    counts = census_counts(scenario)
    target, src = census_selfcare()
    fixed = sum(v * census_weighted_share(imp, [lv], counts) for lv, (v, _) in CENSUS_FIXED.items())
    level_share = census_weighted_share(imp, [CENSUS_FITTED_LEVEL], counts)
    s = float(np.clip((target - fixed) / level_share, 0.0, 1.0))
    share = {lv: v for lv, (v, _) in CENSUS_FIXED.items()} | {CENSUS_FITTED_LEVEL: s}
    labels = {lv: Provenance("assumption", text) for lv, (_, text) in CENSUS_FIXED.items()}
    labels[CENSUS_FITTED_LEVEL] = Provenance(
        "source",
        f"fitted by agingsim calibrate ({date.isoformat()}): the share of GB/T {CENSUS_FITTED_LEVEL} "
        "that makes the fitted model's people 60+ (stationary population, bands weighted by the "
        f"margins' census 2020 counts) report 'cannot care for self' at the census's {100 * target:.2f}% "
        f"({short_source(src, 140)}; calibration/data/census2020_health_status_60plus.csv)",
    )
    return CensusMapping({lv: share[lv] for lv in ABILITY_LEVELS}, labels)


def census_mapping_toml(mapping: CensusMapping, command: str, model: str) -> str:
    lines = [
        "# Mapping of GB/T 42195 ability levels onto the 2020 census self-care category 生活不能自理",
        "# ('cannot care for self'). Do not edit by hand: regenerate with",
        "#",
        f"#   {command}",
        "#",
        *_comment(
            f"Written with {model}. Each share is P(a person at that level reports 'cannot care for self' "
            "in the census long form). The census asks people to rate themselves; GB/T levels come from an "
            "assessment (here: CLHLS ADL grades mapped in the margins), so the two do not coincide: the "
            f"shares of the other levels are assumptions, and the {CENSUS_FITTED_LEVEL} share is set from "
            "the one published census figure (60+; the table by age band was not found, "
            "calibration/data/README.md). Used by `agingsim validate-model` for the census condition."
        ),
        "",
        "[cannot_care_for_self]",
    ]
    lines += [f"{lv} = {_figure(mapping.share[lv], mapping.labels[lv])}" for lv in ABILITY_LEVELS]
    return "\n".join(lines) + "\n"


def load_census_mapping(path: Path) -> CensusMapping:
    """Read a mapping written by :func:`census_mapping_toml`; AgingsimError naming what is wrong."""
    from agingsim.scenario.files import read_toml
    from agingsim.scenario.provenance import strip_provenance

    if not path.is_file():
        raise AgingsimError(f"{path}: census mapping not found; regenerate it with `agingsim calibrate`")
    plain, labels, missing = strip_provenance(read_toml(path))
    table = plain.get("cannot_care_for_self") if isinstance(plain, dict) else None
    if missing or not isinstance(table, dict) or set(table) != set(ABILITY_LEVELS):
        raise AgingsimError(
            f"{path}: cannot_care_for_self: needs a labelled share for each of {', '.join(ABILITY_LEVELS)}"
        )
    bad = [lv for lv, v in table.items() if not (isinstance(v, int | float) and 0 <= v <= 1)]
    if bad:
        raise AgingsimError(f"{path}: cannot_care_for_self.{bad[0]}: must be a share between 0 and 1")
    return CensusMapping(
        {lv: float(table[lv]) for lv in ABILITY_LEVELS},
        {lv: labels[f"cannot_care_for_self.{lv}"] for lv in ABILITY_LEVELS},
        path,
    )
