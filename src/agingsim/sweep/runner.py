"""Run a sweep: in this process, on local worker processes, or on a Dask cluster; same rows either way.

Workers only compute: each gets a validated :class:`Scenario` and returns its rows, and this process
writes every file. So a Dask worker needs agingsim installed but no shared disk, a worker that dies
loses only the run it was computing, and the store has one writer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agingsim import __version__
from agingsim.errors import AgingsimError, ScenarioError
from agingsim.fiscal.ledger import WAN
from agingsim.population.attributes import ABILITY_LEVELS, NEEDS_CARE_FROM
from agingsim.scenario import Scenario
from agingsim.scenario.files import display_path
from agingsim.scenario.schema import PAYER_LEVELS
from agingsim.simulate import run_scenario
from agingsim.sweep.plan import Plan, RunSpec, remove_orphan_copies
from agingsim.sweep.spec import SENSITIVITY, Sweep, load_sweep
from agingsim.sweep.store import Store


@dataclass(frozen=True)
class Task:
    """What a worker needs for one run (picklable; no files)."""

    spec: RunSpec
    sweep: str
    scenario_file: str
    scenario: Scenario


def result_rows(task: Task, result: Any) -> pd.DataFrame:
    """One row per year from the first 1 January to the last: stocks at 1 January, flows and costs
    during that year (null in the closing year, which the run does not simulate); with a behaviour
    model also the people needing care in a formal setting and their share of those needing care
    (monthly means over the year, RunResult.needing_care_by_year)."""
    spec, run = task.spec, task.scenario.run
    pop = result.population
    years = sorted(int(y) for y in pop["year"].unique())
    people = pop.groupby("year")["people"].sum().reindex(years, fill_value=0.0)
    needy = pop[pop["ability_level"].isin(ABILITY_LEVELS[NEEDS_CARE_FROM:])]
    need = needy.groupby("year")["people"].sum().reindex(years, fill_value=0.0)
    demo = result.demography.groupby("year")[["entrants", "deaths"]].sum().reindex(years)
    ledger = result.ledger
    levels = list(PAYER_LEVELS)
    if ledger.empty:
        cost = pd.DataFrame(0.0, index=years, columns=levels)
        total = pd.Series(0.0, index=years)
    else:
        cost = ledger.pivot_table(
            index="year", columns="payer_level", values="amount_cny", aggfunc="sum", fill_value=0.0
        )
        levels += [str(c) for c in cost.columns if c not in levels]
        cost = cost.reindex(index=years, columns=levels, fill_value=0.0) / WAN
        total = ledger.groupby("year")["amount_cny"].sum().reindex(years, fill_value=0.0) / WAN
    simulated = np.array([y < run.start_year + run.years for y in years])
    frame = pd.DataFrame(
        {
            "sweep": task.sweep,
            "scenario": task.scenario_file,
            "run_key": spec.key,
            "point": spec.point,
            "replication": spec.replication,
            "seed": spec.seed,
            "version": __version__,
            "year": years,
            "people_60plus": people.to_numpy(dtype=float),
            "needing_care": need.to_numpy(dtype=float),
            "entrants": np.where(simulated, demo["entrants"].to_numpy(dtype=float), np.nan),
            "deaths": np.where(simulated, demo["deaths"].to_numpy(dtype=float), np.nan),
        }
    )
    for level in levels:
        frame[f"cost_{level}_wan"] = np.where(simulated, cost[level].to_numpy(dtype=float), np.nan)
    frame["cost_total_wan"] = np.where(simulated, total.to_numpy(dtype=float), np.nan)
    if not result.coverage.empty:  # the behaviour model: how many of those in need get formal care
        in_need, formal = result.needing_care_by_year()  # monthly means over each simulated year
        in_need, formal = in_need.reindex(years), formal.reindex(years, fill_value=0.0)
        frame["needing_care_served"] = np.where(simulated, formal.to_numpy(dtype=float), np.nan)
        share = (formal / in_need.where(in_need > 0)).to_numpy(dtype=float)
        frame["needing_care_served_share"] = np.where(simulated, share, np.nan)
    for name, value in spec.params.items():
        frame[name] = value
    frame["run_time_s"] = float(result.run_time_s)
    return frame


def execute(task: Task) -> pd.DataFrame:
    """Worker entry point: run one scenario and return its store rows."""
    result = run_scenario(task.scenario, replication=task.spec.replication)
    return result_rows(task, result)


def _exit_with_parent(parent: int, every_s: float = 1.0) -> None:
    """Watch the parent: a worker whose sweep was killed (SIGKILL gives it no chance to stop its
    pool) exits instead of living on as an orphan."""
    while True:
        time.sleep(every_s)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(parent: int | None = None) -> None:
    """One thread per worker process: the processes already use every core (results do not change);
    and a watchdog so the worker exits with its parent."""
    os.environ.setdefault("AGINGSIM_THREADS", "1")
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


Outcome = tuple[Task, pd.DataFrame | None, str | None]  # rows, or the error text


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)).strip()


def _serial(tasks: list[Task]) -> Iterator[Outcome]:
    for task in tasks:
        try:
            yield task, execute(task), None
        except Exception as exc:
            yield task, None, _error_text(exc)


def start_pool(workers: int) -> ProcessPoolExecutor:
    """Start the worker processes now, so they import agingsim while the sweep is being validated."""
    # spawn, as mesa sets: a forked child would inherit this process's threads and locks
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),)
    )
    for _ in range(workers):
        pool.submit(int)  # a trivial task per worker makes the pool spawn every process
    return pool


def _processes(tasks: list[Task], pool: ProcessPoolExecutor) -> Iterator[Outcome]:
    futures = {pool.submit(execute, task): task for task in tasks}
    try:
        for future in as_completed(futures):
            task = futures[future]
            try:
                yield task, future.result(), None
            except BrokenProcessPool:
                raise
            except Exception as exc:
                yield task, None, _error_text(exc)
    except BrokenProcessPool:
        raise AgingsimError(
            "a worker process died (out of memory or killed); finished runs are in the store: "
            "run the same sweep again to resume"
        ) from None
    finally:
        for future in futures:
            future.cancel()


def _dask(tasks: list[Task], address: str | Any, resume: str = "") -> Iterator[Outcome]:
    """Submit to a running Dask scheduler; Dask re-runs a task whose worker dies. A scheduler lost
    mid-sweep is a clear message saying how to resume, not a traceback."""
    from distributed import Client
    from distributed import as_completed as dask_completed
    from distributed.comm.core import CommClosedError

    try:
        client = address if isinstance(address, Client) else Client(address, set_as_default=False, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        raise AgingsimError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    lost = (CommClosedError, OSError, TimeoutError, asyncio.CancelledError, concurrent.futures.CancelledError)
    quiet = _NoTracebacks()  # the client logs its failed reconnects with tracebacks; we say what happened
    handlers = [*logging.getLogger("distributed").handlers, *logging.getLogger().handlers]
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        futures = {client.submit(execute, task, pure=False): task for task in tasks}
        for future in dask_completed(list(futures), loop=client.loop):
            task = futures[future]
            if future.status == "cancelled" and client.status not in ("running", "connecting"):
                raise CommClosedError("scheduler connection closed")
            try:
                yield task, future.result(), None
            except lost:
                raise
            except Exception as exc:
                yield task, None, _error_text(exc)
            finally:
                future.release()
        if client.status not in ("running",):
            raise CommClosedError("scheduler connection closed")
    except lost as exc:
        raise AgingsimError(
            f"lost the Dask scheduler at {address} ({type(exc).__name__}: {exc}); finished runs are in "
            f"the store: resume with {resume or 'the same agingsim sweep command'}"
        ) from None
    finally:
        if client is not address:
            with contextlib.suppress(Exception):
                client.close(timeout=5)
        for handler in handlers:
            handler.removeFilter(quiet)


class _NoTracebacks(logging.Filter):
    """Keep a log record's message, drop its traceback (a user error never shows one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


