"""Which values of a scenario file the app offers as levers, with their unit and provenance.

Levers are read from the file itself, so a new scenario gets its levers without code: run settings
(start year, horizon), and for every scheme its on/off switch and dates, amounts (by ability level or
by date where the file has them), eligible groups on/off, delivery rate, payer shares and budget caps.
Each lever carries the override key in the sweep's key syntax, so a changed value goes back through
the loader (:func:`agingsim.scenario.variant.load_scenario_with`) and its validator.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agingsim.fiscal.ledger import WAN
from agingsim.policy.dated import is_dated_table
from agingsim.population.attributes import ABILITY_LEVELS
from agingsim.report.labels import Lang, ability_label, label, payer_label
from agingsim.report.notes_zh import assumption_note
from agingsim.scenario.provenance import Provenance, strip_provenance

Kind = Literal["money", "share", "year", "horizon", "switch", "cap", "month"]
#: A rule no one meets: how an eligible group is switched off (its ``when`` is replaced).
NEVER = "age < 0"
PAYER_ORDER = ("province", "city", "county")
_BARE = re.compile(r"[A-Za-z0-9_-]+")

#: Unit of a facility scheme's amount, by what it is paid for (schema FacilityBasis).
BASIS_UNITS: dict[str, str] = {
    "new_bed": "unit_per_new_bed",
    "floor_m2": "unit_per_m2",
    "bed_month": "unit_per_bed_month",
    "facility_year": "unit_per_facility_year",
    "meal_servings": "unit_per_facility_year",
    "carer_year": "unit_per_carer_year",
}


@dataclass(frozen=True)
class Lever:
    """One value the user may change: where it is, what it means, its default and its provenance.

    ``key`` is an override key (``policy.schemes[0].amount.mild``); ``paired`` keys are set to
    ``1 - value`` (the other level of a two-level payer split); ``name`` and ``unit`` are label keys
    with their fields, so the page can show them in either language.
    """

    key: str
    section: str
    kind: Kind
    default: Any
    name: tuple[str, dict[str, Any]]
    unit: str | None = None
    provenance: Provenance | None = None
    paired: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def title(self, lang: Lang) -> str:
        key, fields = self.name
        shown = {k: _localise(v, lang) for k, v in fields.items()}
        return label(key, lang, **shown)

    def unit_text(self, lang: Lang) -> str:
        return label(self.unit, lang) if self.unit else ""

    def provenance_text(self, lang: Lang) -> str:
        """``来源：…`` / ``假设：…``. Without a label in the file: a run setting or a switch says so;
        a budget cap the file does not set is a policy value (none), a delivery rate it does not give
        is the assumption that every entitlement is delivered."""
        if self.provenance is None:
            if self.kind == "cap":
                return label("lever_cap_none", lang)
            if self.key.endswith("delivery_rate"):
                return label("lever_delivery_default", lang)
            if self.section == "run":
                return label("lever_run_setting", lang)
            return label("lever_no_provenance", lang)
        kind = self.provenance.kind
        text = assumption_note(self.provenance.text, kind, lang)  # Chinese where known, else marked
        return f"{label('provenance_' + kind, lang)}{label('colon', lang)}{text}"


@dataclass(frozen=True)
class Section:
    """A group of levers: the run settings, or one scheme (its name in both languages)."""

    id: str
    name: str
    name_en: str
    levers: list[Lever]

    def title(self, lang: Lang) -> str:
        return self.name_en or self.name if lang == "en" else self.name


def _localise(value: Any, lang: Lang) -> str:
    """Field values: ``("ability", "mild")``, ``("payer", "city")``, ``("label", key)`` and nested
    names ``(label key, fields)`` are translated; anything else is shown as it is."""
    if isinstance(value, tuple) and len(value) == 2:
        what, code = value
        if isinstance(code, dict):
            return label(what, lang, **{k: _localise(v, lang) for k, v in code.items()})
        if what == "ability":
            return ability_label(code, lang)
        if what == "payer":
            return payer_label(code, lang)
        if what == "label":
            return label(code, lang)
    return str(value)


def key_part(name: str | int) -> str:
    """A key segment in the override syntax: ``.name``, ``."2024-01"`` or ``[3]``."""
    if isinstance(name, int):
        return f"[{name}]"
    return f".{name}" if _BARE.fullmatch(name) else f'."{name}"'


def _prov_key(parts: list[str | int]) -> str:
    """The dotted key under which strip_provenance filed a figure's label (dates unquoted)."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _over_key(parts: list[str | int]) -> str:
    return "".join(key_part(p) for p in parts).lstrip(".")


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


