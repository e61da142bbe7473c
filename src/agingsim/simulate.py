"""Run a scenario end to end and package what it produced: the one entry point for CLI and app."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from agingsim import __version__
from agingsim.fiscal.ledger import WAN, lottery_report, present_value, summarise
from agingsim.model import AgingModel
from agingsim.population.attributes import ABILITY_LEVELS, NEEDS_CARE_FROM
from agingsim.results.output import csv_writer, json_writer, write_outputs
from agingsim.scenario import Scenario, project_root


@dataclass
class RunResult:
    scenario: Scenario
    replication: int
    population: pd.DataFrame
    demography: pd.DataFrame
    monthly: pd.DataFrame
    ledger: pd.DataFrame
    rationing: pd.DataFrame
    run_time_s: float
    #: behaviour outputs (empty without a behaviour model): coverage.csv, capacity.csv, waiting.csv
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    capacity: pd.DataFrame = field(default_factory=pd.DataFrame)
    waiting: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: groups.csv: people entitled and served per scheme and eligible group (schemes with a policy)
    groups_served: pd.DataFrame = field(default_factory=pd.DataFrame)

    def headline(self) -> dict[str, Any]:
        pop = self.population
        by_year = pop.groupby("year")["people"].sum()
        need = pop[pop["ability_level"].isin(ABILITY_LEVELS[NEEDS_CARE_FROM:])]
        need_by_year = need.groupby("year")["people"].sum()
        first, last = int(by_year.index.min()), int(by_year.index.max())
        return {
            "first_year": first,
            "last_year": last,
            "people_60plus_first": round(float(by_year[first]), 1),
            "people_60plus_last": round(float(by_year[last]), 1),
            "needing_care_first": round(float(need_by_year[first]), 1),
            "needing_care_last": round(float(need_by_year[last]), 1),
            "entrants_total": round(float(self.demography["entrants"].sum()), 1),
            "deaths_total": round(float(self.demography["deaths"].sum()), 1),
            **self.fiscal_headline(),
            **self.coverage_headline(),
        }

    def needing_care_by_year(self) -> tuple[pd.Series, pd.Series]:
        """People needing care, and those of them in a formal care setting, by year (monthly means)."""
        cov = self.coverage
        need = cov.groupby("year")["people"].sum()
        formal = cov[cov["setting"] != "family_care"].groupby("year")["people"].sum()
        return need, formal

    def coverage_headline(self) -> dict[str, Any]:
        """People needing care who are served by a formal setting, and the cost per person served."""
        if self.coverage.empty:
            return {}
        need, formal = self.needing_care_by_year()
        last = int(need.index.max())
        cap = self.capacity[self.capacity["year"] == last]
        beds, occupied = float(cap["beds"].sum()), float(cap["occupied"].sum())
        out: dict[str, Any] = {
            "coverage_year_last": last,  # monthly means over this (last simulated) year
            "needing_care_served_last": round(float(formal[last]), 1),
            "needing_care_served_share_last": round(float(formal[last] / need[last]), 4)
            if need[last]
            else 0.0,
            "beds_last": round(beds, 1),
            "occupancy_last": round(occupied / beds, 4) if beds else 0.0,
            "waiting_last": round(float(cap["waiting"].sum()), 1),
            "unmet_carer_hours_last": round(float(cap["unmet_carer_hours"].sum()), 1),
        }
        if not self.ledger.empty:
            served_years = float(formal.sum())  # person-years served (yearly means summed)
            total = float(self.ledger["amount_cny"].sum())
            out["cost_per_person_year_served_cny"] = round(total / served_years, 2) if served_years else None
        return out

    def fiscal_headline(self) -> dict[str, Any]:
        if self.ledger.empty:
            return {}
        policy = self.scenario.file.policy
        rate = policy.fiscal.discount_rate if policy else 0.0
        by_payer = self.ledger.groupby("payer_level")["amount_cny"].sum() / WAN
        return {
            "cost_total_wan": round(float(self.ledger["amount_cny"].sum() / WAN), 2),
            "cost_by_payer_wan": {k: round(float(v), 2) for k, v in by_payer.items()},
            "cost_present_value_wan": round(
                present_value(self.ledger, rate, self.scenario.run.start_year) / WAN, 2
            ),
            "discount_rate": rate,
            **self.lottery_headline(),
            **self.rationing_headline(),
        }

    def rationing_headline(self) -> dict[str, Any]:
        if self.rationing.empty:
            return {}
        months = self.rationing.groupby(["line_item", "year"])["month"].nunique()
        return {
            "rationed": [
                f"{item} {year}: budget ran out, {n} month(s) of waiting"
                for (item, year), n in months.items()
            ],
            "unpaid_wan": round(float(self.rationing["unpaid_cny"].sum() / WAN), 2),
        }

    def lottery_headline(self) -> dict[str, Any]:
        report = self.lottery()
        if report is None:
            return {}
        failing = report[~report["meets_rule"]]
        return {
            "lottery_rule_met_every_year": bool(failing.empty),
            "lottery_below_minimum": [f"{r.year} {r.payer_level}" for r in failing.itertuples()],
        }

    def summary(self, outputs: list[str] | None = None) -> dict[str, Any]:
        """The run record; ``outputs`` are the file names written (derived from files() if not given)."""
        sc = self.scenario
        try:
            scenario_file = str(sc.path.resolve().relative_to(project_root()))
        except ValueError:
            scenario_file = str(sc.path)
        return {
            "scenario": sc.name,
            "scenario_en": sc.file.scenario.name_en,
            "scenario_file": scenario_file,
            "scenario_sha256": next(iter(sc.inputs.values())),
            "inputs_sha256": sc.inputs,
            "seed": sc.run.seed,
            "replication": self.replication,
            "version": __version__,
            "start_year": sc.run.start_year,
            "years": sc.run.years,
            "simulated_people_initial": sc.run.simulated_people,
            "region": {
                "id": sc.region.id,
                "name": sc.region.name,
                "name_en": sc.region.name_en,
                "counties": {c.id: c.name for c in sc.region.counties},
            },
            "headline": self.headline(),
            "outputs": sorted([*(outputs if outputs is not None else self.files()), "summary.json"]),
            "run_time_s": round(self.run_time_s, 3),
        }

    def assumptions(self) -> pd.DataFrame:
        """Every input figure with its value and its source or assumption label."""
        rows = [
            {
                "file": f.file,
                "key": f.key,
                "value": json.dumps(f.value, ensure_ascii=False),
                "provenance": f.kind,
                "text": f.text,
            }
            for f in self.scenario.figures
        ]
        return pd.DataFrame(rows, columns=["file", "key", "value", "provenance", "text"])

    def lottery(self) -> pd.DataFrame | None:
        """Welfare-lottery compliance by year and level, if the scenario states retained funds."""
        return self._lottery

    @cached_property
    def _lottery(self) -> pd.DataFrame | None:
        policy = self.scenario.file.policy
        if policy is None or policy.lottery is None:
            return None
        lot, run = policy.lottery, self.scenario.run
        years = list(range(run.start_year, run.start_year + run.years))
        return lottery_report(self.ledger, lot.retained, lot.min_share, lot.min_share_province, years)

    def files(self) -> dict[str, Any]:
        files: dict[str, Any] = {
            "population.csv": csv_writer(self.population),
            "demography.csv": csv_writer(self.demography),
            "assumptions.csv": csv_writer(self.assumptions()),
        }
        if self.scenario.file.policy is not None:
            files["ledger.csv"] = csv_writer(self.ledger)
            files["ledger_by_payer.csv"] = csv_writer(summarise(self.ledger, "payer_level"), "%.4f")
            files["ledger_by_line_item.csv"] = csv_writer(summarise(self.ledger, "line_item"), "%.4f")
            if any(s.budget_cap is not None for s in self.scenario.file.policy.schemes):
                files["rationing.csv"] = csv_writer(self.rationing)
            lottery = self.lottery()
            if lottery is not None:
                files["lottery.csv"] = csv_writer(lottery, "%.4f")
            if not self.groups_served.empty:
                files["groups.csv"] = csv_writer(self.groups_served, "%.4f")
        if not self.coverage.empty:
            files["coverage.csv"] = csv_writer(self.coverage, "%.4f")
            files["capacity.csv"] = csv_writer(self.capacity, "%.4f")
            files["waiting.csv"] = csv_writer(self.waiting, "%.4f")
        return files

    def write(self, out_dir: Path) -> Path:
        files = self.files()
        files["summary.json"] = json_writer(self.summary(outputs=list(files)))
        return write_outputs(out_dir, files)


def run_scenario(scenario: Scenario, replication: int = 0, progress: object | None = None) -> RunResult:
    t0 = time.perf_counter()
    model = AgingModel(scenario, replication=replication)
    model.run(progress=progress)
    behaviour = model.care.frames() if model.care is not None else {}
    return RunResult(
        scenario=scenario,
        replication=replication,
        population=model.collector.population_frame(),
        demography=model.collector.demography_frame(),
        monthly=model.datacollector.get_model_vars_dataframe(),
        ledger=model.ledger.frame(),
        rationing=pd.DataFrame(
            model.person_schemes.rationing if model.person_schemes else [],
            columns=["year", "month", "line_item", "county", "people_waiting", "unpaid_cny"],
        ),
        run_time_s=time.perf_counter() - t0,
        groups_served=model.person_schemes.served_frame() if model.person_schemes else pd.DataFrame(),
        **behaviour,
    )
