"""The difference between two arms with its interval: replications with common random numbers and
parameter draws.

Replication ``r`` of both arms runs with the same spawned random streams and the same drawn figures
(:func:`agingsim.uncertainty.draws.draw` is keyed by seed, replication and figure name, and both arms
read the same calibration files), so the difference of replication ``r`` is the effect of the reform
under one draw of the uncertain figures; its spread over replications is the uncertainty of the effect
(Monte Carlo and parameters together). A reform that changes nothing shows exactly zero in every
replication.

    python -m agingsim.uncertainty.difference A.toml B.toml --replications 20 [--years N] [--people N]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from agingsim.compare import yearly_figures
from agingsim.scenario import Scenario, load_scenario
from agingsim.simulate import run_scenario
from agingsim.uncertainty.draws import draw, scenario_with, stated_distributions

#: The measures whose yearly mean over the run is compared.
MEASURES = ("needing_care_served", "cost_total_wan", "bed_occupancy", "beds")


@dataclass(frozen=True)
class Difference:
    """Per replication: each arm's mean over the run of each measure, and B − A."""

    a: pd.DataFrame  # replication × measure
    b: pd.DataFrame
    parameter_uncertainty: bool

    @property
    def diff(self) -> pd.DataFrame:
        return self.b - self.a

    def interval(self, measure: str, relative: bool = False) -> dict[str, float]:
        d = self.diff[measure] / self.a[measure] if relative else self.diff[measure]
        lo, mid, hi = np.quantile(d.to_numpy(), [0.05, 0.5, 0.95])
        return {"p05": float(lo), "p50": float(mid), "p95": float(hi)}

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "replications": len(self.a),
            "parameter_uncertainty": self.parameter_uncertainty,
        }
        for m in self.a.columns:
            iv = self.interval(m)
            rel = self.interval(m, relative=True)
            out[m] = {
                "a_mean": float(self.a[m].mean()),
                "b_mean": float(self.b[m].mean()),
                "difference_90": iv,
                "relative_difference_90": rel,
                "distinguishable_from_zero": bool(iv["p05"] > 0 or iv["p95"] < 0),
            }
        return out


def _arm(scenario: Scenario, replication: int, parameters: bool) -> pd.Series:
    if parameters:
        values = draw(stated_distributions(scenario), scenario.run.seed, replication)
        scenario = scenario_with(scenario, values, replication)
    frame = yearly_figures(run_scenario(scenario, replication=replication))
    return frame.reindex(columns=list(MEASURES), fill_value=0.0).mean()


def paired_difference(a: Scenario, b: Scenario, n: int, parameter_uncertainty: bool = True) -> Difference:
    """Run replications 0..n-1 of both arms (same seed, same draws per replication)."""
    if a.run.seed != b.run.seed:
        b = b.with_run(seed=a.run.seed)
    rows_a = [_arm(a, r, parameter_uncertainty) for r in range(n)]
    rows_b = [_arm(b, r, parameter_uncertainty) for r in range(n)]
    return Difference(pd.DataFrame(rows_a), pd.DataFrame(rows_b), parameter_uncertainty)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agingsim.uncertainty.difference", description=__doc__)
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--years", type=int)
    parser.add_argument("--people", type=int)
    parser.add_argument("--no-parameter-uncertainty", action="store_true")
    args = parser.parse_args(argv)
    if args.replications < 2:
        print(f"{args.a}: --replications: needs at least 2", file=sys.stderr)
        return 2
    arms = []
    for path in (args.a, args.b):
        s = load_scenario(path)
        if args.years or args.people:
            s = s.with_run(
                years=args.years or s.run.years, simulated_people=args.people or s.run.simulated_people
            )
        arms.append(s)
    result = paired_difference(arms[0], arms[1], args.replications, not args.no_parameter_uncertainty)
    print(json.dumps(result.summary(), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
