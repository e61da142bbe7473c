"""Schemes that follow the person (补人头): allowances, vouchers, purchased services.

Each scheme is compiled once: its rules become boolean tables over the rule grid, its dated amounts
become, for each parameter period, a table "monthly CNY per grid cell" and "which group set it".
Several groups met → the highest standard, once (seed 004 三(一): 按最高标准执行, 但不得重复享受).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.policy.dated import Dated, parse_dated
from agingsim.policy.rules import RuleError, RuleGrid, RuleSet
from agingsim.population.attributes import ABILITY_LEVELS, N_LEVELS
from agingsim.scenario.schema import PersonScheme, PolicySection, check_payer_levels

SHARE_EXACT = 1e-9


def parse_amount(raw: object) -> np.ndarray:
    """A monthly standard: one number for every level, or a table by ability level → (5,) array."""
    if isinstance(raw, bool) or raw is None:
        raise ValueError("needs a number of CNY per month, or a table by ability level")
    if isinstance(raw, int | float):
        if raw < 0:
            raise ValueError(f"must be ≥ 0 (got {raw})")
        return np.full(N_LEVELS, float(raw))
    if isinstance(raw, dict):
        unknown = set(raw) - set(ABILITY_LEVELS)
        if unknown:
            raise ValueError(
                f"unknown ability level(s) {sorted(unknown)}; known: {', '.join(ABILITY_LEVELS)}"
            )
        out = np.zeros(N_LEVELS)
        for level, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{level}: must be a number ≥ 0 (got {value!r})")
            out[ABILITY_LEVELS.index(level)] = value
        return out
    raise ValueError(f"needs a number or a table by ability level (got {raw!r})")


def parse_shares(raw: object) -> dict[str, float]:
    """Payer shares, e.g. ``{ city = 0.6, county = 0.4 }``: known levels, summing to exactly 1."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError("needs shares by payer level, e.g. { city = 0.6, county = 0.4 }")
    check_payer_levels(raw)
    for level, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
            raise ValueError(f"{level}: share must be in [0, 1] (got {v!r})")
    total = float(sum(raw.values()))
    if abs(total - 1.0) > SHARE_EXACT:
        raise ValueError(f"payer shares sum to {total:g}, not 1")
    return {k: float(v) for k, v in raw.items()}


def parse_caps(raw: object) -> dict[str, float]:
    """Yearly budget caps by payer level, e.g. ``{ county = 2000000 }`` (CNY per year)."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError("needs CNY per year by payer level, e.g. { county = 2000000 }")
    check_payer_levels(raw)
    for level, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            raise ValueError(f"{level}: a budget must be CNY ≥ 0 (got {v!r})")
    return {k: float(v) for k, v in raw.items()}


def parse_rate(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 1:
        raise ValueError(f"must be a share in [0, 1] (got {raw!r})")
    return float(raw)


def parse_quota(raw: object) -> dict[str, float]:
    """Beneficiaries per year by payer level, e.g. ``{ county = 300 }`` (people or households)."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError("needs beneficiaries per year by payer level, e.g. { county = 300 }")
    check_payer_levels(raw)
    for level, v in raw.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            raise ValueError(f"{level}: a quota must be a number of beneficiaries ≥ 0 (got {v!r})")
    return {k: float(v) for k, v in raw.items()}


def parse_household(raw: object) -> float:
    """Eligible elders per household of a household payment: a number ≥ 1."""
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 1 <= raw <= 10:
        raise ValueError(f"must be a number of people per household in [1, 10] (got {raw!r})")
    return float(raw)


def parse_active(raw: object) -> bool:
    if not isinstance(raw, bool):
        raise ValueError(f"must be true or false (got {raw!r})")
    return raw


@dataclass
class CompiledScheme:
    spec: PersonScheme
    group_ids: list[str]
    #: eligibility (incl. exclusions) per grid cell, dead cells false.
    eligible: np.ndarray
    group_masks: list[np.ndarray]
    amounts: list[Dated[np.ndarray]]
    active: Dated[bool]
    delivery: Dated[float]
    payers: Dated[dict[str, float]]
    counties: np.ndarray  # bool per county index
    lottery: Dated[float]
    budget_cap: Dated[dict[str, float]] | None = None
    #: one-off schemes (schemes.oneoff): beneficiaries per year by payer level, people per
    #: household, and the ration classes (grid masks) in order
    quota: Dated[dict[str, float]] | None = None
    per_household: Dated[float] | None = None
    ration_masks: list[np.ndarray] = field(default_factory=list)
    _cache: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.id

    def change_months(self) -> list[int]:
        months = {*self.active.starts, *self.delivery.starts, *self.payers.starts}
        for a in self.amounts:
            months.update(a.starts)
        return sorted(months)

    def table(self, month: int, grid: RuleGrid) -> tuple[np.ndarray, np.ndarray]:
        """(monthly CNY per grid cell, index of the group that set it) for the period of ``month``."""
        key = tuple(int(m <= month) for m in self.change_months())
        if key not in self._cache:
            ability = np.minimum(grid.codes["ability"], N_LEVELS - 1)
            best = np.zeros(grid.size)
            which = np.zeros(grid.size, dtype=np.int16)
            for g, (mask, dated) in enumerate(zip(self.group_masks, self.amounts, strict=True)):
                standard = dated.at(month)
                if standard is None:
                    continue
                value = np.where(mask, standard[ability], 0.0)
                better = value > best
                best[better] = value[better]
                which[better] = g
            if not self.active.at(month):
                best[:] = 0.0
            best[~self.eligible] = 0.0
            self._cache[key] = (best.astype(np.float32), which)
        return self._cache[key]


