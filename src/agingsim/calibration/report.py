"""``agingsim validate-model``: how well an ability model reproduces published Chinese figures.

The report (markdown + PNG charts + summary.json) shows the fit (model vs target prevalence by age band
and sex, model vs life-table e60) and out-of-sample checks against published figures the fit did not
use, each error stated plainly. All model figures come from the stationary population of
:mod:`agingsim.calibration.stationary`; nothing is simulated, so the report is deterministic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agingsim import __version__
from agingsim.ability.intensities import interpolate_mx
from agingsim.calibration.fit import (
    Quality,
    Targets,
    census_counts,
    fixed_from_scenario,
    load_ability,
    quality,
    sex_ratio_of,
    short_source,
    targets_from_scenario,
)
from agingsim.calibration.measures import levels_of, measure
from agingsim.calibration.report_charts import chart_checks, chart_prevalence, chart_survival, png
from agingsim.calibration.stationary import Implied, implied
from agingsim.population.attributes import ABILITY_LEVELS, SEXES
from agingsim.results.output import json_writer, write_outputs
from agingsim.scenario.files import file_sha256, project_root
from agingsim.scenario.loader import Scenario
from agingsim.scenario.provenance import Provenance
from agingsim.scenario.schema import AbilityModelFile

#: Model level groups of the published measures (calibration/mappings/disability_measures.toml).
LEVEL_GROUPS = {
    "mild+": levels_of("survey2015_disabled_semidisabled"),
    "moderate+": levels_of("nhsa_disabled"),
}


@dataclass(frozen=True)
class ModelView:
    """One ability model as the report sees it."""

    name: str
    path: Path
    params: AbilityModelFile
    labels: dict[str, Provenance]
    implied: Implied
    quality: Quality
    fixed: Any = None


@dataclass(frozen=True)
class Check:
    """An out-of-sample comparison: a published figure the fit did not use, and the model's."""

    name: str
    published: float
    unit: str  # "%" or "per 1,000 person-years"
    measure: str  # what in the model is compared
    model: dict[str, float]  # model name → value
    source: str
    note: str = ""

    def error(self, model: str) -> float:
        return self.model[model] - self.published


def view(name: str, path: Path, scenario: Scenario, targets: Targets) -> ModelView:
    params, labels, life_table = load_ability(path)
    fixed = fixed_from_scenario(scenario, params, life_table)
    imp = implied(params, fixed)
    return ModelView(name, path, params, labels, imp, quality(imp, targets), fixed)


def out_of_sample_checks(
    scenario: Scenario, models: list[ModelView], targets: Targets, trends: dict[str, float] | None = None
) -> list[Check]:
    """Published figures kept out of the fit (:mod:`agingsim.calibration.figures`, ``use == "check"``),
    each against the comparable model figure at the figure's year (each model with its stated trend)."""
    from agingsim.calibration.figures import published_figures, values

    trends = trends or {}
    counts = census_counts(scenario)
    figures = [f for f in published_figures() if f.use == "check"]
    per_model = {
        m.name: values(tuple(figures), m.params, trends.get(m.name, 0.0), m.fixed, counts) for m in models
    }
    checks = []
    for k, f in enumerate(figures):
        m = measure(f.measure)
        what = (
            f"moves from {' or '.join(m.from_)} into {' or '.join(m.to)}"
            if f.kind == "rate"
            else ("GB/T " + " or ".join(m.levels) if m.levels else m.name)
        )
        checks.append(
            Check(
                f.name,
                f.scale * f.value,
                f.unit,
                what,
                {name: f.scale * float(v[k]) for name, v in per_model.items()},
                f.source,
                f.note,
            )
        )
    return checks


# --------------------------------------------------------------------------- writers


def _bytes_writer(data: bytes) -> Any:
    def write(path: Path) -> None:
        path.write_bytes(data)

    return write


def _text_writer(text: str) -> Any:
    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


# --------------------------------------------------------------------------- report


def _pp(x: float) -> str:
    return f"{100 * x:+.1f}"


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(project_root()))
    except ValueError:
        return str(path)


