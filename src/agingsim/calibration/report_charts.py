"""The validation report's own charts (`agingsim validate-model`, calibration/report.py): prevalence
of each level by age band against its targets, survival from 60 against the life table, and the
out-of-sample checks, each as PNG bytes; :func:`png` also renders the disability and market
sections' figures (report_disability.chart, report_market.chart)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np

from agingsim.population.attributes import ABILITY_LEVELS

if TYPE_CHECKING:
    from agingsim.calibration.fit import Targets
    from agingsim.calibration.report import Check, ModelView


def png(fig: Any) -> bytes:
    """``fig`` as PNG (110 dpi, tight), then closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def chart_prevalence(targets: Targets, models: list[ModelView]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(len(targets.band_labels))
    fig, axes = plt.subplots(1, len(ABILITY_LEVELS), figsize=(16, 3.6))
    main = models[0]
    by_sex, both = main.implied.band_prevalence(targets.edges)
    for k, (ax, level) in enumerate(zip(axes, ABILITY_LEVELS, strict=True)):
        ax.bar(x, 100 * targets.prevalence[:, k], color="#cccccc", label="target")
        ax.plot(x, 100 * both[:, k], "o-", color="black", label=f"{main.name}: both sexes")
        ax.plot(x, 100 * by_sex[:, 0, k], "^--", color="tab:blue", label=f"{main.name}: men", ms=4)
        ax.plot(x, 100 * by_sex[:, 1, k], "v--", color="tab:red", label=f"{main.name}: women", ms=4)
        for other in models[1:]:
            _, ob = other.implied.band_prevalence(targets.edges)
            ax.plot(x, 100 * ob[:, k], "s:", color="tab:gray", label=f"{other.name}: both sexes", ms=4)
        ax.set_xticks(x, targets.band_labels)
        ax.set_title(level)
        ax.set_ylabel("% of age band" if k == 0 else "")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Prevalence of each GB/T 42195 level by age band: target vs model")
    return png(fig)


def chart_survival(targets: Targets, models: list[ModelView], mx: np.ndarray) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    n = models[0].implied.person_years.shape[0]
    ages = 60 + np.arange(n + 1)
    for s, (ax, sex) in enumerate(zip(axes, ("men", "women"), strict=True)):
        lt = np.concatenate([[1.0], np.exp(-np.cumsum(mx[:n, s]))])
        ax.plot(ages, lt, color="#999999", lw=4, label=f"life table (e60 {targets.e60[s]:.2f})")
        for m, style in zip(models, ("-", ":"), strict=False):
            ax.plot(
                ages,
                m.implied.survivors[:, s],
                style,
                color="black",
                label=f"{m.name} (e60 {m.implied.e60[s]:.2f})",
            )
        ax.set_title(f"Survival from 60, {sex}")
        ax.set_xlabel("age")
        ax.set_xlim(60, 110)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("share alive")
    return png(fig)


def chart_checks(checks: list[Check], models: list[ModelView]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pct = [c for c in checks if c.unit == "%"]
    y = np.arange(len(pct))
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(pct) + 1.5))
    ax.barh(y, [c.published for c in pct], color="#cccccc", label="published")
    markers = ("o", "s")
    colors = ("black", "tab:gray")
    for m, mk, col in zip(models, markers, colors, strict=False):
        ax.plot([c.model[m.name] for c in pct], y, mk, color=col, label=m.name)
    ax.set_yticks(y, [c.name.split(":")[0] + ": " + c.measure for c in pct], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("% of the age group")
    ax.set_title("Out-of-sample checks: published figure (bar) vs model")
    ax.legend(fontsize=8)
    return png(fig)
