"""Non-negotiable 3: every figure in scenarios/ and calibration/ carries a source or an assumption."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import pytest

from agingsim.scenario.provenance import strip_provenance

ROOT = Path(__file__).resolve().parents[1]
TOML_FILES = sorted([*ROOT.glob("scenarios/**/*.toml"), *ROOT.glob("calibration/**/*.toml")])
CSV_FILES = sorted(ROOT.glob("calibration/**/*.csv"))


def test_there_is_something_to_check():
    assert len(TOML_FILES) >= 4
    assert len(CSV_FILES) >= 2


@pytest.mark.parametrize("path", TOML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_toml_figure_has_provenance(path: Path):
    with path.open("rb") as fh:
        _, _labels, missing = strip_provenance(tomllib.load(fh))
    assert missing == [], f"{path}: figures without source/assumption: {missing}"


@pytest.mark.parametrize("path", CSV_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_csv_row_has_a_source(path: Path):
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, f"{path} is empty"
    assert "source" in rows[0], f"{path} has no source column"
    unsourced = [i + 2 for i, r in enumerate(rows) if not (r["source"] or "").strip()]
    assert unsourced == [], f"{path}: rows without a source at lines {unsourced}"


def test_table_label_is_inherited_and_inline_label_overrides():
    data = {
        "source": "seed 002 三(四)",
        "per_bed": 20000,
        "nested": {"per_m2": 1000},
        "face_value": {"value": 300, "assumption": "not in any seed"},
    }
    plain, labels, missing = strip_provenance(data)
    assert plain == {"per_bed": 20000, "nested": {"per_m2": 1000}, "face_value": 300}
    assert missing == []
    assert labels["per_bed"].kind == "source"
    assert labels["nested.per_m2"].text == "seed 002 三(四)"
    assert labels["face_value"].kind == "assumption"


def test_unlabelled_figure_is_reported_with_its_key():
    data = {"rows": [{"p": 0.3, "source": "x"}, {"p": 0.7}], "run": {"seed": 5}}
    _, _, missing = strip_provenance(data)
    assert missing == ["rows[1].p"]  # run settings are not figures


def test_every_run_lists_its_figures_with_provenance(tmp_path):
    """assumptions.csv: each figure used, its value, and source or assumption (the app shows these)."""
    import pandas as pd

    from agingsim.cli import main

    out = tmp_path / "run"
    assert (
        main(["run", str(ROOT / "scenarios/guiyang_service_circle.toml"), "--out", str(out), "--years", "1"])
        == 0
    )
    table = pd.read_csv(out / "assumptions.csv")
    assert set(table["provenance"]) == {"source", "assumption"}
    per_bed = table[(table.key == "policy.facility_schemes[0].amount")].iloc[0]
    assert per_bed["value"] == "20000" and per_bed["provenance"] == "source"
    assert "每张新建床位2万元" in per_bed["text"]
    assert table["text"].str.len().min() > 0
