"""What the page's download buttons hand over: report files made as ``agingsim report`` makes them,
and output folders zipped with their CSVs for Excel (UTF-8 with a BOM, optionally Chinese headers)."""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agingsim.report.data import Results
    from agingsim.report.labels import Lang


def report_bytes(results: Results, lang: Lang, fmt: str) -> bytes:
    """The workbook (``xlsx``) or deck (``pptx``) of an output folder, a run's or a comparison's,
    made by :func:`agingsim.report.make_report` exactly as ``agingsim report`` makes it."""
    from agingsim.report import make_report

    with tempfile.TemporaryDirectory(prefix="agingsim-report-") as tmp:
        out, files, _ = make_report(results, Path(tmp) / "report", lang=lang, formats=(fmt,))
        return next((out / f).read_bytes() for f in files if f.endswith(f".{fmt}"))


BOM = "\ufeff".encode()


def excel_csv(data: bytes, chinese_headers: bool = False) -> bytes:
    """A CSV file for Excel: UTF-8 with a BOM; with ``chinese_headers`` its header row in Chinese
    (report.labels.COLUMNS; unknown columns keep their names). The rows are unchanged."""
    from agingsim.report.labels import column_label

    text = data.decode("utf-8-sig")
    if chinese_headers and text:
        head, sep, rest = text.partition("\n")
        names = next(csv.reader([head]))
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow([column_label(n, "zh") for n in names])
        text = out.getvalue() + sep + rest
    return BOM + text.encode("utf-8")


def folder_zip(folder: Path, chinese_headers: bool = False) -> bytes:
    files = {}
    for p in sorted(folder.iterdir()):
        if p.is_file():
            files[p.name] = (
                excel_csv(p.read_bytes(), chinese_headers) if p.suffix == ".csv" else p.read_bytes()
            )
    return zip_files(files)


def zip_files(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()
