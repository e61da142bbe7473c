"""``agingsim region import FILLED.xlsx --id NAME``: a filled workbook → region files the model reads.

Writes, into one folder (default ``calibration/regions/``):

* ``NAME.toml``: the region (names, ``[population_base]`` at the workbook's reference date, counties);
* ``NAME_population.csv``: people by age × sex in the population-base format
  (:mod:`agingsim.population.base`, calibration/regions/README.md), each row with the user's source;
* ``NAME_margins.toml``: the attribute margins for the region: the base margins (``china_2020``) with
  the age–sex rows of the region's own table (ages 60+, split to single years as the base table is)
  and, when the economic-status sheet is filled, 特困/低保/低保边缘 shares scaled to the user's counts;
* ``NAME_behaviour.toml`` (only when the beds sheet is filled): the behaviour model (``default``) with
  its starting supply (institution beds, public and nursing shares, day-care places) from the beds.

Every figure carries the source the user wrote in the row's source column (``assumption: ...`` in that
column becomes an ``assumption`` label); a figure with an empty source is an error, not a silent
assumption. Nothing is written unless every check passes: the files are staged in a hidden folder,
read back with the scenario loader, then renamed into place together (and rolled back if a rename
fails), so the folder ends with all of this import's files or none of them.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.population.base import COLUMNS, PopulationTable, read_population_table
from agingsim.region.reader import FilledWorkbook, Label, read_workbook
from agingsim.region.workbook import ECON, ECON_ROWS, POPULATION
from agingsim.scenario.files import load_labelled_plain, project_root
from agingsim.scenario.loader import load_population_base
from agingsim.scenario.schema import (
    BehaviourFile,
    MarginsFile,
    RegionFile,
    age_band_labels,
    validate_attribute_margin,
)
from agingsim.sweep.overrides import dumps

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: The national margins a region's file starts from (ability, family, care setting stay national).
BASE_MARGINS = "china_2020"


#: UN WPP 2024 medium variant, China, 5-year groups (calibration/data): entrants beyond the table.
WPP_PROJECTION = "wpp2024_china_pop5.csv"
#: The behaviour model a region's beds replace the national supply of.
BASE_BEHAVIOUR = "default"


@dataclass(frozen=True)
class ImportedRegion:
    """Paths of the files written by :func:`import_workbook` (``behaviour`` only with a beds sheet)."""

    region: Path
    population: Path
    margins: Path
    behaviour: Path | None = None

    def all(self) -> tuple[Path, ...]:
        return (self.region, self.population, self.margins, *([self.behaviour] if self.behaviour else []))


def default_out_dir() -> Path:
    return project_root() / "calibration" / "regions"


def _csv_cell(v: object) -> str:
    s = str(v)
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n\r') else s


def _people_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def population_csv(wb: FilledWorkbook) -> tuple[str, list[int]]:
    """The population-base CSV text and, for each CSV data row, its workbook row."""
    lines = [",".join(COLUMNS)]
    rows = []
    for rec in wb.population:
        v = rec.values
        upper = "" if v.get("age_upper") is None else str(v["age_upper"])
        assert rec.label is not None
        cells = (v["age_lower"], upper, v["sex"], _people_text(v["people"]), rec.label.csv_text())
        lines.append(",".join(_csv_cell(c) for c in cells))
        rows.append(rec.row)
    return "\n".join(lines) + "\n", rows


_CSV_KEY = re.compile(r"^row (\d+), column (\w+)$")


def _sheet_row(csv_rows: list[int], csv_row: str) -> str:
    i = int(csv_row) - 2
    return str(csv_rows[i]) if 0 <= i < len(csv_rows) else f"{csv_row} of the CSV"


def _remap(exc: ScenarioError, wb: FilledWorkbook, csv_rows: list[int]) -> ScenarioError:
    """A population-table error about the CSV, restated for the workbook's sheet, row and column."""
    m = _CSV_KEY.match(exc.key)
    if m and 2 <= int(m.group(1)) < len(csv_rows) + 2:
        rec = wb.population[int(m.group(1)) - 2]
        row, key = csv_rows[int(m.group(1)) - 2], m.group(2)
        from openpyxl.utils import get_column_letter

        where = f"{POPULATION.name} row {row}, column {get_column_letter(rec.col(key))} ({key})"
        problem = re.sub(r"\brow (\d+)\b", lambda k: f"row {_sheet_row(csv_rows, k.group(1))}", exc.problem)
        return ScenarioError(wb.path, where, problem)
    key = exc.key if exc.key != "(top level)" else ""
    return ScenarioError(wb.path, f"{POPULATION.name} {key}".strip(), exc.problem)


