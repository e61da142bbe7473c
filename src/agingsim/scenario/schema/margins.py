"""The margins file: the population's attribute margins by age band and sex, and the check that
every conditioning cell is covered.
"""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import Field, field_validator

from agingsim.population.attributes import (
    ATTRIBUTE_ORDER,
    CATEGORICAL_ATTRIBUTES,
    categories_of,
)
from agingsim.scenario.schema.base import People, Strict, check_sums_to_one


class AgeSexRow(Strict):
    """People by age (a single year ``"67"``, a band ``"60-64"`` or open ``"100+"``) and sex."""

    age: str = Field(pattern=r"^\d{2,3}(-\d{2,3}|\+)?$")
    M: People
    F: People


class AttributeMargin(Strict):
    """P(attribute | conditioning variables), one row per cell of the ``by`` grid.

    ``p`` is a list of shares in the attribute's category order, or for a yes/no attribute the
    probability of yes.
    """

    by: list[str] = Field(default_factory=list)
    rows: list[dict[str, Any]] = Field(min_length=1)


class MarginsFile(Strict):
    age_bands: list[int] = Field(min_length=1)
    age_sex: list[AgeSexRow] = Field(min_length=1)
    attributes: dict[str, AttributeMargin]

    @field_validator("age_bands")
    @classmethod
    def _bands_increasing(cls, v: list[int]) -> list[int]:
        if v[0] != 60:
            raise ValueError("the first age band must start at 60")
        if any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError("age band edges must increase")
        if v[-1] > 120:
            raise ValueError(f"age band edges must be ages, at most 120 (got {v[-1]})")
        return v

    @field_validator("age_sex")
    @classmethod
    def _ages_do_not_overlap(cls, rows: list[AgeSexRow]) -> list[AgeSexRow]:
        spans = []
        for row in rows:
            lo, _, hi = row.age.rstrip("+").partition("-")
            end = float("inf") if row.age.endswith("+") else int(hi or lo)
            if end < int(lo):
                raise ValueError(f"age '{row.age}': the band ends before it starts")
            spans.append((int(lo), end, row.age))
        spans.sort()
        for (_, end_a, a), (lo_b, _, b) in itertools.pairwise(spans):
            if lo_b <= end_a:
                raise ValueError(f"age rows '{a}' and '{b}' overlap: each age must be in one row")
        return rows

    @field_validator("attributes")
    @classmethod
    def _known_attributes(cls, v: dict[str, AttributeMargin]) -> dict[str, AttributeMargin]:
        unknown = sorted(set(v) - set(ATTRIBUTE_ORDER))
        if unknown:
            raise ValueError(
                f"unknown attribute(s) {', '.join(unknown)}; known: {', '.join(ATTRIBUTE_ORDER)}"
            )
        missing = [a for a in ATTRIBUTE_ORDER if a not in v]
        if missing:
            raise ValueError(f"missing margin(s) for {', '.join(missing)}")
        return v

    def band_labels(self) -> tuple[str, ...]:
        return age_band_labels(self.age_bands)


def age_band_labels(edges: list[int] | tuple[int, ...]) -> tuple[str, ...]:
    """``[60, 65, 70]`` → ``("60-64", "65-69", "70+")``."""
    labels = [f"{a}-{b - 1}" for a, b in itertools.pairwise(edges)]
    return (*labels, f"{edges[-1]}+")


def conditioning_levels(var: str, band_labels: tuple[str, ...]) -> tuple[str, ...]:
    return band_labels if var == "age_band" else categories_of(var)


def validate_attribute_margin(
    name: str, margin: AttributeMargin, band_labels: tuple[str, ...]
) -> list[tuple[str, str]]:
    """Domain checks of one margin; returns ``(key, problem)`` pairs relative to the margin."""
    problems: list[tuple[str, str]] = []
    allowed = ["age_band", "sex", "residence", *ATTRIBUTE_ORDER[: ATTRIBUTE_ORDER.index(name)]]
    for var in margin.by:
        if var not in allowed:
            problems.append(("by", f"cannot condition {name} on '{var}'; allowed: {', '.join(allowed)}"))
    if problems:
        return problems
    levels = {var: conditioning_levels(var, band_labels) for var in margin.by}
    n_cat = len(CATEGORICAL_ATTRIBUTES.get(name, ()))
    seen: set[tuple[str, ...]] = set()
    for i, row in enumerate(margin.rows):
        key = f"rows[{i}]"
        extra = set(row) - {*margin.by, "p"}
        if extra:
            problems.append((key, f"unknown key(s) {', '.join(sorted(extra))}"))
            continue
        cell = []
        for var in margin.by:
            value = row.get(var)
            if value not in levels[var]:
                problems.append((f"{key}.{var}", f"'{value}' is not one of {', '.join(levels[var])}"))
            cell.append(str(value))
        if "p" not in row:
            problems.append((f"{key}.p", "missing"))
            continue
        p = row["p"]
        if n_cat:
            if not isinstance(p, list) or len(p) != n_cat:
                problems.append(
                    (f"{key}.p", f"needs {n_cat} shares in the order {', '.join(categories_of(name))}")
                )
                continue
            bad = [x for x in p if not isinstance(x, int | float) or not 0 <= x <= 1]
            if bad:
                problems.append((f"{key}.p", f"shares must be probabilities in [0, 1], got {bad[0]}"))
                continue
            try:
                check_sums_to_one(p, "shares")
            except ValueError as exc:
                problems.append((f"{key}.p", str(exc)))
        elif not isinstance(p, int | float) or isinstance(p, bool) or not 0 <= p <= 1:
            problems.append((f"{key}.p", f"must be a probability in [0, 1], got {p!r}"))
        if tuple(cell) in seen:
            problems.append((key, f"duplicate cell {dict(zip(margin.by, cell, strict=True))}"))
        seen.add(tuple(cell))
    if not problems:
        expected = 1
        for var in margin.by:
            expected *= len(levels[var])
        if len(seen) != expected:
            problems.append(
                ("rows", f"covers {len(seen)} of the {expected} cells of {' × '.join(margin.by)}")
            )
    return problems
