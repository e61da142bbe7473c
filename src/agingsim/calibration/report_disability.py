"""The disability section of ``agingsim validate-model``: every published figure, published vs model.

Each figure of :func:`agingsim.calibration.figures.published_figures` is shown with its standard
error, whether the fit used it or it is kept to check, the model's value at the figure's year and the
standardised error; a miss (more than 2 standard errors) is said as such. The same figures are the
out-of-sample checks of the report (those with ``use == "check"``), so a figure is never both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agingsim.calibration.figures import (
    DESIGN_EFFECT,
    FIT_WAVES,
    HOLD_OUT_WAVE,
    REF_YEAR,
    STRUCTURAL_REL,
    Figure,
    at_year,
    published_figures,
    residual,
    values,
)
from agingsim.calibration.measures import measure
from agingsim.calibration.stationary import FixedInputs, implied
from agingsim.calibration.targets import published, read_data
from agingsim.population.attributes import ABILITY_LEVELS, SEXES
from agingsim.scenario.schema import AbilityModelFile

#: A figure is met when the model is within this many standard errors.
MET_Z = 2.0


@dataclass(frozen=True)
class Evaluated:
    """One model's value of every figure."""

    name: str
    values: np.ndarray
    z: np.ndarray


def evaluate(
    name: str, params: AbilityModelFile, trend: float, fixed: FixedInputs, counts: dict
) -> tuple[tuple[Figure, ...], Evaluated]:
    figures = published_figures()
    vals = values(figures, params, trend, fixed, counts)
    z = np.array([residual(f, v) for f, v in zip(figures, vals, strict=True)])
    return figures, Evaluated(name, vals, z)


def _fmt(fig: Figure, x: float) -> str:
    return f"{fig.scale * x:.2f}" if fig.kind in ("ratio", "death_ratio") else f"{fig.scale * x:.1f}"


def _verdict(z: float) -> str:
    return "within" if abs(z) <= MET_Z else f"**MISS** ({'above' if z > 0 else 'below'})"


