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