@dataclass
class SweepReport:
    """What a sweep did, for the summary and for tests."""

    sweep: Sweep
    store: Store
    total: int
    skipped: int
    done: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    where: str = ""
    sensitivity: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        meta = self.sweep.meta
        n_points = self.total // meta.replications
        out = [
            f"Sweep {meta.name}: {self.total} runs ({n_points} points × {meta.replications} replications, "
            f"design {meta.design}) · base {display_path(self.sweep.scenario_path)}",
            f"  already in the store {self.skipped} · ran {self.done} · failed {len(self.failures)} · "
            f"{self.seconds:.1f} s on {self.where}",
            f'  store: {self.store.dir}/ (agingsim query {self.store.root} "SELECT ... FROM runs")',
        ]
        out += [f"  sensitivity: {p}" for p in self.sensitivity]
        out += [f"  note: {n}" for n in self.notes]
        if self.failures:
            out.append(f"Failures ({len(self.failures)}, details in {self.store.failures_path}):")
            for f in self.failures:
                last = f["error"].strip().splitlines()[-1] if f["error"].strip() else "?"
                run = f"point {f['point']} replication {f['replication']} {f['params']}"
                out.append(f"  {f['run_key']} {run}: {last}")
        return out


def run_sweep(
    sweep_file: str | Path,
    store: str | Path = "out/sweeps",
    workers: int | None = None,
    scheduler: str | Any | None = None,
    progress: bool | None = None,
    on_result: Callable[[RunSpec], None] | None = None,
) -> SweepReport:
    """Validate every run, then compute the ones not yet in the store and write each as it finishes.

    ``workers`` = 1 runs in this process; more use local processes; ``scheduler`` (an address or a
    ``distributed.Client``) sends runs to a Dask cluster instead.
    """
    t0 = time.perf_counter()
    if workers is None:
        workers = os.cpu_count() or 1
    if workers < 1:
        raise ScenarioError(sweep_file, "--workers", f"must be at least 1 (got {workers})")
    sweep = load_sweep(sweep_file)
    plan = Plan(sweep)
    remove_orphan_copies([sweep.scenario_path.parent, *(p.parent for p, _ in _referenced_files(plan))])
    st = Store(store, sweep.name)
    finished = st.finished()
    pending = [r for r in plan.runs if r.key not in finished]
    report = SweepReport(sweep, st, total=len(plan.runs), skipped=len(plan.runs) - len(pending))
    local = min(workers, len(pending))
    pool = start_pool(local) if scheduler is None and local > 1 else None
    try:
        # every design point that still has runs to do is validated before any run starts
        scenarios = {i: plan.load(plan.points[i]) for i in sorted({r.point for r in pending})}
        shown = display_path(sweep.scenario_path)
        tasks = [Task(r, sweep.name, shown, scenarios[r.point]) for r in pending]
        st.prepare()
        (st.dir / "sweep.toml").write_bytes(Path(sweep_file).read_bytes())
        st.reset_failures({r.key for r in pending})
        if scheduler is not None:
            resume = f"agingsim sweep {sweep_file} --store {store} --scheduler <a running scheduler>"
            outcomes = _dask(tasks, scheduler, resume)
            report.where = f"Dask scheduler {scheduler if isinstance(scheduler, str) else 'client'}"
        elif pool is not None:
            outcomes = _processes(tasks, pool)
            report.where = f"{local} local worker processes"
        else:
            outcomes = _serial(tasks)
            report.where = "this process"
        _collect(outcomes, report, progress, on_result)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    if sweep.meta.design in SENSITIVITY:
        from agingsim.sweep.sensitivity import analyse

        report.sensitivity, report.notes = analyse(sweep, plan, st)
    report.seconds = time.perf_counter() - t0
    return report


