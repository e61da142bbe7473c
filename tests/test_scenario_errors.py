"""Non-negotiable 4 / issue 2 §5: a wrong scenario names file, key and problem, exits non-zero,
and leaves no output behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from agingsim.cli import main
from agingsim.errors import AgingsimError
from agingsim.results.output import write_outputs


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.parametrize(
    ("file", "old", "new", "key", "problem"),
    [
        # a probability above 1
        (
            "tiny_margins.toml",
            "{ p = 0.015 }",
            "{ p = 1.5 }",
            "attributes.veteran_family.rows[0].p",
            "probability",
        ),
        # shares that do not sum to 1
        (
            "tiny_margins.toml",
            "p = [0.85, 0.10, 0.03, 0.01, 0.01]",
            "p = [0.85, 0.10, 0.03, 0.01, 0.2]",
            "attributes.ability.rows[0].p",
            "sum to 1.19",
        ),
        # county shares that do not sum to 1
        ("tiny_region.toml", "share_60plus = 0.4", "share_60plus = 0.5", "counties", "sum to 1.1"),
        # a negative count
        (
            "tiny_region.toml",
            "entrants_per_year = 6000",
            "entrants_per_year = -6000",
            "entry.entrants_per_year",
            "must be in [0, 100,000,000] people a year",
        ),
        (
            "tiny_margins.toml",
            "M = 30000",
            "M = -30000",
            "age_sex[0].M",
            "must be in [0, 1,000,000,000] people",
        ),
        # an unknown region
        (
            "tiny.toml",
            'region = "tiny_region.toml"',
            'region = "atlantis"',
            "population.region",
            "unknown region 'atlantis'",
        ),
        # a misspelt key
        ("tiny.toml", "years = 3", "yeers = 3", "run.yeers", "unknown key"),
        # a label in the wrong category list
        (
            "tiny_margins.toml",
            'residence = "rural"',
            'residence = "suburb"',
            "attributes.family.rows[1].residence",
            "not one of urban, rural",
        ),
        # a missing cell of a conditional margin
        (
            "tiny_margins.toml",
            '{ ability = "complete", p = 0.30 },',
            "",
            "attributes.handicapped.rows",
            "covers 4 of the 5 cells",
        ),
        # an unknown attribute to condition on
        (
            "tiny_margins.toml",
            '[attributes.handicapped]\nby = ["ability"]',
            '[attributes.handicapped]\nby = ["income"]',
            "attributes.handicapped.by",
            "cannot condition handicapped on 'income'",
        ),
        # a figure without provenance
        (
            "tiny_region.toml",
            'assumption = "test fixture',
            'note = "test fixture',
            "pop_60plus",
            "no source or assumption",
        ),
        # start year out of range
        ("tiny.toml", "start_year = 2024", "start_year = 1800", "run.start_year", "greater than or equal"),
    ],
)
def test_bad_scenario_is_a_clear_error(tiny_copy, capsys, file, old, new, key, problem):
    path = tiny_copy(file, old, new)
    out = tiny_copy.dir / "out"
    code, err = run_cli(capsys, "run", str(tiny_copy.scenario), "--out", str(out))
    assert code == 2
    assert f"{path}: {key}:" in err, err
    assert problem in err, err
    assert not out.exists()
    # validate says the same without running
    code, err2 = run_cli(capsys, "validate", str(tiny_copy.scenario))
    assert code == 2 and f"{key}:" in err2


def test_invalid_toml_names_the_file(tiny_copy, capsys):
    path = tiny_copy("tiny.toml", "years = 3", "years = = 3")
    code, err = run_cli(capsys, "validate", str(tiny_copy.scenario))
    assert code == 2
    assert str(path) in err and "not valid TOML" in err


def test_missing_scenario_file(capsys, tmp_path):
    code, err = run_cli(capsys, "validate", str(tmp_path / "nope.toml"))
    assert code == 2 and "file not found" in err


def test_all_problems_of_a_file_are_reported_at_once(tiny_copy, capsys):
    tiny_copy("tiny.toml", "years = 3", "years = 0")
    tiny_copy("tiny.toml", "seed = 7", "seed = -7")
    code, err = run_cli(capsys, "validate", str(tiny_copy.scenario))
    assert code == 2
    assert "run.years:" in err and "run.seed:" in err


def test_cli_overrides_are_validated_too(tiny_copy, capsys):
    code, err = run_cli(
        capsys, "run", str(tiny_copy.scenario), "--years", "0", "--out", str(tiny_copy.dir / "o")
    )
    assert code == 2 and "run.years (overridden to 0, not the file's value):" in err


def test_failed_write_leaves_no_partial_output(tmp_path: Path):
    def ok(path: Path) -> None:
        path.write_text("fine")

    def boom(path: Path) -> None:
        path.write_text("half")
        raise OSError("disk full")

    out = tmp_path / "run"
    with pytest.raises(OSError):
        write_outputs(out, {"a.csv": ok, "b.csv": boom})
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary folder left either


def test_failed_rewrite_keeps_the_previous_output(tmp_path: Path):
    out = tmp_path / "run"
    write_outputs(out, {"summary.json": lambda p: p.write_text("{}"), "a.csv": lambda p: p.write_text("v1")})

    def boom(path: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_outputs(out, {"summary.json": lambda p: p.write_text("{}"), "a.csv": boom})
    assert (out / "a.csv").read_text() == "v1"


def test_refuses_to_replace_a_folder_that_is_not_an_output(tmp_path: Path):
    (tmp_path / "thesis.docx").write_text("precious")
    with pytest.raises(AgingsimError, match="not an agingsim output"):
        write_outputs(tmp_path, {"summary.json": lambda p: p.write_text("{}")})
    assert (tmp_path / "thesis.docx").read_text() == "precious"
