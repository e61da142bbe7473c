"""Read an output folder of ``agingsim run`` or ``agingsim compare`` for reporting.

The report works from the files a run wrote, not from a live model, so a deck can be rebuilt from an
archived folder and says exactly what that run said. A folder that is not an agingsim output is a clear
error, not a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from agingsim.errors import AgingsimError, ScenarioError
from agingsim.fiscal.ledger import WAN, summarise
from agingsim.population.attributes import NEED_LEVELS
from agingsim.report.labels import Lang, fiscal_period, label, period_label
from agingsim.results.targets import SCORECARD_COLUMNS

#: The figures of each difference.csv row, in order: each arm's mean over the replications and the
#: 90% interval (p05, median, p95) of B − A and of (B − A) / A (interval_measures gives them).
INTERVAL_FIGURES = (
    "a_mean",
    "b_mean",
    "difference_p05",
    "difference_p50",
    "difference_p95",
    "relative_p05",
    "relative_p50",
    "relative_p95",
)

#: Columns each input file must have (the documented output of run / compare).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "population.csv": ("year", "county", "sex", "age_band", "ability_level", "people"),
    "ledger.csv": (
        "year",
        "month",
        "line_item",
        "rule",
        "scheme_family",
        "payer_level",
        "county",
        "amount_cny",
    ),
    "assumptions.csv": ("file", "key", "value", "provenance", "text"),
    "comparison.csv": ("year", "measure", "a", "b", "b_minus_a"),
    "distribution.csv": ("dimension", "group", "people", "spending_wan", "spending_per_person_cny"),
    # compare --replications (uncertainty.difference writes it with exactly these columns)
    "difference.csv": ("measure", *INTERVAL_FIGURES, "distinguishable_from_zero"),
}


class ResultsDirError(ScenarioError):
    """The folder given to ``agingsim report`` is not (or no longer) a readable agingsim output.

    A ScenarioError, so the CLI exits with 2 (invalid input) and prints ``PATH: PROBLEM``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        AgingsimError.__init__(self, f"{path}: {problem}")
        self.path, self.key, self.problem = str(path), "", problem


NOT_OUTPUT = (
    "not an agingsim output folder (no summary.json); give the folder written by "
    "`agingsim run` or `agingsim compare`"
)