def check_table(wb: FilledWorkbook, csv_path: Path, csv_rows: list[int]) -> PopulationTable:
    """The population table read by the model's own reader, errors restated for the workbook."""
    try:
        table = read_population_table(csv_path, wb.region["reference_date"], csv_path, "population_base.file")
    except ScenarioErrors as exc:
        raise ScenarioErrors([_remap(e, wb, csv_rows) for e in exc.errors]) from None
    except ScenarioError as exc:
        raise ScenarioErrors([_remap(exc, wb, csv_rows)]) from None
    if table.people(60) <= 0:
        raise ScenarioError(wb.path, f"{POPULATION.name} column people", "nobody aged 60 or over")
    return table


def _labelled(label: Label) -> dict[str, str]:
    return {label.kind: label.text}


def projection_for(out_dir: Path) -> str | None:
    """The WPP projection (for entrants beyond the table's youngest cohort), relative to ``out_dir``,
    when the folder is inside the project (a file elsewhere would point outside its own folder tree)."""
    wpp = project_root() / "calibration" / "data" / WPP_PROJECTION
    try:
        out_dir.resolve().relative_to(project_root().resolve())
    except ValueError:
        return None
    return Path(os.path.relpath(wpp.resolve(), out_dir.resolve())).as_posix() if wpp.is_file() else None


def region_toml(wb: FilledWorkbook, region_id: str, csv_name: str, projection: str | None = None) -> str:
    r = wb.region
    head = {
        "id": region_id,
        **{k: r[k] for k in ("name", "name_en", "province", "city", "units_are") if k in r},
    }
    labels = {rec.label.csv_text() for rec in wb.population if rec.label is not None}
    pop_label = (
        Label.parse(labels.pop())
        if len(labels) == 1
        else Label("source", f"by row: the source column of {csv_name} (workbook sheet {POPULATION.name})")
    )
    base: dict[str, Any] = {**_labelled(pop_label), "file": csv_name, "reference_date": r["reference_date"]}
    if projection is not None:
        base["projection"] = projection
    if "net_migration_rate" in r:
        base["net_migration_rate"] = {
            "value": r["net_migration_rate"],
            **_labelled(wb.region_labels["net_migration_rate"]),
        }
    counties = []
    for rec in wb.counties:
        assert rec.label is not None
        keys = ("id", "name", "name_en", "share_60plus", "urban_share", "ltc_insured_share")
        counties.append({**_labelled(rec.label), **{k: rec.values[k] for k in keys if k in rec.values}})
    return (
        f"# Written by `agingsim region import` from {Path(wb.path).name}: edit the workbook and import it\n"
        "# again rather than editing this file. Format: calibration/regions/README.md.\n"
        + dumps(head)
        + "\n[population_base]\n"
        + dumps(base)
        + "\n"
        + dumps({"counties": counties})
    )


def _header(text: str) -> str:
    return "".join(f"# {line}\n" for line in text.splitlines())


def _band_weights(table: PopulationTable, edges: list[int]) -> np.ndarray:
    ages = table.ages
    total = table.counts[ages >= 60].sum()
    bounds = [*edges, 10_000]
    return np.array(
        [table.counts[(ages >= lo) & (ages < hi)].sum() / total for lo, hi in itertools.pairwise(bounds)]
    )


def econ_margin(
    wb: FilledWorkbook, table: PopulationTable, base: dict[str, Any], edges: list[int]
) -> dict[str, Any]:
    """P(economic status | age band) with the base margin's age gradient, scaled to the user's counts.

    Why scale rather than replace: a county knows its recipients 60+ but rarely by age band; the base
    margin's gradient (shares rising with age) is kept and each category is multiplied so that the
    region's 60+ (weighted by its own age mix) has exactly the user's count.
    """
    old = base["attributes"]["econ"]
    if old.get("by") != ["age_band"]:
        raise ScenarioError(
            BASE_MARGINS, "attributes.econ.by", "expected the economic margin by age_band only"
        )
    labels = age_band_labels(edges)
    p = np.array([next(r["p"] for r in old["rows"] if r["age_band"] == b) for b in labels], float)
    w = _band_weights(table, edges)
    total60 = table.people(60)
    keys = [k for k, _, _ in ECON_ROWS]
    target = np.array([wb.econ[k][0] / total60 for k in keys])
    national = w @ p[:, : len(keys)]
    scaled = np.where(
        national > 0, p[:, : len(keys)] * (target / np.where(national > 0, national, 1)), target
    )
    scaled = np.round(scaled, 6)
    ordinary = 1.0 - scaled.sum(axis=1)
    if (ordinary < 0).any():
        b = labels[int(np.argmin(ordinary))]
        raise ScenarioError(
            wb.path,
            f"{ECON.name} column C",
            f"the counts exceed the people 60+: with the base age gradient, ages {b} would be "
            f"{1 - ordinary.min():.0%} recipients (60+ in the population sheet: {total60:,.0f})",
        )
    cited = "; ".join(f"{zh} {wb.econ[k][0]:,.0f} ({wb.econ[k][1].csv_text()})" for k, zh, _ in ECON_ROWS)
    return {
        "assumption": (
            f"people 60+ by economic status from the region workbook ({Path(wb.path).name}, sheet "
            f"{ECON.name}): {cited}; out of {total60:,.0f} people 60+ in its population sheet. The region "
            f"gives no split by age, so the age gradient of {BASE_MARGINS}'s economic margin is kept and "
            "each category scaled to these totals (agingsim.region.importer.econ_margin)"
        ),
        "by": ["age_band"],
        "rows": [
            {"age_band": b, "p": [*map(float, scaled[i]), round(float(ordinary[i]), 6)]}
            for i, b in enumerate(labels)
        ],
    }


