"""Bring your own region in the app: the template to download, a filled workbook to upload, and a
scenario's policy run on that region.

The upload goes through the same importer as ``agingsim region import`` (:mod:`agingsim.region`), so
the page refuses exactly what the command line refuses, with the same messages (in Chinese through
:mod:`agingsim.report.problems`). Imported files go to the session's own folder
(``<session>/regions/<digest>/``), never into ``calibration/regions/``: another session must not see
them and the install may be read-only. The scenario run on the region is the chosen scenario's file
with its ``[population]`` region, margins (and behaviour, if the workbook has beds) pointing at those
files and its ``[geography]`` (the bundled city's communities) dropped. Like a TOML upload, it cannot
travel in the page's address; the page says so.
"""

from __future__ import annotations

import copy
import hashlib
import io
import re
import shutil
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from agingsim.app import sources
from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.report.labels import Lang, label
from agingsim.report.problems import translate_problem

if TYPE_CHECKING:  # openpyxl (the importer's) is imported with the first upload, not at start-up
    from agingsim.region.importer import ImportedRegion

#: Sub-folder of the session folder the imported regions go to.
REGIONS_DIR = "regions"
#: ``SHEET row R, column C (key)`` and its shorter forms, as the workbook reader names a place.
_CELL = re.compile(r"^(?P<sheet>.+?) row (?P<row>\d+), column (?P<col>[A-Z]+) \((?P<item>[^)]*)\)$")
_ROW = re.compile(r"^(?P<sheet>.+?) row (?P<row>\d+)$")
_COLUMN = re.compile(r"^(?P<sheet>.+?) column (?P<col>\S+)$")


@dataclass(frozen=True)
class UploadedRegion:
    """A workbook that imported: its file name, content digest, region id and names, and files."""

    file_name: str
    digest: str
    region_id: str
    title: tuple[str, str]
    files: ImportedRegion


def import_upload(workdir: Path, file_name: str, data: bytes) -> UploadedRegion:
    """Check and import an uploaded workbook into the session's folder; a :class:`ScenarioError`
    (all problems at once) if it does not import, and then nothing is left behind."""
    from agingsim.region import import_workbook

    shown = Path(file_name).name or "region.xlsx"
    digest = hashlib.sha256(data).hexdigest()
    region_id = f"upload_{digest[:10]}"
    out = workdir / REGIONS_DIR / digest[:12]
    out.mkdir(parents=True, exist_ok=True)
    try:
        files = import_workbook(data, region_id, out, name=shown, force=True)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # the importer wrote nothing; drop the empty folder
        raise
    head = tomllib.loads(files.region.read_text(encoding="utf-8"))
    name = str(head.get("name", region_id))
    return UploadedRegion(shown, digest, region_id, (name, str(head.get("name_en") or name)), files)


def region_source(base: sources.Source, region: UploadedRegion) -> sources.Source:
    """``base``'s scenario on the uploaded region: same policy, run settings and models; the region,
    its margins (and supply, when the workbook has beds) from the upload; no bundled geography."""
    raw = copy.deepcopy(base.raw)
    population = dict(raw.get("population") or {})
    population["region"] = str(region.files.region)
    population["margins"] = str(region.files.margins)
    if region.files.behaviour is not None:
        population["behaviour"] = str(region.files.behaviour)
    raw["population"] = population
    raw.pop("geography", None)  # the bundled city's communities are not the uploaded region's
    meta = dict(raw.get("scenario") or {})
    zh, en = base.title
    meta["name"] = f"{zh} · {region.title[0]}"
    meta["name_en"] = f"{en} · {region.title[1]}"
    raw["scenario"] = meta
    digest = hashlib.sha256(f"{base.digest}|{region.digest}".encode()).hexdigest()
    name = f"{region.region_id}-{Path(base.name).stem}.toml"
    return sources.Source(name, base.path.parent / name, raw, digest, uploaded=True)