@dataclass
class Results:
    """One output folder: its summary, its tables (read on demand) and the names of its line items."""

    path: Path
    kind: Literal["run", "compare"]
    summary: dict[str, Any]
    _frames: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- tables
    def frame(self, name: str) -> pd.DataFrame | None:
        """A CSV of the folder, or None if the run did not write it (e.g. no ledger without a policy)."""
        if name not in self._frames:
            path = self.path / name
            if not path.is_file():
                self._frames[name] = None
            else:
                try:
                    table = pd.read_csv(path)
                except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
                    raise ResultsDirError(path, f"cannot be read as CSV ({exc})") from exc
                missing = [c for c in REQUIRED_COLUMNS.get(name, ()) if c not in table.columns]
                if missing:
                    raise ResultsDirError(path, f"missing column(s) {', '.join(missing)}; re-run agingsim")
                self._frames[name] = table
        return self._frames[name]

    def by_payer(self) -> pd.DataFrame | None:
        """Year × payer level in 万元, from the ledger itself (the workbook must equal the ledger)."""
        ledger = self.frame("ledger.csv")
        return None if ledger is None or ledger.empty else summarise(ledger, "payer_level")

    def by_line_item(self) -> pd.DataFrame | None:
        ledger = self.frame("ledger.csv")
        return None if ledger is None or ledger.empty else summarise(ledger, "line_item")

    # ---------------------------------------------------------------- descriptions
    @property
    def arms(self) -> list[dict[str, Any]]:
        """The run summaries: one for a run, A and B for a comparison."""
        return [self.summary] if self.kind == "run" else [self.summary["a"], self.summary["b"]]

    @property
    def seed(self) -> Any:
        return self.summary.get("seed", self.arms[0].get("seed"))

    @property
    def version(self) -> str:
        return str(self.arms[0].get("version", "?"))

    @property
    def date(self) -> str:
        """The run's date if the summary records one, else today (the day the report is made)."""
        for arm in (self.summary, *self.arms):
            for key in ("date", "run_date", "created"):
                if arm.get(key):
                    return str(arm[key])[:10]
        return dt.date.today().isoformat()

    def scenario_name(self, lang: Lang, arm: int = 0) -> str:
        s = self.arms[arm]
        return (s.get("scenario_en") or s["scenario"]) if lang == "en" else s["scenario"]

    def region_name(self, lang: Lang, arm: int = 0) -> str:
        region = self.arms[arm].get("region", {})
        return (region.get("name_en") or region.get("name", "")) if lang == "en" else region.get("name", "")

    def title(self, lang: Lang) -> str:
        if self.kind == "run":
            return self.scenario_name(lang)
        return label("deck_compare_title", lang)

    def footer(self, lang: Lang) -> str:
        common = {"seed": self.seed, "version": self.version, "date": self.date}
        if self.kind == "run":
            return label("footer", lang, scenario=self.scenario_name(lang), **common)
        short = [_shorten(self.scenario_name(lang, i), 28) for i in (0, 1)]
        return label("footer_compare", lang, a=short[0], b=short[1], **common)

    # ---------------------------------------------------------------- the scenario file, for names
    @cached_property
    def scenario_files(self) -> list[dict[str, Any]]:
        """The scenario TOML of each arm, parsed, if it can still be found (empty dict if not)."""
        from agingsim.scenario import project_root

        parsed = []
        for arm in self.arms:
            data: dict[str, Any] = {}
            name = arm.get("scenario_file")
            if name:
                for candidate in (Path(name), project_root() / name, self.path / name):
                    if candidate.is_file():
                        try:
                            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
                        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                            data = {}
                        break
            parsed.append(data)
        return parsed

    @cached_property
    def line_item_names(self) -> dict[str, tuple[str, str]]:
        """Line item (scheme id) -> (name, name_en) from the scenario file; ids are the fallback."""
        names: dict[str, tuple[str, str]] = {}
        for data in self.scenario_files:
            policy = data.get("policy", {})
            for entry in [*policy.get("schemes", []), *policy.get("facility_schemes", [])]:
                if isinstance(entry, dict) and "id" in entry and "name" in entry:
                    names.setdefault(entry["id"], (str(entry["name"]), str(entry.get("name_en", ""))))
        return names

    def pretty_key(self, key: str, lang: Lang) -> str:
        """``policy.schemes[0].groups[2].amount.mild`` -> ``<scheme name> · g3_… · amount.mild``."""
        data = self.scenario_files[0] if self.scenario_files else {}
        policy = data.get("policy", {})
        funding = re.match(r"policy\.funding\.(\w+)$", key)  # a scheme's budget : lottery split
        if funding:
            for kind in ("schemes", "facility_schemes", "programmes"):
                for i, entry in enumerate(policy.get(kind, [])):
                    if isinstance(entry, dict) and entry.get("id") == funding.group(1):
                        name = self.pretty_key(f"policy.{kind}[{i}]", lang)
                        return f"{name} · {label('col_funding', lang)}"
            return key
        match = re.match(r"policy\.(schemes|facility_schemes|facilities|programmes)\[(\d+)\]\.?(.*)", key)
        if not match:
            return key
        kind, index, rest = match.group(1), int(match.group(2)), match.group(3)
        entries = policy.get(kind, [])
        if index >= len(entries) or not isinstance(entries[index], dict):
            return key
        entry = entries[index]
        name = (
            entry.get("name_en")
            if lang == "en" and entry.get("name_en")
            else entry.get("name", entry.get("id"))
        )
        group = re.match(r"groups\[(\d+)\]\.?(.*)", rest)
        if group and int(group.group(1)) < len(entry.get("groups", [])):
            rest = f"{entry['groups'][int(group.group(1))].get('id', group.group(1))} · {group.group(2)}"
        return f"{name} · {rest}" if rest else str(name)


