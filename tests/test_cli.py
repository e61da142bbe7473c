"""Issue 2 §6: `agingsim run` writes population.csv and summary.json and prints a readable summary;
the bundled default scenario runs with no arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from agingsim.cli import main
from agingsim.population.attributes import ABILITY_LEVELS
from agingsim.results.collectors import OUTPUT_AGE_BANDS


def test_run_writes_the_documented_files(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "tests/data/tiny.toml", "--out", str(out), "--years", "2"]) == 0
    printed = capsys.readouterr().out
    assert "60岁及以上人口 People 60+" in printed and "100,000 (2024年初 start of 2024)" in printed
    # report.labels.fiscal_period, as the app and the report: two fiscal years, the last stock (dated
    # 1 January 2026) is the end of 2025, not "2026" (a yearbook's 2026 figure is a year later)
    assert "2024–2025年度 FY2024–FY2025" in printed and "(2025年末 end of 2025)" in printed
    assert "2026" not in printed
    pop = pd.read_csv(out / "population.csv")
    assert list(pop.columns) == ["year", "county", "sex", "age_band", "ability_level", "people"]
    assert sorted(pop["year"].unique()) == [2024, 2025, 2026]
    assert set(pop["ability_level"]) == set(ABILITY_LEVELS)
    assert set(pop["age_band"]) == set(OUTPUT_AGE_BANDS)
    assert set(pop["county"]) == {"north", "south"}
    # 1 January of the start year is the region's 60+ population, in real people
    assert pop[pop.year == 2024]["people"].sum() == 100_000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["headline"]["people_60plus_first"] == 100_000
    assert summary["years"] == 2


def test_default_scenario_runs_with_no_arguments(tmp_path):
    """`agingsim run` from any folder uses the bundled scenarios/default.toml."""
    proc = subprocess.run(
        [sys.executable, "-m", "agingsim.cli", "run", "--years", "1"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "驻马店市" in proc.stdout
    summary = json.loads((tmp_path / "out" / "default" / "summary.json").read_text())
    assert summary["region"]["id"] == "zhumadian"
    assert summary["scenario_file"] == "scenarios/default.toml"


def test_python_dash_m_agingsim_is_the_command_line(tmp_path):
    """`python -m agingsim ...` runs agingsim.cli.main, exit codes included (a missing file is 2)."""
    ok = subprocess.run(
        [sys.executable, "-m", "agingsim", "--help"], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("usage: ") and " run " in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "agingsim", "validate", str(tmp_path / "missing.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2, bad.stderr


def test_validate_accepts_every_bundled_scenario(capsys):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = [str(p) for p in sorted((root / "scenarios").glob("*.toml"))]
    assert files
    assert main(["validate", *files]) == 0
    assert capsys.readouterr().out.count("OK ") == len(files)


def bundled_scenarios():
    return sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_every_bundled_scenario_runs_from_the_cli(path, tmp_path, capsys):
    """Issue 3: all five seed scenarios (and the default) run from the CLI; policy ones write a ledger
    that reconciles with its summaries."""
    import tomllib

    out = tmp_path / path.stem
    assert main(["run", str(path), "--out", str(out), "--years", "3"]) == 0
    has_policy = "policy" in tomllib.loads(path.read_text(encoding="utf-8"))
    assert (out / "ledger.csv").exists() == has_policy
    if has_policy:
        led = pd.read_csv(out / "ledger.csv")
        assert not led.empty
        by_payer = pd.read_csv(out / "ledger_by_payer.csv")
        assert by_payer["total"].sum() * 10_000 == pytest.approx(led["amount_cny"].sum(), rel=1e-6)


def test_each_external_command_module_registers_exactly_its_commands():
    """cli.EXTERNAL lists the sub-commands other modules define; the table must match what each
    module registers, or `agingsim --help` would list a command that does not exist (or miss one)."""
    import argparse
    import importlib

    from agingsim.cli import EXTERNAL

    for module in {m for m, _ in EXTERNAL.values()}:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).add_parser(sub)
        assert set(sub.choices) == {c for c, (m, _) in EXTERNAL.items() if m == module}, module


@pytest.mark.parametrize("command", ["report", "geo", "sweep", "calibrate"])
def test_external_commands_parse_with_their_own_module(command):
    from agingsim.cli import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser([command, "--help"]).parse_args([command, "--help"])
    assert exc.value.code == 0


def test_help_and_run_import_no_charting_siting_sweep_or_calibration_code():
    """Fast start (issue 17): `agingsim --help` imports neither pandas nor any sub-command module
    (nor importlib.metadata: the version is looked up only for --version);
    `run` imports what a run needs and none of matplotlib, the sweep, calibration or report code."""
    probe = (
        "import sys; from agingsim.cli import build_parser; argv = sys.argv[1:]; build_parser(argv)\n"
        "if argv[0] == 'run':\n"
        "    import agingsim.simulate\n"
        "heavy = ['matplotlib', 'agingsim.sweep', 'agingsim.calibration', 'agingsim.report', 'dask',\n"
        "         'agingsim.geo.siting', 'duckdb', 'SALib', 'streamlit']\n"
        "heavy += ['pandas', 'agingsim.model', 'importlib.metadata'] if argv[0] == '--help' else []\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    for argv in (["--help"], ["run", "tests/data/tiny.toml"]):
        proc = subprocess.run(
            [sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "[]", (argv, proc.stdout)


def test_version_prints_the_installed_version(capsys):
    """`agingsim --version` still answers, though the version is now looked up only when asked."""
    import agingsim
    from agingsim.cli import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser(["--version"]).parse_args(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"agingsim {agingsim.__version__}\n"


def test_run_by_group_writes_who_gets_what_summing_to_the_ledger(tmp_path, capsys):
    """`agingsim run --by-group` writes distribution.csv (issue 19 item 3, the app's who-gains view):
    each dimension's spending is the ledger's person-level monthly lines (one-off payments are not
    by group); without the flag the run records no groups and writes no such file."""
    from agingsim.scenario import load_scenario

    path = "scenarios/ninghe_allowances.toml"
    out = tmp_path / "run"
    assert main(["run", path, "--out", str(out), "--years", "2", "--by-group"]) == 0
    dist = pd.read_csv(out / "distribution.csv")
    by_dimension = dist.groupby("dimension")["spending_wan"].sum()
    assert len(by_dimension) == 5 and by_dimension.min() > 0
    # the file's rows are rounded to 0.0001 万元 (1 CNY), so sums of tens of rows agree to cents of 万元
    assert by_dimension.to_numpy() == pytest.approx(by_dimension.iloc[0], abs=0.01)
    schemes = load_scenario(path).file.policy.schemes
    person_level = {s.id for s in schemes}  # monthly and one-off (home adaptation) alike
    ledger = pd.read_csv(out / "ledger.csv")
    paid = ledger.loc[ledger["line_item"].isin(person_level), "amount_cny"].sum() / 1e4
    assert by_dimension.iloc[0] == pytest.approx(paid, abs=0.01)
    plain = tmp_path / "plain"
    assert main(["run", path, "--out", str(plain), "--years", "1"]) == 0
    assert not (plain / "distribution.csv").exists()


def test_run_by_group_with_replications_writes_replication_0s_groups(tmp_path, capsys):
    """`--by-group` with `--replications`: replication 0's tables include distribution.csv, the same
    as the single run of replication 0 with the figures as written (it was silently dropped)."""
    path = "scenarios/ninghe_allowances.toml"
    single, reps = tmp_path / "single", tmp_path / "reps"
    assert main(["run", path, "--out", str(single), "--years", "1", "--by-group"]) == 0
    flags = ["--by-group", "--replications", "2", "--no-parameter-uncertainty"]
    assert main(["run", path, "--out", str(reps), "--years", "1", *flags]) == 0
    capsys.readouterr()
    assert (reps / "distribution.csv").read_bytes() == (single / "distribution.csv").read_bytes()


def test_run_by_group_says_when_there_is_no_group_to_record(tmp_path, capsys):
    """A scenario that pays no person (bed subsidies only) has no spending by group: said, not a
    silent missing file."""
    out = tmp_path / "run"
    assert (
        main(["run", "scenarios/headline/supply_beds.toml", "--out", str(out), "--years", "1", "--by-group"])
        == 0
    )
    assert "no person-level scheme" in capsys.readouterr().err
    assert not (out / "distribution.csv").exists()


def test_the_readme_quick_start_shows_what_make_run_prints(tmp_path, capsys):
    """README's quick start shows the lines `make run` (`agingsim run --out out/default`) prints; a
    reader checks their install against them, so they are the run's own, but for its seconds."""
    import re

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("`make run` projects", 1)[1].split("```", 2)[1].strip().splitlines()
    assert block[0].startswith("情景 Scenario:") and len(block) == 7
    assert main(["run", "--out", str(tmp_path / "default")]) == 0
    printed = capsys.readouterr().out.strip().splitlines()

    def steady(lines: list[str]) -> list[str]:  # the folder and the seconds depend on the machine
        return [re.sub(r"^(输出 Output:).*$", r"\1", line) for line in lines]

    assert steady(printed) == steady(block)
