"""Load a scenario and the region, margins and ability-model files it names.

Every problem is reported as ``FILE: KEY: PROBLEM`` (all problems of a file at once), before anything
runs, so a wrong file never leaves partial output behind.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from pydantic import BaseModel, ValidationError

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.population.base import PopulationTable, read_population_table
from agingsim.population.cohorts import read_projection
from agingsim.scenario.provenance import (
    Provenance,
    strict_provenance_errors,
    strip_provenance,
    value_at,
)
from agingsim.scenario.schema import (
    AbilityModelFile,
    Admission,
    BehaviourFile,
    MarginsFile,
    RegionFile,
    RunSettings,
    ScenarioFile,
    validate_attribute_margin,
)

if TYPE_CHECKING:
    from agingsim.geo.geography import Geography

M = TypeVar("M", bound=BaseModel)


def project_root() -> Path:
    """Folder holding ``scenarios/`` and ``calibration/``: $AGINGSIM_HOME or the source checkout."""
    env = os.environ.get("AGINGSIM_HOME")
    return Path(env) if env else Path(__file__).resolve().parents[3]


def default_scenario_path() -> Path:
    return project_root() / "scenarios" / "default.toml"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ScenarioError(path, "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "", f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ScenarioError(path, "", f"cannot be read: {exc.strerror}") from None


def _loc_to_key(loc: tuple[Any, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    return key


def _validate(model: type[M], data: Any, path: Path, prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p not in ("function-after",))
            key = _loc_to_key(loc)
            if prefix:
                key = f"{prefix}.{key}" if key else prefix
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see the documented keys)"
            elif (
                err["type"] not in ("missing",)
                and "input" in err
                and not isinstance(err["input"], dict | list)
            ):
                msg = f"{msg} (got {err['input']!r})"
            errors.append(ScenarioError(path, key, msg))
        raise ScenarioErrors(errors) from None


def load_labelled(path: Path, model: type[M]) -> tuple[M, dict[str, Provenance]]:
    """Read a TOML file, check every figure's provenance, validate it against ``model``."""
    parsed, labels, _ = load_labelled_plain(path, model)
    return parsed, labels


def load_labelled_plain(path: Path, model: type[M]) -> tuple[M, dict[str, Provenance], Any]:
    """As :func:`load_labelled`, also returning the plain data (labels stripped)."""
    raw = read_toml(path)
    plain, labels, missing = strip_provenance(raw)
    errors = strict_provenance_errors(path, missing)
    try:
        parsed = _validate(model, plain, path)
    except ScenarioErrors as exc:
        raise ScenarioErrors(errors + exc.errors) from None
    if errors:
        raise ScenarioErrors(errors)
    return parsed, labels, plain


@dataclass(frozen=True)
class Figure:
    """One figure of the inputs, for the assumptions table: where, what, and where it comes from."""

    file: str
    key: str
    value: Any
    kind: str  # "source" or "assumption"
    text: str


@dataclass(frozen=True)
class LifeTable:
    """Central death rates m(x) per person-year by sex and 5-year age group (lower edge)."""

    path: Path
    period: str
    rates: pd.DataFrame  # columns: sex, age_lower, mx


