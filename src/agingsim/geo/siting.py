"""Where to build: the maximal covering location problem (MCLP, 最大覆盖选址).

Choose candidate sites to maximise the elders (or elders in need of care) within a 15-minute walk of
at least one facility, given how many of each type may be built and/or a construction-subsidy budget.
Elders already covered by open facilities count for nothing more, so the problem is always "what do
the next sites add".

Formulation (Church & ReVelle 1974): binary ``x_j`` (build candidate j), ``y_i ∈ [0, 1]`` (community
i covered); maximise Σ w_i y_i subject to y_i ≤ Σ_j a_ij x_j, Σ_{j of type t} x_j ≤ n_t, Σ c_j x_j ≤ B.
``y`` need not be declared integer: at an optimum y_i = min(1, Σ a_ij x_j), which is 0 or 1. It is
solved exactly with :func:`scipy.optimize.milp` (HiGHS branch and cut); beyond
:data:`MILP_MAX_NONZEROS` coverage pairs the greedy heuristic (1 − 1/e of the optimum for counts)
is used instead.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

from agingsim.errors import AgingsimError
from agingsim.geo.coverage import nearest_facility
from agingsim.geo.geography import Geography

#: Coverage pairs (community, candidate within reach) above which ``method="auto"`` uses greedy:
#: HiGHS solves a city of 3,000 communities × 500 candidates (~10⁵ pairs) in seconds, and memory
#: and branch-and-bound time grow quickly past a few million pairs.
MILP_MAX_NONZEROS = 2_000_000

#: Seconds the MILP may run before the best plan found is returned with its proven bound (the
#: 15-minute circle of a 3,000-community city is proven optimal in well under a second; denser
#: catchments can take longer to prove, rarely to find: benchmarks/bench_siting.py).
DEFAULT_TIME_LIMIT_S = 60.0

Method = Literal["auto", "milp", "greedy"]


@dataclass(frozen=True)
class SitingProblem:
    """An MCLP instance as arrays: the solvers need nothing else (tests build these by hand)."""

    weights: np.ndarray  # (m,) people to cover per community (0 where already covered)
    cover: sp.csc_array  # (m, n) 1 where candidate j is within reach of community i
    cost: np.ndarray  # (n,) construction subsidy of each candidate, CNY
    types: np.ndarray  # (n,) facility type of each candidate

    @property
    def shape(self) -> tuple[int, int]:
        return self.cover.shape  # type: ignore[return-value]


@dataclass(frozen=True)
class Solution:
    chosen: np.ndarray  # indices of the chosen candidates, in the order picked (greedy) or sorted
    covered: float  # weight newly covered
    method: str
    optimal: bool  # proven optimal (MILP) or not (greedy, or MILP stopped by its time limit)
    bound: float  # upper bound on the best possible covered weight (= covered when optimal)
    seconds: float
    status: str = ""


def coverage_matrix(points: np.ndarray, sites: np.ndarray, radius_km: float) -> sp.csc_array:
    """Sparse (points × sites) 0/1 matrix: site within ``radius_km`` (straight line) of the point."""
    m, n = len(points), len(sites)
    if m == 0 or n == 0:
        return sp.csc_array((m, n), dtype=np.float64)
    pairs = cKDTree(points).sparse_distance_matrix(cKDTree(sites), radius_km, output_type="ndarray")
    data = np.ones(len(pairs))
    return sp.csc_array((data, (pairs["i"], pairs["j"])), shape=(m, n))


def _check_limits(problem: SitingProblem, counts: Mapping[str, int] | None, budget: float | None) -> None:
    if counts is None and budget is None:
        raise AgingsimError("siting needs counts of new facilities by type, a budget, or both")
    if budget is not None and budget < 0:
        raise AgingsimError(f"budget must be ≥ 0, got {budget:g}")
    for t, k in (counts or {}).items():
        if k < 0:
            raise AgingsimError(f"count of new {t} must be ≥ 0, got {k}")


def _covered(problem: SitingProblem, chosen: np.ndarray) -> float:
    if len(chosen) == 0:
        return 0.0
    hit = np.asarray(problem.cover[:, chosen].sum(axis=1)).ravel() > 0
    return float(problem.weights[hit].sum())


def solve_greedy(
    problem: SitingProblem, counts: Mapping[str, int] | None = None, budget: float | None = None
) -> Solution:
    """Add, one at a time, the site covering the most people not yet covered (per yuan when a budget
    binds), while a type's count and the budget allow.

    With a budget the better of that and the best single affordable site is returned (Khuller, Moss &
    Naor 1999), which bounds how badly a single big, cheap-per-person site can be missed.
    """
    _check_limits(problem, counts, budget)
    t0 = time.perf_counter()
    _, n = problem.shape
    cover_t = problem.cover.T.tocsr()  # (n, m): rows are candidates
    residual = problem.weights.astype(float).copy()
    kinds, code = np.unique(np.asarray(problem.types, dtype=str), return_inverse=True)
    quota = np.array([counts.get(str(t), 0) if counts is not None else n for t in kinds], dtype=np.int64)
    left = float(budget) if budget is not None else np.inf
    allowed = np.ones(n, bool)
    cost = problem.cost.astype(float)
    chosen: list[int] = []
    total = 0.0
    while True:
        ok = allowed & (cost <= left + 1e-9) & (quota[code] > 0)
        if not ok.any():
            break
        gain = cover_t @ residual
        gain = np.where(ok, gain, -1.0)
        score = gain / np.maximum(cost, 1e-9) if budget is not None else gain
        score = np.where(ok, score, -np.inf)
        j = int(np.argmax(score))
        if gain[j] <= 0:
            break
        chosen.append(j)
        total += float(gain[j])
        residual[cover_t.indices[cover_t.indptr[j] : cover_t.indptr[j + 1]]] = 0.0
        allowed[j] = False
        left -= cost[j]
        quota[code[j]] -= 1
    picked = np.array(chosen, dtype=np.int64)
    if budget is not None:
        limit = np.array([counts.get(str(t), 0) if counts is not None else 1 for t in kinds])
        single_ok = (cost <= float(budget) + 1e-9) & (limit[code] > 0)
        if single_ok.any():
            gains = cover_t @ problem.weights.astype(float)
            j = int(np.argmax(np.where(single_ok, gains, -1.0)))
            if gains[j] > total:
                picked, total = np.array([j], dtype=np.int64), float(gains[j])
    return Solution(picked, total, "greedy", False, np.nan, time.perf_counter() - t0, "heuristic")


def _reduced_rows(problem: SitingProblem) -> tuple[sp.csr_array, np.ndarray]:
    """Rows of communities with people to cover that some candidate reaches, identical rows merged."""
    A = sp.csr_array(problem.cover)
    A.sum_duplicates()
    A.sort_indices()
    w = problem.weights.astype(float)
    keep = (np.diff(A.indptr) > 0) & (w > 0)
    A, w = A[np.flatnonzero(keep)], w[keep]
    keys = [A.indices[a:b].tobytes() for a, b in itertools.pairwise(A.indptr)]
    codes = pd.factorize(pd.Series(keys))[0]
    first = pd.Series(np.arange(len(codes))).groupby(codes).min().to_numpy()
    merged = np.bincount(codes, weights=w, minlength=len(first))
    A = A[first]
    A.data[:] = 1.0
    return A, merged


def solve_milp(
    problem: SitingProblem,
    counts: Mapping[str, int] | None = None,
    budget: float | None = None,
    time_limit: float | None = None,
    mip_rel_gap: float = 0.0,
) -> Solution:
    """The MCLP solved exactly with HiGHS through :func:`scipy.optimize.milp`.

    Two exact reductions keep the model small: communities reached by the same set of candidates are
    merged (their people summed), and a community only one candidate reaches needs no variable of its
    own (it is covered exactly when that candidate is built, so its people go on that candidate's
    objective). With a ``time_limit`` the best solution found is returned with ``optimal=False`` and
    HiGHS's bound.
    """
    _check_limits(problem, counts, budget)
    t0 = time.perf_counter()
    _, n = problem.shape
    A, w = _reduced_rows(problem)
    single = np.diff(A.indptr) == 1
    direct = np.zeros(n)  # people only candidate j can reach
    np.add.at(direct, A.indices[A.indptr[:-1][single]], w[single])
    A, w = A[~single], w[~single]
    r = len(w)
    if (r == 0 and not direct.any()) or n == 0:
        return Solution(np.array([], np.int64), 0.0, "milp", True, 0.0, time.perf_counter() - t0, "trivial")
    # variables: x (n, binary) then y (r, continuous in [0, 1])
    c = np.concatenate([-direct, -w])
    link = sp.hstack([-A, sp.eye_array(r)], format="csr")  # y_i − Σ_j a_ij x_j ≤ 0
    constraints = [LinearConstraint(link, -np.inf, 0.0)] if r else []
    if counts is not None:
        types = np.asarray(problem.types, dtype=object)
        kinds = sorted(counts)
        rows_t = (
            sp.csr_array(
                np.vstack([np.concatenate([(types == t).astype(float), np.zeros(r)]) for t in kinds])
            )
            if kinds
            else None
        )
        forbidden = ~np.isin(types, kinds)
        if rows_t is not None:
            constraints.append(LinearConstraint(rows_t, 0.0, np.array([counts[t] for t in kinds], float)))
    else:
        forbidden = np.zeros(n, bool)
    if budget is not None:
        constraints.append(
            LinearConstraint(
                np.concatenate([problem.cost.astype(float), np.zeros(r)])[None, :], -np.inf, float(budget)
            )
        )
    upper = np.concatenate([np.where(forbidden, 0.0, 1.0), np.ones(r)])
    integrality = np.concatenate([np.ones(n), np.zeros(r)])
    options: dict[str, float | bool] = {"mip_rel_gap": mip_rel_gap, "disp": False}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    res = milp(
        c,
        constraints=constraints,
        integrality=integrality,
        bounds=Bounds(np.zeros(n + r), upper),
        options=options,
    )
    if res.x is None:
        raise AgingsimError(f"the siting MILP found no solution: {res.message}")
    chosen = np.flatnonzero(res.x[:n] > 0.5)
    covered = _covered(problem, chosen)
    bound = -float(res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None else np.nan
    optimal = res.status == 0 and mip_rel_gap == 0.0
    return Solution(
        chosen,
        covered,
        "milp",
        bool(optimal),
        bound if not optimal else covered,
        time.perf_counter() - t0,
        str(res.message),
    )


def solve(
    problem: SitingProblem,
    counts: Mapping[str, int] | None = None,
    budget: float | None = None,
    method: Method = "auto",
    time_limit: float | None = DEFAULT_TIME_LIMIT_S,
) -> Solution:
    """MILP up to :data:`MILP_MAX_NONZEROS` coverage pairs, greedy beyond (``method="auto"``).

    When the MILP stops at its time limit, the better of its incumbent and greedy is returned, so the
    answer is never worse than greedy.
    """
    if method == "greedy" or (method == "auto" and problem.cover.nnz > MILP_MAX_NONZEROS):
        return solve_greedy(problem, counts, budget)
    exact = solve_milp(problem, counts, budget, time_limit=time_limit)
    if exact.optimal:
        return exact
    heuristic = solve_greedy(problem, counts, budget)
    return exact if exact.covered >= heuristic.covered else heuristic


# --------------------------------------------------------------------------- geography front end


@dataclass(frozen=True)
class SitingResult:
    """A siting plan on a geography, with what it covers and costs."""

    sites: pd.DataFrame  # chosen candidates: id, type, x_km, y_km, county, cost_cny, new_elders_covered
    solution: Solution
    weight: str  # "elders" or "elders_need"
    existing_year: int | None
    summary: dict[str, float | int | str | bool | None] = field(default_factory=dict)


def build_problem(
    geography: Geography, weight: str = "elders", existing_year: int | None = None
) -> tuple[SitingProblem, np.ndarray]:
    """The MCLP of a geography: people not yet within the circle of an open facility, and which
    candidates would bring them in. Returns the problem and the already-covered mask."""
    c, cand = geography.communities, geography.candidates
    if len(cand) == 0:
        raise AgingsimError(f"{geography.path}: the geography has no candidate sites (candidates = ...)")
    w = c[weight].to_numpy(float)
    if not np.isfinite(w).all():
        raise AgingsimError(f"{geography.path}: '{weight}' is not given for every community")
    already = nearest_facility(geography, existing_year)["within"].to_numpy(bool)
    cover = coverage_matrix(
        geography.community_xy(), cand[["x_km", "y_km"]].to_numpy(float), geography.walk.radius_km
    )
    problem = SitingProblem(
        np.where(already, 0.0, w), cover, cand["cost_cny"].to_numpy(float), cand["type"].to_numpy(object)
    )
    return problem, already


def site_facilities(
    geography: Geography,
    counts: Mapping[str, int] | None = None,
    budget_cny: float | None = None,
    weight: str = "elders",
    existing_year: int | None = None,
    method: Method = "auto",
    time_limit: float | None = DEFAULT_TIME_LIMIT_S,
) -> SitingResult:
    """Choose new sites among the geography's candidates to cover the most ``weight`` (elders or
    elders in need), keeping open facilities (``opens`` ≤ ``existing_year``; None = all in the file).

    People covered per 10,000 CNY of construction subsidy = newly covered ÷ (subsidy / 10,000).
    """
    problem, already = build_problem(geography, weight, existing_year)
    sol = solve(problem, counts, budget_cny, method, time_limit)
    cand = geography.candidates.iloc[sol.chosen]
    gain_each = _marginal_gains(problem, sol.chosen)
    sites = cand[["id", "type", "county", "x_km", "y_km", "cost_cny"]].assign(new_covered=gain_each)
    w = geography.communities[weight].to_numpy(float)
    before = float(w[already].sum())
    cost = float(cand["cost_cny"].sum())
    total = float(w.sum())
    summary: dict[str, float | int | str | bool | None] = {
        "weight": weight,
        "method": sol.method,
        "optimal": sol.optimal,
        "solver_status": sol.status,
        "solve_seconds": round(sol.seconds, 3),
        "communities": len(w),
        "candidates": int(problem.shape[1]),
        "coverage_pairs": int(problem.cover.nnz),
        "sites_chosen": len(sol.chosen),
        **{f"sites_{t}": int((cand["type"] == t).sum()) for t in sorted(set(problem.types))},
        "covered_before": before,
        "newly_covered": sol.covered,
        "covered_after": before + sol.covered,
        "total": total,
        "share_before": before / total if total else np.nan,
        "share_after": (before + sol.covered) / total if total else np.nan,
        "upper_bound_newly_covered": sol.bound if np.isfinite(sol.bound) else None,
        "mip_gap": (sol.bound - sol.covered) / sol.bound
        if np.isfinite(sol.bound) and sol.bound > 0
        else None,
        "construction_subsidy_cny": cost,
        "covered_per_10k_cny": sol.covered / (cost / 1e4) if cost > 0 else None,
        "budget_cny": budget_cny,
        "existing_year": existing_year,
    }
    return SitingResult(sites.reset_index(drop=True), sol, weight, existing_year, summary)


def _marginal_gains(problem: SitingProblem, chosen: np.ndarray) -> np.ndarray:
    """People each chosen site adds, crediting shared coverage to the site listed first."""
    residual = problem.weights.astype(float).copy()
    out = np.zeros(len(chosen))
    for k, j in enumerate(chosen):
        col = problem.cover[:, [j]].indices
        out[k] = residual[col].sum()
        residual[col] = 0.0
    return out


def coverage_curve(
    geography: Geography,
    facility_type: str,
    max_sites: int,
    weight: str = "elders",
    existing_year: int | None = None,
) -> pd.DataFrame:
    """Share covered as sites of one type are added greedily (sites, share_after): how many sites a
    coverage goal needs, to set against a plan's count (seed 002 二(二)-2's 320 stations)."""
    problem, already = build_problem(geography, weight, existing_year)
    sol = solve_greedy(problem, {facility_type: max_sites})
    w = geography.communities[weight].to_numpy(float)
    gains = _marginal_gains(problem, sol.chosen)
    covered = float(w[already].sum()) + np.concatenate([[0.0], np.cumsum(gains)])
    return pd.DataFrame({"sites": np.arange(len(covered)), "share_covered": covered / w.sum()})


def compare_with_targets(
    geography: Geography,
    weight: str = "elders",
    method: Method = "auto",
    time_limit: float | None = DEFAULT_TIME_LIMIT_S,
) -> pd.DataFrame:
    """The plan's target counts (``[targets]``, e.g. seed 002's 60 centres and 320 stations by 2023)
    set against the geography: coverage of the facilities in the file by the target year, coverage of
    the same counts sited optimally from scratch, and sites needed (greedy) for 90%, 95% and 100% of
    what the candidates can reach."""
    t = geography.targets
    if t is None:
        raise AgingsimError(f"{geography.path}: no [targets] in the geography file")
    w = geography.communities[weight].to_numpy(float)
    total = float(w.sum())
    rows: list[dict[str, object]] = []
    plan = nearest_facility(geography, t.year)["within"].to_numpy(bool)
    planned = {k: int((geography.facilities["type"] == k).sum()) for k in t.counts}
    rows.append(
        {
            "measure": f"share covered by the facilities file in {t.year}",
            "target": np.nan,
            "value": float(w[plan].sum()) / total,
            **{f"n_{k}": planned[k] for k in t.counts},
        }
    )
    empty = geography.facilities.iloc[0:0]
    scratch = replace(geography, facilities=empty)
    best = site_facilities(scratch, counts=t.counts, weight=weight, method=method, time_limit=time_limit)
    rows.append(
        {
            "measure": "share covered by the target counts sited optimally",
            "target": np.nan,
            "value": best.summary["share_after"],
            **{f"n_{k}": best.summary.get(f"sites_{k}", 0) for k in t.counts},
        }
    )
    problem, _ = build_problem(scratch, weight, None)
    reachable = float(problem.weights[np.asarray(problem.cover.sum(axis=1)).ravel() > 0].sum())
    rows.append(
        {
            "measure": "share the candidate sites can reach at all",
            "target": np.nan,
            "value": reachable / total,
        }
    )
    for kind in t.counts:
        curve = coverage_curve(scratch, kind, int((geography.candidates["type"] == kind).sum()), weight)
        for goal in (0.9, 0.95, 1.0):
            need = curve.loc[curve["share_covered"] >= goal * reachable / total - 1e-12, "sites"]
            rows.append(
                {
                    "measure": f"{kind} sites needed for {goal:.0%} of reachable (greedy, alone)",
                    "target": t.counts[kind],
                    "value": float(need.iloc[0]) if len(need) else np.nan,
                }
            )
    return pd.DataFrame(rows)
