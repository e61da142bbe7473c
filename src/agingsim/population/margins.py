"""Conditional margins compiled to arrays: P(attribute | age band, sex, residence, earlier attributes).

A margin from the scenario's margins file becomes a table with one row per cell of its ``by`` grid
(mixed-radix index over the conditioning variables), so sampling a million people is a gather and a
comparison, not a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from agingsim.population.attributes import CATEGORICAL_ATTRIBUTES
from agingsim.scenario.schema import AttributeMargin, MarginsFile, conditioning_levels


@dataclass(frozen=True)
class CompiledMargin:
    attribute: str
    by: tuple[str, ...]
    radices: tuple[int, ...]
    #: (n_cells, n_categories) probabilities, rows summing to 1; booleans have categories (no, yes).
    probs: np.ndarray

    @cached_property
    def _thresholds(self) -> list[np.ndarray]:
        """Each category boundary's cumulative probability by cell (float32, contiguous): worked
        out once, not at every month's cohort (the margins never change within a run)."""
        cum = np.cumsum(self.probs, axis=1)[:, :-1].astype(np.float32)
        return [np.ascontiguousarray(cum[:, k]) for k in range(cum.shape[1])]

    def cell_index(self, codes: dict[str, np.ndarray], n: int) -> np.ndarray:
        """Mixed-radix cell of each person from the codes of the conditioning variables."""
        cell = np.zeros(n, dtype=np.int32)
        for var, radix in zip(self.by, self.radices, strict=True):
            cell *= radix
            cell += codes[var]
        return cell

    def sample(self, codes: dict[str, np.ndarray], u: np.ndarray) -> np.ndarray:
        """Inverse-CDF draw of each person's category code from uniforms ``u``: the number of
        category boundaries at or below ``u`` in the person's cell."""
        out = np.zeros(len(u), dtype=np.int8)
        if not self.by:  # one cell: each boundary is one number
            for column in self._thresholds:
                out += u >= column[0]
            return out
        cell = self.cell_index(codes, len(u))
        for column in self._thresholds:
            out += u >= column.take(cell, mode="clip")  # cells index the table
        return out


def compile_margin(name: str, margin: AttributeMargin, band_labels: tuple[str, ...]) -> CompiledMargin:
    levels = [conditioning_levels(v, band_labels) for v in margin.by]
    radices = tuple(len(x) for x in levels)
    n_cells = int(np.prod(radices)) if radices else 1
    is_categorical = name in CATEGORICAL_ATTRIBUTES
    n_cat = len(CATEGORICAL_ATTRIBUTES[name]) if is_categorical else 2
    probs = np.zeros((n_cells, n_cat))
    for row in margin.rows:
        cell = 0
        for var, lv, radix in zip(margin.by, levels, radices, strict=True):
            cell = cell * radix + lv.index(row[var])
        p = np.asarray(row["p"], dtype=float)
        probs[cell] = p / p.sum() if is_categorical else (1 - p, p)
    return CompiledMargin(name, tuple(margin.by), radices, probs)


def compile_margins(margins: MarginsFile) -> dict[str, CompiledMargin]:
    labels = margins.band_labels()
    return {name: compile_margin(name, m, labels) for name, m in margins.attributes.items()}


def band_index(age_years: np.ndarray, edges: list[int] | tuple[int, ...]) -> np.ndarray:
    """Index of each age's band given lower edges ``[60, 65, ...]`` (last band open)."""
    return (np.searchsorted(np.asarray(edges), age_years, side="right") - 1).astype(np.int8)