def person_line_items(policy: PolicySection | None) -> frozenset[str]:
    """The ledger's line items whose ``beneficiaries`` are people: the person-level schemes (paid
    monthly or once). A facility scheme's beneficiaries are facilities and a programme's its own
    unit (awards, trainees, centres), so a count of "people paid for" takes only these lines."""
    return frozenset(s.id for s in policy.schemes) if policy is not None else frozenset()


def compile_schemes(
    policy: PolicySection, grid_age_max: int, county_ids: list[str], path: object
) -> tuple[RuleSet, RuleGrid, list[CompiledScheme]]:
    """Check and compile every scheme; all problems are reported together, naming their keys."""
    errors: list[ScenarioError] = []
    try:
        rules = RuleSet.from_texts(policy.definitions)
    except RuleError as exc:
        raise ScenarioError(path, "policy.definitions", str(exc)) from None

    trees: dict[tuple[int, str], object] = {}
    axes: set[str] = set()
    for i, s in enumerate(policy.schemes):
        exprs = {"eligible": s.eligible}
        if s.exclude:
            exprs["exclude"] = s.exclude
        for g, group in enumerate(s.groups):
            exprs[f"groups[{g}].when"] = group.when
        for r, klass in enumerate(s.ration_order):
            exprs[f"ration_order[{r}].when"] = klass.when
        for key, text in exprs.items():
            try:
                tree = rules.compile(text)
            except RuleError as exc:
                errors.append(ScenarioError(path, f"policy.schemes[{i}].{key}", str(exc)))
                continue
            trees[(i, key)] = tree
            axes |= rules.axes_of(tree)
    if errors:
        raise ScenarioErrors(errors)
    if any(s.uses for s in policy.schemes):
        axes.add("care_setting")  # paid only for people using the settings named
    grid = RuleGrid(rules, axes, grid_age_max, trees.values())
    dead = grid.codes["ability"] == N_LEVELS

    ids = [s.id for s in policy.schemes]
    compiled: list[CompiledScheme] = []
    for i, s in enumerate(policy.schemes):
        key = f"policy.schemes[{i}]"

        def dated(raw: object, convert, where: str, key: str = key) -> Dated | None:
            try:
                return parse_dated(raw, convert)
            except ValueError as exc:
                errors.append(ScenarioError(path, f"{key}.{where}", str(exc)))
                return None

        eligible = grid.evaluate(trees[(i, "eligible")]).astype(bool) & ~dead
        if (i, "exclude") in trees:
            eligible &= ~grid.evaluate(trees[(i, "exclude")]).astype(bool)
        for other in s.exclude_recipients_of:
            if other in ids[:i] and policy.schemes[ids.index(other)].once is not None:
                errors.append(
                    ScenarioError(
                        path,
                        f"{key}.exclude_recipients_of",
                        f"'{other}' pays once; exclusion follows monthly recipients only",
                    )
                )
            elif other not in ids[:i]:
                errors.append(
                    ScenarioError(
                        path,
                        f"{key}.exclude_recipients_of",
                        f"'{other}' is not a scheme listed before this one",
                    )
                )
        if s.groups:
            if s.amount is not None:
                errors.append(ScenarioError(path, f"{key}.amount", "give amounts on the groups, not both"))
            group_ids = [g.id for g in s.groups]
            masks = [
                grid.evaluate(trees[(i, f"groups[{g}].when")]).astype(bool) for g in range(len(s.groups))
            ]
            amounts = [dated(g.amount, parse_amount, f"groups[{j}].amount") for j, g in enumerate(s.groups)]
        else:
            group_ids, masks = ["all"], [np.ones(grid.size, dtype=bool)]
            amounts = [dated(s.amount, parse_amount, "amount")]
        active = dated(s.active, parse_active, "active")
        delivery = dated(s.delivery_rate, parse_rate, "delivery_rate")
        payers = dated(s.payers, parse_shares, "payers")
        lottery = dated(s.lottery_share, parse_rate, "lottery_share")
        cap = dated(s.budget_cap, parse_caps, "budget_cap") if s.budget_cap is not None else None
        quota = dated(s.quota, parse_quota, "quota") if s.quota is not None else None
        per_household = dated(s.people_per_household, parse_household, "people_per_household")
        ration = [
            grid.evaluate(trees[(i, f"ration_order[{r}].when")]).astype(bool)
            for r in range(len(s.ration_order))
        ]
        counties = np.ones(len(county_ids), dtype=bool)
        if s.counties is not None:
            unknown = [c for c in s.counties if c not in county_ids]
            if unknown:
                errors.append(
                    ScenarioError(
                        path,
                        f"{key}.counties",
                        f"unknown county id(s) {unknown}; known: {', '.join(county_ids)}",
                    )
                )
            counties = np.isin(np.array(county_ids), s.counties)
        if errors:
            continue
        compiled.append(
            CompiledScheme(
                s,
                group_ids,
                eligible,
                masks,
                amounts,
                active,
                delivery,  # type: ignore[arg-type]
                payers,
                counties,
                lottery,
                cap,
                quota,
                per_household,
                ration,
            )
        )
    if errors:
        raise ScenarioErrors(errors)
    return rules, grid, compiled
