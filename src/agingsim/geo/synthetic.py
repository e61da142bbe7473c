"""A synthetic city of living circles (合成地理), for regions whose community table is not at hand.

**Synthetic: not a survey of any real place.** The generator spreads a region's elders (its 60+ count,
county shares and urban shares from calibration/regions/) over urban communities grouped in living
circles (生活圈) around each county seat, and over rural villages scattered around it, with plausible
densities; draws each community's ability levels from the 60+ shares; and sites a build plan of
centres and stations by a simple planner's rule, so that coverage and siting can be shown end to end.
Every parameter comes from the ``[synth]`` table of a geography file, each with a source or an
assumption label, and the same recipe and seed always give the same files.

Layout: living-circle centres ~ N(county seat, ``district_spread_km``²); communities uniform in a disc
of ``circle_radius_km`` around their circle's centre; villages uniform in a disc of
``village_spread_km`` around the seat. Elders are allocated by a multinomial draw on log-normal
community weights (sd ``size_sigma``), so county totals are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from agingsim.population.attributes import ABILITY_LEVELS

SYNTHETIC_SOURCE = "synthetic: agingsim geo synth {file} (seed {seed}); not a survey of real communities"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanSpec(_Strict):
    """Facilities to site and open: ``opens`` maps a year to how many of the type open then."""

    opens: dict[str, int]
    floor_m2: float = Field(ge=0)
    beds: float = Field(0.0, ge=0)


class SynthSpec(_Strict):
    """Recipe of a synthetic geography (the ``[synth]`` table of a geography file)."""

    seed: int = Field(ge=0)
    living_circles: int = Field(ge=1)
    communities_per_circle: list[int] = Field(min_length=2, max_length=2)
    circle_radius_km: float = Field(gt=0)
    district_spread_km: float = Field(gt=0)
    village_spread_km: float = Field(gt=0)
    elders_per_village: float = Field(gt=0)
    size_sigma: float = Field(ge=0)
    elder_share_of_residents: float = Field(gt=0, le=1)
    persons_per_household: float = Field(gt=0)
    new_estate_share: float = Field(ge=0, le=1)
    share_80plus: float = Field(ge=0, le=1)
    ability_shares: list[float] = Field(min_length=5, max_length=5)
    county_seats: dict[str, list[float]]
    plan: dict[str, PlanSpec] = Field(default_factory=dict)


@dataclass(frozen=True)
class CountyTotals:
    """Elders and urban share of one county (from the region file)."""

    id: str
    elders: float
    urban_share: float


def synthesize(
    spec: SynthSpec, counties: list[CountyTotals], source: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Communities, facilities (the build plan) and candidate sites of a synthetic city.

    ``source`` is written into every row's ``source`` column (the provenance test requires one).
    """
    rng = np.random.default_rng(spec.seed)
    missing = [c.id for c in counties if c.id not in spec.county_seats]
    if missing:
        raise ValueError(f"county_seats has no position for {', '.join(missing)}")
    urban = np.array([c.elders * c.urban_share for c in counties])
    rural = np.array([c.elders * (1 - c.urban_share) for c in counties])
    # living circles shared among counties by urban elders (largest remainder, at least one each)
    quota = spec.living_circles * urban / urban.sum()
    n_circles = np.floor(quota).astype(int)
    n_circles[np.argsort(quota - n_circles)[::-1][: spec.living_circles - n_circles.sum()]] += 1
    rows: list[pd.DataFrame] = []
    lo, hi = spec.communities_per_circle
    circle_no = 0
    for k, county in enumerate(counties):
        seat = np.asarray(spec.county_seats[county.id], float)
        # urban: living circles of communities
        centres = seat + rng.normal(0.0, spec.district_spread_km, size=(n_circles[k], 2))
        sizes = rng.integers(lo, hi + 1, size=n_circles[k])
        circle_of = np.repeat(np.arange(n_circles[k]), sizes)
        r = spec.circle_radius_km * np.sqrt(rng.random(len(circle_of)))
        a = rng.random(len(circle_of)) * 2 * np.pi
        xy_u = centres[circle_of] + np.column_stack([r * np.cos(a), r * np.sin(a)])
        circle_ids = np.array([f"lc{circle_no + i + 1:03d}" for i in range(n_circles[k])])
        circle_no += n_circles[k]
        # rural: villages around the seat
        n_v = max(round(float(rural[k]) / spec.elders_per_village), 1 if rural[k] > 0 else 0)
        r = spec.village_spread_km * np.sqrt(rng.random(n_v))
        a = rng.random(n_v) * 2 * np.pi
        xy_v = seat + np.column_stack([r * np.cos(a), r * np.sin(a)])
        for kind, xy, total, circles in (
            ("urban", xy_u, urban[k], circle_ids[circle_of]),
            ("rural", xy_v, rural[k], np.full(n_v, "", dtype=object)),
        ):
            if len(xy) == 0:
                continue
            weight = rng.lognormal(0.0, spec.size_sigma, size=len(xy))
            elders = rng.multinomial(round(float(total)), weight / weight.sum())
            rows.append(
                pd.DataFrame(
                    {
                        "county": county.id,
                        "type": kind,
                        "living_circle": circles,
                        "x_km": xy[:, 0],
                        "y_km": xy[:, 1],
                        "elders": elders,
                    }
                )
            )
    comm = pd.concat(rows, ignore_index=True)
    n = len(comm)
    comm.insert(0, "id", [f"c{i + 1:05d}" for i in range(n)])
    shares = np.asarray(spec.ability_shares, float)
    levels = np.vstack([rng.multinomial(e, shares / shares.sum()) for e in comm["elders"].to_numpy()])
    for j, level in enumerate(ABILITY_LEVELS):
        comm[level] = levels[:, j]
    comm["elders_80plus"] = rng.binomial(comm["elders"].to_numpy(), spec.share_80plus)
    comm["residents"] = np.round(comm["elders"] / spec.elder_share_of_residents).astype(int)
    comm["households"] = np.round(comm["residents"] / spec.persons_per_household).astype(int)
    new = rng.random(n) < spec.new_estate_share
    comm["estate"] = np.where(comm["type"] == "urban", np.where(new, "new", "existing"), "")
    comm["x_km"] = comm["x_km"].round(3)
    comm["y_km"] = comm["y_km"].round(3)
    comm["source"] = source
    facilities = _site_plan(spec, comm, rng, source)
    candidates = _candidates(spec, comm, source)
    return comm, facilities, candidates


