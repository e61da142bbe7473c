"""Issue 8 siting: the maximal covering location problem solved exactly (scipy milp) and greedily."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from geo_builder import write_geography

from agingsim.cli import main
from agingsim.errors import AgingsimError
from agingsim.geo import load_geography, site_facilities
from agingsim.geo.siting import SitingProblem, coverage_matrix, solve, solve_greedy, solve_milp


def _problem(cover: np.ndarray, weights, cost=None, types=None) -> SitingProblem:
    cover = np.asarray(cover, float)
    n = cover.shape[1]
    return SitingProblem(
        np.asarray(weights, float),
        sp.csc_array(cover),
        np.ones(n) if cost is None else np.asarray(cost, float),
        np.array(["community_station"] * n if types is None else types, dtype=object),
    )


def _brute_force(p: SitingProblem, counts=None, budget=None) -> float:
    """Best covered weight over every subset of candidates respecting the counts and the budget."""
    cover = p.cover.toarray() > 0
    n = cover.shape[1]
    best = 0.0
    for k in range(n + 1):
        for subset in itertools.combinations(range(n), k):
            s = list(subset)
            if budget is not None and p.cost[s].sum() > budget + 1e-9:
                continue
            if counts is not None and any((p.types[s] == t).sum() > c for t, c in counts.items()):
                continue
            if counts is not None and not np.isin(p.types[s], list(counts)).all():
                continue
            best = max(best, float(p.weights[cover[:, s].any(axis=1)].sum()) if s else 0.0)
    return best


def test_greedy_trap_milp_finds_the_optimum():
    """Rule: MCLP maximises people covered. Site A covers communities 1-4, B covers 1, 2, 5 and C 3, 4,
    6 (one elder each). With two sites greedy takes A (4) and then adds 1; the optimum B + C covers 6."""
    cover = np.array(
        [[1, 1, 0], [1, 1, 0], [1, 0, 1], [1, 0, 1], [0, 1, 0], [0, 0, 1]]  # columns A, B, C
    )
    p = _problem(cover, np.ones(6))
    greedy = solve_greedy(p, {"community_station": 2})
    exact = solve_milp(p, {"community_station": 2})
    assert greedy.covered == 5 and list(greedy.chosen) == [0, 1]
    assert exact.covered == 6 and sorted(exact.chosen) == [1, 2] and exact.optimal


@pytest.mark.parametrize("seed", range(12))
def test_milp_equals_brute_force_and_is_never_worse_than_greedy(seed):
    """Rules: the MILP optimum equals exhaustive search on small cases, and is ≥ greedy, for counts by
    type, a budget, and both together."""
    rng = np.random.default_rng(seed)
    m, n = 14, 8
    cover = (rng.random((m, n)) < 0.25).astype(float)
    weights = rng.integers(0, 50, m).astype(float)
    cost = rng.integers(1, 6, n).astype(float)
    types = np.where(rng.random(n) < 0.4, "street_centre", "community_station").astype(object)
    p = _problem(cover, weights, cost, types)
    for counts, budget in (
        ({"community_station": 2, "street_centre": 1}, None),
        (None, 7.0),
        ({"community_station": 3}, 8.0),
    ):
        exact = solve_milp(p, counts, budget)
        greedy = solve_greedy(p, counts, budget)
        assert exact.covered == pytest.approx(_brute_force(p, counts, budget))
        assert exact.covered >= greedy.covered - 1e-9
        chosen = exact.chosen
        assert budget is None or p.cost[chosen].sum() <= budget + 1e-9
        for t, k in (counts or {}).items():
            assert (p.types[chosen] == t).sum() <= k


def test_already_covered_people_count_for_nothing(tmp_path):
    """Rule: sites are chosen for what they add: elders within reach of an open facility are covered."""
    comm = "id,county,x_km,y_km,elders\na,c,0,0,100\nb,c,5,0,60\n"
    fac = "id,type,x_km,y_km\nold,community_station,0,0\n"
    cand = "id,type,x_km,y_km,cost_cny\nnear_a,community_station,0.1,0,100000\nnear_b,community_station,5.1,0,150000\n"
    g = load_geography(write_geography(tmp_path, comm, fac, cand))
    result = site_facilities(g, counts={"community_station": 1})
    assert list(result.sites["id"]) == ["near_b"]
    s = result.summary
    assert s["covered_before"] == 100 and s["newly_covered"] == 60 and s["share_after"] == 1.0
    # people covered per 10,000 CNY of construction subsidy: 60 / (150,000 / 10,000)
    assert s["covered_per_10k_cny"] == pytest.approx(4.0)


def test_budget_buys_the_most_people_per_yuan(tmp_path):
    """Rule: with a budget the MILP keeps Σ cost ≤ budget; costs come from the file's [costs] rules
    (per bed for centres, per m² for stations, seed 002 三(四)) unless a row gives cost_cny."""
    comm = "id,county,x_km,y_km,elders\na,c,0,0,100\nb,c,5,0,80\nd,c,10,0,70\n"
    cand = (
        "id,type,x_km,y_km,beds,floor_m2\n"
        "centre_a,street_centre,0,0,30,\n"  # 30 beds × 20,000 = 600,000
        "station_b,community_station,5,0,,150\n"  # 150 m² × 1,000 = 150,000
        "station_d,community_station,10,0,,200\n"  # 200,000
    )
    extra = (
        '[costs.street_centre]\nsource = "test"\nper = "bed"\namount = 20000\nquantity = 30\n'
        '[costs.community_station]\nsource = "test"\nper = "m2"\namount = 1000\nquantity = 150\n'
    )
    g = load_geography(write_geography(tmp_path, comm, None, cand, extra=extra))
    assert list(g.candidates["cost_cny"]) == [600000, 150000, 200000]
    result = site_facilities(g, budget_cny=600000)
    assert sorted(result.sites["id"]) == [
        "station_b",
        "station_d",
    ]  # 150 people for 350,000 beats 100 for 600,000
    assert result.summary["construction_subsidy_cny"] == 350000
    assert result.summary["optimal"] is True


def test_coverage_matrix_uses_the_straight_line_reach():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    sites = np.array([[0.0, 0.0], [2.0, 0.0]])
    a = coverage_matrix(points, sites, 1.0).toarray()
    assert a.tolist() == [[1, 0], [1, 1], [0, 1]]


def test_auto_falls_back_to_greedy_beyond_the_size_limit(monkeypatch):
    import agingsim.geo.siting as siting

    p = _problem(np.eye(3), [1, 2, 3])
    monkeypatch.setattr(siting, "MILP_MAX_NONZEROS", 2)
    assert solve(p, {"community_station": 1}).method == "greedy"
    monkeypatch.setattr(siting, "MILP_MAX_NONZEROS", 10)
    assert solve(p, {"community_station": 1}).method == "milp"


def test_siting_needs_something_to_build():
    with pytest.raises(AgingsimError, match="counts of new facilities by type, a budget"):
        solve_milp(_problem(np.eye(2), [1, 1]))


def test_geo_site_command_compares_with_seed_002_targets(tmp_path, capsys):
    """`agingsim geo site guiyang_synthetic --targets`: the 60 centres and 320 stations of seed 002
    二(二)-2, sited optimally, cover more elders than the planner's rule in the synthetic plan."""
    out = tmp_path / "site"
    code = main(
        [
            "geo",
            "site",
            "guiyang_synthetic",
            "--existing-year",
            "2020",
            "--targets",
            "--no-map",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "optimal" in capsys.readouterr().out
    sites = pd.read_csv(out / "sites.csv")
    assert sites["type"].value_counts().to_dict() == {"community_station": 320, "street_centre": 60}
    targets = pd.read_csv(out / "targets.csv").set_index("measure")
    plan = targets.loc["share covered by the facilities file in 2023", "value"]
    best = targets.loc["share covered by the target counts sited optimally", "value"]
    assert best >= plan
