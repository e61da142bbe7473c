"""Issue 18 classes 1, 6 and 8: every non-finite or absurd number, malformed data file and I/O error
is a clear ``FILE: KEY: PROBLEM`` error (exit 2 for bad input), never a traceback or a silent misprice."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from agingsim.cli import main
from agingsim.results import output as output_mod

ROOT = Path(__file__).resolve().parents[1]
LIFE_TABLE = ROOT / "calibration/ability/wpp2024_china_mx5.csv"

POLICY = """
[policy]
[[policy.schemes]]
id = "allowance"
name = "测试津贴"
family = "allowance"
eligible = "age >= 80"
amount = { value = 100, assumption = "test" }
payers = { county = { value = 1.0, assumption = "test" } }
budget_cap = { county = { value = 1e6, assumption = "test" } }
"""


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


@pytest.fixture
def world(tiny_copy):
    """The tiny test world with a one-scheme policy and its own copy of the ability model and
    life table, so each file kind can be broken."""
    d = tiny_copy.dir
    shutil.copy(ROOT / "calibration/ability/default.toml", d / "ability.toml")
    shutil.copy(LIFE_TABLE, d / "wpp2024_china_mx5.csv")
    tiny_copy("tiny.toml", str(ROOT / "calibration/ability/default.toml"), "ability.toml")
    with (d / "tiny.toml").open("a", encoding="utf-8") as fh:
        fh.write(POLICY)
    return tiny_copy


def assert_input_error(capsys, world, path: Path, key: str, *problems: str) -> str:
    out = world.dir / "out"
    code, err = run_cli(capsys, "run", str(world.scenario), "--out", str(out))
    assert code == 2, err
    assert f"{path}: {key}" in err, err
    for p in problems:
        assert p in err, err
    assert "Traceback" not in err
    assert not out.exists()
    return err


# --------------------------------------------------------------------------- class 1: numbers


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("nan", "not a finite number"),  # paid nothing: `raw < 0` is false for NaN
        ("inf", "not a finite number"),
        ("1e300", "must be in [0, 1,000,000] CNY per person per month"),
        ("-5", "must be in [0, 1,000,000]"),
    ],
)
def test_scheme_amount_must_be_finite_and_in_range(world, capsys, value, problem):
    path = world("tiny.toml", "value = 100,", f"value = {value},")
    assert_input_error(capsys, world, path, "policy.schemes[0].amount:", problem)


def test_budget_cap_nan_is_an_error(world, capsys):
    """A NaN county budget cap used to stop the scheme silently."""
    path = world("tiny.toml", "value = 1e6", "value = nan")
    err = assert_input_error(capsys, world, path, "policy.schemes[0].budget_cap.county:", "not a finite")
    assert err.count("\n") == 1  # one problem, reported once


def test_payer_share_out_of_range(world, capsys):
    path = world("tiny.toml", "value = 1.0,", "value = 7.0,")
    assert_input_error(capsys, world, path, "policy.schemes[0].payers:", "[0, 1]")


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        ("pop_60plus = 100000", "pop_60plus = inf", "pop_60plus:", "not a finite number"),
        (
            "entrants_per_year = 6000",
            "entrants_per_year = 1e15",  # tried to allocate petabytes
            "entry.entrants_per_year:",
            "[0, 100,000,000] people a year",
        ),
        ("entrants_per_year = 6000", "entrants_per_year = 200000", "entry:", "exceeds pop_60plus"),
        ("share_60plus = 0.6", "share_60plus = nan", "counties[0].share_60plus:", "not a finite"),
    ],
)
def test_region_numbers(world, capsys, old, new, key, problem):
    path = world("tiny_region.toml", old, new)
    assert_input_error(capsys, world, path, key, problem)


@pytest.mark.parametrize(
    ("old", "new", "key", "problem"),
    [
        # rate_60 = 1e308 gave zero deaths (an overflowing intensity)
        ("rate_60 = { value = 0.030,", "rate_60 = { value = 1e308,", "transitions[0].rate_60:", "[0, 50]"),
        ("rate_60 = { value = 0.030,", "rate_60 = { value = nan,", "transitions[0].rate_60:", "finite"),
    ],
)
def test_ability_model_numbers(world, capsys, old, new, key, problem):
    path = world("ability.toml", old, new)
    assert_input_error(capsys, world, path, key, problem)


def test_hazard_ratio_inf_is_an_error(world, capsys):
    """hazard_ratio = inf gave zero deaths."""
    path = world("ability.toml", "complete = { value = 6.0, log_sd", "complete = { value = inf, log_sd")
    assert_input_error(capsys, world, path, "mortality.hazard_ratio.complete:", "not a finite")


def test_margin_count_is_bounded(world, capsys):
    path = world("tiny_margins.toml", "M = 30000", "M = 1e12")
    assert_input_error(capsys, world, path, "age_sex[0].M:", "[0, 1,000,000,000] people")


def test_overlapping_age_rows_in_margins(world, capsys):
    path = world("tiny_margins.toml", '{ age = "70-79",', '{ age = "65-79",')
    assert_input_error(capsys, world, path, "age_sex:", "overlap")


# --------------------------------------------------------------------------- class 6: data files


def _edit_table(world, edit) -> Path:
    path = world.dir / "wpp2024_china_mx5.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "key", "problem"),
    [
        (
            lambda ls: [ls[0], ls[1].replace("0.00580011", "abc"), *ls[2:]],
            "row 2, column 2015-2020",
            "not a number",
        ),
        (
            lambda ls: [ls[0], ls[1].replace("0.00580011", "nan"), *ls[2:]],
            "row 2, column 2015-2020",
            "(0, 2]",
        ),
        (
            lambda ls: [ls[0], ls[1].replace("0.00580011", ""), *ls[2:]],
            "row 2, column 2015-2020",
            "not a number",
        ),
        (
            lambda ls: [ls[0], ls[1].replace("0.00580011", "-0.1"), *ls[2:]],
            "row 2, column 2015-2020",
            "(0, 2]",
        ),
        # an age group missing in the middle
        (lambda ls: [ln for ln in ls if not ln.startswith("M,75,")], "sex M", "gap before 80"),
        # all male rows from 60 deleted: was accepted
        (
            lambda ls: [
                ln for ln in ls if not (ln.startswith("M,") and int(ln.split(",")[1].rstrip("+")) >= 60)
            ],
            "sex M",
            "",
        ),
        (lambda ls: [ln for ln in ls if not ln.startswith("F,")], "sex F", "no rows for this sex"),
        # a row with an extra cell would shift the columns
        (lambda ls: [ls[0], ls[1] + ",extra", *ls[2:]], "row 2", "has 7 cells; the header has 6"),
        (lambda ls: [ls[0], *ls[1:], ls[3]], "sex M", "given twice"),
    ],
)
def test_life_table_is_validated(world, capsys, edit, key, problem):
    path = _edit_table(world, edit)
    assert_input_error(capsys, world, path, key, problem)


def test_wrong_file_as_life_table(world, capsys):
    path = world.dir / "wpp2024_china_mx5.csv"
    shutil.copy(ROOT / "calibration/data/disability_prevalence.csv", path)
    assert_input_error(capsys, world, path, "row 1:", "is this the right file?")


def test_gbk_toml_is_named_as_such(world, capsys):
    path = world.dir / "tiny_region.toml"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    assert_input_error(capsys, world, path, "(top level):", "GBK/GB18030", "UTF-8")


def test_deep_nesting_is_a_clear_error(world, capsys):
    path = world.dir / "tiny_region.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert_input_error(capsys, world, path, "(top level):", "nested more than")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[1, 2, 3]", "type"),
        ('{"type": "FeatureCollection", "features": [1, 2]}', "features[0]"),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": [1, 2]}]}',
            "features[0]",
        ),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": [1],'
            ' "geometry": {"type": "Point", "coordinates": [1, 2]}}]}',
            "features[0].properties",
        ),
    ],
)
def test_geojson_of_the_wrong_shape(tmp_path, text, key):
    from agingsim.errors import ScenarioError
    from agingsim.geo.tables import _read_table

    path = tmp_path / "communities.geojson"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        _read_table(path)
    assert f"{path}: {key}" in str(info.value)


def test_geography_csv_row_with_extra_cells(tmp_path):
    from agingsim.errors import ScenarioError
    from agingsim.geo.tables import _read_table

    path = tmp_path / "communities.csv"
    path.write_text("id,county,lon,lat\na,north,1,2\nb,north,1,2,9\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"row 3: has 5 cells; the header has 4"):
        _read_table(path)


# --------------------------------------------------------------------------- class 8: I/O, handler


def test_out_under_a_file_is_refused_before_running(world, capsys):
    (world.dir / "results.csv").write_text("x")
    code, err = run_cli(capsys, "run", str(world.scenario), "--out", str(world.dir / "results.csv" / "run"))
    assert code == 2 and "--out" in err and "is a file, not a folder" in err, err


@pytest.mark.parametrize(
    ("flag", "value", "key"), [("--years", "0", "run.years"), ("--seed", "-5", "run.seed")]
)
@pytest.mark.parametrize("command", ["run", "compare"])
def test_an_out_of_range_override_names_the_command_not_the_file(world, capsys, command, flag, value, key):
    """``--years 0`` is the command's value: the error says the file's setting was overridden, so
    the user does not search the file for a 0 that is not there."""
    scenarios = [str(world.scenario)] * (2 if command == "compare" else 1)
    code, err = run_cli(capsys, command, *scenarios, flag, value, "--out", str(world.dir / "out"))
    assert code == 2, err
    assert f"{world.scenario}: {key} (overridden to {value}, not the file's value): " in err, err
    assert not (world.dir / "out").exists()


def _must_not_run(*args, **kwargs):
    raise AssertionError("the command ran before refusing its --out")


@pytest.mark.parametrize("command", ["run", "compare"])
def test_out_that_is_another_folder_is_refused_before_running(world, capsys, monkeypatch, command):
    """``--out calibration`` (a folder of something else) is refused before the simulation(s), not
    after them: the check write_outputs makes at the end is made first (results.output.check_out_dir)."""
    import agingsim.simulate

    monkeypatch.setattr(agingsim.simulate, "run_scenario", _must_not_run)
    other = world.dir / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me", encoding="utf-8")
    scenarios = [str(world.scenario)] * (2 if command == "compare" else 1)
    code, err = run_cli(capsys, command, *scenarios, "--out", str(other))
    assert code == 2 and "--out" in err and "exists and is not an agingsim output folder" in err, err
    assert sorted(p.name for p in other.iterdir()) == ["mine.txt"]


def test_compare_out_under_a_file_is_refused_before_running(world, capsys, monkeypatch):
    import agingsim.simulate

    monkeypatch.setattr(agingsim.simulate, "run_scenario", _must_not_run)
    (world.dir / "README.md").write_text("x")
    out = world.dir / "README.md" / "x"
    code, err = run_cli(capsys, "compare", str(world.scenario), str(world.scenario), "--out", str(out))
    assert code == 2 and "is a file, not a folder" in err, err


def test_validate_model_out_that_is_another_folder_is_refused_before_fitting(world, capsys, monkeypatch):
    import agingsim.calibration.report

    monkeypatch.setattr(agingsim.calibration.report, "validate_model", _must_not_run)
    other = world.dir / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me", encoding="utf-8")
    code, err = run_cli(capsys, "validate-model", "--scenario", str(world.scenario), "--out", str(other))
    assert code == 2 and "exists and is not an agingsim output folder" in err, err


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "no space left on the disk"),
        (errno.EROFS, "the file system is read-only"),
        (errno.EACCES, "permission denied"),
    ],
)
def test_io_errors_are_clear_messages(world, capsys, monkeypatch, code, words):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(world.dir / "out" / "people.csv"))

    monkeypatch.setattr("pandas.DataFrame.to_csv", fail)
    monkeypatch.setattr("agingsim.results.output.write_csv", fail)  # the run's own CSV writer
    exit_code, err = run_cli(capsys, "run", str(world.scenario), "--out", str(world.dir / "out"))
    assert exit_code == 1 and words in err and "Traceback" not in err, err
    assert "people.csv" in err
    assert not (world.dir / "out").exists()
    assert not list(world.dir.glob(".out.tmp-*"))


def test_internal_errors_have_no_traceback_unless_debug(capsys, monkeypatch):
    from agingsim import cli

    def boom(args):
        raise RuntimeError("kaboom")

    parser = cli.build_parser()
    args = parser.parse_args(["validate", "x.toml"])
    args.func = boom
    assert cli.dispatch(args) == 1
    err = capsys.readouterr().err
    assert "kaboom" in err and "--debug" in err and "Traceback" not in err
    args = parser.parse_args(["--debug", "validate", "x.toml"])
    args.func = boom
    assert cli.dispatch(args) == 1
    assert "Traceback" in capsys.readouterr().err


def test_killed_runs_temporary_folders_are_cleaned(world, capsys):
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = world.dir / f".out.tmp-{dead.pid}-abcd"
    stale.mkdir()
    (stale / "people.csv").write_text("half")
    live = world.dir / f".out.tmp-{os.getpid()}-efgh"  # a run still writing: never touched
    live.mkdir()
    code, err = run_cli(capsys, "run", str(world.scenario), "--out", str(world.dir / "out"), "--years", "1")
    assert code == 0, err
    assert not stale.exists()
    assert live.exists()
    assert not output_mod.is_orphan(live)


def test_run_size_is_bounded_before_allocation(world, capsys):
    """Entrants growing 50% a year for 60 years would allocate without end: refused up front."""
    world("tiny_region.toml", "annual_growth = 0.02", "annual_growth = 0.5")
    world("tiny.toml", "years = 3", "years = 60")
    assert_input_error(capsys, world, world.scenario, "run.simulated_people:", "would simulate")


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--replication", "-1"], "--replication"),  # was an internal ValueError
        (["--replications", "0"], "--replications"),
        (["--replications", "2", "--workers", "0"], "--workers"),
    ],
)
def test_bad_command_line_numbers_exit_2(world, capsys, args, flag):
    with pytest.raises(SystemExit) as info:
        main(["run", str(world.scenario), "--out", str(world.dir / "o"), *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: must be at least" in err and "Traceback" not in err


def test_non_finite_spread_of_a_figure_is_an_error(world, capsys):
    """`log_sd = nan` passed the `spread <= 0` check and made every drawn figure NaN."""
    path = world(
        "ability.toml", "mild = { value = 1.5, log_sd = 0.25 }", "mild = { value = 1.5, log_sd = nan }"
    )
    assert_input_error(capsys, world, path, "mortality.hazard_ratio.mild.log_sd:", "not a finite number")


def test_margin_age_bands_are_ages(world, capsys):
    path = world("tiny_margins.toml", "age_bands = [60, 70, 80]", "age_bands = [60, 70, 1000000]")
    assert_input_error(capsys, world, path, "age_bands:", "at most 120")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ('[scenario]\nname = "驻马店"\n'.encode("gb18030"), "GBK/GB18030"),
        (("x = " + "[" * 3000 + "]" * 3000).encode(), "nested more than"),
    ],
)
def test_uploaded_scenario_text_is_checked_like_a_file(data, problem):
    """An upload (the app's parse_scenario_text) gets the same encoding and nesting checks."""
    from agingsim.errors import ScenarioError
    from agingsim.scenario.variant import parse_scenario_text

    with pytest.raises(ScenarioError, match=problem):
        parse_scenario_text(data, "upload.toml")
