"""Shared fixtures: the hand-built test world in tests/data and helpers to write broken copies."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agingsim.scenario import load_scenario

#: the browser tests' session-wide `server` and `browser` fixtures live beside their helpers
pytest_plugins = ["app_browser"]

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _matrix_cache(tmp_path_factory):
    """The session's runs (and the processes they start) keep their cached monthly matrices
    (ability.matrix_cache) in a folder of the session's own, not the user's cache."""
    if "AGINGSIM_CACHE_DIR" not in os.environ:
        os.environ["AGINGSIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("agingsim-cache"))


@pytest.fixture
def tiny_scenario():
    return load_scenario(DATA / "tiny.toml")


@pytest.fixture
def tiny_copy(tmp_path: Path):
    """Copy the test world into tmp_path; returns a function to edit one of its files."""
    for name in ("tiny.toml", "tiny_region.toml", "tiny_margins.toml"):
        shutil.copy(DATA / name, tmp_path / name)
    scenario = tmp_path / "tiny.toml"
    text = scenario.read_text(encoding="utf-8").replace(
        "../../calibration/ability/default.toml", str(ROOT / "calibration/ability/default.toml")
    )
    scenario.write_text(text, encoding="utf-8")

    def edit(name: str, old: str, new: str) -> Path:
        path = tmp_path / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    edit.dir = tmp_path  # type: ignore[attr-defined]
    edit.scenario = scenario  # type: ignore[attr-defined]
    return edit


@pytest.fixture(scope="session")
def validation_backtest():
    """The demographic backtest of the national validation scenario (scenarios/validation/china_2020.toml
    at its own 1,000,000 simulated people, 2021-2035), run once per session: test_demography_backtest
    checks it and test_calibration's `validate-model` reports it (a Backtest is frozen and only read)."""
    from agingsim.calibration.demography import run_backtest

    return run_backtest()
