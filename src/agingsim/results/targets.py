"""The targets scorecard (targets.csv): each quantitative target of the seeds, checked each year.

A scenario lists the targets its seed sets (``[[targets]]``, each with its clause). Each is measured
on the run by one of a few measure kinds the model can compute; a target whose measure the model
does not compute (``measure = "not_modelled"``) keeps its row with an empty model value and an empty
``met``, and its reason: the scorecard never invents a value.

* ``facility_count``: facilities of the build plan (``[[policy.facilities]]`` of the given types or
  ids) open in December of the year;
* ``nursing_bed_share``: nursing-type beds ÷ institutional beds (monthly means, capacity.csv);
  needs the behaviour model;
* ``coverage_share``: share of communities (of ``community_type`` if given) within the walk of a
  street centre or community station open in the year; needs a geography;
* ``floor_m2_per_resident``: community elderly-service floor area ÷ residents of the communities;
  needs a geography with residents;
* ``households_standard_share``: share of estates whose facility floor meets the m² per 100
  households of their kind (geo.coverage.space_standards); needs a geography with estates;
* ``served_share``: people served ÷ people entitled by a person-level scheme (groups.csv).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from agingsim.policy.dated import month_key
from agingsim.scenario.schema import Target
from agingsim.schemes.facility import compile_facilities

if TYPE_CHECKING:
    from agingsim.simulate import RunResult

#: the columns the report's scorecard reads (report.data.scorecard_rows); every targets.csv has them
SCORECARD_COLUMNS = (
    "target_id",
    "target",
    "target_en",
    "clause",
    "year",
    "required",
    "model_value",
    "unit",
    "met",
)
#: targets.csv's columns: the scorecard's, then when the target falls due and a note (e.g. not modelled)
TARGET_COLUMNS = [*SCORECARD_COLUMNS, "unit_en", "due", "note"]
#: a measured value within this of the requirement meets it (floating-point sums of shares)
TOLERANCE = 1e-9


def _facility_count(result: RunResult, target: Target, years: list[int]) -> tuple[list[float], str]:
    sc = result.scenario
    policy = sc.file.policy
    if policy is None or not policy.facilities:
        return [math.nan] * len(years), "the scenario has no build plan"
    shares = np.array([c.share_60plus for c in sc.region.counties])
    plans, _ = compile_facilities(policy, [c.id for c in sc.region.counties], shares, sc.path)
    chosen = [p for p in plans.values() if p.spec.id in target.plans or p.spec.type in target.facility_types]
    values = [float(sum(p.stock(month_key(y, 12)) for p in chosen)) for y in years]
    return values, f"plans: {', '.join(p.spec.id for p in chosen) or 'none'}"


def _nursing_bed_share(result: RunResult, target: Target, years: list[int]) -> tuple[list[float], str]:
    cap = result.capacity
    if cap.empty:
        return [math.nan] * len(years), "needs the behaviour model (beds by type)"
    by_year = cap.groupby("year")[["beds", "nursing_beds"]].sum()
    values = []
    for y in years:
        if y in by_year.index and by_year.loc[y, "beds"] > 0:
            values.append(float(by_year.loc[y, "nursing_beds"] / by_year.loc[y, "beds"]))
        else:
            values.append(math.nan)
    return values, "capacity.csv: nursing_beds / beds"


def _geography_measure(result: RunResult, target: Target, years: list[int]) -> tuple[list[float], str]:
    geo = result.scenario.geography
    if geo is None:
        return [math.nan] * len(years), "needs a geography ([geography] in the scenario)"
    from agingsim.geo.coverage import coverage_by_community, space_standards

    values = []
    for y in years:
        if target.measure == "coverage_share":
            by = coverage_by_community(geo, y)
            if target.community_type is not None:
                by = by[by["type"] == target.community_type]
            values.append(float(by["within_any"].astype(bool).mean()) if len(by) else math.nan)
        elif target.measure == "households_standard_share":
            meets = space_standards(geo, y)["meets_per_households"].to_numpy(float)
            checked = meets[np.isfinite(meets)]
            values.append(float(checked.mean()) if checked.size else math.nan)
        else:
            space = space_standards(geo, y)
            residents = float(space["residents"].sum())
            values.append(float(space["floor_m2"].sum()) / residents if residents > 0 else math.nan)
    note = {
        "coverage_share": f"communities{' (' + target.community_type + ')' if target.community_type else ''} "
        "within the walk of a centre or station",
        "households_standard_share": "estates (communities with an estate type) whose facility floor meets "
        "the m² per 100 households of their kind (new 20 with ≥ 350 in all, existing 15)",
        "floor_m2_per_resident": "floor area of open facilities ÷ residents of the geography's communities",
    }[target.measure]
    return values, note


def _served_share(result: RunResult, target: Target, years: list[int]) -> tuple[list[float], str]:
    served = result.groups_served
    if served.empty:
        return [math.nan] * len(years), "no person-level payments recorded"
    mine = served[served["scheme"] == target.scheme].groupby("year")[["eligible", "served"]].sum()
    values = [
        float(mine.loc[y, "served"] / mine.loc[y, "eligible"])
        if y in mine.index and mine.loc[y, "eligible"] > 0
        else math.nan
        for y in years
    ]
    return values, f"groups.csv: served / eligible of {target.scheme}"


MEASURES = {
    "facility_count": _facility_count,
    "nursing_bed_share": _nursing_bed_share,
    "coverage_share": _geography_measure,
    "floor_m2_per_resident": _geography_measure,
    "households_standard_share": _geography_measure,
    "served_share": _served_share,
}


def is_met(value: float, target: Target) -> bool | None:
    """Whether ``value`` meets the target; None when there is no value (not modelled)."""
    if target.required is None or not math.isfinite(value):
        return None
    if target.compare == ">=":
        return bool(value >= target.required - TOLERANCE)
    return bool(value <= target.required + TOLERANCE)


def targets_frame(result: RunResult) -> pd.DataFrame:
    """targets.csv: one row per target and simulated year."""
    run = result.scenario.run
    years = list(range(run.start_year, run.start_year + run.years))
    rows = []
    for target in result.scenario.file.targets:
        if target.measure == "not_modelled":
            values, note = [math.nan] * len(years), f"not modelled: {target.reason}"
        else:
            values, note = MEASURES[target.measure](result, target, years)
            if not any(math.isfinite(v) for v in values):
                note = f"not modelled: {note}"
        for year, value in zip(years, values, strict=True):
            met = is_met(value, target)
            rows.append(
                {
                    "target_id": target.id,
                    "target": target.target,
                    "target_en": target.target_en,
                    "clause": target.clause,
                    "year": year,
                    "required": target.required,
                    "model_value": value if math.isfinite(value) else None,
                    "unit": target.unit,
                    "unit_en": target.unit_en,
                    "met": "" if met is None else str(met).lower(),
                    "due": "" if target.by is None else str(year >= target.by).lower(),
                    "note": note,
                }
            )
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)
