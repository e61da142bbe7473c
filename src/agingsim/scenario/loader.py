"""Load a scenario and the region, margins and ability-model files it names.

Every problem is reported as ``FILE: KEY: PROBLEM`` (all problems of a file at once), before anything
runs, so a wrong file never leaves partial output behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.population.attributes import SEXES
from agingsim.population.base import PopulationTable, read_population_table
from agingsim.population.cohorts import read_projection
from agingsim.scenario.files import (
    confine,
    current_overlay,
    default_scenario_path,
    display_path,
    file_sha256,
    load_labelled_plain,
    read_toml,
    resolve_input,
    validate_file,
)
from agingsim.scenario.provenance import Provenance, block_label, value_at
from agingsim.scenario.ranges import MAX_SIMULATED, simulated_total
from agingsim.scenario.schema import (
    AbilityModelFile,
    Admission,
    BehaviourFile,
    MarginsFile,
    PopulationBase,
    RegionFile,
    RunSettings,
    ScenarioFile,
    validate_attribute_margin,
)
from agingsim.scenario.tables import check_life_table

if TYPE_CHECKING:
    from agingsim.geo.geography import Geography


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

    @cached_property
    def log_rates(self) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
        """(age-group midpoints, log m(x)) by sex in the order of ``SEXES``, sorted by age: read
        from ``rates`` once (ability.intensities.interpolate_mx is called for every year of a
        population base's projection, with the same table when mortality is fixed)."""
        out = []
        for sex in SEXES:
            rows = self.rates[self.rates["sex"] == sex].sort_values("age_lower")
            out.append((rows["age_lower"].to_numpy(float) + 2.5, np.log(rows["mx"].to_numpy(float))))
        return tuple(out)


def load_life_table(path: Path, period: str, key: str, referrer: Path) -> LifeTable:
    if not path.is_file():
        raise ScenarioError(referrer, key, f"life table file not found: {path}")
    rates = check_life_table(path, period, referrer)
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
    #: the parsed contents it was loaded from in place of files (scenario.files.overlaid: a lever
    #: changed in the app, an upload, a sweep point), by resolved path; empty for files as they are
    #: on disk. Loading it again, as parameter draws do (uncertainty.draws.scenario_with), reads
    #: these, so a variant's draws are drawn on the variant, not on the file it came from.
    overlay: Mapping[Path, dict[str, Any]] = field(default_factory=dict, repr=False)

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
        try:
            run = validate_file(RunSettings, data, self.path, prefix="run")
        except ScenarioErrors as exc:  # the value is the command's, not the file's: say so
            raise ScenarioErrors([_given_here(e, given) for e in exc.errors]) from None
        except ScenarioError as exc:
            raise _given_here(exc, given) from None
        changed = replace(self, file=self.file.model_copy(update={"run": run}))
        check_run_size(changed)
        return changed


def _given_here(exc: ScenarioError, given: dict[str, int]) -> ScenarioError:
    """``exc`` with its key marked as overridden (``run.years (overridden to 0, not the file's
    value)``: ``--years 0``, or the app's setting) where it names a setting in ``given``: the file
    says something else, so the reader must not look for the bad value there."""
    name = exc.key.removeprefix("run.")
    if name not in given:
        return exc
    key = f"{exc.key} (overridden to {given[name]}, not the file's value)"
    return ScenarioError(exc.path, key, exc.problem)


def check_run_size(scenario: Scenario) -> None:
    """Refuse a run that would create more simulated people than fit in memory (start plus
    entrants over the horizon), before anything is allocated."""
    run, region = scenario.run, scenario.region
    if region.entry is not None:
        entry = region.entry
        per_year, growth, base_year = entry.entrants_per_year, entry.annual_growth, entry.base_year
    else:  # a population base: entrants are its cohorts aged 40-59 (a year's cohort on average)
        base = scenario.population_base
        per_year, growth, base_year = base.people(40, 59) / 20.0, 0.0, run.start_year
    total = simulated_total(
        run.simulated_people, region.pop_60plus, per_year, growth, base_year, run.start_year, run.years
    )
    if total > MAX_SIMULATED:
        raise ScenarioError(
            scenario.path,
            "run.simulated_people",
            f"the run would simulate {total:,.0f} people (start plus entrants over {run.years} years "
            f"at {growth:+.0%} a year); at most {MAX_SIMULATED:,}: simulate fewer "
            "people or a shorter horizon",
        )


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
    table_path = confine(
        ability_path.parent / ability.mortality.life_table, ability_path, "mortality.life_table"
    )
    life_table = load_life_table(table_path, ability.mortality.period, "mortality.life_table", ability_path)

    mortality = None
    if file.mortality is not None:
        # late: the ability package's __init__ imports this module's types
        from agingsim.ability.mortality import load_mortality_path

        mortality = load_mortality_path(file.mortality, scenario_path)
        base_paths.append(mortality.path)

    if file.policy is not None:
        import numpy as np

        # late: the schemes package imports fiscal.ledger, which imports scenario (this package)
        from agingsim.schemes.facility import compile_facilities
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
        if p == region_path and region.population_base is not None:
            figures += _population_base_figures(region_path, region.population_base)
    inputs = {
        display_path(p): file_sha256(p)
        for p in (scenario_path, region_path, margins_path, ability_path, table_path)
    }
    inputs.update({display_path(p): file_sha256(p) for p, _, _ in behaviour_labelled})
    inputs.update({display_path(p): file_sha256(p) for p in base_paths})
    if geography is not None:  # after the population files: inputs_population_key takes [1:5]
        inputs.update({display_path(p): file_sha256(p) for p in geography.files})
    scenario = Scenario(
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
        overlay=current_overlay(),  # a variant's contents, to load it again (draws)
    )
    check_run_size(scenario)
    return scenario


def _population_base_figures(region_path: Path, base: PopulationBase) -> list[Figure]:
    """The ``[population_base]`` block's own source as an assumptions.csv row (its table file and
    reference date are no figures, so nothing else carries the label to the run's outputs)."""
    label = block_label(read_toml(region_path), "population_base")
    if label is None:
        return []
    value = f"{base.file} at {base.reference_date.isoformat()}"
    if base.projection is not None:
        value += f"; projection {base.projection}"
    return [Figure(display_path(region_path), "population_base", value, label.kind, label.text)]


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
    path = confine(region_path.parent / base.file, region_path, "population_base.file")
    table = read_population_table(path, base.reference_date, region_path, "population_base.file")
    files = [path]
    if base.projection is not None:
        proj = confine(region_path.parent / base.projection, region_path, "population_base.projection")
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