def _shorten(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def load_results(path: str | Path) -> Results:
    """Open a run or compare folder; a clear ResultsDirError if it is not one."""
    path = Path(path)
    if not path.exists():
        raise ResultsDirError(path, "no such folder")
    if not path.is_dir():
        raise ResultsDirError(path, "is a file, not a folder; " + NOT_OUTPUT)
    summary_path = path / "summary.json"
    if not summary_path.is_file():
        raise ResultsDirError(path, NOT_OUTPUT)
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsDirError(summary_path, f"not valid JSON ({exc})") from exc
    if not isinstance(summary, dict):
        raise ResultsDirError(summary_path, "not an agingsim summary (expected a JSON object)")
    if isinstance(summary.get("a"), dict) and isinstance(summary.get("b"), dict):
        kind: Literal["run", "compare"] = "compare"
        needed = ["comparison.csv"]
        arms = [summary["a"], summary["b"]]
    elif "scenario" in summary and "headline" in summary:
        kind, needed, arms = "run", ["population.csv"], [summary]
        needed += [f for f in summary.get("outputs", []) if f.endswith(".csv")]
    else:
        raise ResultsDirError(
            summary_path, "not an agingsim summary (neither a run's nor a comparison's); " + NOT_OUTPUT
        )
    for arm in arms:
        if "scenario" not in arm or "headline" not in arm:
            raise ResultsDirError(
                summary_path, "a run summary lacks 'scenario' or 'headline'; re-run agingsim"
            )
    missing = [f for f in dict.fromkeys(needed) if not (path / f).is_file()]
    if missing:
        raise ResultsDirError(path, f"incomplete output: {', '.join(missing)} missing; re-run agingsim")
    return Results(path=path, kind=kind, summary=summary)


def headline_period(h: dict[str, Any]) -> tuple[int, int]:
    """The fiscal years a run's headline covers (its ``last_year`` is the 1 January the run ends on)."""
    return fiscal_period(int(h["first_year"]), int(h["last_year"]) - int(h["first_year"]))


def headline_rows(results: Results, lang: Lang) -> list[tuple[str, Any, str]]:
    """(label, value, unit) rows for the summary sheet and slide: what a briefing quotes first."""
    s = results.arms[0]
    h = s["headline"]
    first, last = headline_period(h)
    unit_wan, unit_people = label("unit_wan", lang), label("unit_people", lang)
    rows: list[tuple[str, Any, str]] = [
        (label("h_scenario", lang), results.scenario_name(lang), ""),
        (label("h_region", lang), results.region_name(lang), ""),
        (label("h_period", lang), period_label(*headline_period(h), lang), ""),
        (label("h_seed", lang), results.seed, ""),
        (label("h_version", lang), results.version, ""),
        (label("h_date", lang), results.date, ""),
    ]
    rows += _cost_rows(h, lang, unit_wan)
    rows += [
        (label("h_people_first", lang, year=first), h["people_60plus_first"], unit_people),
        (label("h_people_last", lang, year=last), h["people_60plus_last"], unit_people),
        (label("h_need_first", lang, year=first), h["needing_care_first"], unit_people),
        (label("h_need_last", lang, year=last), h["needing_care_last"], unit_people),
    ]
    return rows


def _cost_rows(h: dict[str, Any], lang: Lang, unit_wan: str) -> list[tuple[str, Any, str]]:
    from agingsim.report.labels import payer_label

    if "cost_total_wan" not in h:
        return []
    rows: list[tuple[str, Any, str]] = [(label("h_cost_total", lang), h["cost_total_wan"], unit_wan)]
    for level, value in h.get("cost_by_payer_wan", {}).items():
        rows.append((label("h_cost_payer", lang, level=payer_label(level, lang)), value, unit_wan))
    if "cost_present_value_wan" in h:
        rate = f"{100 * float(h.get('discount_rate', 0)):g}%"
        rows.append((label("h_cost_pv", lang, rate=rate), h["cost_present_value_wan"], unit_wan))
    if "unpaid_wan" in h:
        rows.append((label("h_unpaid", lang), h["unpaid_wan"], unit_wan))
    return rows


def compare_rows(results: Results, lang: Lang) -> list[tuple[str, float, float, float]]:
    """(measure, A, B, B − A) over the whole horizon: costs summed, per-person figures averaged."""
    return [row[1:] for row in compare_measures(results, lang)]


def compare_measures(results: Results, lang: Lang) -> list[tuple[str, str, float, float, float]]:
    """(measure code, measure in words, A, B, B − A) over the years both arms cover
    (compare.overall): costs summed over them, other measures averaged (the words say which); arms
    with no year in common each over its own years, B − A empty."""
    from agingsim.compare import common_years, is_money, overall
    from agingsim.report.labels import measure_label

    table = results.frame("comparison.csv")
    assert table is not None
    figures = overall(table)
    apart = common_years(table).empty  # the arms share no year: each over its own
    order = ["cost_total_wan", *[f"cost_{lv}_wan" for lv in ("province", "city", "county")]]
    measures = [m for m in order if m in figures] + [m for m in figures if m not in order]
    rows = []
    for measure in measures:
        a, b, d = figures[measure]
        how = label(
            ("own_years_" if apart else "over_years_") + ("sum" if is_money(measure) else "mean"), lang
        )
        rows.append((measure, f"{measure_label(measure, lang)}{how}", a, b, d))
        if measure == "cost_total_wan":
            rows += _present_value_row(results, lang)
    return rows


def replications(results: Results) -> int | None:
    """How many paired replications a comparison folder's interval is over (compare
    --replications N); None for a single comparison."""
    u = results.summary.get("uncertainty")
    n = u.get("replications") if isinstance(u, dict) else None
    return int(n) if isinstance(n, int) and results.frame("difference.csv") is not None else None


def interval_measures(results: Results, lang: Lang) -> list[tuple[str, str, list[float], str]]:
    """(measure code, words, [A mean, B mean, B − A p05, p50, p95, relative p05, p50, p95], verdict)
    for each measure of difference.csv (compare --replications): the spread of B − A over the paired
    replications; the verdict says whether the 90% interval excludes zero, or that an arm does not
    model the measure (empty figures). Empty for a single comparison."""
    from agingsim.compare import is_money
    from agingsim.report.labels import measure_label

    table = results.frame("difference.csv") if replications(results) is not None else None
    if table is None:
        return []
    rows = []
    for r in table.to_dict("records"):
        measure = str(r["measure"])
        how = label("over_years_" + ("sum" if is_money(measure) else "mean"), lang)
        values = [float(r[c]) for c in INTERVAL_FIGURES]
        flag = r["distinguishable_from_zero"]
        if isinstance(flag, float) and math.isnan(flag):
            verdict = label("verdict_not_modelled", lang)
        else:
            verdict = label("verdict_excludes_zero" if str(flag) == "True" else "verdict_includes_zero", lang)
        rows.append((measure, f"{measure_label(measure, lang)}{how}", values, verdict))
    return rows


def _present_value_row(results: Results, lang: Lang) -> list[tuple[str, str, float, float, float]]:
    """The present value of spending beside the total (a budget office discounts what later years
    cost), from each arm's headline; none unless both arms have one."""
    from agingsim.report.labels import measure_label

    heads = [arm["headline"] for arm in results.arms]
    if not all(isinstance(h.get(PV), int | float) for h in heads):
        return []
    rates = dict.fromkeys(f"{100 * float(h.get('discount_rate', 0)):g}%" for h in heads)
    name = f"{measure_label(PV, lang)}{label('over_years_pv', lang, rate=' / '.join(rates))}"
    a, b = float(heads[0][PV]), float(heads[1][PV])
    return [(PV, name, a, b, b - a)]


#: The headline's present value of spending (simulate.RunResult.headline), a row of the comparison.
PV = "cost_present_value_wan"


# ============================================================================ what changed (B − A)
#: B − A by line item over the horizon, written beside comparison.csv by the app (the waterfall).
LINE_ITEMS_CSV = "line_items.csv"
#: The policy targets a run is scored against (written into run folders by the policy module).
TARGETS_CSV = "targets.csv"


def scorecard_rows(results: Results, lang: Lang) -> list[list[Any]]:
    """The scorecard (targets.csv) as rows: target, clause, year, required, model value, unit, met.
    Empty when the run folder has no targets.csv."""
    table = results.frame(TARGETS_CSV)
    if table is None or table.empty:
        return []
    missing = [c for c in SCORECARD_COLUMNS if c not in table.columns]
    if missing:
        raise ResultsDirError(results.path / TARGETS_CSV, f"missing column(s) {', '.join(missing)}")
    rows = []
    for r in table.itertuples(index=False):
        name = _in_lang(r.target, r.target_en, lang)
        unit = _in_lang(r.unit, getattr(r, "unit_en", ""), lang)  # unit_en: since 4 December 2026
        met = str(r.met).strip().lower() in ("true", "1", "yes")
        rows.append(
            [
                name,
                r.clause,
                int(r.year),
                float(r.required),
                float(r.model_value),
                unit,
                label("target_met" if met else "target_missed", lang),
            ]
        )
    return rows


def _in_lang(zh: object, en: object, lang: Lang) -> str:
    """A targets.csv text in the page's language: the English column where there is one, else the
    Chinese (a blank cell reads back as NaN)."""
    if lang == "en" and isinstance(en, str) and en:
        return en
    return zh if isinstance(zh, str) else ""


def scorecard_headers(lang: Lang) -> list[str]:
    return [
        label(k, lang)
        for k in ("col_target", "col_clause", "col_year", "col_required", "col_model", "col_unit", "col_met")
    ]


def _by(ledger: pd.DataFrame, keys: list[str]) -> pd.Series:
    if ledger.empty:
        return pd.Series(dtype=float)
    return ledger.groupby(keys)["amount_cny"].sum() / WAN


def line_item_difference(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """B − A in 万元 over the whole horizon by line item (``line_item, a_wan, b_wan, b_minus_a_wan``),
    from two ledgers: the bars of the waterfall, which sum to the total B − A."""
    sa, sb = _by(a, ["line_item"]), _by(b, ["line_item"])
    items = list(dict.fromkeys([*sa.index, *sb.index]))
    out = pd.DataFrame(
        {
            "line_item": items,
            "a_wan": [float(sa.get(i, 0.0)) for i in items],
            "b_wan": [float(sb.get(i, 0.0)) for i in items],
        }
    )
    out["b_minus_a_wan"] = out["b_wan"] - out["a_wan"]
    return out


def payer_difference_by_year(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """B − A in 万元 by fiscal year (rows) and payer level (columns), with a total column."""
    sa, sb = _by(a, ["year", "payer_level"]), _by(b, ["year", "payer_level"])
    diff = sb.sub(sa, fill_value=0.0)
    if diff.empty:
        return pd.DataFrame()
    wide = diff.unstack("payer_level").fillna(0.0)
    order = [lv for lv in ("province", "city", "county") if lv in wide.columns]
    wide = wide[order + [c for c in wide.columns if c not in order]]
    wide["total"] = wide.sum(axis=1)
    return wide


def window_subtotal(by_year: pd.DataFrame, first: int) -> pd.Series:
    """The rows of :func:`payer_difference_by_year` from fiscal year ``first`` to the end summed:
    the budget window (the year a budget is drawn up for, app.figures.card_year, onwards)."""
    return by_year[by_year.index >= first].sum()


# ============================================================================ who gets what


def spending_by_county(
    ledger: pd.DataFrame, population: pd.DataFrame, person_lines: frozenset[str]
) -> pd.DataFrame:
    """Spending over the horizon by county where the people live (the ledger's ``county`` column),
    beside the county's people 60+ and people needing care (averaged over the fiscal years), the
    people paid for a month by the person-level lines ``person_lines`` (schemes.person.
    person_line_items: a facility scheme's beneficiaries are facilities) and spending per person 60+
    per year. ``spending_wan`` sums to the ledger's total."""
    if ledger.empty:
        return pd.DataFrame()
    spent = ledger.groupby("county")["amount_cny"].sum()
    years = ledger["year"].nunique()
    pop = population[population["year"].isin(set(ledger["year"]))] if not population.empty else population
    older = pop.groupby(["year", "county"])["people"].sum().groupby("county").mean() if len(pop) else None
    need = (
        pop[pop["ability_level"].isin(NEED_LEVELS)]
        .groupby(["year", "county"])["people"]
        .sum()
        .groupby("county")
        .mean()
        if len(pop) and "ability_level" in pop
        else None
    )
    people = ledger[ledger["line_item"].isin(person_lines)]
    one_payer = people.groupby(["line_item", "rule", "year", "month", "county"])["beneficiaries"].first()
    paid_for = one_payer.groupby(["year", "month", "county"]).sum().groupby("county").mean()
    out = pd.DataFrame({"county": spent.index, "spending_wan": (spent / WAN).to_numpy()})
    out["people_60plus"] = [
        float(older.get(c, 0.0)) if older is not None else float("nan") for c in out["county"]
    ]
    out["needing_care"] = [
        float(need.get(c, 0.0)) if need is not None else float("nan") for c in out["county"]
    ]
    out["beneficiaries_per_month"] = [float(paid_for.get(c, 0.0)) for c in out["county"]]
    per_head = out["spending_wan"] * WAN / years / out["people_60plus"].where(out["people_60plus"] > 0)
    out["spending_per_person_60plus_cny"] = per_head
    return out


def spending_by_group(ledger: pd.DataFrame, person_lines: frozenset[str]) -> pd.DataFrame:
    """Spending over the horizon by scheme and eligible group (the ledger's ``rule``), with the
    people paid for per month and spending per person paid for per year; sums to the ledger's.
    Lines not in ``person_lines`` (schemes.person.person_line_items: facility schemes, programmes)
    pay for facilities or units, not people: their people paid for are empty."""
    if ledger.empty:
        return pd.DataFrame()
    spent = ledger.groupby(["line_item", "rule"])["amount_cny"].sum()
    one_payer = ledger.groupby(["line_item", "rule", "year", "month", "county"])["beneficiaries"].first()
    monthly = (
        one_payer.groupby(["line_item", "rule", "year", "month"]).sum().groupby(["line_item", "rule"]).mean()
    )
    months = ledger[["year", "month"]].drop_duplicates().shape[0]
    out = spent.rename("amount").reset_index()
    out["spending_wan"] = out.pop("amount") / WAN
    out["beneficiaries_per_month"] = [
        float(monthly.get((li, r), 0.0)) if li in person_lines else float("nan")
        for li, r in zip(out["line_item"], out["rule"], strict=True)
    ]
    person_years = out["beneficiaries_per_month"] * months / 12
    out["spending_per_person_paid_cny"] = out["spending_wan"] * WAN / person_years.where(person_years > 0)
    return out