class _Finder:
    def __init__(self, raw: dict[str, Any], labels: Mapping[str, Provenance]) -> None:
        self.raw, self.labels = raw, labels

    def table_label(self, parts: list[str | int]) -> Provenance | None:
        """The label written on a table of switches (``active = { "2026-01" = true, assumption = … }``):
        switches are not figures, so strip_provenance does not file it, but the user should see it."""
        node: Any = self.raw
        for p in parts:
            try:
                node = node[p]
            except (KeyError, IndexError, TypeError):
                return None
        if isinstance(node, dict):
            for kind in ("source", "assumption"):
                if isinstance(node.get(kind), str):
                    return Provenance(kind, node[kind])  # type: ignore[arg-type]
        return None

    def lever(self, parts: list[str | int], section: str, kind: Kind, default: Any, **kw: Any) -> Lever:
        return Lever(
            key=_over_key(parts),
            section=section,
            kind=kind,
            default=default,
            provenance=self.labels.get(_prov_key(parts)),
            **kw,
        )

    def amounts(self, parts: list[str | int], value: Any, section: str, unit: str, what: str) -> list[Lever]:
        """A number, a table by ability level, or a dated table of either: a money lever per number."""
        if _is_number(value):
            return [self.lever(parts, section, "money", value, name=(what, {}), unit=unit)]
        if not isinstance(value, dict):
            return []
        out: list[Lever] = []
        if is_dated_table(value):
            for date, inner in value.items():
                for lev in self.amounts([*parts, date], inner, section, unit, what):
                    key, fields = lev.name
                    out.append(_renamed(lev, "lever_from_date", {"what": (key, fields), "date": str(date)}))
            return out
        for level in ABILITY_LEVELS:
            if _is_number(value.get(level)):
                out.append(
                    self.lever(
                        [*parts, level],
                        section,
                        "money",
                        value[level],
                        name=("lever_amount_level", {"what": ("label", what), "level": ("ability", level)}),
                        unit=unit,
                    )
                )
        return out

    def payers(self, parts: list[str | int], value: Any, section: str) -> list[Lever]:
        """A two-level split is one slider (the other level gets the rest); three levels, one each."""
        if not isinstance(value, dict):
            return []
        if is_dated_table(value):
            out = []
            for date, inner in value.items():
                for lev in self.payers([*parts, date], inner, section):
                    out.append(_renamed(lev, "lever_from_date", {"what": lev.name, "date": str(date)}))
            return out
        levels = [lv for lv in PAYER_ORDER if _is_number(value.get(lv))]
        if len(levels) == 2:
            first, other = levels
            return [
                self.lever(
                    [*parts, first],
                    section,
                    "share",
                    float(value[first]),
                    name=("lever_payer_split", {"a": ("payer", first), "b": ("payer", other)}),
                    unit="unit_share",
                    paired=(_over_key([*parts, other]),),
                )
            ]
        if len(levels) < 2:
            return []
        return [
            self.lever(
                [*parts, lv],
                section,
                "share",
                float(value[lv]),
                name=("lever_payer_share", {"level": ("payer", lv)}),
                unit="unit_share",
            )
            for lv in levels
        ]

    def active(self, parts: list[str | int], value: Any, section: str) -> list[Lever]:
        """On/off, and the month each dated switch takes effect (start year, switch-over date)."""
        on = value is not False and not (is_dated_table(value) and not any(value.values()))
        out = [self.lever(parts, section, "switch", bool(on), name=("lever_scheme_on", {}))]
        if is_dated_table(value):
            for i, (date, state) in enumerate(value.items()):
                year, _, month = str(date).partition("-")
                out.append(
                    Lever(
                        key=_over_key(parts),
                        section=section,
                        kind="month",
                        default=int(year),
                        name=("lever_starts" if state else "lever_stops", {"month": month or "01"}),
                        unit="unit_year",
                        provenance=self.table_label(parts),
                        extra={"index": i, "table": dict(value), "month": month or "01"},
                    )
                )
        return out