def margins_toml(wb: FilledWorkbook, table: PopulationTable, region_id: str, csv_name: str) -> str:
    base_path = project_root() / "calibration" / "margins" / f"{BASE_MARGINS}.toml"
    with base_path.open("rb") as fh:
        base = tomllib.load(fh)
    src = f"{csv_name} (sources by row), split to single years by PCHIP as in agingsim.population.base"
    rows = []
    for i, age in enumerate(table.ages):
        if age < 60:
            continue
        label = f"{age}+" if table.open_top and i == len(table.ages) - 1 else str(age)
        m, f = (round(float(x), 3) for x in table.counts[i])
        rows.append({"age": label, "M": m, "F": f, "source": src})
    data = dict(base)
    data["age_sex"] = rows
    if wb.econ:
        attrs = dict(base["attributes"])
        attrs["econ"] = econ_margin(wb, table, base, base["age_bands"])
        data["attributes"] = attrs
    header = (
        f"Margins of region {region_id}: written by `agingsim region import` from {Path(wb.path).name}.\n"
        "Age–sex rows from the region's own population table (the model draws the start from the\n"
        "region file's [population_base]; these rows keep the margins consistent with it);\n"
        f"{'economic status from the workbook; ' if wb.econ else ''}"
        f"every other attribute as calibration/margins/{BASE_MARGINS}.toml (national)."
    )
    return _header(header) + dumps(data)


def behaviour_toml(wb: FilledWorkbook, table: PopulationTable, region_id: str) -> str | None:
    """The behaviour model with the region's beds and places as its starting supply, or None.

    The model holds supply per 1,000 people 60+ (``[supply]``); dividing the user's counts by the
    population sheet's 60+ gives back exactly those counts at the start, whose 60+ is the same table.
    """
    if not wb.beds:
        return None
    path = project_root() / "calibration" / "behaviour" / f"{BASE_BEHAVIOUR}.toml"
    with path.open("rb") as fh:
        base = tomllib.load(fh)
    pop60 = table.people(60)
    supply = dict(base["supply"])

    def put(key: str, value: float, item: str, how: str) -> None:
        label = wb.beds[item][1]
        supply[key] = {"value": round(value, 6), label.kind: f"{how} (workbook: {label.text})"}

    beds = wb.beds.get("institution_beds")
    if beds is not None:
        put(
            "institution_beds_per_1000",
            beds[0] / pop60 * 1000,
            "institution_beds",
            f"{beds[0]:,.0f} institution beds (region workbook) per 1,000 of {pop60:,.0f} people 60+",
        )
        for item, key in (("public_beds", "public_bed_share"), ("nursing_beds", "nursing_bed_share")):
            if item in wb.beds and beds[0] > 0:
                put(key, wb.beds[item][0] / beds[0], item, f"{wb.beds[item][0]:,.0f} of {beds[0]:,.0f} beds")
    if "day_care_places" in wb.beds:
        n = wb.beds["day_care_places"][0]
        put(
            "day_care_places_per_1000",
            n / pop60 * 1000,
            "day_care_places",
            f"{n:,.0f} community places (region workbook) per 1,000 of {pop60:,.0f} people 60+",
        )
    data = dict(base)
    data["supply"] = supply
    header = (
        f"Behaviour model of region {region_id}: written by `agingsim region import` from "
        f"{Path(wb.path).name}.\n[supply] from the workbook's beds sheet (items left blank stay national); "
        f"every other section copied from calibration/behaviour/{BASE_BEHAVIOUR}.toml."
    )
    return _header(header) + dumps(data)


