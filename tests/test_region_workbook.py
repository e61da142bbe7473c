"""Issue 14 item 4 (bring your own region): `agingsim region template` / `import`.

A civil-affairs user fills the template workbook; the import checks every cell (errors name sheet,
row, column and problem, nothing is written on error) and writes the region, its population-base CSV
(calibration/regions/README.md format) and its margins, each figure with the user's source.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from region_workbook_builder import (
    BEDS_COUNTS,
    COUNTY_ROWS,
    ECON_COUNTS,
    GROUPS,
    PEOPLE,
    REGION_FIELDS,
    SRC,
    fill,
    population_rows,
)

from agingsim.cli import main
from agingsim.errors import ScenarioError
from agingsim.region import import_workbook, template_bytes
from agingsim.region.workbook import COUNTIES, POPULATION, REGION, SHEETS
from agingsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ABILITY = ROOT / "calibration" / "ability" / "default.toml"


def _scenario(tmp_path: Path, region_id: str, start_year: int, n: int, years: int = 1) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(
        f"""[scenario]
name = "自带地区测试"
[run]
start_year = {start_year}
years = {years}
seed = 11
simulated_people = {n}
[population]
region = "regions/{region_id}.toml"
margins = "regions/{region_id}_margins.toml"
ability_model = "{ABILITY.as_posix()}"
""",
        encoding="utf-8",
    )
    return path


def _out(tmp_path: Path) -> Path:
    out = tmp_path / "regions"
    out.mkdir(exist_ok=True)
    return out


# --------------------------------------------------------------------------- template


def test_template_has_every_sheet_with_bilingual_headers_units_and_an_example(tmp_path):
    path = tmp_path / "t.xlsx"
    assert main(["region", "template", str(path)]) == 0
    wb = load_workbook(path)
    assert wb.sheetnames == ["说明 README", *(s.name for s in SHEETS)]
    for sheet in (POPULATION, COUNTIES):
        ws = wb[sheet.name]
        for j, col in enumerate(sheet.columns, start=1):
            assert col.zh in ws.cell(1, j).value and ws.cell(2, j).value == col.key
            assert ws.cell(3, j).value == col.unit and ws.cell(4, j).value == col.example
    checks = {
        str(d.sqref): (d.type, d.formula1, d.formula2)
        for d in wb[COUNTIES.name].data_validations.dataValidation
    }
    assert checks["E5:E2000"] == ("decimal", "0", "1")  # urban_share: Excel flags a share above 1 as typed
    sex = [d for d in wb[POPULATION.name].data_validations.dataValidation if d.type == "list"]
    assert [str(d.sqref) for d in sex] == ["C5:C2000"]
    ws = wb[REGION.name]
    assert [ws[f"B{r}"].value for r in range(3, 3 + len(REGION.columns))] == [c.key for c in REGION.columns]


def test_template_does_not_overwrite_a_file_without_force(tmp_path, capsys):
    path = fill(tmp_path / "filled.xlsx")
    before = path.read_bytes()
    assert main(["region", "template", str(path)]) == 2
    assert f"{path}: (top level): file exists" in capsys.readouterr().err
    assert path.read_bytes() == before
    assert main(["region", "template", str(path), "--force"]) == 0
    assert path.read_bytes() != before


def test_template_alone_does_not_import_its_example_rows(tmp_path):
    """Row 4 is the example: an untouched template has no data and is refused."""
    path = tmp_path / "t.xlsx"
    path.write_bytes(template_bytes())
    with pytest.raises(ScenarioError) as err:
        import_workbook(path, "x", _out(tmp_path))
    assert "人口 Population row 5: no data rows" in str(err.value)
    assert list(_out(tmp_path).iterdir()) == []


# --------------------------------------------------------------------------- round trip


def test_import_writes_region_population_csv_and_margins_with_the_users_sources(tmp_path):
    paths = import_workbook(fill(tmp_path / "f.xlsx"), "testcounty", _out(tmp_path))
    region = tomllib.loads(paths.region.read_text(encoding="utf-8"))
    assert region["population_base"]["file"] == "testcounty_population.csv"
    assert str(region["population_base"]["reference_date"]) == REGION_FIELDS["reference_date"]
    assert region["population_base"]["assumption"] == "test county, hand-built round numbers"
    assert [c["id"] for c in region["counties"]] == [c["id"] for c in COUNTY_ROWS]
    assert region["counties"][1]["source"] == COUNTY_ROWS[1]["source"]  # a cited row stays a source
    csv = pd.read_csv(paths.population, keep_default_na=False)
    assert list(csv.columns) == ["age_lower", "age_upper", "sex", "people", "source"]
    assert csv.groupby("sex")["people"].sum().to_dict() == {s: sum(v) for s, v in PEOPLE.items()}
    assert (csv["source"] == SRC).all()
    # the economic-status shares reproduce the user's counts over the region's own 60+ age mix
    sc = load_scenario(_scenario(tmp_path, "testcounty", 2021, 1000))
    econ = sc.margins.attributes["econ"]
    total60 = sum(n for s in PEOPLE for (lo, _), n in zip(GROUPS, PEOPLE[s], strict=True) if lo >= 60)
    assert sc.region.pop_60plus == pytest.approx(total60)
    bands = sc.margins.band_labels()
    w = np.zeros(len(bands))
    for r in sc.margins.age_sex:
        a = int(r.age.rstrip("+"))
        w[np.searchsorted(sc.margins.age_bands, a, side="right") - 1] += r.M + r.F
    p = np.array([next(r["p"] for r in econ.rows if r["age_band"] == b) for b in bands])
    implied = (w @ p) / w.sum() * total60
    assert implied[:4] == pytest.approx(list(ECON_COUNTS.values()), rel=1e-3)
    # the beds sheet becomes the behaviour model's starting supply, per 1,000 people 60+
    assert paths.behaviour is not None
    with paths.behaviour.open("rb") as fh:
        supply = tomllib.load(fh)["supply"]
    beds = supply["institution_beds_per_1000"]
    assert beds["value"] * total60 / 1000 == pytest.approx(BEDS_COUNTS["institution_beds"], rel=1e-5)
    assert supply["public_bed_share"]["value"] == pytest.approx(300 / 800)
    assert supply["nursing_bed_share"]["value"] == pytest.approx(400 / 800)
    assert supply["day_care_places_per_1000"]["value"] * total60 / 1000 == pytest.approx(200, rel=1e-5)
    assert beds["assumption"].endswith(f"(workbook: {SRC.removeprefix('assumption: ')})")


def test_round_trip_run_people_by_age_and_sex_match_the_workbook(tmp_path):
    """Fill → import → `agingsim run` → people 60+ by sex × 5-year band on 1 January of the first year.

    The workbook's reference date is 1 January of the start year, so the model starts from the table
    itself (no projection step). Each simulated person stands for pop60/n real people and is drawn
    from the table's age × sex cells, so a band's count is multinomial: its standard error is
    pop60·sqrt(p(1−p)/n). The test allows 4 standard errors per cell (18 cells); the 60+ total is
    exact (the weights sum to it). With a fixed seed the outcome is deterministic."""
    fields = dict(REGION_FIELDS, reference_date="2021-01-01")
    import_workbook(fill(tmp_path / "f.xlsx", region=fields), "rt", _out(tmp_path))
    n = 20_000
    out = tmp_path / "out"
    assert main(["run", str(_scenario(tmp_path, "rt", 2021, n)), "--out", str(out)]) == 0
    pop = pd.read_csv(out / "population.csv")
    first = pop[pop["year"] == 2021]
    got = first.groupby(["sex", "age_band"])["people"].sum()
    want: dict[tuple[str, str], float] = {}
    for sex in ("M", "F"):
        for (lo, _), people in zip(GROUPS, PEOPLE[sex], strict=True):
            if lo >= 60:
                band = f"{lo}+" if lo == 100 else f"{lo}-{lo + 4}"
                want[(sex, band)] = people
    total = sum(want.values())
    assert got.sum() == pytest.approx(total, rel=1e-5)
    assert set(got[got > 0].index) == set(want)
    for cell, expected in want.items():
        p = expected / total
        se = total * np.sqrt(p * (1 - p) / n)
        assert abs(got[cell] - expected) <= 4 * se, (cell, got[cell], expected, se)
    # and the counties take the workbook's shares of the 60+ (binomial, 4 standard errors)
    by_county = first.groupby("county")["people"].sum()
    for row in COUNTY_ROWS:
        p = row["share_60plus"]
        assert abs(by_county[row["id"]] - p * total) <= 4 * total * np.sqrt(p * (1 - p) / n)


def test_excel_date_cell_and_migration_rate_with_its_own_source(tmp_path):
    """A reference date typed as an Excel date works like the text form; a figure in the Region sheet
    (net migration) carries the source of its own row."""
    fields = dict(REGION_FIELDS, reference_date=datetime.date(2020, 11, 1), net_migration_rate=-0.004)
    cite = "某县统计年鉴 2021 表2-5 迁移人口"
    paths = import_workbook(
        fill(tmp_path / "f.xlsx", region=fields, region_sources={"net_migration_rate": cite}),
        "dated",
        _out(tmp_path),
    )
    region = tomllib.loads(paths.region.read_text(encoding="utf-8"))["population_base"]
    assert region["reference_date"] == datetime.date(2020, 11, 1)
    assert region["net_migration_rate"] == {"value": -0.004, "source": cite}


def test_single_years_and_chinese_sex_codes_are_accepted(tmp_path):
    """Single-year rows (age_upper = age_lower) mix with groups; 男/女 are read as M/F."""
    rows = []
    for sex, zh in (("M", "男"), ("F", "女")):
        for (lo, hi), n in zip(GROUPS, PEOPLE[sex], strict=True):
            if (lo, hi) == (60, 64):
                rows += [
                    {"age_lower": a, "age_upper": a, "sex": zh, "people": n / 5, "source": SRC}
                    for a in range(60, 65)
                ]
            else:
                rows.append({"age_lower": lo, "age_upper": hi, "sex": zh, "people": n, "source": SRC})
    paths = import_workbook(fill(tmp_path / "f.xlsx", population=rows), "single", _out(tmp_path))
    csv = pd.read_csv(paths.population, keep_default_na=False)
    assert set(csv["sex"]) == {"M", "F"}
    one = csv[(csv["age_lower"] == 62) & (csv["sex"] == "F")]
    assert one["age_upper"].tolist() == ["62"] and one["people"].tolist() == [7200 / 5]


def test_uploaded_bytes_that_are_not_a_workbook_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match=r"上传\.xlsx: \(top level\): not an Excel \.xlsx workbook"):
        import_workbook(b"age,sex\n60,M\n", "x", _out(tmp_path), name="上传.xlsx")
    assert list(_out(tmp_path).iterdir()) == []


def test_existing_region_is_not_replaced_without_force(tmp_path):
    out = _out(tmp_path)
    first = import_workbook(fill(tmp_path / "f.xlsx"), "twice", out)
    before = first.region.read_bytes()
    rows = [dict(r, share_60plus=0.5) for r in COUNTY_ROWS]
    with pytest.raises(ScenarioError, match="already has files here"):
        import_workbook(fill(tmp_path / "g.xlsx", counties=rows), "twice", out)
    assert first.region.read_bytes() == before
    assert first.behaviour is not None and first.behaviour.is_file()
    again = import_workbook(fill(tmp_path / "g.xlsx", counties=rows, beds={}), "twice", out, force=True)
    assert "share_60plus = 0.5" in first.region.read_text(encoding="utf-8")
    # the new workbook has no beds: the earlier import's behaviour file goes too, not left stale
    assert again.behaviour is None and not first.behaviour.exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in again.all())


def test_a_failed_rename_rolls_back_to_the_earlier_files(tmp_path, monkeypatch):
    """All of an import's files or none: if a rename fails midway, the files placed are removed and
    the earlier import's files restored byte for byte."""
    out = _out(tmp_path)
    first = import_workbook(fill(tmp_path / "f.xlsx"), "roll", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real, calls = os.replace, []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 6:  # (backup, place) per file: two files placed, the third fails
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr("agingsim.region.importer.os.replace", flaky)
    rows = [dict(r, share_60plus=0.5) for r in COUNTY_ROWS]
    with pytest.raises(OSError, match="disk full"):
        import_workbook(fill(tmp_path / "g.xlsx", counties=rows), "roll", out, force=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert first.region.is_file()


def test_import_accepts_workbook_bytes_for_an_upload(tmp_path):
    data = fill(tmp_path / "f.xlsx").read_bytes()
    paths = import_workbook(data, "upload", _out(tmp_path), name="上传.xlsx")
    assert paths.region.is_file() and "上传.xlsx" in paths.region.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- malformed workbooks


def _pop(changes):
    """The hand-built population rows with changes {index: {column: value} or None to drop}."""
    rows = population_rows()
    out = []
    for i, r in enumerate(rows):
        if i in changes:
            if changes[i] is None:
                continue
            r = dict(r, **changes[i])
        out.append(r)
    return out


def _drop_sheet(name):
    def edit(path: Path) -> None:
        wb = load_workbook(path)
        del wb[name]
        wb.save(path)

    return edit


def _clear_header(sheet, key):
    def edit(path: Path) -> None:
        wb = load_workbook(path)
        ws = wb[sheet]
        for c in ws[2]:
            if c.value == key:
                c.value = None
        wb.save(path)

    return edit


def _example_row_deleted(path: Path) -> None:
    wb = load_workbook(path)
    wb[POPULATION.name].delete_rows(4)
    wb.save(path)


def _empty_workbook(path: Path) -> None:
    Workbook().save(path)


def _csv_renamed(path: Path) -> None:
    path.write_text("age_lower,age_upper,sex,people,source\n60,64,M,1,x\n", encoding="utf-8")


# Rows: population M groups are rows 5–17, F rows 18–30; counties rows 5–6; the Region sheet's
# items are rows 3 (name) … 8 (reference_date), 9 (net_migration_rate).
MALFORMED = {
    "missing_sheet": (
        {"edit": _drop_sheet(COUNTIES.name)},
        "区县 Counties: sheet missing",
    ),
    "missing_column": (
        {"edit": _clear_header(POPULATION.name, "people")},
        "人口 Population row 2: missing column 'people'",
    ),
    "text_in_number_cell": (
        {"population": _pop({2: {"people": "九千五"}})},
        "人口 Population row 7, column D (people): text in a number cell",
    ),
    "negative_people": (
        {"population": _pop({5: {"people": -6000}})},
        "人口 Population row 10, column D (people): negative",
    ),
    "infinite_people": (
        {"population": _pop({14: {"people": "inf"}})},
        "人口 Population row 19, column D (people): must be a finite number",
    ),
    "nan_share": (
        {"counties": [dict(COUNTY_ROWS[0], urban_share="nan"), COUNTY_ROWS[1]]},
        "区县 Counties row 5, column E (urban_share): must be a finite number",
    ),
    "share_out_of_range": (
        {"counties": [dict(COUNTY_ROWS[0], urban_share=1.5), COUNTY_ROWS[1]]},
        "区县 Counties row 5, column E (urban_share): out of range",
    ),
    "shares_not_summing_to_one": (
        {"counties": [COUNTY_ROWS[0], dict(COUNTY_ROWS[1], share_60plus=0.5)]},
        "区县 Counties column share_60plus: shares of the 60+ sum to 1.1, not 1",
    ),
    "duplicate_county_id": (
        {"counties": [dict(COUNTY_ROWS[0], share_60plus=0.5), dict(COUNTY_ROWS[0], share_60plus=0.5)]},
        "区县 Counties row 6, column A (id): duplicate id 'chengguan' (also row 5)",
    ),
    "bad_county_id": (
        {"counties": [dict(COUNTY_ROWS[0], id="Cheng Guan"), COUNTY_ROWS[1]]},
        "区县 Counties row 5, column A (id): use lower-case letters",
    ),
    "fractional_age": (
        {"population": _pop({3: {"age_lower": 55.5}})},
        "人口 Population row 8, column A (age_lower): a whole number is needed",
    ),
    "age_out_of_range": (
        {"population": _pop({12: {"age_lower": 200}})},
        "人口 Population row 17, column A (age_lower): out of range",
    ),
    "gap_in_ages": (
        {"population": _pop({2: None})},
        "人口 Population row 7, column A (age_lower): sex M: ages 50–54 missing (previous group 45–49, row 6)",
    ),
    "overlapping_ages": (
        {"population": _pop({14: {"age_upper": 52}})},
        "人口 Population row 20, column A (age_lower): sex F: 50 overlaps the group 45–52 of row 19",
    ),
    "table_starts_too_old": (
        {"population": [r for r in population_rows() if r["age_lower"] >= 50]},
        "人口 Population row 5, column A (age_lower): sex M starts at 50",
    ),
    "bad_sex": (
        {"population": _pop({0: {"sex": "X"}})},
        "人口 Population row 5, column C (sex): must be M/F or 男/女",
    ),
    "empty_source": (
        {"population": _pop({4: {"source": None}})},
        "人口 Population row 9, column E (source): empty source",
    ),
    "missing_reference_date": (
        {"region": {k: v for k, v in REGION_FIELDS.items() if k != "reference_date"}},
        "地区 Region row 8, column C (reference_date): empty",
    ),
    "bad_reference_date": (
        {"region": dict(REGION_FIELDS, reference_date="2020-13-01")},
        "地区 Region row 8, column C (reference_date): a date YYYY-MM-DD is needed",
    ),
    "economic_status_partly_filled": (
        {"econ": {"dibao": 3000}},
        "经济状况 Economic status column C: fill all four categories or none; missing: tekun_centralised",
    ),
    "beds_public_above_total": (
        {"beds": {"institution_beds": 100, "public_beds": 150}},
        "床位 Beds row 4, column C (public_beds): 150 exceeds the institution beds 100",
    ),
    "economic_status_above_the_60plus": (
        {"econ": dict(ECON_COUNTS, dibao=60000)},
        "经济状况 Economic status column C: the counts exceed the people 60+",
    ),
    "example_row_deleted": (
        {"edit": _example_row_deleted},
        "人口 Population row 4, column A (age_lower): row 4 is the example row and is ignored on import, but it was changed (got 40",
    ),
    "control_character_in_text": (
        {"counties": [dict(COUNTY_ROWS[0], name="城关\x7f镇"), COUNTY_ROWS[1]]},
        "区县 Counties row 5, column B (name): contains control character(s) U+007F",
    ),
    "empty_workbook": (
        {"edit": _empty_workbook},
        "地区 Region: sheet missing",
    ),
    "wrong_file_type": (
        {"edit": _csv_renamed},
        "(top level): not an Excel .xlsx workbook",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_workbook_names_sheet_row_column_and_writes_nothing(tmp_path, case):
    spec, expected = MALFORMED[case]
    path = tmp_path / "bad.xlsx"
    fill(path, **{k: v for k, v in spec.items() if k != "edit"})
    if "edit" in spec:
        spec["edit"](path)
    out = _out(tmp_path)
    with pytest.raises(ScenarioError) as err:
        import_workbook(path, "bad", out)
    assert f"{path}: {expected}" in str(err.value), str(err.value)
    assert list(out.iterdir()) == []  # nothing written, no staging folder left


def test_import_cli_exits_2_with_the_message_and_no_traceback(tmp_path):
    path = fill(tmp_path / "bad.xlsx", population=_pop({2: {"people": "many"}}))
    out = _out(tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "agingsim.cli",
            "region",
            "import",
            str(path),
            "--id",
            "bad",
            "--out-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert f"{path}: 人口 Population row 7, column D (people): text in a number cell" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--id", "Bad-Id"], "--id: region id must be a-z"),
        (["--id", "ok", "--out-dir", "/nonexistent/dir"], "--out-dir: folder does not exist"),
    ],
)
def test_import_refuses_a_bad_id_or_folder(tmp_path, capsys, args, expected):
    path = fill(tmp_path / "f.xlsx")
    assert main(["region", "import", str(path), *args]) == 2
    assert expected in capsys.readouterr().err


def test_wrong_suffix_is_refused_before_reading(tmp_path):
    path = tmp_path / "pop.csv"
    path.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"not an Excel \.xlsx workbook \(got a '\.csv' file\)"):
        import_workbook(path, "x", _out(tmp_path))


