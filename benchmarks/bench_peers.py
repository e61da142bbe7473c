"""Benchmark: agingsim's population engine against its peers on the same dynamics (issue 17).

Not a test: timings depend on the machine and its load (this one is shared), so they are printed and
written to JSON, never asserted. Every arm simulates the same thing, from the same starting people:

* five ability levels plus death, with the default scenario's monthly transition matrices
  P = expm(Q/12) by single year of age and sex (agingsim's ability model, the 1 January tables);
* ageing by one month each month, and the scenario's monthly cohort of people turning 60;
* counts of the living by level each 1 January.

Arms: ``agingsim`` (the model with no policy and no behaviour), ``numpy`` (a minimal single-threaded
numpy loop: the reference for how fast plain array code goes), ``starsim`` (a Starsim module on
Starsim's People, CRN draws and ageing), ``mesa`` (naive Mesa: one Agent per person, run smaller and
scaled per person-month). ``mesa-frames`` is recorded as not run when it cannot be imported (its only
release pins numpy 1.26, which agingsim's numpy 2 excludes). Arms alternate within each repeat; each
keeps its best time. Before timing, the yearly counts of every arm are checked against agingsim's for
statistical equivalence (each arm's own seed; |difference| within 4 binomial standard errors of the
two runs, per level and year). Run::

    python benchmarks/bench_peers.py [--size 1000000] [--months 240] [--repeats 3]
        [--mesa-size 20000] [--mesa-months 24] [--out benchmarks/results/peers.json]

Reported: seconds for the months (setup excluded), person-months per second, and each arm's time
relative to agingsim's (per person-month for the naive Mesa arm).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

import agingsim
from agingsim.model import MONTHS_PER_YEAR, AgingModel
from agingsim.population.attributes import DEAD
from agingsim.scenario.files import default_scenario_path
from agingsim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "peers.json"
N_STATES = DEAD + 1


@dataclass
class Problem:
    """The shared dynamics: starting people, monthly matrices and entrants."""

    age_m: np.ndarray  # int16 starting ages in months
    sex: np.ndarray  # int8, 0 male
    level: np.ndarray  # int8 0–4
    monthly: np.ndarray  # (n_ages, 2, 6, 6) from age 60
    stay: np.ndarray  # sampling tables of the same matrices, "stay" first (AbilityModel's fields)
    cum: np.ndarray
    order: np.ndarray
    entrants: np.ndarray  # (n_months,) people turning 60 each month
    male_share: float
    entry_levels: np.ndarray  # (5,) level shares of those turning 60
    months: int

    @property
    def n_ages(self) -> int:
        return self.monthly.shape[0]

    def cumulative(self) -> np.ndarray:
        """(n_ages * 2 * 6, 6) cumulative rows, cell = (age_idx * 2 + sex) * 6 + level."""
        return np.cumsum(self.monthly.reshape(-1, N_STATES), axis=1)


def scenario_for(size: int, months: int) -> Any:
    sc = load_scenario(default_scenario_path())
    sc = sc.with_run(simulated_people=size, years=max(1, -(-months // MONTHS_PER_YEAR)))
    return replace(sc, behaviour=None, file=sc.file.model_copy(update={"policy": None}))


def make_problem(size: int, months: int) -> Problem:
    model = AgingModel(scenario_for(size, months))
    p = model.people
    probe = model.synth.entrants(np.random.default_rng(0), 200_000, 0.5, 1.0)["ability"]
    levels = np.bincount(probe, minlength=5)[:5] / len(probe)
    return Problem(
        p.age_m.copy(),
        p.sex.copy(),
        p.ability.copy(),
        model.year_ability.monthly,
        model.year_ability.stay,
        model.year_ability.cumulative,
        model.year_ability.order,
        model.entry.count[:months].copy(),
        # entrants' male share, one figure for the peers' arms: the count-weighted mean of the
        # model's monthly shares (a census-base region's cohorts give one share a month)
        float(np.average(model.entry.male_share[:months], weights=np.maximum(model.entry.count[:months], 1))),
        levels,
        months,
    )


# --------------------------------------------------------------------------- arms


def arm_agingsim(problem: Problem, size: int, seed: int) -> tuple[float, np.ndarray]:
    model = AgingModel(scenario_for(size, problem.months).with_run(seed=seed))
    counts = []
    t = 0.0
    for m in range(problem.months):
        if m % MONTHS_PER_YEAR == 0:
            counts.append(np.bincount(model.people.ability, minlength=N_STATES)[:DEAD])
        t0 = time.perf_counter()
        model.step()
        t += time.perf_counter() - t0
    return t, np.array(counts)


def arm_numpy(problem: Problem, size: int, seed: int) -> tuple[float, np.ndarray]:
    """The plain way, one thread: a float per person, the cell from age, sex and level, one gather
    of the stay probability, the inverse CDF on the movers, age the living, compact yearly."""
    rng = np.random.default_rng(seed)
    cap = len(problem.age_m) + int(problem.entrants.sum())
    age = np.zeros(cap, np.int16)
    sex = np.zeros(cap, np.int8)
    lvl = np.zeros(cap, np.int8)
    n = len(problem.age_m)
    age[:n], sex[:n], lvl[:n] = problem.age_m, problem.sex, problem.level
    entry_cum = np.cumsum(problem.entry_levels)
    counts = []
    t0 = time.perf_counter()
    for m in range(problem.months):
        if m % MONTHS_PER_YEAR == 0:
            counts.append(np.bincount(lvl[:n], minlength=N_STATES)[:DEAD])
            keep = lvl[:n] != DEAD
            k = int(keep.sum())
            age[:k], sex[:k], lvl[:k] = age[:n][keep], sex[:n][keep], lvl[:n][keep]
            n = k
        e = int(problem.entrants[m])
        age[n : n + e] = 720
        sex[n : n + e] = rng.random(e) >= problem.male_share
        lvl[n : n + e] = np.searchsorted(entry_cum, rng.random(e) * 0.999999999)
        n += e
        u = rng.random(n)
        cell = np.minimum(age[:n] // 12 - 60, problem.n_ages - 1).astype(np.int32)
        cell *= 2
        cell += sex[:n]
        cell *= N_STATES
        cell += lvl[:n]
        movers = np.flatnonzero(u >= problem.stay.take(cell))
        c = cell[movers]
        k = (u[movers, None] >= problem.cum[c]).sum(axis=1)
        lvl[movers] = problem.order[c, k]
        age[:n] += lvl[:n] != DEAD
    return time.perf_counter() - t0, np.array(counts)


def arm_starsim(problem: Problem, size: int, seed: int) -> tuple[float, np.ndarray]:
    import starsim as ss

    class Ability(ss.Module):
        """Level and death by the monthly matrices; entrants at 60 are added each month."""

        def __init__(self) -> None:
            super().__init__()
            self.define_states(ss.FloatArr("level", default=0.0))
            self.dist = ss.random()
            self.entry = ss.random()
            self.counts: list[np.ndarray] = []

        def init_post(self) -> None:
            super().init_post()
            ppl = self.sim.people
            uids = ppl.auids
            ppl.age[uids] = problem.age_m / 12.0
            ppl.female[uids] = problem.sex.astype(bool)
            self.level[uids] = problem.level

        def step(self) -> None:
            ppl = self.sim.people
            m = self.ti
            if m % MONTHS_PER_YEAR == 0:
                lv = self.level[ppl.auids].astype(np.int64)
                self.counts.append(np.bincount(lv, minlength=N_STATES)[:DEAD])
            e = int(problem.entrants[m]) if m < problem.months else 0
            if e:
                new = ppl.grow(e)
                u = np.random.default_rng([seed, m]).random((2, e))
                ppl.age[new] = 60.0
                ppl.female[new] = u[0] >= problem.male_share
                self.level[new] = np.searchsorted(np.cumsum(problem.entry_levels), u[1] * 0.999999999)
            uids = ppl.auids
            u = self.dist.rvs(uids)
            a = np.minimum(np.floor(ppl.age[uids] + 1e-9).astype(np.int64) - 60, problem.n_ages - 1)
            own = self.level[uids].astype(np.int64)
            cell = (a * 2 + ppl.female[uids]) * N_STATES + own
            movers = np.flatnonzero(u >= problem.stay[cell])
            c = cell[movers]
            k = (u[movers, None] >= problem.cum[c]).sum(axis=1)
            nxt = problem.order[c, k]
            self.level[uids[movers]] = nxt
            ppl.request_death(uids[movers[nxt == DEAD]])

    mod = Ability()
    sim = ss.Sim(
        n_agents=len(problem.age_m),
        start=2025,
        dur=ss.months(problem.months),
        dt=ss.months(1),
        rand_seed=seed,
        modules=[mod],
        use_aging=True,
        copy_inputs=False,
        verbose=0,
    )
    sim.init()
    t0 = time.perf_counter()
    sim.run()
    return time.perf_counter() - t0, np.array(mod.counts[: -(-problem.months // MONTHS_PER_YEAR)])


def arm_mesa(problem: Problem, size: int, seed: int) -> tuple[float, np.ndarray]:
    import mesa

    cum = problem.cumulative()
    entry_cum = np.cumsum(problem.entry_levels)

    class Person(mesa.Agent):
        def __init__(self, model: mesa.Model, age_m: int, sex: int, level: int) -> None:
            super().__init__(model)
            self.age_m, self.sex, self.level = age_m, sex, level

        def step(self) -> None:
            a = min(self.age_m // 12 - 60, problem.n_ages - 1)
            row = cum[(a * 2 + self.sex) * N_STATES + self.level]
            nxt = min(int(np.searchsorted(row, self.model.random.random(), side="right")), DEAD)
            if nxt == DEAD:
                self.remove()
                return
            self.level = nxt
            self.age_m += 1

    class Pop(mesa.Model):
        def __init__(self) -> None:
            super().__init__(rng=seed)
            for a, s, lv in zip(problem.age_m, problem.sex, problem.level, strict=True):
                Person(self, int(a), int(s), int(lv))
            self.counts: list[np.ndarray] = []

        def step(self) -> None:
            m = self.steps - 1
            if m % MONTHS_PER_YEAR == 0:
                lv = [ag.level for ag in self.agents]
                self.counts.append(np.bincount(lv, minlength=N_STATES)[:DEAD])
            for _ in range(int(problem.entrants[m])):
                s = int(self.random.random() >= problem.male_share)
                lv = int(np.searchsorted(entry_cum, self.random.random() * 0.999999999))
                Person(self, 720, s, lv)
            self.agents.shuffle_do("step")

    model = Pop()
    t0 = time.perf_counter()
    for _ in range(problem.months):
        model.step()
    return time.perf_counter() - t0, np.array(model.counts)


ARMS = {"agingsim": arm_agingsim, "numpy": arm_numpy, "starsim": arm_starsim, "mesa": arm_mesa}


def equivalent(a: np.ndarray, b: np.ndarray) -> tuple[bool, float]:
    """Yearly counts by level of two independent runs agree within 4 binomial SEs (returns the
    largest |difference| / SE)."""
    total = a.sum(axis=1, keepdims=True)
    p = (a + b) / (2 * np.maximum(total, 1))
    se = np.sqrt(2 * total * p * (1 - p)) + 1.0
    z = np.abs(a - b) / se
    return bool((z <= 4).all()), float(z.max())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=240)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--mesa-size", type=int, default=20_000)
    ap.add_argument("--mesa-months", type=int, default=24)
    ap.add_argument("--check-size", type=int, default=200_000, help="people in the equivalence check")
    ap.add_argument("--arms", default=",".join(ARMS))
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    arms = [a for a in args.arms.split(",") if a]
    available, skipped = [], {}
    for arm in arms:
        try:
            if arm == "starsim":
                import starsim  # noqa: F401
            elif arm == "mesa-frames":
                import mesa_frames  # noqa: F401

                skipped[arm] = "imported, but no arm is written for it"
                continue
            available.append(arm)
        except ImportError as exc:
            skipped[arm] = f"not installed ({exc})"
    skipped.setdefault(
        "mesa-frames",
        "not run: its only release on PyPI (0.1.0a0) requires numpy~=1.26; agingsim needs numpy>=2",
    )

    # statistical equivalence of the yearly counts, each arm against agingsim (other seeds)
    check_months = min(args.months, 120)
    check = {}
    for arm in available:
        size = args.mesa_size if arm == "mesa" else args.check_size
        months = min(check_months, args.mesa_months) if arm == "mesa" else check_months
        prob = make_problem(size, months)
        _, ref = arm_agingsim(prob, size, 1)
        _, got = ARMS[arm](prob, size, 2)
        ok, z = equivalent(ref, got)
        check[arm] = {"people": size, "months": months, "equivalent": ok, "max_abs_z": z}
        print(f"equivalence {arm:>9}: {'OK' if ok else 'DIFFERENT'} (max |z| {z:.2f})", flush=True)
    if not all(c["equivalent"] for c in check.values()):
        print("an arm's yearly counts differ from agingsim's: not timing", file=sys.stderr)
        return 1

    problems = {
        "full": make_problem(args.size, args.months),
        "mesa": make_problem(args.mesa_size, args.mesa_months),
    }
    best: dict[str, dict[str, float]] = {}
    for r in range(args.repeats):
        for arm in available:
            key = "mesa" if arm == "mesa" else "full"
            prob = problems[key]
            size = args.mesa_size if arm == "mesa" else args.size
            seconds, counts = ARMS[arm](prob, size, 10 + r)
            pm = float(counts.sum(axis=1).mean()) * prob.months  # person-months (mean living × months)
            print(f"repeat {r + 1} {arm:>9}: {seconds:8.2f} s", flush=True)
            if arm not in best or seconds < best[arm]["seconds"]:
                best[arm] = {
                    "seconds": seconds,
                    "people": size,
                    "months": prob.months,
                    "person_months": pm,
                    "person_months_per_s": pm / seconds,
                }
    base = best["agingsim"]["person_months_per_s"]
    for b in best.values():
        b["time_vs_agingsim_per_person_month"] = base / b["person_months_per_s"]
    report = {
        "benchmark": "peers",
        "command": "python benchmarks/bench_peers.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": dt.date.today().isoformat(),
        "agingsim": agingsim.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "threads": os.environ.get("AGINGSIM_THREADS", "all cores"),
        "note": "shared machine: timings are side by side in one run, arms alternated, best of repeats",
        "equivalence": check,
        "arms": best,
        "skipped": skipped,
        "ratio_agingsim_to_numpy": best["agingsim"]["seconds"] / best["numpy"]["seconds"]
        if "numpy" in best
        else None,
        "ratio_starsim_to_agingsim": best["starsim"]["seconds"] / best["agingsim"]["seconds"]
        if "starsim" in best
        else None,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"{'arm':>10} {'seconds':>9} {'M person-months/s':>18} {'time vs agingsim':>17}")
    for arm, b in best.items():
        print(
            f"{arm:>10} {b['seconds']:9.2f} {b['person_months_per_s'] / 1e6:18.2f} "
            f"{b['time_vs_agingsim_per_person_month']:17.2f}"
        )
    for arm, why in skipped.items():
        print(f"{arm:>10} {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
