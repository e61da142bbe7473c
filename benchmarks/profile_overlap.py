"""Profile: where the wall time of AgingModel.run goes with the overlap (issue 17).

Not a test and not a benchmark of record: it wraps the model's stages, the care thread's tasks and
every compiled kernel in timers (which cost a little themselves), runs the default scenario once to
load the kernels, then once measured, and prints per stage the wall and thread-CPU seconds, the main
thread's waits for the care thread (a histogram by month), the care thread's busy time and the gaps
between its tasks, how long a task waits to start after its submission, and the kernels' CPU by
thread and by kernel (the kernels release the GIL; the rest of a stage's CPU holds it). Run::

    python benchmarks/profile_overlap.py [--size 1000000] [--months 240] [--overlap 1] [--population-only]
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

import numpy as np

import agingsim.model as model_module
from agingsim.model import MONTHS_PER_YEAR, AgingModel
from agingsim.scenario.files import default_scenario_path
from agingsim.scenario.loader import load_scenario

#: stage -> (month, wall s, thread CPU s) per call
CALLS: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
#: the care thread's tasks: (kind, month submitted, submitted at, started at, ended at)
TASKS: list[tuple[str, int, float, float, float]] = []
KERNEL_BY_THREAD: dict[str, float] = defaultdict(float)
KERNEL_BY_NAME: dict[str, float] = defaultdict(float)
MONTH = [0]
EDGES_MS = [0, 0.01, 0.1, 0.5, 1, 2, 3, 5, 10, 100, 1000]


def _timed(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        t, c = time.perf_counter(), time.thread_time()
        try:
            return f(*args, **kwargs)
        finally:
            CALLS[name].append((MONTH[0], time.perf_counter() - t, time.thread_time() - c))

    return run


class _Waited:
    """A future whose result() records how long the caller waited for it."""

    def __init__(self, future: Future[Any], kind: str) -> None:
        self.future, self.kind = future, kind

    def result(self) -> Any:
        t = time.perf_counter()
        try:
            return self.future.result()
        finally:
            CALLS["wait:" + self.kind].append((MONTH[0], time.perf_counter() - t, 0.0))


def _background(submit: Callable[..., Future[Any]]) -> Callable[[Callable[[], Any]], _Waited]:
    def background(task: Callable[[], Any]) -> _Waited:
        names = task.__code__.co_names
        kind = next((k for k in ("_freeze", "_care_month", "pack_fixed") if k in names), "other")
        month, submitted = MONTH[0], time.perf_counter()

        def run() -> Any:
            t0 = time.perf_counter()
            try:
                return task()
            finally:
                TASKS.append((kind.strip("_"), month, submitted, t0, time.perf_counter()))

        return _Waited(submit(run), kind.strip("_"))

    return background


def _time_kernels() -> None:
    """Every numba dispatcher of the model's kernel modules, by thread and by kernel (thread CPU)."""
    from numba.core.registry import CPUDispatcher

    import agingsim.ability.fused as ability_fused
    import agingsim.schemes.fused as schemes_fused
    import agingsim.services.kernels as care_kernels

    for module in (ability_fused, schemes_fused, care_kernels):
        for name, value in list(vars(module).items()):
            if not isinstance(value, CPUDispatcher):
                continue

            def timed(*args: Any, _kernel: Any = value, _name: str = name) -> Any:
                c = time.thread_time()
                try:
                    return _kernel(*args)
                finally:
                    d = time.thread_time() - c
                    KERNEL_BY_THREAD[threading.current_thread().name.split("_")[0]] += d
                    KERNEL_BY_NAME[_name] += d

            setattr(module, name, timed)