def _param_rows(models: list[ModelView]) -> list[str]:
    main = models[0]
    other = models[1] if len(models) > 1 else None
    head = f"| transition | parameter | {main.name} | provenance |"
    rows = [head.replace(" provenance |", f" {other.name} | provenance |") if other else head]
    rows.append("|" + "---|" * (5 if other else 4))
    for i, t in enumerate(main.params.transitions):
        for kind in ("rate_60", "age_slope", "female_rr"):
            label = main.labels.get(f"transitions[{i}].{kind}")
            kind_text = (
                "fitted"
                if label and label.text.startswith("fitted by agingsim")
                else (label.kind if label else "")
            )
            cells = [f"{t.from_}→{t.to}", kind, f"{getattr(t, kind):.4g}"]
            if other:
                ot = next((x for x in other.params.transitions if (x.from_, x.to) == (t.from_, t.to)), None)
                cells.append(f"{getattr(ot, kind):.4g}" if ot else "–")
            rows.append("| " + " | ".join([*cells, kind_text]) + " |")
    for level in ABILITY_LEVELS:
        label = main.labels.get(f"mortality.hazard_ratio.{level}")
        kind_text = (
            "fitted"
            if label and label.text.startswith("fitted by agingsim")
            else (label.kind if label else "")
        )
        cells = ["death", f"hazard ratio {level} at 60", f"{main.params.mortality.hazard_ratio[level]:.3g}"]
        if other:
            cells.append(f"{other.params.mortality.hazard_ratio[level]:.3g}")
        rows.append("| " + " | ".join([*cells, kind_text]) + " |")
    label = main.labels.get("mortality.hazard_ratio_age_slope")
    kind_text = (
        "fitted" if label and label.text.startswith("fitted by agingsim") else (label.kind if label else "")
    )
    cells = [
        "death",
        "age slope of the excess hazard ratio",
        f"{main.params.mortality.hazard_ratio_age_slope:.4g}",
    ]
    if other:
        cells.append(f"{other.params.mortality.hazard_ratio_age_slope:.4g}")
    rows.append("| " + " | ".join([*cells, kind_text]) + " |")
    return rows


