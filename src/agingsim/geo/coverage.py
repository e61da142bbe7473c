"""15-minute walking coverage (15分钟养老服务圈) and the space standards of seeds 002/003.

A community is *covered* by a facility when the walk between them takes at most ``minutes``: the
straight-line distance × detour factor ≤ speed × minutes. Elders are counted at their community's
point (the community is the unit the seeds plan in: 002-二(二)-1 "合理布局140个城市生活圈内…").
Nearest facilities come from :class:`scipy.spatial.cKDTree`, so a city of thousands of communities
takes milliseconds per year.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from agingsim.geo.geography import Geography
from agingsim.geo.tables import CIRCLE_TYPES

#: Clause ids of the space standards (docs/seed_clauses.md).
CLAUSE_PER_RESIDENT = "002-三(一)-1; 003-10-1"
CLAUSE_NEW_ESTATE = "002-三(一)-2"
CLAUSE_EXISTING_ESTATE = "002-三(一)-4"


def open_facilities(
    geography: Geography, year: int | None = None, types: Sequence[str] = CIRCLE_TYPES
) -> pd.DataFrame:
    """Facilities of ``types`` open in ``year`` (``opens`` ≤ year; no ``opens`` = open throughout).

    ``year=None`` takes every facility in the file, planned or not.
    """
    f = geography.facilities
    mask = f["type"].isin(list(types)).to_numpy()
    if year is not None:
        opens = f["opens"].to_numpy(float)
        mask = mask & ~(opens > year)  # NaN (no year) counts as open
    return f[mask]


def nearest_walk_km(
    points: np.ndarray, sites: np.ndarray, detour_factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance (km) from each point to its nearest site and that site's index.

    With no sites the distance is +inf and the index -1.
    """
    n = len(points)
    if len(sites) == 0:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    dist, idx = cKDTree(sites).query(points, k=1)
    return np.asarray(dist, float) * detour_factor, np.asarray(idx, np.int64)


def nearest_facility(
    geography: Geography, year: int | None = None, types: Sequence[str] = CIRCLE_TYPES
) -> pd.DataFrame:
    """Per community, the nearest open facility, the walk to it and whether it is within the circle.

    Columns: ``id, county, nearest_facility, nearest_type, walk_km, walk_minutes, within``. This is the
    distance the elders' choice model uses (issue 8 item 4); ``walk_km`` is inf where nothing is open.
    """
    c = geography.communities
    f = open_facilities(geography, year, types)
    walk = geography.walk
    dist, idx = nearest_walk_km(
        geography.community_xy(), f[["x_km", "y_km"]].to_numpy(float), walk.detour_factor
    )
    found = idx >= 0
    fid = np.where(found, f["id"].to_numpy(object)[np.maximum(idx, 0)] if len(f) else "", "")
    ftype = np.where(found, f["type"].to_numpy(object)[np.maximum(idx, 0)] if len(f) else "", "")
    return pd.DataFrame(
        {
            "id": c["id"].to_numpy(),
            "county": c["county"].to_numpy(),
            "nearest_facility": fid,
            "nearest_type": ftype,
            "walk_km": dist,
            "walk_minutes": dist / walk.speed_kmh * 60.0,
            "within": dist <= walk.walk_km + 1e-9,
        }
    )


def _weighted_share(
    values: np.ndarray, weights: np.ndarray, groups: np.ndarray, keys: Sequence[str]
) -> np.ndarray:
    """Σ weight × value / Σ weight per group (NaN for a group with no weight)."""
    num = pd.Series(values * weights).groupby(groups).sum().reindex(keys).to_numpy(float)
    den = pd.Series(weights).groupby(groups).sum().reindex(keys).to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def county_access(geography: Geography, years: Iterable[int]) -> pd.DataFrame:
    """Access to the 15-minute service circle by county and year, for the behaviour model.

    Returns one row per ``(year, county)`` for every county of the geography (the scenario region's
    county ids, in the region's order), with columns

    * ``share_within_15min``: share of elders whose community is within the walk (``geography.walk``,
      15 minutes by default) of a street centre or community station open in that year;
    * ``share_need_within_15min``: the same for elders needing care (moderate, severe or complete loss
      of ability); NaN where the communities table gives no ability levels or a county has none;
    * ``mean_distance_km``: elder-weighted mean walking distance (straight line × detour factor) to
      the nearest open centre or station; NaN when nothing is open in the year.

    A facility counts as open in ``year`` when its ``opens`` year is ≤ ``year`` (or it has none). A
    county with no communities in the table gets NaN throughout.
    """
    c = geography.communities
    keys = list(geography.counties)
    county = c["county"].to_numpy(object)
    elders = c["elders"].to_numpy(float)
    need = c["elders_need"].to_numpy(float)
    frames = []
    cache: dict[tuple[str, ...], pd.DataFrame] = {}
    for year in years:
        f = open_facilities(geography, int(year))
        key = tuple(f["id"])
        if key not in cache:  # a build plan changes a few times; most years repeat the last set
            near = nearest_facility(geography, int(year))
            within = near["within"].to_numpy(float)
            dist = near["walk_km"].to_numpy(float)
            mean_dist = (
                _weighted_share(dist, elders, county, keys)
                if np.isfinite(dist).all()
                else np.full(len(keys), np.nan)
            )
            cache[key] = pd.DataFrame(
                {
                    "county": keys,
                    "share_within_15min": _weighted_share(within, elders, county, keys),
                    "share_need_within_15min": (
                        _weighted_share(within, np.nan_to_num(need), county, keys)
                        if np.isfinite(need).all()
                        else np.full(len(keys), np.nan)
                    ),
                    "mean_distance_km": mean_dist,
                }
            )
        frames.append(cache[key].assign(year=int(year)))
    columns = ["year", "county", "share_within_15min", "share_need_within_15min", "mean_distance_km"]
    if not frames:
        return pd.DataFrame({k: pd.Series(dtype=float if k != "county" else object) for k in columns})
    return pd.concat(frames, ignore_index=True)[columns]


