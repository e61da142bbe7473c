"""Issue 17: the CSV writer builds the cells itself (fast) and writes byte for byte what pandas'
``to_csv(index=False, float_format=...)`` writes, for every kind of column the outputs hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agingsim.results import output
from agingsim.results.output import csv_writer


def awkward_frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "year": [2025, 2026, 2027, 2028, 2029],
            "county": ["a", "b,c", 'say "hi"', None, "中文\nline"],
            "amount": [1.005, -0.0, np.nan, np.inf, 123456789.125],
            "f32": np.array([0.1, 2.675, np.nan, -3.5, 1e-9], dtype=np.float32),
            "flag": [True, False, True, False, True],
            "small": np.array([1, -2, 3, 4, 5], dtype=np.int8),
            "mixed": [1.5, "x", None, np.nan, np.float64(3.25)],
            "empty": ["", "", "", "", ""],
        }
    )
    frame.insert(3, "amount_again", frame["amount"] * 3)
    frame.columns = [*frame.columns[:3], "amount", *frame.columns[4:]]  # a duplicated column name
    return frame


def same_as_pandas(frame: pd.DataFrame, fmt: str, tmp_path) -> bool:
    csv_writer(frame, fmt)(tmp_path / "fast.csv")
    frame.to_csv(tmp_path / "pandas.csv", index=False, float_format=fmt, lineterminator="\n")
    return (tmp_path / "fast.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


@pytest.mark.parametrize("fmt", ["%.2f", "%.4f", "%.8g"])
def test_csv_writer_writes_what_pandas_float_format_writes(tmp_path, fmt):
    frame = awkward_frame()
    before = frame.copy()
    assert all(output._csv_cells(frame.iloc[:, i], fmt) is not None for i in range(frame.shape[1]))
    assert same_as_pandas(frame, fmt, tmp_path)
    pd.testing.assert_frame_equal(frame, before)  # the frame written is left as it was


def test_columns_of_other_kinds_are_left_to_pandas(tmp_path):
    frame = awkward_frame()
    frame["ea"] = pd.array([1.5, None, 2.25, 3.0, 4.0], dtype="Float64")
    frame["when"] = pd.date_range("2025-01-01", periods=5)
    frame["cat"] = pd.Categorical(["x", "y", "x", None, "y"])
    assert output._csv_cells(frame["ea"], "%.2f") is None
    assert same_as_pandas(frame, "%.2f", tmp_path)


def test_csv_writer_of_empty_frames(tmp_path):
    rows = pd.DataFrame({"year": pd.Series([], dtype=int), "x": pd.Series([], dtype=float)})
    assert same_as_pandas(rows, "%.2f", tmp_path)
    assert same_as_pandas(pd.DataFrame(), "%.2f", tmp_path)
    assert same_as_pandas(pd.DataFrame({"only": ["", "a"]}), "%.2f", tmp_path)
