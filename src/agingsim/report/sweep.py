"""Reports of a sweep: how results spread across the runs of ``agingsim sweep``.

A sweep folder (``STORE/<sweep name>/``, with ``runs/*.parquet`` and ``sweep.toml``) holds one row
per run and year. The report draws, for each headline measure, the median and the 5th–95th
percentile across runs (design points × replications; a spread over the design, not an uncertainty
interval, and labelled so) with the fan chart of the uncertainty bands elsewhere, and writes
the runs and the quantiles to the workbook and the key charts to the deck.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from agingsim import __version__
from agingsim.errors import ScenarioError
from agingsim.report import charts
from agingsim.report.deck import _text, _titled
from agingsim.report.exports import DECK, MANIFEST, WORKBOOK, chart_writers, write_report_folder
from agingsim.report.key_charts import Chart
from agingsim.report.labels import BAND_AXES, BAND_MEASURES, Lang, label
from agingsim.report.workbook import FMT_WAN, Sheet, write_workbook


def is_sweep_folder(path: Path) -> bool:
    return (path / "runs").is_dir() and (path / "sweep.toml").is_file()


def read_runs(path: Path) -> pd.DataFrame:
    from agingsim.sweep.store import Store

    rows = Store(path.parent, path.name).read()
    if rows.empty:
        raise ScenarioError(path, "RESULTS_DIR", "the sweep has no finished runs yet; run `agingsim sweep`")
    return rows


def quantiles(rows: pd.DataFrame, measure: str) -> pd.DataFrame:
    """year, p05, p50, p95 and the number of runs, across runs (years with no value are dropped)."""
    by_year = rows.dropna(subset=[measure]).groupby("year")[measure]
    out = by_year.quantile([0.05, 0.5, 0.95]).unstack()
    out.columns = ["p05", "p50", "p95"]
    out["runs"] = by_year.count()
    return out.reset_index()


def make_sweep_report(
    path: Path, out_dir: Path, lang: Lang, formats: tuple[str, ...]
) -> tuple[Path, list[str], list[str]]:
    """Write the sweep's report folder; returns it, the files and notes on what was skipped."""
    rows = read_runs(path)
    name = path.name
    runs = rows["run_key"].nunique()
    seeds = ", ".join(str(s) for s in sorted(rows["seed"].unique()))
    footer = label(
        "footer",
        lang,
        scenario=f"sweep {name} ({runs} runs)",
        seed=seeds,
        version=rows["version"].iloc[0],
        date=dt.date.today().isoformat(),
    )
    measures = [m for m in BAND_MEASURES if m in rows.columns and rows[m].fillna(0).abs().sum() > 0]
    tables = {m: quantiles(rows, m) for m in measures}
    chart_list = []
    for m in measures:
        what = BAND_MEASURES[m][0 if lang == "zh" else 1]
        axis = label(BAND_AXES[m], lang)
        draw = partial(charts.fan_chart, tables[m], lang, footer, what, axis, of_runs=True)
        chart_list.append(Chart(f"fan_{m}", label("title_fan_runs", lang, what=what), draw))

    writers = chart_writers(chart_list, formats)
    if "xlsx" in formats:
        writers[WORKBOOK] = lambda p: write_workbook(_sheets(rows, tables, lang), p)
    if "pptx" in formats:
        writers[DECK] = lambda p: _deck(name, runs, chart_list, lang, p)
    manifest: dict[str, Any] = {
        "source": str(path.resolve()),
        "kind": "sweep",
        "lang": lang,
        "formats": list(formats),
        "files": sorted([*writers, MANIFEST]),
        "skipped": [],
        "version": __version__,
    }
    writers[MANIFEST] = lambda p: p.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    folder = write_report_folder(out_dir, writers, path)
    return folder, sorted(writers), []


def _sheets(rows: pd.DataFrame, tables: dict[str, pd.DataFrame], lang: Lang) -> list[Sheet]:
    q_rows = [
        [BAND_MEASURES[m][0 if lang == "zh" else 1], int(r.year), r.p05, r.p50, r.p95, int(r.runs)]
        for m, table in tables.items()
        for r in table.itertuples()
    ]
    zh = lang == "zh"
    quant = Sheet(
        "分位数" if zh else "quantiles",
        [
            "指标" if zh else "measure",
            label("col_year", lang),
            "P5",
            "P50",
            "P95",
            "运行数" if zh else "runs",
        ],
        q_rows,
        [None, None, FMT_WAN, FMT_WAN, FMT_WAN, None],
        [30, 8, 16, 16, 16, 8],
    )
    cols = list(rows.columns)
    runs = Sheet(
        "运行结果" if zh else "runs",
        cols,
        rows.astype(object).where(rows.notna(), None).values.tolist(),
        [None] * len(cols),
        [14] * len(cols),
    )
    return [quant, runs]


def _deck(name: str, runs: int, chart_list: list[Chart], lang: Lang, path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    slide = prs.slides.add_slide(prs.slide_layouts[0])
    _text(slide.shapes.title, f"{'参数扫描' if lang == 'zh' else 'Sweep'}: {name}", 36)
    _text(slide.placeholders[1], f"{runs} {'次运行' if lang == 'zh' else 'runs'}", 20)
    for chart in chart_list:
        s = _titled(prs, prs.slide_layouts[5], chart.title)
        s.shapes.add_picture(_png_stream(chart), Inches(0.9), Inches(1.3), height=Inches(5.9))
    prs.save(str(path))


def _png_stream(chart: Chart) -> Any:
    import io

    return io.BytesIO(chart.png())
