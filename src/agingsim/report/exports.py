"""Turn an output folder into briefing material: PNG/SVG charts (key_charts.py), an XLSX workbook
(workbook.py) and a PPTX deck (deck.py), written as one report folder.

The report folder is written atomically, like a run's, with a manifest (report.json) of what is in
it and what was skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from agingsim import __version__
from agingsim.report.data import Results
from agingsim.report.key_charts import Chart, build_charts
from agingsim.report.labels import Lang
from agingsim.report.workbook import workbook_sheets, write_workbook
from agingsim.results.output import write_outputs

FORMATS: tuple[str, ...] = ("png", "svg", "xlsx", "pptx")
WORKBOOK = "report.xlsx"
DECK = "briefing.pptx"
MANIFEST = "report.json"

Writer = Callable[[Path], None]


def parse_formats(text: str) -> tuple[str, ...]:
    """``png,svg`` -> ("png", "svg"); an unknown format is an error naming the known ones."""
    wanted = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise ValueError(
            f"unknown format(s) {', '.join(unknown) or '(none)'}; choose from {','.join(FORMATS)}"
        )
    return wanted


def report_writers(
    results: Results, lang: Lang, formats: Sequence[str], geography: Any = None
) -> tuple[dict[str, Writer], list[str]]:
    """File name -> writer for the report folder, and the notes on what was skipped. ``geography``
    (the run's, for the deck's service-circle map): by default the scenario file's."""
    chart_list, notes = build_charts(results, lang)
    writers = chart_writers(chart_list, formats)
    if "xlsx" in formats:
        writers[WORKBOOK] = lambda path: write_workbook(workbook_sheets(results, lang), path)
    if "pptx" in formats:
        from agingsim.report.deck import FROM_FOLDER, write_deck  # python-pptx only for a deck

        geo = FROM_FOLDER if geography is None else geography
        writers[DECK] = lambda path: write_deck(results, chart_list, lang, path, geo)
    manifest = {
        "source": str(results.path.resolve()),
        "kind": results.kind,
        "lang": lang,
        "formats": list(formats),
        "files": sorted([*writers, MANIFEST]),
        "skipped": notes,
        "version": __version__,
    }
    writers[MANIFEST] = lambda path: path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return writers, notes


def chart_writers(chart_list: Sequence[Chart], formats: Sequence[str]) -> dict[str, Writer]:
    """``<chart id>.png`` / ``.svg`` writers for the formats asked for, and with either the
    chart's table as ``<chart id>.csv``."""
    writers: dict[str, Writer] = {}
    for chart in chart_list:
        if chart.data is not None and ("png" in formats or "svg" in formats):
            writers[f"{chart.id}.csv"] = _bytes_writer(chart.csv)
        if "png" in formats:
            writers[f"{chart.id}.png"] = _bytes_writer(chart.png)
        if "svg" in formats:
            writers[f"{chart.id}.svg"] = _bytes_writer(chart.svg)
    return writers


def _bytes_writer(render: Callable[[], bytes]) -> Writer:
    def write(path: Path) -> None:
        path.write_bytes(render())

    return write


def write_report_folder(out_dir: Path, writers: dict[str, Writer], source: Path) -> Path:
    """All files or none (results/output.py); an existing folder is replaced only if it is an
    earlier report (it has report.json), and never the results folder itself."""
    return write_outputs(out_dir, writers, MANIFEST, protect=source, what="an agingsim report folder")


def make_report(
    results: Results,
    out_dir: Path,
    lang: Lang = "zh",
    formats: Sequence[str] = FORMATS,
    geography: Any = None,
) -> tuple[Path, list[str], list[str]]:
    """Write the report folder; returns it, the files written and the notes on skipped charts."""
    writers, notes = report_writers(results, lang, formats, geography)
    path = write_report_folder(out_dir, writers, results.path)
    return path, sorted(writers), notes