def _renamed(lev: Lever, key: str, fields: dict[str, Any]) -> Lever:
    return Lever(
        key=lev.key,
        section=lev.section,
        kind=lev.kind,
        default=lev.default,
        name=(key, fields),
        unit=lev.unit,
        provenance=lev.provenance,
        paired=lev.paired,
        extra=lev.extra,
    )


def find_levers(raw: dict[str, Any]) -> list[Section]:
    """The levers of a parsed scenario file, run settings first, then one section per scheme."""
    plain, labels, _ = strip_provenance(raw)
    f = _Finder(raw, labels)
    run = plain.get("run", {})
    sections = [
        Section(
            "run",
            label("section_run", "zh"),
            label("section_run", "en"),
            [
                f.lever(
                    ["run", "start_year"],
                    "run",
                    "year",
                    int(run.get("start_year", 2025)),
                    name=("lever_start_year", {}),
                    unit="unit_year",
                ),
                f.lever(
                    ["run", "years"],
                    "run",
                    "horizon",
                    int(run.get("years", 10)),
                    name=("lever_years", {}),
                    unit="unit_years",
                ),
            ],
        )
    ]
    policy = plain.get("policy") or {}
    for i, s in enumerate(policy.get("schemes", [])):
        base: list[str | int] = ["policy", "schemes", i]
        sid = str(s.get("id", i))
        levers = f.active([*base, "active"], s.get("active", True), sid)
        unit = {"person": "unit_per_person_once", "household": "unit_per_household_once"}.get(
            str(s.get("once")), "unit_per_person_month"
        )  # one-off schemes (schemes.oneoff) pay once, not monthly
        levers += f.amounts([*base, "amount"], s.get("amount"), sid, unit, "lever_amount")
        for j, g in enumerate(s.get("groups", [])):
            gpath = [*base, "groups", j]
            levers.append(
                Lever(
                    key=_over_key([*gpath, "when"]),
                    section=sid,
                    kind="switch",
                    default=True,
                    name=("lever_group_on", {"group": g.get("id", j)}),
                    extra={"rule": g.get("when", ""), "off": NEVER},
                )
            )
            for lev in f.amounts([*gpath, "amount"], g.get("amount"), sid, unit, "lever_amount"):
                levers.append(
                    _renamed(lev, "lever_group_amount", {"group": g.get("id", j), "what": lev.name})
                )
        if s.get("payment") == "delivered" or "delivery_rate" in s:
            rate = s.get("delivery_rate", 1.0)
            if _is_number(rate):
                levers.append(
                    f.lever(
                        [*base, "delivery_rate"],
                        sid,
                        "share",
                        float(rate),
                        name=("lever_delivery_rate", {}),
                        unit="unit_share",
                    )
                )
        levers += f.payers([*base, "payers"], s.get("payers"), sid)
        levers += _caps(f, base, s, sid)
        sections.append(Section(sid, str(s.get("name", sid)), str(s.get("name_en", "")), levers))
    for i, s in enumerate(policy.get("facility_schemes", [])):
        base = ["policy", "facility_schemes", i]
        sid = str(s.get("id", i))
        unit = BASIS_UNITS.get(str(s.get("basis")), "unit_cny")
        levers = f.active([*base, "active"], s.get("active", True), sid)
        levers += f.amounts([*base, "amount"], s.get("amount"), sid, unit, "lever_amount")
        for k, tier in enumerate(s.get("tiers", [])):
            if _is_number(tier.get("amount")):
                levers.append(
                    f.lever(
                        [*base, "tiers", k, "amount"],
                        sid,
                        "money",
                        tier["amount"],
                        name=("lever_tier", {"min": tier.get("min_servings", "?")}),
                        unit=unit,
                    )
                )
        levers += f.payers([*base, "payers"], s.get("payers"), sid)
        sections.append(Section(sid, str(s.get("name", sid)), str(s.get("name_en", "")), levers))
    return sections