def _collect(
    outcomes: Iterator[Outcome],
    report: SweepReport,
    progress: bool | None,
    on_result: Callable[[RunSpec], None] | None,
) -> None:
    """Write each finished run, record each failure, and keep the progress bar up to date."""
    from tqdm import tqdm

    st, total = report.store, report.total - report.skipped
    disable = None if progress is None else not progress  # None: shown on a terminal only
    bar = tqdm(total=total, desc=f"sweep {report.sweep.name}", unit="run", disable=disable, file=sys.stderr)
    try:
        for task, rows, error in outcomes:
            spec = task.spec
            if rows is not None:
                st.write(spec.key, rows)
                report.done += 1
            else:
                record = {
                    "run_key": spec.key,
                    "point": spec.point,
                    "replication": spec.replication,
                    "seed": spec.seed,
                    "params": spec.params,
                    "error": error or "",
                }
                st.record_failure(record)
                report.failures.append(record)
            if on_result is not None:
                on_result(spec)
            bar.update(1)
            remaining = total - report.done - len(report.failures)
            bar.set_postfix_str(f"done {report.done} · failed {len(report.failures)} · remaining {remaining}")
    finally:
        bar.close()


def _referenced_files(plan: Plan) -> list[tuple[Path, Any]]:
    """The region, margins, ... files the sweep's points change (where older versions wrote copies)."""
    return [f for point in plan.points for f in point.files.values()]
