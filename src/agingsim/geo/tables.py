"""The tables a geography names, read and checked row by row: communities, facilities, candidates.

* **communities** (required): ``id, county, x_km, y_km`` (or ``lon, lat``), ``elders``; optional
  ``name``, ``type`` (urban/rural), ``living_circle``, ``elders_80plus``, the five GB/T 42195 levels
  ``intact, mild, moderate, severe, complete`` (they must sum to ``elders``) or ``elders_need``
  (moderate or worse), ``residents``, ``households``, ``estate`` (new/existing);
* **facilities** (optional): ``id, type, x_km, y_km`` (or ``lon, lat``); optional ``name``,
  ``county``, ``beds``, ``floor_m2``, ``opens`` (year; empty = open before any year asked about),
  ``community`` (the community it belongs to, for the space standards);
* **candidates** (optional): places where a centre or station could be built: ``id, type`` and
  coordinates; optional ``cost_cny`` (construction subsidy), ``beds``, ``floor_m2``, ``county``.

Every problem is a :class:`ScenarioError` naming the file and the row as a spreadsheet shows it
(header = row 1), e.g. ``communities.csv: row 7 (id c006), column elders: must be ≥ 0, got -3``,
so that the person who typed the table can go straight to the cell. Coordinates in ``lon, lat`` are
projected onto a local plane in km (equirectangular about the communities' mean position: under
0.1% error across a city), so all distances are straight km.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.geo.schema import CostRule
from agingsim.population.attributes import ABILITY_LEVELS, NEED_LEVELS
from agingsim.scenario.tables import read_csv_text

#: Facility types that make up the 15-minute service circle (seed 002 二(二)-2: 街道养老服务中心 and
#: 社区养老服务站).
CIRCLE_TYPES: tuple[str, ...] = ("street_centre", "community_station")
FACILITY_TYPES: tuple[str, ...] = (
    "street_centre",
    "community_station",
    "canteen",
    "institution",
    "nursing_home",
)
EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
MAX_ERRORS = 20  # problems reported per file: enough to fix a batch, not a wall of text


@dataclass
class _Table:
    """A table read as text cells, with the label of each row for error messages."""

    path: Path
    frame: pd.DataFrame  # all cells as stripped strings ("" when empty)
    rows: list[str]  # "row 7" (CSV, header = row 1) or "features[5]" (GeoJSON)


def _read_table(path: Path) -> _Table:
    """Read a CSV or a GeoJSON FeatureCollection of points into text cells."""
    if not path.is_file():
        raise ScenarioError(path, "", "file not found")
    if path.suffix.lower() in (".geojson", ".json"):
        return _read_geojson(path)
    frame = read_csv_text(path)  # a row with extra cells is an error, not a shifted column
    return _Table(path, frame, [f"row {i + 2}" for i in range(len(frame))])


def _read_geojson(path: Path) -> _Table:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "", f"not valid GeoJSON: {exc}") from None
    except RecursionError:
        raise ScenarioError(path, "", "not valid GeoJSON: nested too deeply") from None
    features = data.get("features") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(features, list)
    ):
        raise ScenarioError(path, "type", "must be a GeoJSON FeatureCollection with a features list")
    records: list[dict[str, str]] = []
    for i, feat in enumerate(features):
        if not isinstance(feat, dict):
            raise ScenarioError(path, f"features[{i}]", "must be a GeoJSON Feature object")
        props = feat.get("properties") or {}
        geom = feat.get("geometry") or {}
        if not isinstance(props, dict):
            raise ScenarioError(path, f"features[{i}].properties", "must be an object of name: value")
        props = dict(props)
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        if (
            not isinstance(geom, dict)
            or geom.get("type") != "Point"
            or not isinstance(coords, list)
            or len(coords) < 2
            or any(isinstance(c, bool) or not isinstance(c, int | float) for c in coords[:2])
        ):
            raise ScenarioError(
                path, f"features[{i}].geometry", "missing coordinates: needs a Point [lon, lat]"
            )
        props["lon"], props["lat"] = geom["coordinates"][0], geom["coordinates"][1]
        records.append({k: "" if v is None else str(v).strip() for k, v in props.items()})
    frame = pd.DataFrame.from_records(records).fillna("") if records else pd.DataFrame()
    return _Table(path, frame, [f"features[{i}]" for i in range(len(records))])


class _Checker:
    """Collects problems of one table as ``FILE: row N (id X), column C: PROBLEM``."""

    def __init__(self, table: _Table) -> None:
        self.t = table
        self.errors: list[ScenarioError] = []
        self.ids = table.frame["id"].to_numpy(str) if "id" in table.frame else None

    def add(self, rows: np.ndarray, column: str, problem: str | list[str]) -> None:
        for k, i in enumerate(np.flatnonzero(rows)[: MAX_ERRORS - len(self.errors)]):
            where = self.t.rows[i]
            if self.ids is not None and self.ids[i]:
                where += f" (id {self.ids[i]})"
            msg = problem[k] if isinstance(problem, list) else problem
            self.errors.append(ScenarioError(self.t.path, f"{where}, column {column}", msg))

    def require(self, *columns: str) -> bool:
        missing = [c for c in columns if c not in self.t.frame]
        for c in missing:
            self.errors.append(ScenarioError(self.t.path, c, "required column is missing"))
        return not missing

    def number(
        self, column: str, *, required: bool = False, ge: float | None = None, integer: bool = False
    ) -> np.ndarray:
        """The column as floats (NaN where empty); non-numbers, negatives etc. are errors."""
        n = len(self.t.frame)
        if column not in self.t.frame:
            return np.full(n, np.nan)
        text = self.t.frame[column]
        empty = (text == "").to_numpy()
        values = pd.to_numeric(text.where(~empty, None), errors="coerce").to_numpy(float)
        bad = ~empty & ~np.isfinite(values)
        self.add(bad, column, [f"not a number: {v!r}" for v in text[bad]])
        if required:
            self.add(empty, column, "missing value" if column not in _COORDS else "missing coordinate")
        ok = np.isfinite(values)
        if ge is not None:
            low = ok & (values < ge)
            what = "count" if ge == 0 else "value"
            self.add(
                low,
                column,
                [
                    f"negative {what}: {v:g}" if ge == 0 else f"must be ≥ {ge:g}, got {v:g}"
                    for v in values[low]
                ],
            )
        if integer:
            frac = ok & (values != np.round(values))
            self.add(frac, column, [f"must be a whole number, got {v:g}" for v in values[frac]])
        return values

    def text(
        self, column: str, *, required: bool = False, allowed: tuple[str, ...] | None = None
    ) -> np.ndarray:
        n = len(self.t.frame)
        if column not in self.t.frame:
            return np.full(n, "", dtype=object)
        values = self.t.frame[column].to_numpy(object)
        if required:
            self.add(values == "", column, "missing value")
        if allowed is not None:
            bad = (values != "") & ~np.isin(values, allowed)
            self.add(bad, column, [f"'{v}' is not one of {', '.join(allowed)}" for v in values[bad]])
        return values

    def unique_ids(self) -> np.ndarray:
        ids = self.text("id", required=True)
        dup = pd.Series(ids).duplicated(keep="first").to_numpy() & (ids != "")
        first = pd.Series(np.arange(len(ids))).groupby(ids).transform("min").to_numpy()
        self.add(
            dup,
            "id",
            [f"duplicate id '{ids[i]}' (first used in {self.t.rows[first[i]]})" for i in np.flatnonzero(dup)],
        )
        return ids

    def raise_if_any(self) -> None:
        if self.errors:
            raise ScenarioErrors(self.errors)


_COORDS = ("x_km", "y_km", "lon", "lat")


@dataclass(frozen=True)
class _Projection:
    """Local km plane: given in km, or lon/lat projected about an origin (equirectangular)."""

    kind: Literal["km", "lonlat"]
    lon0: float = 0.0
    lat0: float = 0.0

    def apply(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.pi / 180.0 * EARTH_RADIUS_KM
        return (lon - self.lon0) * k * np.cos(np.radians(self.lat0)), (lat - self.lat0) * k


def _coordinates(chk: _Checker, projection: _Projection | None) -> tuple[np.ndarray, np.ndarray, _Projection]:
    """x_km, y_km of every row; the first table read fixes the coordinate system of the others."""
    cols = set(chk.t.frame.columns)
    kind: Literal["km", "lonlat"]
    if {"x_km", "y_km"} <= cols:
        kind = "km"
    elif {"lon", "lat"} <= cols:
        kind = "lonlat"
    else:
        chk.errors.append(
            ScenarioError(
                chk.t.path, "x_km, y_km", "missing coordinates: give columns x_km and y_km, or lon and lat"
            )
        )
        chk.raise_if_any()
    if projection is not None and projection.kind != kind:
        given = "x_km/y_km" if kind == "km" else "lon/lat"
        other = "x_km/y_km" if projection.kind == "km" else "lon/lat"
        raise ScenarioError(chk.t.path, given, f"coordinates must be {other}, as in the communities file")
    if kind == "km":
        x, y = chk.number("x_km", required=True), chk.number("y_km", required=True)
        return x, y, projection or _Projection("km")
    lon, lat = chk.number("lon", required=True), chk.number("lat", required=True)
    chk.add(np.abs(lon) > 180, "lon", [f"longitude out of range: {v:g}" for v in lon[np.abs(lon) > 180]])
    chk.add(np.abs(lat) > 90, "lat", [f"latitude out of range: {v:g}" for v in lat[np.abs(lat) > 90]])
    if projection is None:
        ok = np.isfinite(lon) & np.isfinite(lat)
        projection = _Projection(
            "lonlat",
            float(np.mean(lon[ok])) if ok.any() else 0.0,
            float(np.mean(lat[ok])) if ok.any() else 0.0,
        )
    x, y = projection.apply(lon, lat)
    return x, y, projection


def read_communities(path: Path, counties: tuple[str, ...] | None = None) -> tuple[pd.DataFrame, _Projection]:
    """Communities with their elders, checked row by row (see the module docstring for columns)."""
    t = _read_table(Path(path))
    chk = _Checker(t)
    if len(t.frame) == 0:
        raise ScenarioError(t.path, "", "no communities: the table is empty")
    if not chk.require("id", "county", "elders"):
        chk.raise_if_any()
    ids = chk.unique_ids()
    county = chk.text("county", required=True, allowed=counties)
    x, y, proj = _coordinates(chk, None)
    elders = chk.number("elders", required=True, ge=0)
    levels = {lvl: chk.number(lvl, ge=0) for lvl in ABILITY_LEVELS}
    given = [lvl for lvl in ABILITY_LEVELS if lvl in t.frame]
    if given and len(given) != len(ABILITY_LEVELS):
        missing = [lvl for lvl in ABILITY_LEVELS if lvl not in t.frame]
        chk.errors.append(
            ScenarioError(
                t.path, ", ".join(missing), "give all five ability levels or none (missing columns)"
            )
        )
    need = chk.number("elders_need", ge=0)
    if len(given) == len(ABILITY_LEVELS):
        total = np.sum([levels[lvl] for lvl in ABILITY_LEVELS], axis=0)
        off = np.isfinite(total) & np.isfinite(elders) & (np.abs(total - elders) > 0.5)
        chk.add(
            off,
            "intact…complete",
            [
                f"ability levels sum to {a:g}, not elders = {b:g}"
                for a, b in zip(total[off], elders[off], strict=True)
            ],
        )
        need = np.sum([levels[lvl] for lvl in NEED_LEVELS], axis=0)
    over = np.isfinite(need) & np.isfinite(elders) & (need > elders + 0.5)
    chk.add(
        over,
        "elders_need",
        [f"{a:g} in need is more than elders = {b:g}" for a, b in zip(need[over], elders[over], strict=True)],
    )
    old = chk.number("elders_80plus", ge=0)
    over80 = np.isfinite(old) & np.isfinite(elders) & (old > elders + 0.5)
    chk.add(
        over80,
        "elders_80plus",
        [
            f"{a:g} aged 80+ is more than elders = {b:g}"
            for a, b in zip(old[over80], elders[over80], strict=True)
        ],
    )
    frame = pd.DataFrame(
        {
            "id": ids,
            "name": chk.text("name"),
            "county": county,
            "type": chk.text("type", allowed=("urban", "rural")),
            "living_circle": chk.text("living_circle"),
            "x_km": x,
            "y_km": y,
            "elders": elders,
            "elders_need": need,
            "elders_80plus": old,
            **levels,
            "residents": chk.number("residents", ge=0),
            "households": chk.number("households", ge=0),
            "estate": chk.text("estate", allowed=("new", "existing")),
        }
    )
    chk.raise_if_any()
    return frame, proj


def _read_sites(
    path: Path, projection: _Projection
) -> tuple[_Checker, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """What facility and candidate files share: a checker over the table, the unique ids, the
    facility type and the place on the km grid (None for an empty file)."""
    t = _read_table(Path(path))
    chk = _Checker(t)
    if len(t.frame) == 0:
        return None
    if not chk.require("id", "type"):
        chk.raise_if_any()
    ids = chk.unique_ids()
    ftype = chk.text("type", required=True, allowed=FACILITY_TYPES)
    x, y, _ = _coordinates(chk, projection)
    return chk, ids, ftype, x, y


def read_facilities(
    path: Path, projection: _Projection, communities: pd.DataFrame, counties: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Existing or planned facilities: type, place, beds, floor area and the year each opens."""
    read = _read_sites(path, projection)
    if read is None:
        return empty_facilities()
    chk, ids, ftype, x, y = read
    community = chk.text("community")
    unknown = (community != "") & ~np.isin(community, communities["id"].to_numpy(str))
    chk.add(unknown, "community", [f"no community with id '{c}'" for c in community[unknown]])
    frame = pd.DataFrame(
        {
            "id": ids,
            "name": chk.text("name"),
            "type": ftype,
            "county": chk.text("county", allowed=counties),
            "community": community,
            "x_km": x,
            "y_km": y,
            "beds": np.nan_to_num(chk.number("beds", ge=0)),
            "floor_m2": np.nan_to_num(chk.number("floor_m2", ge=0)),
            "opens": chk.number("opens", ge=1900, integer=True),
        }
    )
    chk.raise_if_any()
    return frame