def section(
    figures: tuple[Figure, ...],
    main: Evaluated,
    trend: float,
    trend_sd: float | None,
    params: AbilityModelFile,
    fixed: FixedInputs,
    counts: dict,
) -> list[str]:
    """Markdown lines of the disability section."""
    fit = [i for i, f in enumerate(figures) if f.use == "fit"]
    chk = [i for i, f in enumerate(figures) if f.use == "check"]
    held = [i for i in chk if figures[i].id.startswith(f"clhls{HOLD_OUT_WAVE}.")]

    def share_within(idx: list[int]) -> str:
        n = int(np.sum(np.abs(main.z[idx]) <= MET_Z))
        return f"{n} of {len(idx)}"

    lines = [
        "## Disability: every published figure, published vs model",
        "",
        f"Figures from several sources and waves (calibration/data/), each mapped onto GB/T levels by "
        "calibration/mappings/disability_measures.toml and given a standard error (agingsim.calibration."
        f"figures: CLHLS bands binomial with the wave's respondents × design effect {DESIGN_EFFECT:g} and "
        f"{100 * STRUCTURAL_REL:.0f}% structural error; the other errors as stated per row, all "
        f"assumptions). Model `{main.name}`: its stationary population at the rates of each figure's year.",
        "",
        f"- **Fitted**: {share_within(fit)} figures within {MET_Z:g} standard errors.",
        f"- **Held out, the whole CLHLS {HOLD_OUT_WAVE} wave** (by band and grade, any impairment, sex "
        f"ratio): {share_within(held)} within {MET_Z:g} standard errors.",
        f"- **All checks** (held-out wave, incidence, CHNS, NHSA, recovery): {share_within(chk)} within "
        f"{MET_Z:g} standard errors.",
    ]
    if trend_sd is not None:
        lines.append(
            f"- **Calendar trend in onset**, fitted across the waves: {100 * trend:+.2f}% a year "
            f"(SE {100 * trend_sd:.2f}; {'not ' if abs(trend) <= 2 * trend_sd else ''}distinguishable "
            f"from zero at 2 SE). The fitted file holds the rates of {REF_YEAR} and states the trend in "
            "its `[onset_trend]` table (a setting of the ability model: `applied = true` moves onset "
            "with calendar time in the simulation; `per_year` is drawn with its SE in replications). "
            + (
                "It is applied: "
                if params.onset_trend is not None and params.onset_trend.applied
                else f"It is NOT applied (the fitted trend is within 2 SE of zero), so projections hold "
                f"onset at the {REF_YEAR} level: "
            )
            + _trend_effect(params, trend, fixed)
            + " "
            + _held_out_without_trend(figures, main, held, params, fixed, counts)
        )
    lines += [
        "",
        "| figure | used to | year | published | SE | model | error (SE) | verdict | SE basis "
        "| why it misses |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    why = miss_notes(figures, main)
    for i, f in enumerate(figures):
        unit = "" if f.kind in ("ratio", "death_ratio") else (" %" if f.kind == "prevalence" else " ‰")
        lines.append(
            f"| {f.name} | {f.use} | {f.year:g} | {_fmt(f, f.value)}{unit} | {_fmt(f, f.se)} | "
            f"{_fmt(f, main.values[i])}{unit} | {main.z[i]:+.1f} | {_verdict(main.z[i])} | {f.se_note} | "
            f"{why.get(i, '')} |"
        )
    lines += [
        "",
        "![standardised error of every figure](disability.png)",
        "",
        "‰ = per 1,000 person-years. Ratios are compared on the log scale (their SE is that of the log). "
        "Each miss carries its own explanation in the table's last column "
        f"({len(why)} misses, {sum(1 for i in why if figures[i].use == 'fit')} of them fitted figures). "
        "In general:",
        "",
    ]
    lines += [
        "- death-rate ratios by level now fall with age (their excess over intact shrinks by "
        f"{-100 * params.mortality.hazard_ratio_age_slope:.1f}% a year of age, "
        "`mortality.hazard_ratio_age_slope`, fitted), as CLHLS's disabled/healthy ratio does (about 4 at "
        "70, 2 at 90). With constant ratios the fit missed 9 of the 33 fitted figures; the 2015 survey, "
        "the death-rate ratio of women at 70 and CLHLS 2018 75-84 GB/T complete are now within 2 SE, "
        "and the remaining misses are those explained above.",
        "",
        *by_sex_lines(params, trend, fixed),
        "",
        "Figures used to fit vs kept for checking (each figure is used one way only):",
        "",
        "- fitted: "
        + "; ".join(sorted({f.name.split(":")[0] + ": " + f.measure for f in figures if f.use == "fit"})),
        "- fitted too: e60 by sex of the life table; the GB/T mild share by band and the 60-64 row of the "
        "margins (assumptions); the census 2020 'cannot care for self' share (sets the census mapping, "
        "calibration/mappings/census2020_selfcare.toml)",
        "- kept for checking: "
        + "; ".join(sorted({f.name.split(":")[0] + ": " + f.measure for f in figures if f.use == "check"})),
        "- not used (not comparable with any model level, calibration/mappings/disability_measures.toml): "
        + measure("meta_pooled").name,
        "",
    ]
    return lines


def miss_notes(figures: tuple[Figure, ...], main: Evaluated) -> dict[int, str]:
    """Each missing figure's own explanation, by row: the figure's note, else one stated here from the
    published and model values (CHNS has no note in the figures), else a plain 'no explanation found'."""
    chns = [i for i, f in enumerate(figures) if f.measure == "chns_adl_disability"]
    notes: dict[int, str] = {}
    for i, f in enumerate(figures):
        if abs(main.z[i]) <= MET_Z:
            continue
        if f.note:
            notes[i] = f.note
        elif f.measure == "chns_adl_disability" and len(chns) == 2:
            a, b = chns
            notes[i] = (
                f"CHNS fell from {100 * figures[a].value:.1f}% ({figures[a].year:g}) to "
                f"{100 * figures[b].value:.1f}% ({figures[b].year:g}) while the model, at those years' "
                f"rates, moves {100 * main.values[a]:.1f}% → {100 * main.values[b]:.1f}%: the fitted "
                f"calendar trend comes from the CLHLS waves {' and '.join(str(w) for w in FIT_WAVES)} and "
                "does not carry back the earlier fall; the level gap rests on the mapping's assumption "
                "that CHNS's ADL threshold is CLHLS's (GB/T moderate or worse, "
                "calibration/mappings/disability_measures.toml), not checked"
            )
        else:
            notes[i] = "no explanation found"
    return notes


def _held_out_without_trend(
    figures: tuple[Figure, ...],
    main: Evaluated,
    held: list[int],
    params: AbilityModelFile,
    fixed: FixedInputs,
    counts: dict,
) -> str:
    """How the held-out wave fares at the fitted trend vs at the reference year's rates (no trend)."""
    if not held:
        return ""
    sub = tuple(figures[i] for i in held)
    flat = values(sub, params, 0.0, fixed, counts)
    z0 = np.array([residual(f, v) for f, v in zip(sub, flat, strict=True)])
    z1 = main.z[held]
    return (
        f"The held-out CLHLS {HOLD_OUT_WAVE} wave: mean |error| {np.mean(np.abs(z1)):.2f} SE at its own "
        f"year's rates (with the trend), {np.mean(np.abs(z0)):.2f} SE at {REF_YEAR} rates (without); "
        f"{int(np.sum(np.abs(z1) <= MET_Z))} vs {int(np.sum(np.abs(z0) <= MET_Z))} of {len(held)} within "
        f"{MET_Z:g} SE."
    )


def _trend_effect(params: AbilityModelFile, trend: float, fixed: FixedInputs) -> str:
    """What applying the trend would change: moderate-or-worse at 65+ in 2030 vs the held 2018 rates."""
    cols = [ABILITY_LEVELS.index(x) for x in measure("clhls_adl_any").levels]
    held = implied(params, fixed).prevalence_both(65, None)[cols].sum()
    moved = implied(at_year(params, trend, 2030), fixed).prevalence_both(65, None)[cols].sum()
    return (
        f"with the trend, GB/T moderate-or-worse at 65+ (stationary) would be {100 * moved:.1f}% at 2030 "
        f"rates instead of {100 * held:.1f}%."
    )


def by_sex_lines(params: AbilityModelFile, trend: float, fixed: FixedInputs) -> list[str]:
    """Model prevalence by band and sex (the published figures by sex are at 65+ only)."""
    data = read_data("disability_prevalence.csv")
    men, _ = published(
        data, survey="CLHLS", year=2018, age_band="65+", sex="M", measure="adl_impairment_any_pct"
    )
    women, _ = published(
        data, survey="CLHLS", year=2018, age_band="65+", sex="F", measure="adl_impairment_any_pct"
    )
    imp = implied(at_year(params, trend, 2018), fixed)
    bands = {"60-64": (60, 65), "65-74": (65, 75), "75-84": (75, 85), "85+": (85, None), "65+": (65, None)}
    lines = [
        "Model prevalence by band and sex at 2018 rates (%, GB/T level; published by sex only at 65+: "
        f"CLHLS 2018 any ADL impairment men {men:.2f}%, women {women:.2f}%, not a target itself — its "
        "F/M ratio is):",
        "",
        "| band | sex | " + " | ".join(ABILITY_LEVELS) + " | moderate or worse |",
        "|---|---|" + "---|" * (len(ABILITY_LEVELS) + 1),
    ]
    for band, (lo, hi) in bands.items():
        prev = imp.prevalence(lo, hi)
        for s, sex in enumerate(SEXES):
            row = prev[s]
            lines.append(
                f"| {band} | {sex} | "
                + " | ".join(f"{100 * x:.1f}" for x in row)
                + f" | {100 * row[2:].sum():.1f} |"
            )
    return lines


def chart(figures: tuple[Figure, ...], main: Evaluated) -> Any:
    """Standardised error of every figure (fit: dark, check: light), with the ±2 SE band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = np.arange(len(figures))
    fig, ax = plt.subplots(figsize=(9, 0.22 * len(figures) + 1.2))
    colors = ["black" if f.use == "fit" else "tab:orange" for f in figures]
    ax.barh(y, np.clip(main.z, -8, 8), color=colors)
    ax.axvspan(-MET_Z, MET_Z, color="#dddddd", zorder=0)
    ax.set_yticks(y, [f.id for f in figures], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("(model − published) / SE   (black: fitted, orange: kept for checking; clipped at ±8)")
    ax.set_title(f"Disability figures: standardised error of `{main.name}`")
    return fig
