"""Batch sweeps: a base scenario × axes × replications, run locally or on Dask, stored as Parquet."""

from agingsim.sweep.runner import SweepReport, run_sweep
from agingsim.sweep.spec import Sweep, load_sweep
from agingsim.sweep.store import Store, query

__all__ = ["Store", "Sweep", "SweepReport", "load_sweep", "query", "run_sweep"]