def read_candidates(
    path: Path, projection: _Projection, costs: dict[str, CostRule], counties: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """Candidate sites with their construction subsidy (``cost_cny``, else the type's cost rule)."""
    read = _read_sites(path, projection)
    if read is None:
        return empty_candidates()
    chk, ids, ftype, x, y = read
    beds, floor = chk.number("beds", ge=0), chk.number("floor_m2", ge=0)
    cost = chk.number("cost_cny", ge=0)
    for i in np.flatnonzero(~np.isfinite(cost)):
        rule = costs.get(str(ftype[i]))
        if rule is None:
            if ftype[i]:
                chk.add(
                    np.arange(len(ids)) == i,
                    "cost_cny",
                    f"no cost_cny and no [costs.{ftype[i]}] rule in the geography file",
                )
            continue
        qty = {"bed": beds[i], "m2": floor[i]}.get(rule.per, np.nan)
        cost[i] = rule.amount * (qty if np.isfinite(qty) else rule.quantity)
    frame = pd.DataFrame(
        {
            "id": ids,
            "name": chk.text("name"),
            "type": ftype,
            "county": chk.text("county", allowed=counties),
            "x_km": x,
            "y_km": y,
            "beds": beds,
            "floor_m2": floor,
            "cost_cny": cost,
        }
    )
    chk.raise_if_any()
    return frame


def empty_facilities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series(dtype=float if c in ("x_km", "y_km", "beds", "floor_m2", "opens") else object)
            for c in (
                "id",
                "name",
                "type",
                "county",
                "community",
                "x_km",
                "y_km",
                "beds",
                "floor_m2",
                "opens",
            )
        }
    )


def empty_candidates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series(dtype=float if c in ("x_km", "y_km", "beds", "floor_m2", "cost_cny") else object)
            for c in ("id", "name", "type", "county", "x_km", "y_km", "beds", "floor_m2", "cost_cny")
        }
    )