def load_life_table(path: Path, period: str, key: str, referrer: Path) -> LifeTable:
    if not path.is_file():
        raise ScenarioError(referrer, key, f"life table file not found: {path}")
    table = pd.read_csv(path, dtype={"age": str})
    if period not in table.columns:
        periods = [c for c in table.columns if c not in ("sex", "age", "source")]
        raise ScenarioError(referrer, "mortality.period", f"'{period}' not in {path.name}: {periods}")
    if "source" not in table.columns or table["source"].isna().any():
        raise ScenarioError(path, "source", "every row needs a source")
    rates = pd.DataFrame(
        {
            "sex": table["sex"],
            "age_lower": table["age"].str.rstrip("+").astype(int),
            "mx": table[period].astype(float),
        }
    )
    rates = rates[rates["sex"].isin(["M", "F"])].reset_index(drop=True)
    if (rates["mx"] <= 0).any():
        raise ScenarioError(path, period, "death rates must be positive")
    return LifeTable(path=path, period=period, rates=rates)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario with everything it refers to, and where each figure comes from."""

    path: Path
    file: ScenarioFile
    region: RegionFile
    margins: MarginsFile
    ability: AbilityModelFile
    life_table: LifeTable
    #: ``"<file stem>:<dotted key>" → Provenance`` for every figure used.
    provenance: dict[str, Provenance] = field(default_factory=dict)
    #: path (relative to the project root where possible) → sha256 of every input file.
    inputs: dict[str, str] = field(default_factory=dict)
    #: every figure with its value and provenance, in file order (assumptions.csv).
    figures: list[Figure] = field(default_factory=list)
    #: communities, facilities and walking assumptions (agingsim.geo.Geography) of a scenario with a
    #: ``[geography]`` section; None without one.
    geography: Geography | None = None
    #: the care-choice, provider and queue model (calibration/behaviour/*.toml), or None: then care
    #: settings stay as drawn and schemes pay at their stated delivery rates.
    behaviour: BehaviourFile | None = None
    #: the region's population base by single age × sex (``[population_base]``), or None: then the
    #: people come from the margins' age–sex rows and entrants from the flat ``[entry]`` rate.
    population_base: PopulationTable | None = None
    #: the base's projection for cohorts younger than the table (year, sex, age, people), or None
    population_projection: pd.DataFrame | None = None
    #: display paths (keys of ``inputs``) of further files that build the people: the population
    #: base, its projection and a calendar-time mortality table.
    population_files: tuple[str, ...] = ()
    #: calendar-time mortality (agingsim.ability.mortality.MortalityPath) of a scenario with a
    #: ``[mortality]`` section; None: the ability model's fixed life table every year.
    mortality: Any = None

    def life_table_for(self, year: int) -> LifeTable:
        """The all-cause life table in force in calendar ``year``."""
        if self.mortality is None:
            return self.life_table
        return LifeTable(self.mortality.path, str(year), self.mortality.rates(year))

    @property
    def name(self) -> str:
        return self.file.scenario.name

    @property
    def run(self) -> RunSettings:
        return self.file.run

    def inputs_population_key(self) -> tuple[str, ...]:
        """Hashes of the files that build the people (region, margins, ability, life table)."""
        return tuple(list(self.inputs.values())[1:5]) + tuple(self.inputs[k] for k in self.population_files)

    def with_run(self, **changes: int | None) -> Scenario:
        """A copy with run settings overridden (``--seed``, ``--years``), validated again."""
        given = {k: v for k, v in changes.items() if v is not None}
        if not given:
            return self
        data = self.file.run.model_dump() | given
        run = _validate(RunSettings, data, self.path, prefix="run")
        return replace(self, file=self.file.model_copy(update={"run": run}))


def resolve_input(name: str, kind: str, scenario_path: Path, key: str) -> Path:
    """The input file a scenario names at ``key``: a path relative to the scenario (``*.toml``) or a
    bare name in ``calibration/<kind>/``; a missing file is a ScenarioError naming the key."""
    if name.endswith(".toml"):
        path = (scenario_path.parent / name).resolve()
        if not path.is_file():
            raise ScenarioError(scenario_path, key, f"file not found: {path}")
        return path
    folder = project_root() / "calibration" / kind
    path = folder / f"{name}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.toml"))
        raise ScenarioError(
            scenario_path,
            key,
            f"unknown {kind[:-1] if kind.endswith('s') else kind} '{name}'; "
            f"known: {', '.join(known) or '(none)'}",
        )
    return path


def display_path(path: Path) -> str:
    """How outputs name a file: relative to the project root where possible."""
    try:
        return str(path.resolve().relative_to(project_root()))
    except ValueError:
        return str(path)


def check_delivery(file: ScenarioFile, path: Path) -> None:
    """With a behaviour model, delivery of a scheme naming the settings it pays for comes from the
    model (beds taken, carer hours delivered), so a stated ``delivery_rate`` would be ignored: refuse it."""
    if file.policy is None:
        return
    errors = []
    for i, s in enumerate(file.policy.schemes):
        if s.uses and s.payment != "delivered":
            errors.append(
                ScenarioError(
                    path,
                    f"policy.schemes[{i}].payment",
                    'a scheme with `uses` is paid on services delivered: set payment = "delivered"',
                )
            )
        if s.uses and "delivery_rate" in s.model_fields_set:
            errors.append(
                ScenarioError(
                    path,
                    f"policy.schemes[{i}].delivery_rate",
                    "with a behaviour model, delivery of a scheme with `uses` comes from beds taken "
                    "and carer hours delivered; remove delivery_rate",
                )
            )
    if errors:
        raise ScenarioErrors(errors)


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Load and validate a scenario and every file it refers to; raise :class:`ScenarioError`."""
    scenario_path = Path(path) if path is not None else default_scenario_path()
    file, labels, plain = load_labelled_plain(scenario_path, ScenarioFile)
    ref = file.population
    region_path = resolve_input(ref.region, "regions", scenario_path, "population.region")
    margins_path = resolve_input(ref.margins, "margins", scenario_path, "population.margins")
    ability_path = resolve_input(ref.ability_model, "ability", scenario_path, "population.ability_model")

    region, region_labels, region_plain = load_labelled_plain(region_path, RegionFile)
    region, population_base, base_paths = load_population_base(region, region_path)
    projection = read_projection(base_paths[1]) if len(base_paths) > 1 else None
    margins, margin_labels, margins_plain = load_labelled_plain(margins_path, MarginsFile)
    problems = []
    for name, margin in margins.attributes.items():
        for key, problem in validate_attribute_margin(name, margin, margins.band_labels()):
            problems.append(ScenarioError(margins_path, f"attributes.{name}.{key}", problem))
    if problems:
        raise ScenarioErrors(problems)
    ability, ability_labels, ability_plain = load_labelled_plain(ability_path, AbilityModelFile)
    table_path = (ability_path.parent / ability.mortality.life_table).resolve()
    life_table = load_life_table(table_path, ability.mortality.period, "mortality.life_table", ability_path)

    mortality = None
    if file.mortality is not None:
        from agingsim.ability.mortality import load_mortality_path  # late: ability imports this module

        mortality = load_mortality_path(file.mortality, scenario_path)
        base_paths.append(mortality.path)

    if file.policy is not None:
        import numpy as np

        from agingsim.schemes.facility import compile_facilities  # late: schemes import this module
        from agingsim.schemes.person import compile_schemes

        county_ids = [c.id for c in region.counties]
        compile_schemes(file.policy, ability.age_max, county_ids, scenario_path)
        shares = np.array([c.share_60plus for c in region.counties])
        compile_facilities(file.policy, county_ids, shares, scenario_path)

    behaviour, behaviour_labelled = None, []
    if ref.behaviour is not None:
        behaviour_path = resolve_input(ref.behaviour, "behaviour", scenario_path, "population.behaviour")
        behaviour, b_labels, b_plain = load_labelled_plain(behaviour_path, BehaviourFile)
        behaviour_labelled = [(behaviour_path, b_labels, b_plain)]
        check_delivery(file, scenario_path)
        if ref.admission is not None:  # the seed's own admission list replaces the behaviour file's
            adm_path = resolve_input(
                ref.admission, "behaviour/admission", scenario_path, "population.admission"
            )
            admission, a_labels, a_plain = load_labelled_plain(adm_path, Admission)
            behaviour = behaviour.model_copy(update={"admission": admission})
            behaviour_labelled.append((adm_path, a_labels, a_plain))
    elif ref.admission is not None:
        raise ScenarioError(
            scenario_path, "population.admission", "an admission list needs a behaviour model"
        )

    geography, geo_labelled = None, []
    if file.geography is not None:
        from agingsim.geo.geography import load_scenario_geography

        geography, geo_labelled = load_scenario_geography(file.geography, scenario_path, region)

    provenance: dict[str, Provenance] = {}
    figures: list[Figure] = []
    for p, lab, data in (
        (scenario_path, labels, plain),
        (region_path, region_labels, region_plain),
        (margins_path, margin_labels, margins_plain),
        (ability_path, ability_labels, ability_plain),
        *behaviour_labelled,
        *geo_labelled,
    ):
        provenance.update({f"{p.stem}:{k}": v for k, v in lab.items()})
        shown = display_path(p)
        figures += [Figure(shown, k, value_at(data, k), v.kind, v.text) for k, v in lab.items()]
    inputs = {
        display_path(p): file_sha256(p)
        for p in (scenario_path, region_path, margins_path, ability_path, table_path)
    }
    inputs.update({display_path(p): file_sha256(p) for p, _, _ in behaviour_labelled})
    inputs.update({display_path(p): file_sha256(p) for p in base_paths})
    if geography is not None:  # after the population files: inputs_population_key takes [1:5]
        inputs.update({display_path(p): file_sha256(p) for p in geography.files})
    return Scenario(
        path=scenario_path,
        file=file,
        region=region,
        margins=margins,
        ability=ability,
        life_table=life_table,
        provenance=provenance,
        inputs=inputs,
        figures=figures,
        geography=geography,
        behaviour=behaviour,
        population_base=population_base,
        population_projection=projection,
        population_files=tuple(display_path(p) for p in base_paths),
        mortality=mortality,
    )


