"""Briefing-ready outputs (issue 7): charts, an XLSX workbook and a PPTX deck from a run's folder.

``charts`` draws matplotlib Figures from plain tables (shared by the CLI and the app), ``exports``
writes PNG/SVG/XLSX/PPTX, ``data`` reads an output folder, ``labels`` holds the zh/en wording and
``fonts`` the CJK font. ``cli.add_parser`` registers ``agingsim report``.
"""

from __future__ import annotations

from agingsim.report.data import Results, ResultsDirError, load_results
from agingsim.report.exports import FORMATS, make_report

__all__ = ["FORMATS", "Results", "ResultsDirError", "load_results", "make_report"]
