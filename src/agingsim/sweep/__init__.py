"""Batch sweeps: a base scenario × axes × replications, run locally or on Dask, stored as Parquet.

The names below are imported on first use (module ``__getattr__``): the scenario loader's variants
import :mod:`agingsim.sweep.overrides` alone, and the app's start should not pay for the runner,
the sweep file's schema and the store (~0.1 s) it never uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agingsim.sweep.runner import SweepReport, run_sweep
    from agingsim.sweep.spec import Sweep, load_sweep
    from agingsim.sweep.store import Store, query

_WHERE = {
    "SweepReport": "runner",
    "run_sweep": "runner",
    "Sweep": "spec",
    "load_sweep": "spec",
    "Store": "store",
    "query": "store",
}
__all__ = ["Store", "Sweep", "SweepReport", "load_sweep", "query", "run_sweep"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"agingsim.sweep.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'agingsim.sweep' has no attribute {name!r}")