def coverage_by_community(geography: Geography, year: int | None = None) -> pd.DataFrame:
    """Per community: elders, elders in need, walk to the nearest centre, station and either, and
    whether each is within the circle (``within_street_centre``, ``within_community_station``,
    ``within_any``)."""
    c = geography.communities
    out = c[["id", "name", "county", "type", "x_km", "y_km", "elders", "elders_need"]].copy()
    for types, tag in (((t,), t) for t in CIRCLE_TYPES):
        near = nearest_facility(geography, year, types)
        out[f"walk_km_{tag}"] = near["walk_km"].to_numpy()
        out[f"within_{tag}"] = near["within"].to_numpy()
    near = nearest_facility(geography, year)
    out["nearest_facility"] = near["nearest_facility"].to_numpy()
    out["walk_km"] = near["walk_km"].to_numpy()
    out["within_any"] = near["within"].to_numpy()
    return out


def coverage_summary(by_community: pd.DataFrame, counties: Sequence[str]) -> pd.DataFrame:
    """Shares of elders and of elders in need within the circle of each facility type, per county
    and for the whole region (``county = "all"``); also by urban/rural type where it is given."""
    rows = []
    groups: list[tuple[str, str, np.ndarray]] = [
        ("county", k, (by_community["county"] == k).to_numpy()) for k in counties
    ]
    for t in ("urban", "rural"):
        mask = (by_community["type"] == t).to_numpy()
        if mask.any():
            groups.append(("type", t, mask))
    groups.append(("all", "all", np.ones(len(by_community), bool)))
    elders = by_community["elders"].to_numpy(float)
    need = by_community["elders_need"].to_numpy(float)
    for kind, key, mask in groups:
        row: dict[str, object] = {
            "level": kind,
            "area": key,
            "communities": int(mask.sum()),
            "elders": float(elders[mask].sum()),
            "elders_need": float(need[mask].sum()) if np.isfinite(need).all() else np.nan,
        }
        for tag in (*CIRCLE_TYPES, "any"):
            within = by_community[f"within_{tag}"].to_numpy(bool)[mask]
            e, n = elders[mask], need[mask]
            row[f"share_within_{tag}"] = float(e[within].sum() / e.sum()) if e.sum() > 0 else np.nan
            row[f"share_need_within_{tag}"] = (
                float(n[within].sum() / n.sum()) if np.isfinite(n).all() and n.sum() > 0 else np.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def space_standards(geography: Geography, year: int | None = None) -> pd.DataFrame:
    """Floor area of community elderly-service facilities per community against the seeds' standards.

    * per resident: ≥ 0.1 m² (002-三(一)-1, 003-10-1);
    * per household: new estates ≥ 20 m² per 100 households and ≥ 350 m² in all (002-三(一)-2);
      existing estates ≥ 15 m² per 100 households (002-三(一)-4).

    A facility's floor area counts for the community named in its ``community`` column, else for the
    community nearest to it. A standard is not checked (NaN) where residents or households are not
    given, or the geography file has no ``[space_standards]``.
    """
    c = geography.communities
    f = open_facilities(geography, year)
    std = geography.standards
    n = len(c)
    provided = np.zeros(n)
    if len(f):
        index = pd.Index(c["id"])
        named = index.get_indexer(f["community"].to_numpy(object))
        _, nearest = cKDTree(geography.community_xy()).query(f[["x_km", "y_km"]].to_numpy(float))
        host = np.where(named >= 0, named, nearest)
        np.add.at(provided, host, f["floor_m2"].to_numpy(float))
    residents = c["residents"].to_numpy(float)
    households = c["households"].to_numpy(float)
    estate = c["estate"].to_numpy(object)
    if std is None:
        need_res = need_hh = np.full(n, np.nan)
    else:
        need_res = std.m2_per_resident * residents
        new = estate == "new"
        per100 = np.where(new, std.m2_per_100_households_new, std.m2_per_100_households_existing)
        need_hh = per100 * households / 100.0
        need_hh = np.where(new, np.maximum(need_hh, std.min_m2_new), need_hh)
        need_hh = np.where(estate == "", np.nan, need_hh)
    with np.errstate(invalid="ignore"):
        meets_res = np.where(np.isfinite(need_res), provided >= need_res - 1e-9, np.nan)
        meets_hh = np.where(np.isfinite(need_hh), provided >= need_hh - 1e-9, np.nan)
    return pd.DataFrame(
        {
            "id": c["id"].to_numpy(),
            "county": c["county"].to_numpy(),
            "residents": residents,
            "households": households,
            "estate": estate,
            "floor_m2": provided,
            "required_m2_per_resident": need_res,
            "meets_per_resident": meets_res,
            "required_m2_per_households": need_hh,
            "meets_per_households": meets_hh,
            "clauses": f"{CLAUSE_PER_RESIDENT}; {CLAUSE_NEW_ESTATE}; {CLAUSE_EXISTING_ESTATE}",
        }
    )