def _site_plan(spec: SynthSpec, comm: pd.DataFrame, rng: np.random.Generator, source: str) -> pd.DataFrame:
    """A planner's rule of thumb, not an optimum: centres at the largest community of the most
    populous living circles; stations first at the largest community of every circle, then at the
    largest urban communities left. Opening years are shuffled over the plan's years."""
    urban = comm[comm["type"] == "urban"]
    by_circle = urban.groupby("living_circle")["elders"].sum().sort_values(ascending=False, kind="stable")
    largest = urban.sort_values("elders", ascending=False, kind="stable").drop_duplicates("living_circle")
    largest = largest.set_index("living_circle").loc[by_circle.index]
    rows = []
    taken: set[str] = set()
    for ftype, plan in spec.plan.items():
        total = sum(plan.opens.values())
        if ftype == "street_centre":
            hosts = list(largest["id"][:total])
        else:
            first = [c for c in largest["id"] if c not in taken]
            rest = [
                c for c in urban.sort_values("elders", ascending=False, kind="stable")["id"] if c not in taken
            ]
            hosts = list(dict.fromkeys(first + rest))[:total]
        taken |= set(hosts)
        years = np.repeat([int(y) for y in plan.opens], list(plan.opens.values()))[: len(hosts)]
        years = rng.permutation(years)
        host = comm.set_index("id").loc[hosts]
        prefix = "sc" if ftype == "street_centre" else "st"
        rows.append(
            pd.DataFrame(
                {
                    "id": [f"{prefix}{i + 1:03d}" for i in range(len(hosts))],
                    "type": ftype,
                    "county": host["county"].to_numpy(),
                    "community": hosts,
                    "x_km": host["x_km"].to_numpy(),
                    "y_km": host["y_km"].to_numpy(),
                    "beds": plan.beds,
                    "floor_m2": plan.floor_m2,
                    "opens": years,
                    "source": source,
                }
            )
        )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _candidates(spec: SynthSpec, comm: pd.DataFrame, source: str) -> pd.DataFrame:
    """Where a station could go: every community (社区(村)养老服务站); a centre: the largest community
    of every living circle (街道养老服务中心). Costs follow the geography file's [costs] rules."""
    urban = comm[comm["type"] == "urban"]
    largest = urban.sort_values("elders", ascending=False, kind="stable").drop_duplicates("living_circle")
    largest = largest.sort_values("id")
    stations = pd.DataFrame(
        {
            "id": "s_" + comm["id"],
            "type": "community_station",
            "county": comm["county"],
            "x_km": comm["x_km"],
            "y_km": comm["y_km"],
        }
    )
    centres = pd.DataFrame(
        {
            "id": "c_" + largest["id"],
            "type": "street_centre",
            "county": largest["county"],
            "x_km": largest["x_km"],
            "y_km": largest["y_km"],
        }
    )
    out = pd.concat([centres, stations], ignore_index=True)
    for ftype, plan in spec.plan.items():
        mask = out["type"] == ftype
        out.loc[mask, "floor_m2"] = plan.floor_m2
        out.loc[mask, "beds"] = plan.beds
    out["source"] = source
    return out
