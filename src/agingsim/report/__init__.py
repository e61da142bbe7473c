"""Briefing-ready outputs (issue 7): charts, an XLSX workbook and a PPTX deck from a run's folder.

``charts`` draws matplotlib Figures from plain tables (shared by the CLI and the app), ``key_charts``
picks the charts a folder supports, ``workbook`` builds the XLSX, ``deck`` the PPTX, ``exports`` writes
the report folder, ``data`` reads an output folder, ``labels`` holds the zh/en wording and ``fonts``
the CJK font. ``cli.add_parser`` registers ``agingsim report``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMATS", "Results", "ResultsDirError", "load_results", "make_report"]


def __getattr__(name: str) -> Any:
    """The package's names on first use: ``exports`` imports matplotlib, which the app's first card
    (and ``agingsim run``) never needs, and ``data`` pandas, which ``report.labels`` (the app's title,
    every message) does not."""
    if name in ("FORMATS", "make_report"):
        from agingsim.report import exports

        return getattr(exports, name)
    if name in ("Results", "ResultsDirError", "load_results"):
        from agingsim.report import data

        return getattr(data, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