def build_report(
    scenario: Scenario,
    targets: Targets,
    models: list[ModelView],
    checks: list[Check],
    date: dt.date,
    conditions: list[str] | None = None,
    sections: list[str] | None = None,
) -> str:
    main = models[0]
    names = [m.name for m in models]
    q = main.quality
    by_sex, both = main.implied.band_prevalence(targets.edges)
    others = [(m, m.implied.band_prevalence(targets.edges)[1]) for m in models[1:]]
    lines = [
        f"# Ability model validation: `{_rel(main.path)}`",
        "",
        f"Written by `agingsim validate-model` (agingsim {__version__}) on {date.isoformat()}. Model file "
        f"sha256 `{file_sha256(main.path)[:16]}…`; margins `{scenario.file.population.margins}`, region "
        f"`{scenario.region.id}`."
        + (f" For comparison: `{_rel(models[1].path)}` ({models[1].name})." if len(models) > 1 else ""),
        "",
        "## Summary",
        "",
        "Against the margins' prevalence by age band (CLHLS 2018 mapped onto GB/T levels; only their mild "
        "column and 60-64 row are fit targets, the rest is fitted through the published figures of the "
        "disability section below) the model is off by at most "
        f"**{100 * q.max_prevalence_error:.1f} percentage points** (both sexes); its life expectancy at 60 "
        f"differs from the life table by **{q.e60_error[0]:+.2f} years for men and {q.e60_error[1]:+.2f} "
        f"for women** ({q.e60_error_abridged[0]:+.2f} / {q.e60_error_abridged[1]:+.2f} against the abridged "
        "5-year table)"
        + (
            f"; the female/male ratio of ADL impairment at 65+ is off by {100 * q.sex_ratio_error:+.0f}%"
            if q.sex_ratio_error is not None
            else ""
        )
        + ". Out of sample (published vs model, error):\n\n"
        + "\n".join(
            f"- {c.name} ({c.measure}): {c.published:.1f} vs {c.model[main.name]:.1f}"
            + (" %, " if c.unit == "%" else f" {c.unit}, ")
            + (f"**{c.error(main.name):+.1f} pp**" if c.unit == "%" else f"**{c.error(main.name):+.1f}**")
            + f" ({100 * c.error(main.name) / c.published:+.0f}%)"
            for c in checks
        ),
        "",
        *(conditions or []),
        *(sections or []),
        "## How the model's figures are computed",
        "",
        "Deterministically, with no simulation: a cohort enters at exact age 60 with the margins' "
        "ability distribution (as the simulation's entrants do) and is propagated month by month with "
        "the model's own monthly matrices P = expm(Q/12). Its person-years by age, sex and level are a "
        "**stationary population** (constant entries, today's rates forever). Prevalence in an age band "
        "is the share of those person-years; e60 is their total. The approximation is in the weights of "
        "ages *within* a band: China's real older population is younger within wide bands (growing "
        "cohorts, falling mortality), so the stationary 85+ is somewhat older than the real 85+. Figures"
        " for all of 60+ weight the bands by the margins' census 2020 counts by sex, not by the "
        "stationary population. Both sexes are combined in the census sex ratio at 60-64.",
        "",
        "## Margins: prevalence by age band",
        "",
        "The margins' rows (CLHLS 2018 mapped onto GB/T levels): only the GB/T mild column and the 60-64 "
        "row are fit targets (assumptions there); the ADL levels are fitted through the CLHLS figures of "
        "the disability section. Rows: "
        + "; ".join(
            f"{b}: {s}" for b, s in zip(targets.band_labels, targets.prevalence_sources, strict=True)
        ),
        "",
        "| band | level | target % | model % | error (pp) | men % | women % |"
        + "".join(f" {m.name} % |" for m, _ in others),
        "|---|---|---|---|---|---|---|" + "---|" * len(others),
    ]
    for b, band in enumerate(targets.band_labels):
        for k, level in enumerate(ABILITY_LEVELS):
            lines.append(
                f"| {band} | {level} | {100 * targets.prevalence[b, k]:.1f} | {100 * both[b, k]:.1f} | "
                f"{_pp(both[b, k] - targets.prevalence[b, k])} | {100 * by_sex[b, 0, k]:.1f} | "
                f"{100 * by_sex[b, 1, k]:.1f} |" + "".join(f" {100 * ob[b, k]:.1f} |" for _, ob in others)
            )
    lines += ["", "![prevalence by age band](prevalence.png)", ""]
    if targets.sex_ratio is not None:
        lines += [
            "## Fit: women vs men",
            "",
            "The margins give no split by sex, so the only sex target is the female/male ratio of ADL "
            f"impairment (GB/T moderate or worse) at 65+: **{targets.sex_ratio:.2f}** "
            f"({targets.sex_ratio_source}). "
            "Model: " + ", ".join(f"{m.name} {sex_ratio_of(m.implied):.2f}" for m in models) + ".",
            "",
        ]
    lines += [
        "## Fit: life expectancy at 60",
        "",
        f"Life table: {targets.e60_source}.",
        "",
        "| sex | life table, single-year rates | life table, abridged | "
        + " | ".join(f"{n} | {n} − life table" for n in names)
        + " |",
        "|---|---|---|" + "---|---|" * len(models),
    ]
    for s, sex in enumerate(("men", "women")):
        lines.append(
            f"| {sex} | {targets.e60[s]:.2f} | {targets.e60_abridged[s]:.2f} | "
            + " | ".join(f"{m.implied.e60[s]:.2f} | {m.implied.e60[s] - targets.e60[s]:+.2f}" for m in models)
            + " |"
        )
    lines += [
        "",
        "Why e60 by sex is not matched exactly: the model splits m(x) across levels with the margins' "
        "prevalence, which is the same for both sexes; where the model's own prevalence is higher (women) "
        "people die slightly faster than the life table, where lower (men) slightly slower.",
        "",
        "![survival from 60](life_expectancy.png)",
        "",
        "## Out-of-sample checks (figures the fit did not use, as in the disability section)",
        "",
        "| published figure | published | model measure | "
        + " | ".join(f"{n} | error" for n in names)
        + " | note |",
        "|---|---|---|" + "---|---|" * len(models) + "---|",
    ]
    for c in checks:
        unit = "%" if c.unit == "%" else f" {c.unit}"
        lines.append(
            f"| {c.name} | {c.published:.1f}{unit} | {c.measure} | "
            + " | ".join(f"{c.model[n]:.1f} | {c.error(n):+.1f}" for n in names)
            + f" | {c.note} |"
        )
    lines += [
        "",
        "Errors are model − published, in percentage points (per 1,000 person-years for incidence). "
        "Survey definitions differ from GB/T 42195 and from each other (calibration/data/README.md): "
        "these checks say how far the model is from each published figure under the stated mapping, not "
        "which figure is right.",
        "",
        "![out-of-sample checks](out_of_sample.png)",
        "",
        "Sources of the published figures:",
        "",
    ]
    seen = set()
    for c in checks:
        text = short_source(c.source, 300)
        if text not in seen:
            seen.add(text)
            lines.append(f"- {text}")
    lines += [
        "",
        "## Parameters",
        "",
        "`fitted` = estimated by `agingsim calibrate`; `source` = a published figure kept fixed; "
        "`assumption` = kept from the starting file.",
        "",
        *_param_rows(models),
        "",
        "## Limitations",
        "",
        "- The targets rest on assumptions: CLHLS's ADL grades mapped onto GB/T levels "
        "(calibration/mappings/disability_measures.toml), the GB/T mild share, and 60-64 (extrapolated "
        "from CLHLS 65-84; no CHARLS table by band was found). The fit reproduces them, not the truth.",
        "- Hazard ratios by level are identified only together with onset (CLHLS's disabled/healthy "
        "death-rate ratios and onset intensities); the model's ratios are constant over age while "
        "CLHLS's fall with age, so the fit compromises (several steps sit at their bound of 1).",
        "- The targets identify fewer combinations than there are free parameters; a weak prior centred on "
        "the starting file settles the rest (see agingsim.calibration.fit).",
        "- Prevalence and rates are period figures of a stationary population (see above). A calendar "
        "trend in onset is fitted across the waves and reported, but the simulation does not apply it.",
        "- The model splits m(x) across levels with the margins' prevalence, which is constant within each "
        "band, so the death rate of people of a given level jumps at band edges (the kink at 85 in the "
        "survival chart). A smooth prevalence by single year of age in agingsim.ability would remove it.",
        "- Parameter uncertainty: each fitted figure's spread and their correlation come from the fit's "
        "Jacobian (the `[uncertainty]` table of the fitted file); they are only as wide as the effective "
        "sample sizes given to the targets (agingsim.calibration.fit) allow, and figures kept from a "
        "source (CLHLS recovery) are held fixed. `agingsim run --replications N` draws them per replication.",
        "",
    ]
    return "\n".join(lines)