def problem_rows(exc: ScenarioError, lang: Lang) -> pd.DataFrame:
    """Each problem of a refused workbook as a row: sheet, row, column, item and the problem in
    ``lang`` (the validator's English, marked, where no translation matches)."""
    errors = exc.errors if isinstance(exc, ScenarioErrors) else [exc]
    rows: list[dict[str, Any]] = []
    for e in errors:
        place = {"sheet": "", "row": "", "col": "", "item": ""}
        key = "" if e.key == "(top level)" else e.key
        for pattern in (_CELL, _ROW, _COLUMN):
            m = pattern.match(key)
            if m:
                place.update(m.groupdict())
                break
        else:
            place["sheet"] = key
        rows.append({**place, "problem": translate_problem(e.problem, lang)[0]})
    frame = pd.DataFrame(rows, columns=["sheet", "row", "col", "item", "problem"])
    frame.columns = [label(f"region_col_{c}", lang) for c in frame.columns]
    return frame


def files_zip(region: UploadedRegion) -> bytes:
    """The imported region files, for a user who wants them in ``calibration/regions/`` (the page
    never writes there)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path in region.files.all():
            z.write(path, path.name)
    return buf.getvalue()


def sidebar(state: Any, lang: Lang, status: Any, sources: dict[str, sources.Source]) -> None:
    """The sidebar's "own region" box: template, upload, errors on the page, the policy to run."""
    import streamlit as st

    session = st.session_state
    regions: dict[str, UploadedRegion] = session.setdefault("regions", {})
    errors: dict[str, ScenarioError] = session.setdefault("region_errors", {})
    bases: dict[str, tuple[str, str]] = session.setdefault("region_bases", {})  # source id → (region, base)
    box = st.sidebar.expander(label("region_box", lang), expanded=bool(regions or errors))
    box.download_button(
        label("region_template", lang),
        _template,
        file_name="agingsim_region_template.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="region_template",
        on_click="ignore",
    )
    upload = box.file_uploader(label("region_upload", lang), type=["xlsx"], key="region_upload")
    box.caption(label("region_no_link", lang))
    current = bases.get(state.scenario)
    if upload is not None:
        data = upload.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        if digest not in regions and digest not in errors:
            try:
                regions[digest] = import_upload(session["workdir"], upload.name, data)
            except ScenarioError as exc:
                errors[digest] = exc
            else:
                base = current[1] if current else state.scenario
                _select(state, sources, regions[digest], base if base in sources else next(iter(sources)))
                current = bases.get(state.scenario)
        if digest in errors:
            status.error(label("region_refused", lang, name=upload.name))
            status.table(problem_rows(errors[digest], lang))
    if current is None or current[0] not in regions:
        return
    region = regions[current[0]]
    plain = [sid for sid in sources if sid not in bases]
    key = f"region_policy|{state.scenario}|{lang}"
    box.selectbox(
        label("region_policy", lang, region=region.title[0 if lang == "zh" else 1]),
        plain,
        index=plain.index(current[1]) if current[1] in plain else 0,
        format_func=lambda sid: sources[sid].title[0 if lang == "zh" else 1],
        key=key,
        # a callback: the pick becomes the state before the page is drawn (and so before this
        # widget is drawn again under the new scenario's key, from the state)
        on_change=lambda: _select(state, sources, region, st.session_state[key]),
    )
    box.download_button(
        label("region_files", lang),
        lambda: files_zip(region),
        file_name=f"{region.region_id}_files.zip",
        key="region_files",
        on_click="ignore",
        help=label("region_files_help", lang, id=region.region_id),
    )


def _template() -> bytes:
    """The command's template, made when the button is pressed (openpyxl loads then)."""
    from agingsim.region import template_bytes

    return template_bytes()


def _select(state: Any, sources: dict[str, sources.Source], region: UploadedRegion, base_id: str) -> None:
    """Make ``base_id``'s policy on ``region`` a scenario of the session and the page's scenario."""
    import streamlit as st

    source = region_source(sources[base_id], region)
    st.session_state["uploads"][source.id] = source
    st.session_state["region_bases"][source.id] = (region.digest, base_id)
    if base_id in state.people:  # the same run size as the scenario whose policy it runs
        state.people.setdefault(source.id, state.people[base_id])
    state.scenario = source.id
    # the page's scenario dropdown keeps its own value while its options stay the same (going back
    # to a pair made before): drop it, so it is drawn again from the state (page._key "scenario|…")
    for key in [k for k in st.session_state if str(k).startswith("scenario|")]:
        del st.session_state[key]
