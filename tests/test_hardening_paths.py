"""Issue 18 class 2: a scenario (and so an app upload) reads only the project's data folders and its
own folder; naming any other file is refused without echoing a word of that file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agingsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SECRET = 'api_key = "s3cr3t-value"\npassword = "hunter2"\n'


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


@pytest.fixture
def secret(tmp_path_factory) -> Path:
    """A secrets file on the server, outside the scenario's folder and the project."""
    path = tmp_path_factory.mktemp("server") / "secrets.toml"
    path.write_text(SECRET, encoding="utf-8")
    return path


def _upload(tmp_path: Path, tiny_copy) -> Path:
    """The tiny scenario in its own folder (as an upload would be)."""
    return tiny_copy.scenario


def assert_refused(capsys, scenario: Path, key: str) -> None:
    code, err = run_cli(capsys, "validate", str(scenario))
    assert code == 2, err
    assert f"{scenario}: {key}:" in err and "outside the project's data folders" in err, err
    for word in ("api_key", "s3cr3t", "hunter2", "password"):
        assert word not in err


@pytest.mark.parametrize("how", ["absolute", "dotdot"])
def test_scenario_cannot_name_a_file_elsewhere(tiny_copy, secret, capsys, how):
    name = str(secret) if how == "absolute" else os.path.relpath(secret, tiny_copy.dir)
    tiny_copy("tiny.toml", 'region = "tiny_region.toml"', f'region = "{name}"')
    assert_refused(capsys, tiny_copy.scenario, "population.region")


def test_symlink_pointing_out_is_refused(tiny_copy, secret, capsys):
    (tiny_copy.dir / "linked.toml").symlink_to(secret)
    tiny_copy("tiny.toml", 'margins = "tiny_margins.toml"', 'margins = "linked.toml"')
    assert_refused(capsys, tiny_copy.scenario, "population.margins")


def test_bare_name_cannot_climb_out_of_calibration(tiny_copy, secret, capsys):
    tiny_copy("tiny.toml", 'region = "tiny_region.toml"', f'region = "../../../../{secret.with_suffix("")}"')
    code, err = run_cli(capsys, "validate", str(tiny_copy.scenario))
    assert code == 2 and "population.region" in err
    assert "s3cr3t" not in err


def test_life_table_outside_is_refused(tiny_copy, secret, capsys):
    shutil.copy(ROOT / "calibration/ability/default.toml", tiny_copy.dir / "ability.toml")
    tiny_copy("tiny.toml", str(ROOT / "calibration/ability/default.toml"), "ability.toml")
    outside = secret.parent / "passwd.csv"
    outside.write_text("root:x:0:0\n", encoding="utf-8")
    path = tiny_copy("ability.toml", 'life_table = "wpp2024_china_mx5.csv"', f'life_table = "{outside}"')
    code, err = run_cli(capsys, "validate", str(tiny_copy.scenario))
    assert code == 2 and f"{path}: mortality.life_table:" in err and "outside" in err, err
    assert "root:x" not in err


def test_geography_tables_are_confined(tmp_path, secret):
    from agingsim.errors import ScenarioError
    from agingsim.geo.geography import load_geography

    geo = tmp_path / "geo"
    shutil.copytree(ROOT / "calibration/geo/guiyang_synthetic", geo / "guiyang_synthetic")
    text = (ROOT / "calibration/geo/guiyang_synthetic.toml").read_text(encoding="utf-8")
    name = next(
        ln.split("=", 1)[1].split("#")[0].strip().strip('"')
        for ln in text.splitlines()
        if ln.startswith("communities")
    )
    (geo / "g.toml").write_text(
        text.replace(f'"{name}"', f'"{secret}"', 1),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="outside the project's data folders") as info:
        load_geography(geo / "g.toml")
    assert "s3cr3t" not in str(info.value)


def test_bundled_and_own_folder_files_still_load(tiny_copy, capsys):
    """Names in calibration/ and files beside the scenario are what every bundled scenario uses."""
    code, err = run_cli(capsys, "validate", str(tiny_copy.scenario), str(ROOT / "scenarios/default.toml"))
    assert code == 0, err


def test_a_file_of_the_wrong_kind_is_not_echoed(tiny_copy, capsys):
    """A file beside the scenario that is not a region file at all: named, its keys never listed."""
    (tiny_copy.dir / "notes.toml").write_text(SECRET, encoding="utf-8")
    tiny_copy("tiny.toml", 'region = "tiny_region.toml"', 'region = "notes.toml"')
    code, err = run_cli(capsys, "validate", str(tiny_copy.scenario))
    assert code == 2 and "notes.toml: (top level): is not a region file" in err, err
    for word in ("api_key", "s3cr3t", "hunter2", "password"):
        assert word not in err
