"""Stage 2 of the fit: what it aims at (published figures, each with its standard error and source).

See :mod:`agingsim.calibration.fit` for the weights and :mod:`agingsim.calibration.measures` for how
each published measure maps onto GB/T levels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agingsim.calibration.measures import levels_of
from agingsim.calibration.stationary import FixedInputs, Implied, implied, life_table_e60
from agingsim.errors import AgingsimError
from agingsim.population.attributes import ABILITY_LEVELS
from agingsim.scenario.files import project_root
from agingsim.scenario.loader import LifeTable, Scenario
from agingsim.scenario.schema import AbilityModelFile

#: Effective sample size behind one band's prevalence: published rows, and rows that are assumptions.
N_PUBLISHED, N_ASSUMED = 1000, 250
#: Residual units of e60 (years) and of the log female/male ratio.
E60_UNIT, SEX_RATIO_UNIT = 0.25, 0.05
#: Levels counted as ADL impairment in CLHLS under the margins' mapping (ADL mild → GB/T moderate …).
ADL_LEVELS = levels_of("clhls_adl_any")

DATA_DIR = Path("calibration") / "data"

#: "Good enough" for a fit (see :meth:`Quality.good_enough`).
MAX_PREVALENCE_ERROR, MAX_E60_ERROR, MAX_SEX_RATIO_ERROR = 0.02, 0.25, 0.10


@dataclass(frozen=True)
class Targets:
    """What the fit aims at, with where each figure comes from."""

    edges: tuple[int, ...]
    band_labels: tuple[str, ...]
    #: (n_bands, 5) prevalence of each level by band, both sexes.
    prevalence: np.ndarray
    #: (n_bands,) effective sample size of each band's row.
    sample_size: np.ndarray
    prevalence_sources: tuple[str, ...]
    #: (2,) e60 (M, F) of the life table at the single-year rates the model uses.
    e60: np.ndarray
    e60_source: str
    #: (2,) e60 of the abridged life table (5-year groups), for the report.
    e60_abridged: np.ndarray
    #: F/M ratio of ADL impairment (GB/T moderate+) at 65+, or None to leave it out.
    sex_ratio: float | None = None
    sex_ratio_source: str = ""
    #: one line naming all targets and their sources (the provenance label of fitted figures).
    summary: str = ""
    #: a shorter naming of the targets for each fitted figure's provenance label.
    label: str = ""
    #: published figures of several sources and waves (:mod:`agingsim.calibration.figures`); only
    #: those with ``use == "fit"`` enter the fit
    figures: tuple[Any, ...] = ()
    #: (n_bands, 5) which cells of ``prevalence`` are targets (None: all)
    prevalence_mask: np.ndarray | None = None
    #: fit a calendar trend in onset (:func:`agingsim.calibration.figures.at_year`)
    trend: bool = False
    #: the margins' population by band and sex, for figures over all of 60+
    counts: dict[Any, Any] = field(default_factory=dict)

    def mask(self) -> np.ndarray:
        return np.ones(self.prevalence.shape, bool) if self.prevalence_mask is None else self.prevalence_mask

    def fit_figures(self) -> tuple[Any, ...]:
        return tuple(f for f in self.figures if f.use == "fit")


def read_data(name: str) -> pd.DataFrame:
    path = project_root() / DATA_DIR / name
    if not path.is_file():
        raise AgingsimError(f"{path}: published-data file not found")
    return pd.read_csv(path)


def published(table: pd.DataFrame, **where: object) -> tuple[float, str]:
    """The one row of a calibration/data table matching ``where``: (value, source)."""
    rows = table
    for col, val in where.items():
        rows = rows[rows[col].astype(str) == str(val)]
    if len(rows) != 1:
        raise AgingsimError(f"expected one published figure for {where}, found {len(rows)}")
    return float(rows.iloc[0]["value"] if "value" in rows else rows.iloc[0]["share"]), str(
        rows.iloc[0]["source"]
    )


def short_source(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def targets_from_scenario(
    scenario: Scenario, life_table: LifeTable, age_max: int, use_sex_ratio: bool = True
) -> Targets:
    """The published targets: the scenario's ability margins, the life table and CLHLS's sex ratio."""
    margins = scenario.margins
    margin_rows = margins.attributes["ability"]
    if list(margin_rows.by) != ["age_band"]:
        raise AgingsimError("calibrate needs the ability margin by age band only (by = ['age_band'])")
    labels = margins.band_labels()
    stem = Path(scenario.file.population.margins).stem
    prevalence = np.zeros((len(labels), len(ABILITY_LEVELS)))
    n = np.zeros(len(labels))
    sources = []
    for i, row in enumerate(margin_rows.rows):
        b = labels.index(row["age_band"])
        p = np.asarray(row["p"], dtype=float)
        prevalence[b] = p / p.sum()
        label = scenario.provenance.get(f"{stem}:attributes.ability.rows[{i}].p")
        n[b] = N_PUBLISHED if label is not None and label.kind == "source" else N_ASSUMED
        sources.append(label.label() if label else "")
    lt = life_table
    e60 = life_table_e60(lt, age_max)
    lt_source = str(pd.read_csv(lt.path)["source"].iloc[0])
    e60_source = (
        f"e60 of the life table {lt.path.name}, period {lt.period}, at the single-year rates the model "
        f"uses: {short_source(lt_source)}"
    )
    ratio, ratio_source = None, ""
    if use_sex_ratio:
        data = read_data("disability_prevalence.csv")
        men, src = published(
            data, survey="CLHLS", year=2018, age_band="65+", sex="M", measure="adl_impairment_any_pct"
        )
        women, _ = published(
            data, survey="CLHLS", year=2018, age_band="65+", sex="F", measure="adl_impairment_any_pct"
        )
        ratio = women / men
        ratio_source = (
            f"CLHLS 2018 ADL impairment 65+, women {women}% / men {men}% ({short_source(src, 120)})"
        )
    margins_file = f"calibration/margins/{stem}.toml"
    summary = (
        f"GB/T level prevalence by age band {', '.join(labels)} ({margins_file}: CLHLS 2018 ADL impairment "
        "by band, China CDC Weekly 2023;5(27):593-598, mapped onto GB/T levels, the mapping, the mild level "
        f"and 60-64 being assumptions there); e60 by sex of the UN WPP 2024 life table for China "
        f"{lt.period} ({lt.path.name})"
        + (
            "; female/male ratio of ADL impairment 65+, CLHLS 2018 "
            "(calibration/data/disability_prevalence.csv)"
            if ratio is not None
            else ""
        )
    )
    label = (
        f"prevalence by age band in {margins_file} (CLHLS 2018, China CDC Weekly 2023;5(27):593-598, mapped "
        f"onto GB/T levels), e60 by sex of the WPP 2024 life table {lt.period} ({lt.path.name})"
        + (
            " and the CLHLS 2018 female/male ratio of ADL impairment 65+ "
            "(calibration/data/disability_prevalence.csv)"
            if ratio is not None
            else ""
        )
    )
    return Targets(
        edges=tuple(margins.age_bands),
        band_labels=labels,
        prevalence=prevalence,
        sample_size=n,
        prevalence_sources=tuple(sources),
        e60=e60,
        e60_source=e60_source,
        e60_abridged=life_table_e60(lt),
        sex_ratio=ratio,
        sex_ratio_source=ratio_source,
        summary=summary,
        label=label,
    )


def sex_ratio_of(imp: Implied) -> float:
    """F/M ratio of GB/T moderate+ prevalence at 65+ in the stationary population."""
    cols = [ABILITY_LEVELS.index(x) for x in ADL_LEVELS]
    prev = imp.prevalence(65, None)[:, cols].sum(axis=1)
    return float(prev[1] / prev[0])


def targets_from_model(
    params: AbilityModelFile, fixed: FixedInputs, like: Targets, with_sex_ratio: bool = True
) -> Targets:
    """Targets a model generates itself (for tests: a fit should recover ``params`` from them)."""
    imp = implied(params, fixed)
    _, both = imp.band_prevalence(like.edges)
    return Targets(
        edges=like.edges,
        band_labels=like.band_labels,
        prevalence=both,
        sample_size=like.sample_size,
        prevalence_sources=("generated by the model",) * len(like.edges),
        e60=imp.e60,
        e60_source="generated by the model",
        e60_abridged=imp.e60,
        sex_ratio=sex_ratio_of(imp) if with_sex_ratio else None,
        summary="targets generated by the model",
    )


def joint_targets(scenario: Scenario, life_table: LifeTable, age_max: int, trend: bool = True) -> Targets:
    """The production targets of ``agingsim calibrate``: several sources and waves at once.

    The published figures of :func:`agingsim.calibration.figures.published_figures` (CLHLS 2011 and
    2018 by band and grade, their sex ratios, the 2015 survey, CLHLS onset and recovery by age and
    sex; CLHLS 2014 held out), e60 by sex, and of the margins' rows only what no survey publishes: the
    GB/T mild level by band (an assumption there) and the whole 60-64 row (extrapolated from CLHLS),
    at the effective sample size of assumptions.
    """
    from agingsim.calibration.census import census_counts
    from agingsim.calibration.figures import published_figures

    base = targets_from_scenario(scenario, life_table, age_max, use_sex_ratio=False)
    mask = np.zeros(base.prevalence.shape, bool)
    mask[:, ABILITY_LEVELS.index("mild")] = True
    first = base.band_labels.index("60-64") if "60-64" in base.band_labels else None
    if first is not None:
        mask[first] = True
    n = np.full(len(base.band_labels), float(N_ASSUMED))
    figures = published_figures()
    fitted = [f for f in figures if f.use == "fit"]
    groups = sorted({f.name.split(":")[0] for f in fitted})
    stem = Path(scenario.file.population.margins).stem
    summary = (
        f"{len(fitted)} published figures ({'; '.join(groups)}; calibration/data/, mapped onto GB/T "
        "levels by calibration/mappings/disability_measures.toml), CLHLS 2014 held out; the GB/T mild "
        f"share by band and the 60-64 band of calibration/margins/{stem}.toml (assumptions there); e60 by "
        f"sex of the UN WPP 2024 life table for China {life_table.period} ({life_table.path.name})"
        + ("; a calendar trend in onset fitted across the waves" if trend else "")
    )
    label = (
        "CLHLS 2011 and 2018 ADL impairment by band and grade and their sex ratios, CLHLS onset and recovery "
        "(Fu, Sherris & Xu 2021), the 2015 sample survey (calibration/data/disability_prevalence.csv, "
        "calibration/mappings/disability_measures.toml), the GB/T mild share and 60-64 band of the "
        f"{Path(scenario.file.population.margins).stem} margins "
        f"and e60 by sex of the WPP 2024 life table {life_table.period} ({life_table.path.name})"
    )
    return dataclass_replace(
        base,
        sample_size=n,
        figures=figures,
        prevalence_mask=mask,
        trend=trend,
        counts=census_counts(scenario),
        summary=summary,
        label=label,
    )