def _verify(region_path: Path, margins_path: Path, behaviour_path: Path | None) -> None:
    """Read the staged files back exactly as a scenario would."""
    if behaviour_path is not None:
        load_labelled_plain(behaviour_path, BehaviourFile)
    region, _, _ = load_labelled_plain(region_path, RegionFile)
    load_population_base(region, region_path)
    margins, _, _ = load_labelled_plain(margins_path, MarginsFile)
    problems = [
        ScenarioError(margins_path, f"attributes.{name}.{key}", problem)
        for name, margin in margins.attributes.items()
        for key, problem in validate_attribute_margin(name, margin, margins.band_labels())
    ]
    if problems:
        raise ScenarioErrors(problems)


def _commit(staged: dict[Path, Path], stale: list[Path], stage: Path) -> None:
    """Rename staged files into place together and remove ``stale`` ones (an earlier import's file
    this one does not write); on any failure restore what was there."""
    backups: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for final in stale:
            bak = stage / (final.name + ".old")
            os.replace(final, bak)
            backups.append((bak, final))
        for tmp, final in staged.items():
            if final.exists():
                bak = tmp.with_name(tmp.name + ".old")
                os.replace(final, bak)
                backups.append((bak, final))
            os.replace(tmp, final)
            placed.append(final)
    except BaseException:
        for p in placed:
            p.unlink(missing_ok=True)
        for bak, final in backups:
            os.replace(bak, final)
        raise


def import_workbook(
    source: str | Path | bytes,
    region_id: str,
    out_dir: str | Path | None = None,
    *,
    name: str | None = None,
    force: bool = False,
) -> ImportedRegion:
    """Check a filled workbook and write the region's files; raise :class:`ScenarioError` on any problem.

    ``source`` is a path or the workbook's bytes (an upload); ``name`` is how errors name it (default:
    the path, or ``workbook.xlsx`` for bytes). Existing files of the same id are replaced only with
    ``force``. Returns the paths written.
    """
    label = name or (str(source) if isinstance(source, str | Path) else "workbook.xlsx")
    if not ID_PATTERN.match(region_id):
        raise ScenarioError(
            label,
            "--id",
            f"region id must be a-z, 0-9 and _, starting with a letter, ≤ 40 characters (got {region_id!r})",
        )
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    if not out.is_dir():
        raise ScenarioError(out, "--out-dir", "folder does not exist")
    csv_name = f"{region_id}_population.csv"
    finals = ImportedRegion(
        out / f"{region_id}.toml",
        out / csv_name,
        out / f"{region_id}_margins.toml",
        out / f"{region_id}_behaviour.toml",
    )
    existing = [p for p in finals.all() if p.exists()]
    if existing and not force:
        raise ScenarioError(
            existing[0],
            "--id",
            f"region '{region_id}' already has files here; choose another --id or pass --force",
        )
    wb = read_workbook(source, label)
    stage = Path(tempfile.mkdtemp(prefix=f".{region_id}.import-", dir=out))
    try:
        csv_text, csv_rows = population_csv(wb)
        staged_csv = stage / csv_name
        staged_csv.write_text(csv_text, encoding="utf-8")
        table = check_table(wb, staged_csv, csv_rows)
        staged_region = stage / finals.region.name
        # read back from the staging folder, one level down: the projection path is relative to it
        staged_region.write_text(
            region_toml(wb, region_id, csv_name, projection_for(stage)), encoding="utf-8"
        )
        staged_margins = stage / finals.margins.name
        staged_margins.write_text(margins_toml(wb, table, region_id, csv_name), encoding="utf-8")
        staged = {staged_csv: finals.population, staged_region: finals.region, staged_margins: finals.margins}
        behaviour = behaviour_toml(wb, table, region_id)
        staged_behaviour = None
        if behaviour is not None:
            assert finals.behaviour is not None
            staged_behaviour = stage / finals.behaviour.name
            staged_behaviour.write_text(behaviour, encoding="utf-8")
            staged[staged_behaviour] = finals.behaviour
        _verify(staged_region, staged_margins, staged_behaviour)
        staged_region.write_text(region_toml(wb, region_id, csv_name, projection_for(out)), encoding="utf-8")
        stale = (
            [finals.behaviour] if behaviour is None and finals.behaviour and finals.behaviour.exists() else []
        )
        _commit(staged, stale, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return finals if behaviour is not None else dataclasses.replace(finals, behaviour=None)
