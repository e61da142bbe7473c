"""Runs with the user's changes, and a cache so a setting already run is instant.

A run is keyed by the hashes of every input file as changed (the loader records them), the run
settings and the replication: the same setting reached again, by any path, is the same key. Each run
is also written as an ordinary output folder (``RunResult.write``), so the charts, workbook and deck
come from :mod:`agingsim.report` exactly as ``agingsim report`` would make them from that folder.
Where a scenario comes from is :mod:`agingsim.app.sources`; the downloads, :mod:`agingsim.app.downloads`.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agingsim import __version__
from agingsim.app.downloads import folder_zip, report_bytes, zip_files
from agingsim.app.sources import Source, load
from agingsim.app.workdirs import process_folder, process_root
from agingsim.report.data import Results, load_results
from agingsim.report.labels import Lang
from agingsim.scenario import Scenario
from agingsim.simulate import RunResult, dynamics_key, replay_payments, run_scenario

if TYPE_CHECKING:  # matplotlib and the report's writers are imported when a chart or file is asked for
    from matplotlib.figure import Figure

    from agingsim.report.key_charts import Chart

#: Runs kept in memory; a city-scale run is a few MB of tables (and ~8 MB of recorded payment bins).
CACHE_SIZE = 24
#: DPI of the charts shown on the page (downloads are 300 dpi, from the report module).
SCREEN_DPI = 90


def payments_only(source: Source, scenario: Scenario, workdir: Path | None = None) -> bool:
    """Whether ``scenario`` (the source with changes) differs from the file's own values only in what
    person-level schemes pay, so its payments can be replayed on the same people and care
    (simulate.dynamics_key); the page says why a change needs a full run otherwise."""
    try:
        base = load(source, {}, workdir=workdir, simulated_people=scenario.run.simulated_people)
    except Exception:  # the file alone does not load: nothing to replay on
        return False
    run = scenario.run
    base = base.with_run(seed=run.seed)
    key = dynamics_key(scenario)
    return key is not None and key == dynamics_key(base)


#: replay_blockers' answers by source, changes and run settings (each answer loads the scenario
#: once per change: worth keeping while the page re-draws the same changes on every click)
_BLOCKERS: OrderedDict[str, list[str] | None] = OrderedDict()


def replay_blockers(
    source: Source,
    scenario: Scenario,
    changes: Mapping[str, Mapping[str, Any]],
    workdir: Path | None = None,
) -> list[str] | None:
    """The changes (name -> its overrides) that, each on its own, change what shapes the run's
    people and care (simulate.dynamics_key) from the file's own values, so the payments cannot be
    replayed: the page names them. None when no change could be replayed at all (the file alone
    does not load, or its schemes' payments feed back into care choices)."""
    run = scenario.run
    settings = {"simulated_people": run.simulated_people}
    memo = json.dumps([source.digest, changes, settings, run.seed], sort_keys=True, default=str)
    if memo in _BLOCKERS:
        return _BLOCKERS[memo]
    try:
        key = dynamics_key(load(source, {}, workdir=workdir, **settings).with_run(seed=run.seed))
    except Exception:  # the file alone does not load: nothing to replay on
        key = None
    found: list[str] | None = None
    if key is not None:
        found = []
        for name, overrides in changes.items():
            try:
                alone = load(source, overrides, workdir=workdir, **settings).with_run(seed=run.seed)
            except Exception:  # a change that does not load alone is not a payment change
                found.append(name)
                continue
            if dynamics_key(alone) != key:
                found.append(name)
    _BLOCKERS[memo] = found
    while len(_BLOCKERS) > CACHE_SIZE:
        _BLOCKERS.popitem(last=False)
    return found


def run_key(scenario: Scenario, replication: int = 0) -> str:
    """What decides a run's result: every input's hash, the run settings, replication, version."""
    payload = {
        "inputs": sorted(scenario.inputs.values()),
        "run": scenario.run.model_dump(),
        "replication": replication,
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


@dataclass
class Run:
    """A finished run, its output folder and what the page draws from it (made once, on demand)."""

    key: str
    result: RunResult
    #: where the output folder is written, on first use (the cards need only ``result``, so the page
    #: shows them before the folder is written)
    path: Path
    #: the cache that made it: a run's bins by group are recorded on first need (RunCache.grouped)
    cache: RunCache | None = field(default=None, repr=False, compare=False)
    #: whether the run has its bins by group, or is known to have none to record (no person-level
    #: scheme paid monthly): full runs record them only when asked (they cost ~16% of a run)
    grouped: bool = False
    #: simulate.dynamics_key of its scenario: runs with the same key have the same people and care
    dkey: str | None = None
    _charts: dict[Lang, tuple[list[Chart], list[str]]] = field(default_factory=dict, repr=False)
    _screen: dict[tuple[Lang, str], bytes] = field(default_factory=dict, repr=False)
    _results: Results | None = field(default=None, repr=False)
    _bands: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _write_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _group_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def folder(self) -> Path:
        """The run's output folder, as ``agingsim run`` writes it."""
        with self._write_lock:
            if not (self.path / "summary.json").is_file():
                self.result.write(self.path)
        return self.path

    def with_groups(self, progress: object | None = None) -> bool:
        """Make sure the run has its bins by group (who gets what, results.distribution): recorded
        once more on first need, by its cache (RunCache.grouped); whether a run was needed."""
        if self.grouped:
            return False
        return (self.cache or CACHE).grouped(self, progress)

    def _set_groups(self, bins: list[Any] | None) -> None:
        """Attach bins by group recorded on the same people and care; an output folder already
        written is written again, with distribution.csv."""
        with self._write_lock:
            self.result.distribution_bins = bins
            self.result.__dict__.pop("_distribution", None)
            self.grouped = True
            if bins is not None and (self.path / "summary.json").is_file():
                self.result.write(self.path)
                self._results = None

    @property
    def results(self) -> Results:
        """The output folder as the report module reads it."""
        if self._results is None:
            self._results = load_results(self.folder)
        return self._results

    def charts(self, lang: Lang) -> tuple[list[Chart], list[str]]:
        """The report's charts for this run (drawn on first use) and its notes on charts skipped."""
        if lang not in self._charts:
            from agingsim.report.key_charts import build_charts

            self._charts[lang] = build_charts(self.results, lang)
        return self._charts[lang]

    def _png(self, key: tuple[Lang, str], figure: Callable[[], Figure], dpi: int = SCREEN_DPI) -> bytes:
        """``figure()`` as PNG, rendered once per key (matplotlib is not thread-safe)."""
        if key not in self._screen:
            with self._lock:
                buf = io.BytesIO()
                figure().savefig(buf, format="png", dpi=dpi)
                self._screen[key] = buf.getvalue()
        return self._screen[key]

    def screen_png(self, chart: Chart, lang: Lang, scope: str = "") -> bytes:
        """The chart at screen resolution, rendered once per language and ``scope`` (a comparison's
        charts are drawn from that comparison's folder: its name is the scope, so a chart of A vs
        one B is never shown for A vs another)."""
        return self._png((lang, f"{scope}|{chart.id}"), lambda: chart.figure)

    def map_png(self, lang: Lang, year: int, dpi: int = SCREEN_DPI) -> bytes:
        """The 15-minute service circle in ``year`` (scenarios with a geography), drawn by
        :func:`agingsim.geo.maps.coverage_map` as ``agingsim geo coverage`` draws it; cached."""
        from agingsim.geo.maps import coverage_map, map_footer

        g = self.result.scenario.geography
        assert g is not None, "the scenario has no geography"
        return self._png(
            (lang, f"map|{year}|{dpi}"), lambda: coverage_map(g, year, lang, footer=map_footer(g)), dpi
        )

    def chart_file(self, chart: Chart, fmt: str) -> bytes:
        """The chart as the report writes it: PNG at 300 dpi or SVG (matplotlib is not thread-safe)."""
        with self._lock:
            return chart.png() if fmt == "png" else chart.svg()

    def report_file(self, lang: Lang, fmt: str) -> bytes:
        """``report.xlsx`` or ``briefing.pptx`` made by :func:`agingsim.report.make_report`."""
        from agingsim.report.exports import make_report

        name = {"xlsx": "report.xlsx", "pptx": "briefing.pptx"}[fmt]
        if fmt == "xlsx":  # the workbook's sheet 分组受益 is made from distribution.csv
            self.with_groups()
        with self._lock, tempfile.TemporaryDirectory(prefix="agingsim-report-") as tmp:
            geography = self.result.scenario.geography  # the deck's map: the geography this run used
            out, _, _ = make_report(
                self.results, Path(tmp) / "report", lang=lang, formats=(fmt,), geography=geography
            )
            return (out / name).read_bytes()

    def charts_zip(self, lang: Lang) -> bytes:
        """Every chart as PNG (300 dpi) and SVG, as ``agingsim report --formats png,svg`` writes them."""
        from agingsim.report.exports import make_report

        with self._lock, tempfile.TemporaryDirectory(prefix="agingsim-report-") as tmp:
            out, files, _ = make_report(self.results, Path(tmp) / "report", lang=lang, formats=("png", "svg"))
            return zip_files({f: (out / f).read_bytes() for f in files})

    def csv_zip(self, chinese_headers: bool = False) -> bytes:
        """The run's output folder (every CSV and summary.json) as a zip, the CSVs with a UTF-8 BOM
        so that Excel on Chinese Windows opens them as UTF-8; optionally with Chinese headers
        (distribution.csv included: the run's groups are recorded first if they were not)."""
        self.with_groups()
        return folder_zip(self.folder, chinese_headers)


class RunCache:
    """Finished runs by key, least recently used dropped first; one per app process, shared by users."""

    def __init__(self, size: int = CACHE_SIZE, root: Path | None = None) -> None:
        self.size = size
        # a folder of this process's own: a fixed path would let a later process (or a newer agingsim
        # of the same version number) pick up comparisons written by an earlier one
        self.root = root or process_folder()
        self._runs: OrderedDict[str, Run] = OrderedDict()
        #: by dynamics key (simulate.dynamics_key): the latest full run with those people and care
        self._recorded: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()
        #: a lock per run key being made: a second caller of the same key (the launcher's warm-up and
        #: the first page, two sessions) waits for that run instead of making it again
        self._making: dict[str, threading.Lock] = {}
        #: runs made here (full or replayed), not taken from the cache: what the tests count
        self.made = 0

    def get(self, key: str) -> Run | None:
        with self._lock:
            run = self._runs.get(key)
            if run is not None:
                self._runs.move_to_end(key)
            return run

    def replays(self, scenario: Scenario, replication: int = 0) -> bool:
        """Whether a new run of this scenario would replay the payments of a run already made."""
        dkey = dynamics_key(scenario, replication)
        return dkey is not None and dkey in self._recorded

    def run(
        self,
        scenario: Scenario,
        replication: int = 0,
        progress: object | None = None,
        record_groups: bool = False,
    ) -> tuple[Run, bool]:
        """The run of this scenario and whether it was cached. A setting run before comes from the
        cache; one that differs from a run already made only in what person-level schemes pay has
        its payments replayed on that run's people and care (identical to a full run, see
        simulate.replay_payments); anything else is run in full, recording its payments, and its
        bins by group only with ``record_groups`` (a cached run or a replay gets them on first
        need, :meth:`grouped`, which the page shows with a note)."""
        key = run_key(scenario, replication)
        hit = self.get(key)
        if hit is not None:
            return hit, True
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        with making:  # one run per key: a caller arriving while it is made waits and takes it
            hit = self.get(key)
            if hit is not None:
                return hit, True
            try:
                return self._make(key, scenario, replication, progress, record_groups), False
            finally:
                with self._lock:
                    self._making.pop(key, None)

    def _make(
        self, key: str, scenario: Scenario, replication: int, progress: object | None, record_groups: bool
    ) -> Run:
        """Run (or replay) the scenario and keep the run; RunCache.run holds the key's lock."""
        dkey = dynamics_key(scenario, replication)
        with self._lock:
            base = self._recorded.get(dkey) if dkey is not None else None
        if base is not None:
            result = replay_payments(base.result, scenario, base_key=base.key)
            grouped = base.grouped  # a replay has its base's bins by group: the same people
        else:
            result = run_scenario(
                scenario,
                replication=replication,
                progress=progress,
                record_payments=True,
                record_distribution=record_groups,
            )
            policy = scenario.file.policy  # without person-level schemes there is nothing to record
            grouped = record_groups or not (policy is not None and policy.schemes)
        run = Run(key, result, self.root / key, cache=self, grouped=grouped, dkey=dkey)
        with self._lock:
            self._runs[key] = run
            while len(self._runs) > self.size:
                self._runs.popitem(last=False)
            if dkey is not None and base is None and result.payments is not None:
                self._recorded[dkey] = run
                while len(self._recorded) > self.size:
                    self._recorded.popitem(last=False)
            self.made += 1
        return run

    def grouped(self, run: Run, progress: object | None = None) -> bool:
        """Give ``run`` its bins by group, and whether a run was needed for them. They are the same
        for every run of the same people and care (simulate.dynamics_key), so a cached run that
        has them lends them; else ``run``'s scenario is run once more, recording them (same
        scenario, seed and replication: the same people, so the same results). The run its replays
        are made from (the recorded base) gets them too, so later replays have them at once; with
        no base left, the recording run becomes the base."""
        with run._group_lock:  # two views asking at once: one recording run
            if run.grouped:
                return False
            result = run.result
            dkey = run.dkey or dynamics_key(result.scenario, result.replication)
            with self._lock:
                base = self._recorded.get(dkey) if dkey is not None else None
                same = [r for r in self._runs.values() if r.grouped and dkey is not None and r.dkey == dkey]
            if base is not None and base.grouped:
                same.insert(0, base)
            if same:
                run._set_groups(same[0].result.distribution_bins)
                return False
            again = run_scenario(
                result.scenario,
                replication=result.replication,
                progress=progress,
                record_payments=True,
                record_distribution=True,
            )
            run._set_groups(again.distribution_bins)
        if base is not None and base is not run:
            base._set_groups(again.distribution_bins)
        elif base is None and dkey is not None and result.payments is not None:
            with self._lock:  # a replay's payment record is its base's: the same people and care
                self._recorded[dkey] = run
        return True

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()
            self._recorded.clear()


#: The process-wide cache the page uses (Streamlit re-runs the script, not the imports).
CACHE = RunCache(root=process_root())


@dataclass
class Comparison:
    """Two runs on the same seed: comparison.csv's table and its output folder, as ``agingsim compare``."""

    a: Run
    b: Run
    folder: Path
    same_people: bool

    @property
    def results(self) -> Results:
        return load_results(self.folder)

    def csv_zip(self, chinese_headers: bool = False) -> bytes:
        return folder_zip(self.folder, chinese_headers)

    def report_file(self, lang: Lang, fmt: str) -> bytes:
        """The comparison's workbook or deck (A vs B, the waterfall), as ``agingsim report`` makes
        it from ``agingsim compare``'s folder (run A's lock: matplotlib is not thread-safe)."""
        with self.a._lock:
            return report_bytes(self.results, lang, fmt)


def compare(a: Run, b: Run, root: Path | None = None) -> Comparison:
    """A vs B from two finished runs, written like ``agingsim compare`` writes its folder."""
    from agingsim.compare import write_comparison
    from agingsim.report.data import LINE_ITEMS_CSV, line_item_difference

    folder = (root or CACHE.root) / f"compare-{a.key}-{b.key}"
    if not (folder / "summary.json").is_file():
        write_comparison(a.result, b.result, folder)
    if not (folder / LINE_ITEMS_CSV).is_file():  # the waterfall's table, beside comparison.csv
        table = line_item_difference(a.result.ledger, b.result.ledger)
        tmp = folder / f".{LINE_ITEMS_CSV}.tmp"
        table.to_csv(tmp, index=False, float_format="%.4f")
        tmp.replace(folder / LINE_ITEMS_CSV)
    same = a.result.scenario.inputs_population_key() == b.result.scenario.inputs_population_key() and (
        a.result.scenario.run.start_year == b.result.scenario.run.start_year
    )
    return Comparison(a, b, folder, same)


def difference(comparison: Comparison, n: int, on_done: Callable[[], None] | None = None) -> Results:
    """B − A with its 90% interval over ``n`` paired replications, in a folder beside the
    comparison's written as ``agingsim compare --replications n`` writes it (so a rerun, another
    session or a reload of the page finds it drawn)."""
    from agingsim.uncertainty.difference import paired_replications

    name = comparison.folder.name.replace("compare-", "interval-", 1)
    folder = comparison.folder.with_name(f"{name}-k{n}")
    if not (folder / "summary.json").is_file():
        a, b = comparison.a.result.scenario, comparison.b.result.scenario
        paired_replications(a, b, n, on_done=on_done).write(folder)
    return load_results(folder)


def bands(run: Run, n: int, on_done: Callable[[int], None] | None = None) -> dict[str, Any] | None:
    """90% bands of yearly cost, people needing care and (with the behaviour model) those of them served
    by formal care over ``n`` replications (with parameter draws),
    from :mod:`agingsim.uncertainty`; cached on the run. None if that module is not available."""
    try:
        from agingsim.uncertainty import band, run_replications
        from agingsim.uncertainty.intervals import BY_YEAR
    except ImportError:  # pragma: no cover - the module ships with agingsim; kept for older checkouts
        return None
    if n not in run._bands:
        reps = run_replications(run.result.scenario, n, on_done=on_done)
        table = reps.intervals()
        run._bands[n] = {
            "cost_total_wan": band(table, BY_YEAR, "cost_total_wan"),
            "needing_care": band(table, BY_YEAR, "needing_care"),
            "needing_care_served": band(table, BY_YEAR, "needing_care_served"),  # behaviour model
        }
    return run._bands[n]


class Progress:
    """``update(n)`` for the model's month loop, forwarded to a callback as a fraction done, at most
    once per ``interval`` seconds: each fraction shown is a message to the browser, which draws the
    page again on the same cores as the run (every six months was twenty for a 10-year run of one
    to two seconds; now one or two, while a province-scale run still shows it moving)."""

    def __init__(
        self,
        months: int,
        show: Callable[[float], None],
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.months, self.show, self.interval, self.clock = max(months, 1), show, interval, clock
        self.done = 0
        self.shown = clock()  # the bar is drawn at 0 before the run starts

    def update(self, n: int = 1) -> None:
        self.done += n
        now = self.clock()
        if now - self.shown >= self.interval and self.done < self.months:  # the bar goes at the end
            self.shown = now
            self.show(min(self.done / self.months, 1.0))