def _caps(f: _Finder, base: list[str | int], scheme: dict[str, Any], sid: str) -> list[Lever]:
    """Budget caps (万元 per year) for each level that pays for the scheme; 0 means no cap."""
    cap = scheme.get("budget_cap")
    if cap is not None and (not isinstance(cap, dict) or is_dated_table(cap)):
        return []  # dated caps stay as the file has them
    cap = cap or {}
    payers = scheme.get("payers") or {}
    levels: set[str] = set(cap)
    for v in [payers, *(payers.values() if is_dated_table(payers) else [])]:
        if isinstance(v, dict):
            levels |= {k for k in v if k in PAYER_ORDER}
    out = []
    for lv in [lv for lv in PAYER_ORDER if lv in levels]:
        value = cap.get(lv)
        out.append(
            Lever(
                key=_over_key([*base, "budget_cap"]),
                section=sid,
                kind="cap",
                default=round(float(value) / WAN, 2) if _is_number(value) else 0.0,
                name=("lever_budget_cap", {"level": ("payer", lv)}),
                unit="unit_wan_per_year",
                provenance=f.labels.get(_prov_key([*base, "budget_cap", lv])) if value is not None else None,
                extra={"level": lv, "cap": dict(cap)},
            )
        )
    return out


def all_levers(sections: list[Section]) -> list[Lever]:
    return [lev for s in sections for lev in s.levers]


def lever_id(lev: Lever) -> str:
    """A stable widget id: the key, plus what distinguishes levers sharing a key (dates, cap levels)."""
    tag = lev.extra.get("level") or lev.extra.get("index")
    return f"{lev.key}#{lev.kind}#{tag}" if tag is not None else f"{lev.key}#{lev.kind}"


def overrides_for(sections: list[Section], values: Mapping[str, Any]) -> dict[str, Any]:
    """The override keys and values for the lever values that differ from the file's.

    ``values`` maps :func:`lever_id` to the value shown (missing ids keep the default). Levers that
    share one key (dated switches, caps by level) are combined into one value for that key.
    """
    out: dict[str, Any] = {}
    levers = all_levers(sections)
    tables: dict[str, dict[str, Any]] = {}
    caps: dict[str, dict[str, float]] = {}
    for lev in levers:
        value = values.get(lever_id(lev), lev.default)
        if lev.kind == "month":
            table = tables.setdefault(lev.key, {})
            old = list(lev.extra["table"].items())[lev.extra["index"]]
            table[f"{int(value)}-{lev.extra['month']}"] = old[1]
            continue
        if lev.kind == "cap":
            caps.setdefault(lev.key, {})[lev.extra["level"]] = float(value)
            continue
        if _same(value, lev.default):
            continue
        if lev.kind == "switch" and lev.key.endswith(".when"):
            out[lev.key] = lev.extra["rule"] if value else lev.extra["off"]
        elif lev.kind == "switch":
            out[lev.key] = bool(value)
        else:
            out[lev.key] = value
            for other in lev.paired:
                out[other] = round(1.0 - float(value), 10)
    originals = {lev.key: lev.extra["table"] for lev in levers if lev.kind == "month"}
    for key, table in tables.items():
        if key in out:  # the scheme is switched off: its dates do not matter
            continue
        if list(table.items()) != [(_norm_month(k), v) for k, v in originals[key].items()]:
            out[key] = table
    cap_defaults = {lev.key: lev.extra["cap"] for lev in levers if lev.kind == "cap"}
    for key, by_level in caps.items():
        wanted = {lv: round(v * WAN, 2) for lv, v in by_level.items() if v > 0}
        if wanted != {lv: round(float(v), 2) for lv, v in cap_defaults[key].items()}:
            out[key] = wanted or None
    return out


def _norm_month(text: str) -> str:
    year, _, month = str(text).partition("-")
    return f"{int(year)}-{month or '01'}"


def _same(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return abs(float(a) - float(b)) < 1e-12
    return bool(a == b)


def overrides_text(overrides: Mapping[str, Any]) -> str:
    """A canonical text of the overrides: the cache key of a setting (same values, same text)."""
    return json.dumps(dict(sorted(overrides.items())), ensure_ascii=False, sort_keys=True, default=str)
