"""Issue 8: geography input, 15-minute coverage, county_access (the link to behaviour), space
standards, maps and the ``agingsim geo`` commands."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from geo_builder import grid_communities, write_geography

from agingsim.cli import main
from agingsim.errors import ScenarioError
from agingsim.geo import (
    county_access,
    coverage_by_community,
    load_geography,
    nearest_facility,
    space_standards,
)
from agingsim.geo.coverage import coverage_summary

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def grid(tmp_path):
    """5 × 5 grid, 0.5 km apart, one centre at the middle (1, 1) km, walk 1 km (15 min at 4 km/h)."""
    fac = "id,type,x_km,y_km,opens\nf1,street_centre,1.0,1.0,2023\n"
    return load_geography(write_geography(tmp_path, grid_communities(), fac))


# --------------------------------------------------------------------------- coverage by hand


def test_grid_coverage_equals_the_hand_count(grid):
    """Rule: a community is covered when straight line × detour ≤ speed × minutes. On the grid, with
    offsets (i, j) in steps of 0.5 km from the centre, i² + j² ≤ 4 holds for 1 + 4 + 4 + 4 = 13 of the
    25 points (the centre, 4 at 0.5 km, 4 diagonals at 0.71 km, 4 at exactly 1 km)."""
    near = nearest_facility(grid, 2023)
    assert int(near["within"].sum()) == 13
    table = coverage_by_community(grid, 2023)
    summary = coverage_summary(table, grid.counties).set_index("area")
    assert summary.loc["all", "share_within_any"] == pytest.approx(13 / 25)
    assert summary.loc["all", "share_within_street_centre"] == pytest.approx(13 / 25)
    assert summary.loc["all", "share_within_community_station"] == 0.0


def test_detour_factor_shrinks_the_reach(grid):
    """Rule: detour 1.25 makes a 1 km walk reach 0.8 km in a straight line: i² + j² ≤ 2.56 holds for
    the centre, the 4 neighbours and the 4 diagonals = 9 points."""
    near = nearest_facility(grid.with_walk(detour_factor=1.25), 2023)
    assert int(near["within"].sum()) == 9
    corner = near.set_index("id").loc["g00"]
    assert corner["walk_km"] == pytest.approx(np.hypot(1, 1) * 1.25)
    assert corner["walk_minutes"] == pytest.approx(np.hypot(1, 1) * 1.25 / 4.0 * 60)


def test_county_access_by_hand(grid):
    """Rule (issue 8 item 4): per county the elder-weighted share within the walk of a facility open
    that year. West (x < 1 km, 10 points) has 1 + 3 covered; east (15 points) has 3 + 3 + 3."""
    access = county_access(grid, [2022, 2023]).set_index(["year", "county"])
    assert list(access.columns) == ["share_within_15min", "share_need_within_15min", "mean_distance_km"]
    assert access.loc[(2023, "west"), "share_within_15min"] == pytest.approx(4 / 10)
    assert access.loc[(2023, "east"), "share_within_15min"] == pytest.approx(9 / 15)
    assert access.loc[(2023, "west"), "share_need_within_15min"] == pytest.approx(4 / 10)
    # mean walk in the west: distances from (1, 1) of x in {0, 0.5}, y in {0 … 2}
    xs, ys = np.meshgrid([0.0, 0.5], np.arange(5) * 0.5)
    assert access.loc[(2023, "west"), "mean_distance_km"] == pytest.approx(np.hypot(xs - 1, ys - 1).mean())
    # the centre opens in 2023: in 2022 nobody is covered and there is no distance
    assert access.loc[(2022, "west"), "share_within_15min"] == 0.0
    assert np.isnan(access.loc[(2022, "west"), "mean_distance_km"])


def test_county_access_lists_every_region_county_and_weights_by_elders(tmp_path):
    """Rule: every county of the region appears (NaN where it has no communities); shares weight
    communities by elders and by elders in need separately."""
    comm = (
        "id,county,x_km,y_km,elders,intact,mild,moderate,severe,complete\n"
        "a,north,0,0,100,90,0,10,0,0\n"
        "b,north,5,0,300,300,0,0,0,0\n"
    )
    fac = "id,type,x_km,y_km\ns1,community_station,0.2,0\n"
    g = load_geography(write_geography(tmp_path, comm, fac))
    g = replace(g, counties=("north", "south"))
    access = county_access(g, [2030]).set_index("county")
    assert access.loc["north", "share_within_15min"] == pytest.approx(100 / 400)
    assert access.loc["north", "share_need_within_15min"] == pytest.approx(1.0)  # all 10 in need live in a
    assert access.loc["north", "mean_distance_km"] == pytest.approx((100 * 0.2 + 300 * 4.8) / 400)
    assert access.loc["south", ["share_within_15min", "mean_distance_km"]].isna().all()


def test_facility_types_beyond_the_circle_do_not_count(tmp_path):
    """Rule: county_access counts street centres and community stations (seed 002 二(二)-2), not
    institutions or canteens."""
    comm = "id,county,x_km,y_km,elders\na,c,0,0,10\n"
    fac = "id,type,x_km,y_km\nh,institution,0,0\nk,canteen,0,0\n"
    g = load_geography(write_geography(tmp_path, comm, fac))
    assert county_access(g, [2025])["share_within_15min"].iloc[0] == 0.0


# --------------------------------------------------------------------------- space standards


def test_space_standards_per_resident_and_per_household(tmp_path):
    """Rules: 0.1 m² per resident (002-三(一)-1, 003-10-1); new estates 20 m² per 100 households and
    at least 350 m² (002-三(一)-2); existing estates 15 m² per 100 households (002-三(一)-4)."""
    comm = (
        "id,county,x_km,y_km,elders,residents,households,estate\n"
        "old,c,0,0,700,5000,1000,existing\n"
        "new,c,3,0,700,5000,1000,new\n"
        "big,c,6,0,700,5000,2000,new\n"
        "rural,c,9,0,700,,,\n"
    )
    fac = (
        "id,type,x_km,y_km,floor_m2,community\n"
        "s1,community_station,0,0,400,old\n"
        "s2,community_station,3.1,0,400,\n"  # no community named: the nearest one (new)
        "s3,community_station,6,0,399,big\n"
    )
    extra = (
        '[space_standards]\nsource = "test"\nm2_per_resident = 0.1\nm2_per_100_households_new = 20\n'
        "min_m2_new = 350\nm2_per_100_households_existing = 15\n"
    )
    g = load_geography(write_geography(tmp_path, comm, fac, extra=extra))
    s = space_standards(g).set_index("id")
    assert s.loc["old", "required_m2_per_resident"] == pytest.approx(500)
    assert s.loc["old", "meets_per_resident"] == 0.0  # 400 < 500
    assert s.loc["old", "required_m2_per_households"] == pytest.approx(150)
    assert s.loc["old", "meets_per_households"] == 1.0
    assert s.loc["new", "floor_m2"] == 400
    assert s.loc["new", "required_m2_per_households"] == pytest.approx(350)  # max(200, 350)
    assert s.loc["big", "required_m2_per_households"] == pytest.approx(400)
    assert s.loc["big", "meets_per_households"] == 0.0  # 399 < 400
    assert np.isnan(s.loc["rural", "meets_per_resident"])  # residents not given: not checked


# --------------------------------------------------------------------------- bad input


def _error(path: Path) -> str:
    with pytest.raises(ScenarioError) as exc:
        load_geography(path)
    return str(exc.value)


@pytest.mark.parametrize(
    ("communities", "expected"),
    [
        (
            "id,county,x_km,y_km,elders\na,c,0,0,10\nb,c,,1,10\n",
            "communities.csv: row 3 (id b), column x_km: missing coordinate",
        ),
        (
            "id,county,lon,lat,elders\na,c,106.7,26.6,10\nb,c,106.7,,10\n",
            "communities.csv: row 3 (id b), column lat: missing coordinate",
        ),
        (
            "id,county,x_km,y_km,elders\na,c,0,0,-3\n",
            "communities.csv: row 2 (id a), column elders: negative count: -3",
        ),
        (
            "id,county,x_km,y_km,elders\na,c,0,0,10\nb,c,1,1,5\na,c,2,2,5\n",
            "communities.csv: row 4 (id a), column id: duplicate id 'a' (first used in row 2)",
        ),
        (
            "id,county,x_km,y_km,elders\na,c,0,0,ten\n",
            "communities.csv: row 2 (id a), column elders: not a number: 'ten'",
        ),
        ("id,county,elders\na,c,10\n", "communities.csv: x_km, y_km: missing coordinates"),
        (
            "id,county,x_km,y_km,elders,elders_need\na,c,0,0,10,11\n",
            "row 2 (id a), column elders_need: 11 in need is more than elders = 10",
        ),
        (
            "id,county,x_km,y_km,elders,intact,mild,moderate,severe,complete\na,c,0,0,10,5,1,1,1,1\n",
            "row 2 (id a), column intact…complete: ability levels sum to 9, not elders = 10",
        ),
    ],
    ids=[
        "missing-x",
        "missing-lat",
        "negative",
        "duplicate",
        "not-a-number",
        "no-coordinate-columns",
        "need>elders",
        "levels-sum",
    ],
)
def test_bad_communities_name_file_and_row(tmp_path, communities, expected):
    """Rule (issue 8 done-when): bad geography input is an error naming the file and the row as a
    spreadsheet shows it (header = row 1)."""
    assert expected in _error(write_geography(tmp_path, communities))


def test_bad_facilities_name_file_and_row(tmp_path):
    comm = "id,county,x_km,y_km,elders\na,c,0,0,10\n"
    fac = "id,type,x_km,y_km,beds\nf1,street_centre,0,0,30\nf2,hospital,1,1,-2\nf3,community_station,1,,0\n"
    text = _error(write_geography(tmp_path, comm, fac))
    assert "facilities.csv: row 3 (id f2), column type: 'hospital' is not one of" in text
    assert "facilities.csv: row 3 (id f2), column beds: negative count: -2" in text
    assert "facilities.csv: row 4 (id f3), column y_km: missing coordinate" in text


def test_facilities_must_use_the_communities_coordinates(tmp_path):
    comm = "id,county,lon,lat,elders\na,c,106.7,26.6,10\n"
    fac = "id,type,x_km,y_km\nf1,street_centre,0,0\n"
    assert "facilities.csv: x_km/y_km: coordinates must be lon/lat" in _error(
        write_geography(tmp_path, comm, fac)
    )


def test_counties_outside_the_region_are_rejected(tmp_path):
    path = write_geography(tmp_path, "id,county,x_km,y_km,elders\na,nanming,0,0,1\nb,atlantis,0,0,1\n")
    with pytest.raises(
        ScenarioError, match=r"row 3 \(id b\), column county: 'atlantis' is not one of nanming"
    ):
        load_geography(path, counties=("nanming", "yunyan"))


def test_geojson_points_are_read_and_bad_features_named(tmp_path):
    """GeoJSON FeatureCollections of points work like CSV; lon/lat become km on a local plane."""
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [106.70, 26.60]},
            "properties": {"id": "a", "county": "c", "elders": 10},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [106.71, 26.60]},
            "properties": {"id": "b", "county": "c", "elders": 20},
        },
    ]
    text = json.dumps({"type": "FeatureCollection", "features": feats})
    g = load_geography(write_geography(tmp_path / "ok", text, suffix="geojson"))
    dx = np.diff(g.communities["x_km"].to_numpy())[0]
    assert dx == pytest.approx(0.01 * np.pi / 180 * 6371.0088 * np.cos(np.radians(26.6)), rel=1e-9)
    feats[1]["geometry"] = None
    bad = write_geography(
        tmp_path / "bad", json.dumps({"type": "FeatureCollection", "features": feats}), suffix="geojson"
    )
    assert "communities.geojson: features[1].geometry: missing coordinates" in _error(bad)


def test_cli_bad_geography_exits_2_and_writes_nothing(tmp_path, capsys):
    path = write_geography(tmp_path / "g", "id,county,x_km,y_km,elders\na,c,0,0,-1\n")
    out = tmp_path / "out"
    assert main(["geo", "coverage", str(path), "--out", str(out), "--no-map"]) == 2
    assert "communities.csv: row 2 (id a), column elders: negative count" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------- scenario and commands


def test_guiyang_scenario_loads_its_geography():
    """The optional [geography] section: the synthetic Guiyang city with the region's counties; its
    files are recorded as inputs but do not change the population key (compare's check)."""
    from agingsim.scenario import load_scenario

    sc = load_scenario(ROOT / "scenarios/guiyang_service_circle.toml")
    g = sc.geography
    assert g is not None and g.synthetic
    assert g.counties == tuple(c.id for c in sc.region.counties)
    # each county's elders are spread in whole people: up to half a person of rounding per county
    assert g.communities["elders"].sum() == pytest.approx(sc.region.pop_60plus, abs=0.5 * len(g.counties))
    assert any(k.endswith("communities.csv") for k in sc.inputs)
    # scenario inputs + the region's population base table and projection (issue 14 item 3)
    assert len(sc.inputs_population_key()) == 6
    assert load_scenario(ROOT / "scenarios/default.toml").geography is None
    access = county_access(g, [2020, 2023])
    assert access[access.year == 2020]["share_within_15min"].eq(0).all()  # the plan starts in 2021
    assert access[access.year == 2023]["share_within_15min"].gt(0).all()


def test_scenario_with_unknown_geography_names_the_key(tiny_copy):
    path = tiny_copy.scenario
    path.write_text(
        path.read_text(encoding="utf-8") + '\n[geography]\ncommunities = "nowhere"\n', encoding="utf-8"
    )
    from agingsim.scenario import load_scenario

    with pytest.raises(ScenarioError, match=r"tiny.toml: geography.communities: unknown geography 'nowhere'"):
        load_scenario(path)


def test_synthetic_guiyang_is_reproducible_and_matches_the_region(tmp_path):
    """The committed CSVs are exactly what `agingsim geo synth guiyang_synthetic` writes; county elder
    totals are the region's 60+ × share (calibration/regions/guiyang.toml)."""
    out = tmp_path / "synth"
    assert main(["geo", "synth", "guiyang_synthetic", "--out", str(out)]) == 0
    folder = ROOT / "calibration/geo/guiyang_synthetic"
    for name in ("communities.csv", "facilities.csv", "candidates.csv"):
        assert (out / name).read_bytes() == (folder / name).read_bytes(), name
    comm = pd.read_csv(out / "communities.csv")
    # 838,183 = the 60+ of calibration/regions/guiyang_population.csv (issue 14 item 3); elders are whole
    assert comm.groupby("county")["elders"].sum()["nanming"] == pytest.approx(838_183 * 0.15, abs=1)
    assert comm["living_circle"].nunique() == 140  # seed 002 二(二)-1
    fac = pd.read_csv(out / "facilities.csv")
    assert fac["type"].value_counts().to_dict() == {"community_station": 320, "street_centre": 60}
    assert comm["source"].str.startswith("synthetic").all()


def test_geo_coverage_command_writes_tables_and_maps(tmp_path, capsys):
    fac = "id,type,x_km,y_km,opens\nf1,street_centre,1.0,1.0,2023\n"
    path = write_geography(tmp_path / "g", grid_communities(), fac)
    out = tmp_path / "out"
    assert main(["geo", "coverage", str(path), "--year", "2023", "--out", str(out), "--lang", "en"]) == 0
    assert "52.0%" in capsys.readouterr().out
    names = {p.name for p in out.iterdir()}
    assert {
        "coverage_by_community.csv",
        "coverage_summary.csv",
        "space_standards.csv",
        "access_by_year.csv",
        "coverage_map.png",
        "coverage_map_core.png",
        "geo_summary.json",
    } <= names
    summary = json.loads((out / "geo_summary.json").read_text())
    assert summary["share_within_any"] == pytest.approx(0.52)
    assert (out / "coverage_map.png").read_bytes()[:4] == b"\x89PNG"


def test_map_labels_render_in_the_cjk_font(grid):
    """Maps carry Chinese labels (zh) that the CJK font can draw, and need no tile server."""
    from agingsim.geo.maps import coverage_map
    from agingsim.report.fonts import missing_glyphs

    fig = coverage_map(grid, 2023, "zh")
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    zh = "".join(texts)
    assert "养老服务圈" in zh and "社区" in zh
    assert missing_glyphs(zh) == []
    assert not any(type(a).__name__ == "AxesImage" for a in fig.axes[0].get_children())  # no raster tiles


@pytest.mark.parametrize(
    ("args", "flag", "problem"),
    [
        (["coverage", "guiyang_synthetic", "--minutes", "-5"], "--minutes", "must be above 0"),
        (["coverage", "guiyang_synthetic", "--speed", "nan"], "--speed", "must be a finite number"),
        (["coverage", "guiyang_synthetic", "--detour", "0.5"], "--detour", "must be at least 1"),
        (["site", "guiyang_synthetic", "--centres", "-1"], "--centres", "must be at least 0"),
        (["site", "guiyang_synthetic", "--budget-wan", "inf"], "--budget-wan", "must be a finite number"),
        (
            ["site", "guiyang_synthetic", "--centres", "2", "--time-limit", "-1"],
            "--time-limit",
            "must be above 0",
        ),
    ],
)
def test_geo_flags_out_of_range_or_not_finite_are_usage_errors(tmp_path, capsys, args, flag, problem):
    """Non-negotiable 4: a walk of −5 minutes, a NaN speed, a detour below 1 (street shorter than the
    straight line), a negative count, an infinite budget or time limit were taken as given (a NaN
    budget reached the MILP as a 'model error', exit 1); each is now exit 2 naming the flag, before
    anything is read or written."""
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["geo", *args, "--out", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: {problem}" in err and "Traceback" not in err, err
    assert not out.exists()