def test_the_printed_scenario_lines_work_from_scenarios_and_name_no_machine_path(tmp_path, capsys):
    """`region import` into calibration/regions prints the [population] lines to paste into a
    scenario in scenarios/: paths relative to it (an absolute path breaks on a colleague's machine),
    and a scenario with exactly those lines loads the imported region."""
    rid = f"pytest_paste_{os.getpid()}"
    regions = ROOT / "calibration" / "regions"
    scenario = ROOT / "scenarios" / f"{rid}.toml"
    made = [regions / f"{rid}{s}" for s in (".toml", "_population.csv", "_margins.toml", "_behaviour.toml")]
    try:
        assert main(["region", "import", str(fill(tmp_path / "f.xlsx")), "--id", rid]) == 0
        printed = capsys.readouterr().out.splitlines()
        lines = printed[printed.index("  [population]") :]
        assert not any(str(ROOT) in line for line in lines), lines
        text = "\n".join(x.strip() for x in lines) + f'\nability_model = "{ABILITY.as_posix()}"\n'
        scenario.write_text(
            f'[scenario]\nname = "粘贴"\n[run]\nstart_year = 2021\nyears = 1\nseed = 1\nsimulated_people = 2000\n{text}',
            encoding="utf-8",
        )
        loaded = load_scenario(scenario)
        assert loaded.region.id == rid
        assert f"calibration/regions/{rid}_margins.toml" in loaded.inputs  # the imported margins
    finally:
        for path in [scenario, *made]:
            path.unlink(missing_ok=True)
