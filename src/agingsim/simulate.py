"""Run a scenario end to end and package what it produced: the one entry point for CLI and app."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agingsim import __version__
from agingsim.fiscal.funding import apply_funding, compile_funding
from agingsim.fiscal.ledger import WAN, Ledger, lottery_report, present_value, summarise
from agingsim.model import AgingModel
from agingsim.population.attributes import ABILITY_LEVELS, NEEDS_CARE_FROM
from agingsim.results.output import csv_writer, json_writer, write_outputs
from agingsim.results.targets import targets_frame
from agingsim.scenario import Scenario, project_root
from agingsim.schemes.monthly import PersonSchemes
from agingsim.schemes.oneoff import OneOffSchemes

#: What a person-level scheme says about money only: changing these changes no one's ability, care
#: choice, queue or provider, so a run's payments can be replayed under new values.
PAYMENT_TERMS = (
    "name",
    "name_en",
    "clause",
    "family",
    "counties",
    "active",
    "payment",
    "delivery_rate",
    "amount",
    "payers",
    "lottery_share",
    "budget_cap",
    "exclude_recipients_of",
    "people_per_household",
    "quota",
)
RATIONING_COLUMNS = ["year", "month", "line_item", "county", "people_waiting", "unpaid_cny"]


def dynamics_key(scenario: Scenario, replication: int = 0) -> str | None:
    """A hash of everything that shapes a run's people, care, providers and facility payments: the
    whole scenario and its input files except the payment terms of person-level schemes. Two runs
    with the same key differ only in what those schemes pay. None when a scheme's payments feed back
    into behaviour (a scheme with ``uses`` under a behaviour model lowers prices in the care choice)."""
    policy = scenario.file.policy
    if policy is not None and scenario.behaviour is not None and any(s.uses for s in policy.schemes):
        return None
    data = scenario.file.model_dump(mode="json")
    for scheme in (data.get("policy") or {}).get("schemes", []):
        for term in PAYMENT_TERMS:
            scheme.pop(term, None)
        for group in scheme.get("groups", []):
            group.pop("amount", None)
    payload = {
        "file": data,
        "inputs": list(scenario.inputs.values())[1:],  # every file but the scenario's own (in `file`)
        "replication": replication,
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class PaymentRecord:
    """What a run's person-level payments were made from (AgingModel ``record_payments``): each
    month's bins of people, and the ledger rows booked before and after the months (facilities)."""

    key: str
    bins: list[tuple[np.ndarray, np.ndarray]]
    rows_before: list[dict[str, object]]
    rows_after: list[dict[str, object]]
    #: each month's rows that one-off schemes looked at (schemes.oneoff.OneOffSchemes.rows)
    once_rows: list[tuple[np.ndarray, ...]] = field(default_factory=list)


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
    #: liabilities.csv: facility payments committed within the run but due after its last year
    liabilities: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: set when the run recorded its payments (see replay_payments); never written out
    payments: PaymentRecord | None = field(default=None, repr=False)
    #: run key of the run whose people and care these payments were replayed on, if any
    replayed_from: str | None = None
    #: with ``record_distribution``: each month's bins by group (results.distribution); a replay
    #: keeps its base's, the same people
    distribution_bins: list[Any] | None = field(default=None, repr=False)

    def distribution(self) -> Any:
        """Spending, people entitled and served by group (results.distribution.Distribution), or
        None when the run did not record its bins by group; worked out once."""
        if self.distribution_bins is None:
            return None
        cached = self.__dict__.get("_distribution")
        if cached is None or cached[0] is not self.scenario:
            from agingsim.results.distribution import distribution

            cached = (self.scenario, distribution(self.scenario, self.distribution_bins))
            self.__dict__["_distribution"] = cached
        return cached[1]

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
            **self.liabilities_headline(),
        }

    def liabilities_headline(self) -> dict[str, Any]:
        """What the scenario owes at its horizon (liabilities.csv); not part of cost_total_wan."""
        owed = self.liabilities
        if owed.empty:
            return {}
        by_payer = owed.groupby("payer_level")["amount_cny"].sum() / WAN
        return {
            "liabilities_at_horizon_wan": round(float(owed["amount_cny"].sum() / WAN), 2),
            "liabilities_by_payer_wan": {k: round(float(v), 2) for k, v in by_payer.items()},
            "liabilities_note": "committed within the simulated years but due after the last one "
            "(liabilities.csv); not included in cost_total_wan",
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
            **({"payments_replayed_on": self.replayed_from} if self.replayed_from else {}),
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

    def targets(self) -> pd.DataFrame:
        """targets.csv: the seed targets the scenario lists, checked each year (results.targets)."""
        return targets_frame(self)

    def files(self) -> dict[str, Any]:
        files: dict[str, Any] = {
            "population.csv": csv_writer(self.population),
            "demography.csv": csv_writer(self.demography),
            "assumptions.csv": csv_writer(self.assumptions()),
        }
        if self.scenario.file.policy is not None:
            files["ledger.csv"] = csv_writer(self.ledger)
            files["liabilities.csv"] = csv_writer(self.liabilities)
            files["ledger_by_payer.csv"] = csv_writer(summarise(self.ledger, "payer_level"), "%.4f")
            files["ledger_by_line_item.csv"] = csv_writer(summarise(self.ledger, "line_item"), "%.4f")
            files["ledger_by_funding.csv"] = csv_writer(summarise(self.ledger, "funding"), "%.4f")
            schemes = self.scenario.file.policy.schemes
            if any(s.budget_cap is not None or s.quota is not None for s in schemes):
                files["rationing.csv"] = csv_writer(self.rationing)
            lottery = self.lottery()
            if lottery is not None:
                files["lottery.csv"] = csv_writer(lottery, "%.4f")
            if not self.groups_served.empty:
                files["groups.csv"] = csv_writer(self.groups_served, "%.4f")
            dist = self.distribution()
            if dist is not None and not dist.people.empty:
                from agingsim.report.who import DISTRIBUTION_CSV, distribution_csv

                counties = [c.id for c in self.scenario.region.counties]
                files[DISTRIBUTION_CSV] = csv_writer(
                    distribution_csv(dist.people, dist.payments, counties), "%.4f"
                )
        if self.scenario.file.targets:
            files["targets.csv"] = csv_writer(self.targets(), "%.4f")
        if not self.coverage.empty:
            files["coverage.csv"] = csv_writer(self.coverage, "%.4f")
            files["capacity.csv"] = csv_writer(self.capacity, "%.4f")
            files["waiting.csv"] = csv_writer(self.waiting, "%.4f")
        return files

    def write(self, out_dir: Path) -> Path:
        files = self.files()
        files["summary.json"] = json_writer(self.summary(outputs=list(files)))
        return write_outputs(out_dir, files)


def run_scenario(
    scenario: Scenario,
    replication: int = 0,
    progress: object | None = None,
    record_payments: bool = False,
    record_distribution: bool = False,
) -> RunResult:
    """Run a scenario; with ``record_payments`` the result can have its payments replayed under
    other amounts (:func:`replay_payments`) when the scenario allows it (:func:`dynamics_key`);
    with ``record_distribution`` it can say who gets what by group (:meth:`RunResult.distribution`)."""
    t0 = time.perf_counter()
    key = dynamics_key(scenario, replication) if record_payments else None
    model = AgingModel(
        scenario,
        replication=replication,
        record_payments=key is not None,
        record_distribution=record_distribution,
    )
    model.run(progress=progress)
    behaviour = model.care.frames() if model.care is not None else {}
    record = None
    if key is not None and model.payment_bins is not None:
        rows = model.ledger.rows
        record = PaymentRecord(
            key,
            model.payment_bins,
            rows[: model.rows_before_months],
            rows[model.rows_after_months :],
            model.payment_rows or [],
        )
    return RunResult(
        scenario=scenario,
        replication=replication,
        population=model.collector.population_frame(),
        demography=model.collector.demography_frame(),
        monthly=model.datacollector.get_model_vars_dataframe(),
        ledger=apply_funding(model.ledger.frame(), model.funding),
        rationing=pd.DataFrame(
            model.person_schemes.rationing if model.person_schemes else [], columns=RATIONING_COLUMNS
        ),
        run_time_s=time.perf_counter() - t0,
        groups_served=model.person_schemes.served_frame() if model.person_schemes else pd.DataFrame(),
        liabilities=model.ledger.liabilities_frame(),
        payments=record,
        distribution_bins=model.distribution.months if model.distribution is not None else None,
        **behaviour,
    )


def replay_payments(base: RunResult, scenario: Scenario, base_key: str | None = None) -> RunResult:
    """``scenario``'s result from ``base``, a recorded run of a scenario that differs from it only in
    the payment terms of person-level schemes: the same people, care and providers, with the
    payments made again from the recorded bins under the new terms. Identical to running
    ``scenario`` in full (a test pins this), in a fraction of the time."""
    t0 = time.perf_counter()
    record = base.payments
    if record is None or record.key != dynamics_key(scenario, base.replication):
        raise ValueError("the scenario differs from the recorded run in more than payment terms")
    ledger = Ledger.for_region(scenario.region)
    ledger.rows.extend(record.rows_before)
    rationing: list[dict[str, object]] = []
    served = pd.DataFrame()
    if scenario.file.policy is not None and scenario.file.policy.schemes:
        schemes = PersonSchemes(scenario)
        one_off = None
        if record.once_rows:  # one-off payments: the recorded rows, paid once per person again
            capacity = 1 + max((int(r[0].max()) for r in record.once_rows if r[0].size), default=0)
            one_off = OneOffSchemes(schemes, capacity)
        for month, (occupied, weight) in enumerate(record.bins):
            schemes.pay_bins(month, scenario.run.start_year, occupied, weight, ledger)
            if one_off is not None:
                one_off.pay(record.once_rows[month], month, scenario.run.start_year, ledger)
        rationing, served = schemes.rationing, schemes.served_frame()
    ledger.rows.extend(record.rows_after)
    policy = scenario.file.policy
    funding = compile_funding(policy, scenario.path) if policy and policy.funding else {}
    return replace(
        base,
        scenario=scenario,
        ledger=apply_funding(ledger.frame(), funding),
        rationing=pd.DataFrame(rationing, columns=RATIONING_COLUMNS),
        groups_served=served,
        run_time_s=time.perf_counter() - t0,
        replayed_from=base_key,
    )
