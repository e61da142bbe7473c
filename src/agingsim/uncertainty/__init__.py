"""Uncertainty in every output: Monte Carlo replications and draws of figures with stated distributions.

``run_replications(scenario, n)`` runs replications 0..n-1 (each with its own spawned random streams
and, with parameter uncertainty, its own draw of every figure that states a spread) and returns their
tables; ``Replications.intervals()`` is the long-form table of p05/p50/p95 and the interval of the
mean for every table a run writes. ``agingsim run --replications N`` writes it as intervals.csv.
"""

from agingsim.uncertainty.draws import Distributions, Stated, draw, scenario_with, stated_distributions
from agingsim.uncertainty.intervals import band, intervals, long_form, run_tables
from agingsim.uncertainty.run import Replications, replication_scenarios, run_replications

__all__ = [
    "Distributions",
    "Replications",
    "Stated",
    "band",
    "draw",
    "intervals",
    "long_form",
    "replication_scenarios",
    "run_replications",
    "run_tables",
    "scenario_with",
    "stated_distributions",
]