#: With a population base, a stated pop_60plus may differ from the table's 60+ by this share.
POP_60PLUS_TOLERANCE = 0.005


def load_population_base(
    region: RegionFile, region_path: Path
) -> tuple[RegionFile, PopulationTable | None, list[Path]]:
    """The region's ``[population_base]`` table (validated), the region with ``pop_60plus`` set to the
    table's 60+ at its reference date, and the files read."""
    base = region.population_base
    if base is None:
        return region, None, []
    path = (region_path.parent / base.file).resolve()
    table = read_population_table(path, base.reference_date, region_path, "population_base.file")
    files = [path]
    if base.projection is not None:
        proj = (region_path.parent / base.projection).resolve()
        if not proj.is_file():
            raise ScenarioError(region_path, "population_base.projection", f"file not found: {proj}")
        files.append(proj)
    total = table.people(60)
    if total <= 0:
        raise ScenarioError(path, "people", "the table has nobody aged 60 or over")
    if region.pop_60plus is not None and abs(region.pop_60plus / total - 1) > POP_60PLUS_TOLERANCE:
        raise ScenarioError(
            region_path,
            "pop_60plus",
            f"{region.pop_60plus:,.0f} differs from the population base's 60+ ({total:,.0f} at "
            f"{base.reference_date}); remove pop_60plus or correct it",
        )
    return region.model_copy(update={"pop_60plus": total}), table, files