def validate_model(
    scenario: Scenario,
    model_path: Path,
    out_dir: Path,
    compare_path: Path | None = None,
    date: dt.date | None = None,
    mapping_path: Path | None = None,
    demography: Any | None = None,
) -> dict[str, Any]:
    """Write the validation report for the model at ``model_path`` into ``out_dir`` (atomically).

    ``mapping_path``: the GB/T → census self-care mapping (default: the bundled one).
    ``demography``: a :class:`agingsim.calibration.demography.Backtest` to report as its own section.
    """
    from agingsim.calibration.conditions import check, report_lines
    from agingsim.calibration.fit import CENSUS_MAPPING_PATH, load_census_mapping

    date = date or dt.date.today()
    params, _, life_table = load_ability(model_path)
    targets = targets_from_scenario(scenario, life_table, params.age_max)
    models = [view(model_path.stem, model_path, scenario, targets)]
    if compare_path is not None and compare_path.resolve() != model_path.resolve():
        models.append(view(compare_path.stem, compare_path, scenario, targets))
    from agingsim.calibration import report_disability, report_market
    from agingsim.calibration.figures import stated_trend

    trends = {m.name: stated_trend(m.path)[0] for m in models}
    checks = out_of_sample_checks(scenario, models, targets, trends)
    counts = census_counts(scenario)
    figures, evaluated = report_disability.evaluate(
        models[0].name, models[0].params, trends[models[0].name], models[0].fixed, counts
    )
    trend_sd = stated_trend(model_path)[1]
    disability = report_disability.section(
        figures, evaluated, trends[models[0].name], trend_sd, models[0].params, models[0].fixed, counts
    )
    market = report_market.market(scenario) if scenario.behaviour is not None else None
    market_lines = report_market.section(market, _rel(scenario.path)) if market is not None else []
    mapping = load_census_mapping(mapping_path or project_root() / CENSUS_MAPPING_PATH)
    cond = check(scenario, models[0].implied, mapping, targets.edges, targets.band_labels, targets.e60)
    cond_lines = report_lines(cond, _rel(scenario.path), scenario.run.simulated_people)
    n = models[0].implied.person_years.shape[0]
    mx = interpolate_mx(life_table, np.minimum(np.arange(60, 60 + n), params.age_max))
    report = build_report(scenario, targets, models, checks, date, cond_lines, disability + market_lines)
    q = models[0].quality
    summary = {
        "agingsim_version": __version__,
        "model": _rel(model_path),
        "model_sha256": file_sha256(model_path),
        "date": date.isoformat(),
        "max_prevalence_error_pp": round(100 * q.max_prevalence_error, 3),
        "conditions": cond.summary(),
        "conditions_text": cond.lines(),
        "e60": {
            sex: {
                "model": round(float(models[0].implied.e60[s]), 3),
                "life_table": round(float(targets.e60[s]), 3),
                "life_table_abridged": round(float(targets.e60_abridged[s]), 3),
            }
            for s, sex in enumerate(SEXES)
        },
        "sex_ratio": None
        if targets.sex_ratio is None
        else {"target": round(targets.sex_ratio, 4), "model": round(sex_ratio_of(models[0].implied), 4)},
        "prevalence": {
            band: {
                level: {
                    "target": round(float(targets.prevalence[b, k]), 5),
                    "model": round(float(models[0].implied.band_prevalence(targets.edges)[1][b, k]), 5),
                }
                for k, level in enumerate(ABILITY_LEVELS)
            }
            for b, band in enumerate(targets.band_labels)
        },
        "disability": [
            {
                "id": f.id,
                "figure": f.name,
                "use": f.use,
                "year": f.year,
                "published": round(f.scale * f.value, 4),
                "se": round(f.scale * f.se, 4),
                "model": round(f.scale * float(evaluated.values[i]), 4),
                "z": round(float(evaluated.z[i]), 3),
            }
            for i, f in enumerate(figures)
        ],
        "market": market.summary() if market is not None else None,
        "out_of_sample": [
            {
                "figure": c.name,
                "published": c.published,
                "unit": c.unit,
                "model_measure": c.measure,
                "model": {k: round(v, 3) for k, v in c.model.items()},
                "error": {k: round(c.error(k), 3) for k in c.model},
            }
            for c in checks
        ],
    }
    if demography is not None:  # issue 14: the demographic backtest (agingsim.calibration.demography)
        from agingsim.calibration import demography as demo

        rows = demo.checks(demography)
        report += "\n" + "\n".join(demo.report_lines(demography, rows))
        summary["demography"] = demo.summary(demography, rows)
    write_outputs(
        out_dir,
        {
            "report.md": _text_writer(report),
            "prevalence.png": _bytes_writer(chart_prevalence(targets, models)),
            "life_expectancy.png": _bytes_writer(chart_survival(targets, models, mx)),
            "out_of_sample.png": _bytes_writer(chart_checks(checks, models)),
            "disability.png": _bytes_writer(png(report_disability.chart(figures, evaluated))),
            **({"market.png": _bytes_writer(png(report_market.chart(market)))} if market is not None else {}),
            "summary.json": json_writer(summary),
        },
    )
    return summary
