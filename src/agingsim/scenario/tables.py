"""CSV data files read strictly: every row has exactly the header's cells, every cell is checked.

pandas guesses: a row with one cell too many silently becomes an index and shifts the columns, a
text cell turns a column into strings, an empty cell becomes NaN. Input tables are small, so they
are read as text with :mod:`csv` and each cell is converted and checked here, with errors in the
project's ``FILE: row N, column C: PROBLEM`` form (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from pathlib import Path

import pandas as pd

from agingsim.errors import ScenarioError, ScenarioErrors

#: Largest CSV input read (bytes).
MAX_CSV_BYTES = 50_000_000
#: Problems reported per file.
MAX_ERRORS = 20


def read_input_bytes(path: Path, limit: int, kind: str, too_large: str = "") -> bytes:
    """The bytes of an input file of ``kind`` (TOML, CSV), at most ``limit`` of them; a missing,
    unreadable or oversized file is a ScenarioError naming it (never a traceback, never a huge read)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(path, "", f"is a folder, not a {kind} file") from None
    except OSError as exc:
        raise ScenarioError(path, "", f"cannot be read: {exc.strerror}") from None
    if len(data) > limit:
        raise ScenarioError(path, "", f"file is larger than {limit:,} bytes{too_large}")
    return data


def read_csv_text(path: Path) -> pd.DataFrame:
    """All cells of a CSV file as stripped strings; a row whose cell count differs from the
    header's, a non-UTF-8 file or an empty one is an error naming the row."""
    data = read_input_bytes(path, MAX_CSV_BYTES, "CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            path, "", f"byte {exc.start} cannot be read as UTF-8: save the file as UTF-8 (CSV UTF-8)"
        ) from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ScenarioError(path, "", f"not a readable CSV file: {exc}") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ScenarioError(path, "", "the file is empty (no header row)")
    header = [c.strip() for c in rows[0]]
    errors = []
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        errors.append(ScenarioError(path, "row 1", f"duplicate column(s) {', '.join(dupes)}"))
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(header) and len(errors) < MAX_ERRORS:
            errors.append(
                ScenarioError(path, f"row {n}", f"has {len(row)} cells; the header has {len(header)}")
            )
    if errors:
        raise ScenarioErrors(errors)
    return pd.DataFrame([[c.strip() for c in r] for r in rows[1:]], columns=header, dtype=str)


_AGE = re.compile(r"^(\d{1,3})(\+)?$")
#: Central death rates m(x) are deaths per person-year: at most 2 (all die in mid-interval) for any
#: group; above it the column is not a rate.
MAX_MX = 2.0
AGE_STEP = 5


def check_life_table(path: Path, period: str, referrer: Path, key: str = "mortality.period") -> pd.DataFrame:
    """The ``sex, age_lower, mx`` rows of a life-table CSV for one period, checked: sexes M and F
    each with 5-year groups from at most 60 up to an open ``N+`` group, no gaps, no repeats, every
    rate a number in (0, 2]. ``referrer`` (the ability model) is named when the period is missing."""
    table = read_csv_text(path)
    missing = [c for c in ("sex", "age", "source") if c not in table.columns]
    if missing:
        raise ScenarioError(
            path,
            "row 1",
            f"missing column(s) {', '.join(missing)}: a life table has sex, age, one column per "
            "period and source (is this the right file?)",
        )
    if period not in table.columns:
        periods = [c for c in table.columns if c not in ("sex", "age", "source")]
        raise ScenarioError(referrer, key, f"'{period}' not in {path.name}: {periods}")
    errors: list[ScenarioError] = []

    def fail(i: int, column: str, problem: str) -> None:
        if len(errors) < MAX_ERRORS:
            errors.append(ScenarioError(path, f"row {i + 2}, column {column}", problem))

    records: list[tuple[str, int, bool, float]] = []
    for i, row in enumerate(table.itertuples(index=False)):
        cells = dict(zip(table.columns, row, strict=True))
        sex, age, value = cells["sex"], cells["age"], cells[period]
        if sex not in ("M", "F"):
            fail(i, "sex", f"'{sex}' is not M or F")
            continue
        if not cells["source"]:
            fail(i, "source", "every row needs a source")
        m = _AGE.match(age)
        if not m:
            fail(i, "age", f"'{age}' is not an age group lower edge (e.g. 60, or 100+ for the last)")
            continue
        try:
            mx = float(value)
        except ValueError:
            fail(i, period, f"not a number: {value!r}")
            continue
        if not math.isfinite(mx) or not 0 < mx <= MAX_MX:
            fail(i, period, f"a death rate must be in (0, {MAX_MX:g}] per person-year, got {value!r}")
            continue
        records.append((sex, int(m.group(1)), bool(m.group(2)), mx))
    if errors:
        raise ScenarioErrors(errors)
    for sex in ("M", "F"):
        rows = sorted((r for r in records if r[0] == sex), key=lambda r: r[1])
        ages = [r[1] for r in rows]
        where = f"sex {sex}"
        if not rows:
            errors.append(ScenarioError(path, where, "no rows for this sex"))
            continue
        dupes = sorted({a for a in ages if ages.count(a) > 1})
        if dupes:
            errors.append(ScenarioError(path, where, f"age group(s) {dupes} given twice"))
            continue
        if ages[0] > 60:
            errors.append(ScenarioError(path, where, f"starts at age {ages[0]}; needs the groups from 60"))
        gaps = [b for a, b in itertools.pairwise(ages) if b - a != AGE_STEP]
        if gaps:
            errors.append(
                ScenarioError(path, where, f"age groups must be {AGE_STEP} years apart; gap before {gaps[0]}")
            )
        if not rows[-1][2] or any(r[2] for r in rows[:-1]):
            errors.append(
                ScenarioError(path, where, "the last age group, and only it, must be open (e.g. 100+)")
            )
        if len([a for a in ages if a >= 60]) < 2:
            errors.append(ScenarioError(path, where, "needs at least two age groups from 60"))
    if not errors:
        ages_m = sorted(r[1] for r in records if r[0] == "M")
        ages_f = sorted(r[1] for r in records if r[0] == "F")
        if ages_m != ages_f:
            errors.append(ScenarioError(path, "age", "the sexes must have the same age groups"))
    if errors:
        raise ScenarioErrors(errors)
    return pd.DataFrame(
        {
            "sex": [r[0] for r in records],
            "age_lower": [r[1] for r in records],
            "mx": [r[3] for r in records],
        }
    )
