"""Stage 4 of the fit: the fitted model as a calibration/ability TOML file (with its covariance)."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import textwrap
from pathlib import Path

import numpy as np

from agingsim.calibration.estimate import Calibration, FitResult, quality
from agingsim.calibration.figures import REF_YEAR
from agingsim.calibration.parameters import HR_SLOPE_KEY, STAGE2_FREE, transition_key
from agingsim.population.attributes import ABILITY_LEVELS
from agingsim.scenario.provenance import Provenance


def _toml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _num(x: float) -> str:
    if x == 0:
        return "0"
    return f"{x:.6g}" if abs(x) >= 1e-4 else f"{x:.4e}"


#: A fitted onset trend is applied by the simulation when it is this many SE from zero.
APPLY_TREND_Z = 2.0

Spread = tuple[str, float]  # ("sd" | "log_sd", value): a figure's stated distribution


def _figure(value: float, label: Provenance | None, spread: Spread | None = None) -> str:
    """A figure as TOML: bare, or wrapped with its own label and/or spread."""
    parts = [f"value = {_num(value)}"]
    if spread is not None:
        parts.append(f"{spread[0]} = {_num(spread[1])}")
    if label is not None:
        parts.append(f"{label.kind} = {_toml_str(label.text)}")
    return _num(value) if len(parts) == 1 else "{ " + ", ".join(parts) + " }"


def _labelled_table(
    figures: dict[str, tuple[float, Provenance]], spreads: dict[str, Spread] | None = None
) -> list[str]:
    """Figures of one table; one shared label goes on the table, different labels on each figure."""
    spreads = spreads or {}
    labels = {label for _, label in figures.values()}
    if len(labels) == 1:
        (label,) = labels
        return [f"{label.kind} = {_toml_str(label.text)}"] + [
            f"{k} = {_figure(v, None, spreads.get(k))}" for k, (v, _) in figures.items()
        ]
    return [f"{k} = {_figure(v, label, spreads.get(k))}" for k, (v, label) in figures.items()]


def _start_uncertainty(start_raw: dict[str, object]) -> tuple[dict[str, Spread], list[tuple[str, dict]]]:
    """Spreads and correlation groups stated in the starting file (kept for figures not fitted)."""
    from agingsim.uncertainty.draws import _stated

    found, _ = _stated("ability", "start", start_raw)
    spreads = {s.key: ("log_sd" if s.distribution == "lognormal" else "sd", s.scale) for s in found}
    table = start_raw.get("uncertainty", {})
    groups = table.get("groups", {}) if isinstance(table, dict) else {}
    return spreads, list(groups.items()) if isinstance(groups, dict) else []


def _group_toml(name: str, label: Provenance, keys: list[str], corr: np.ndarray) -> list[str]:
    rows = ",\n".join("  [" + ", ".join(f"{x:.4f}" for x in row) + "]" for row in corr)
    return [
        "",
        f"[uncertainty.groups.{name}]",
        f"{label.kind} = {_toml_str(label.text)}",
        "keys = [" + ", ".join(_toml_str(k) for k in keys) + "]",
        "correlation = [\n" + rows + ",\n]",
    ]


def _comment(text: str) -> list[str]:
    return [f"# {line}" if line else "#" for line in textwrap.wrap(text, 100)] or ["#"]


def fitted_toml(
    calibration: Calibration,
    start_labels: dict[str, Provenance],
    start_path: str,
    command: str,
    date: dt.date | None = None,
    life_table: str | None = None,
    start_raw: dict[str, object] | None = None,
) -> str:
    """The fitted model as TOML in the schema of ``calibration/ability/default.toml``.

    ``life_table`` is the life table's path relative to where the file will be written (default: as
    in the starting file, for a fitted file in the same folder).
    """
    result = calibration.chosen
    date = date or dt.date.today()
    fitted_label = Provenance(
        "source", f"fitted by agingsim calibrate ({date.isoformat()}) to {result.targets.label}"
    )
    free = {(f.kind, f.key) for f in result.free}
    fitted_spreads, corr = result.spreads()
    start_spreads, start_groups = _start_uncertainty(start_raw or {})
    fitted_keys = {k for k, _, _ in fitted_spreads}
    spreads = {k: v for k, v in start_spreads.items() if k not in fitted_keys}
    spreads |= {k: (kind, v) for k, kind, v in fitted_spreads}
    p = result.params
    tg = result.targets
    q1 = quality(calibration.stage1.implied, tg, calibration.stage1)
    q = quality(result.implied, tg, result)
    stage_text = f"Stage 1 (sourced figures fixed, assumptions fitted): {q1.describe()}. " + (
        "Good enough, so no sourced figure was refitted."
        if calibration.stage2 is None
        else "Not good enough (criteria: every prevalence within 2 pp, e60 within 0.25 years, sex ratio "
        "within 10%), so stage 2 also fitted the CLHLS-sourced "
        + ", ".join(f.label for f in calibration.stage2.free if f in STAGE2_FREE)
        + f", whose spreading over GB/T transitions is the assumption: {q.describe()}."
    )
    hr_text = (
        "Hazard ratios by level were fitted (identified by CLHLS's disabled/healthy death-rate ratios "
        "together with onset and prevalence)."
        if any(f.kind == "hazard_ratio" for f in result.free)
        else "Hazard ratios by level are NOT fitted (kept as in the starting file): prevalence alone cannot "
        "tell longer survival with disability from faster onset, and freed they fall to 1, below CLHLS's "
        "disabled/healthy death ratios of about 2-5 (--keep-hazard-ratios)."
    )
    lines = [
        "# Ability model FITTED to published Chinese data. Do not edit by hand: regenerate with",
        "#",
        f"#   {command}",
        "#",
        *_comment(
            f"Fitted {date.isoformat()} from {start_path} (its values are the starting point and the centre "
            "of a weak prior) by penalised least squares on the model's stationary population "
            "(agingsim.calibration.fit; report: calibration/fit/report.md from `agingsim validate-model`). "
            f"Targets: {tg.summary}."
        ),
        "#",
        *_comment(stage_text),
        "#",
        *_comment(hr_text),
        *(
            [
                "#",
                *_comment(
                    f"Calendar trend in onset and progression fitted across the waves: "
                    f"{100 * result.trend:+.2f}% a year (SE {100 * (result.trend_sd or 0):.2f}), the rates "
                    f"below being those of {REF_YEAR}. "
                    + (
                        "Distinguishable from zero, so the simulation applies it ([onset_trend] applied)."
                        if trend_applied(result)
                        else f"Within {APPLY_TREND_Z:g} SE of zero, so the simulation does NOT apply it "
                        "([onset_trend] applied = false: it holds these rates in every year); the "
                        "validation report states what applying it would change."
                    )
                ),
            ]
            if result.trend_sd is not None
            else []
        ),
        "#",
        *_comment(
            'Fitted figures carry source = "fitted by agingsim calibrate ..."; every other figure keeps its '
            "label from the starting file. Fitted to " + ", ".join(f.label for f in result.free) + "."
        ),
        "#",
        "#   rate(age, sex) = rate_60 × exp(age_slope × (age − 60)) × (female_rr if female)",
        "",
        f"levels = {json.dumps(list(p.levels))}",
        f"age_max = {p.age_max}",
    ]
    for i, t in enumerate(p.transitions):
        key = transition_key(t)
        lines += ["", "[[transitions]]", f"from = {_toml_str(t.from_)}", f"to = {_toml_str(t.to)}"]
        figures = {
            kind: (
                getattr(t, kind),
                fitted_label if (kind, key) in free else start_labels[f"transitions[{i}].{kind}"],
            )
            for kind in ("rate_60", "age_slope", "female_rr")
        }
        lines += _labelled_table(
            figures,
            {k: spreads[f"transitions[{i}].{k}"] for k in figures if f"transitions[{i}].{k}" in spreads},
        )
    hr = {
        level: (
            p.mortality.hazard_ratio[level],
            fitted_label
            if ("hazard_ratio", level) in free
            else start_labels[f"mortality.hazard_ratio.{level}"],
        )
        for level in ABILITY_LEVELS
    }
    lines += [
        "",
        "[mortality]",
        f"life_table = {_toml_str(life_table or p.mortality.life_table)}",
        f"period = {_toml_str(p.mortality.period)}",
        "# HR(age) = 1 + (hazard_ratio − 1) × exp(hazard_ratio_age_slope × (age − 60))",
        "hazard_ratio_age_slope = "
        + _figure(
            p.mortality.hazard_ratio_age_slope,
            fitted_label
            if ("hazard_ratio_age_slope", "all") in free
            else start_labels.get(HR_SLOPE_KEY, Provenance("assumption", "constant ratios over age")),
            spreads.get(HR_SLOPE_KEY),
        ),
        "",
        "[mortality.hazard_ratio]",
        "# death rate relative to an intact person of the same age and sex; rates are rescaled so that",
        "# the margins' prevalence dies at exactly the WPP life-table rate",
        *_labelled_table(
            hr,
            {
                lv: spreads[f"mortality.hazard_ratio.{lv}"]
                for lv in hr
                if f"mortality.hazard_ratio.{lv}" in spreads
            },
        ),
    ]
    if result.trend_sd is not None:
        lines += [
            "",
            "[onset_trend]",
            "source = "
            + _toml_str(
                f"reference_year {REF_YEAR}: the CLHLS wave whose rates the file holds (the margins rest on "
                "it); applied: the rule of agingsim.calibration.fitted_file.trend_applied"
            ),
            "# rates in calendar year y = the rates above × exp(per_year × (y − reference_year)) if applied,",
            f"# which it is when the fitted trend is over {APPLY_TREND_Z:g} SE from zero (calibrate)",
            "per_year = "
            + _figure(
                result.trend,
                Provenance(
                    "source",
                    f"fitted by agingsim calibrate ({date.isoformat()}) across the waves of "
                    f"{result.targets.label}; sd = its standard error from the fit's covariance",
                ),
                ("sd", result.trend_sd),
            ),
            f"reference_year = {REF_YEAR}",
            f"applied = {'true' if trend_applied(result) else 'false'}",
        ]
    if fitted_spreads:
        spread_label = Provenance(
            "source",
            f"agingsim calibrate ({date.isoformat()}): the fitted figures' spreads (sd, log_sd) and this "
            "correlation are the covariance of the estimates, (JᵀJ)⁻¹ with J the Jacobian of the "
            "weighted residuals at the optimum with the prior included (Laplace approximation); the "
            "residual weights (effective "
            "sample sizes of the targets, prior SDs) are stated in "
            "agingsim.calibration.fit",
        )
        lines += _group_toml("fit", spread_label, [k for k, _, _ in fitted_spreads], corr)
    for name, group in start_groups:
        keys = list(group.get("keys", [])) if isinstance(group, dict) else []
        if keys and not set(keys) & fitted_keys:
            kind = "source" if "source" in group else "assumption"
            label = Provenance(kind, str(group.get(kind, "")))  # type: ignore[arg-type]
            lines += _group_toml(str(name), label, keys, np.array(group["correlation"], dtype=float))
    return "\n".join(lines) + "\n"


def trend_applied(result: FitResult) -> bool:
    """The rule for applying a fitted onset trend in the simulation: more than
    :data:`APPLY_TREND_Z` standard errors from zero. Within that, the waves do not tell a rise from
    no change, and holding the reference year's rates is the smaller claim."""
    return result.trend_sd is not None and abs(result.trend) > APPLY_TREND_Z * result.trend_sd


def write_atomically(path: Path, text: str) -> Path:
    """Write a file so that it is either entirely the new text or untouched (rename into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