def _histogram(title: str, seconds: np.ndarray) -> None:
    print(f"{title}, months by wait:")
    counts, _ = np.histogram(seconds * 1e3, bins=EDGES_MS)
    for a, b, k in zip(EDGES_MS[:-1], EDGES_MS[1:], counts, strict=True):
        if k:
            print(f"  {a:7.2f}-{b:7.2f} ms: {k:4d} {'#' * int(k / 2)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=240)
    ap.add_argument("--overlap", type=int, default=1, help="1 overlapped (as a run at this size), 0 plain")
    ap.add_argument(
        "--population-only", action="store_true", help="no behaviour model (bench_behaviour's other arm)"
    )
    args = ap.parse_args(argv)
    years = max(1, -(-args.months // MONTHS_PER_YEAR))
    scenario = load_scenario(default_scenario_path()).with_run(simulated_people=args.size, years=years)
    if args.population_only:
        scenario = replace(scenario, behaviour=None)
    AgingModel(scenario, overlap=bool(args.overlap)).run()  # numba's cached code loaded, untimed
    model_module.background = _background(model_module.background)  # type: ignore[assignment]
    _time_kernels()
    model = AgingModel(scenario, overlap=bool(args.overlap))
    for attr, name in (
        ("_enter_cohort", "entry"),
        ("_transition", "transition"),
        ("_new_year", "new_year"),
        ("_freeze", "freeze"),
        ("_care_month", "care_month"),
    ):
        if hasattr(model, attr):
            setattr(model, attr, _timed(name, getattr(model, attr)))
    if model.care is not None:  # the care stage's first part, on the main thread (CareSystem.begin_step)
        model.care.begin_step = _timed("care_begin", model.care.begin_step)  # type: ignore[method-assign]
    model.datacollector.collect = _timed("collect", model.datacollector.collect)  # type: ignore[method-assign]
    model.people.compact = _timed("new_year:compact", model.people.compact)  # type: ignore[method-assign]
    model.collector.snapshot = _timed("new_year:snapshot", model.collector.snapshot)  # type: ignore[method-assign]
    step, ends = model.step, []

    def counted_step() -> None:
        step()
        ends.append(time.perf_counter())
        MONTH[0] += 1

    model.step = counted_step  # type: ignore[method-assign]
    t0, c0 = time.perf_counter(), time.process_time()
    model.run()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"run: {wall:.3f} s wall, {cpu:.3f} s process CPU, {len(ends)} months, overlap {model.overlap}")
    print(f"{'stage':>18} {'wall s':>7} {'cpu s':>7} {'median ms':>10} {'p90 ms':>7} {'max ms':>7}")
    for name, rows in sorted(CALLS.items()):
        w, c = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
        print(
            f"{name:>18} {w.sum():7.3f} {c.sum():7.3f} {np.median(w) * 1e3:10.3f} "
            f"{np.percentile(w, 90) * 1e3:7.3f} {w.max() * 1e3:7.3f}  ({len(w)} calls)"
        )
    if TASKS:
        tasks = sorted(TASKS, key=lambda x: x[3])
        busy = sum(e - s for *_, s, e in tasks)
        gaps = np.array([b[3] - a[4] for a, b in itertools.pairwise(tasks)])
        late = np.array([s - q for _, _, q, s, _ in tasks])
        print(
            f"care thread: busy {busy:.3f} s of {tasks[-1][4] - tasks[0][3]:.3f} s; gaps between tasks "
            f"{gaps.sum():.3f} s (median {np.median(gaps) * 1e3:.3f} ms); a task starts a median "
            f"{np.median(late) * 1e3:.3f} ms after its submission"
        )
        for kind in sorted({name for name in CALLS if name.startswith("wait:")}):
            _histogram(f"main thread's {kind}", np.array([r[1] for r in CALLS[kind]]))
    print("kernels' CPU s by thread:", {k: round(v, 3) for k, v in KERNEL_BY_THREAD.items()})
    top = sorted(KERNEL_BY_NAME.items(), key=lambda kv: -kv[1])
    print("kernels' CPU s:", {k: round(v, 3) for k, v in top if v >= 0.001})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
