"""Let each run's model be freed when the run ends (issue 18: 15–20 MB leaked per behaviour run).

mesa 3.3 numbers agents with ``Agent._ids``, a class-level ``defaultdict`` keyed by the model: a
strong reference to every model that ever created an agent. The providers and agencies of the
behaviour model are mesa agents, so every run's model — and with it its people arrays, care system
and salabim environment (whose main component keeps the frame that created it) — stayed alive for
the life of the process: sweep workers and the app grew without end. The counters are kept here by
weak reference instead; ids are numbered exactly as before.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import mesa


class WeakAgentIds(weakref.WeakKeyDictionary):
    """``model → itertools.count(1)``, created on first use, dropped with the model."""

    def __getitem__(self, model: Any) -> Any:
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


def weak_agent_ids() -> None:
    """Install :class:`WeakAgentIds` as mesa's agent id counters (idempotent; models created
    before keep their counters)."""
    if not isinstance(mesa.Agent._ids, WeakAgentIds):
        counters = WeakAgentIds()
        for model, counter in list(mesa.Agent._ids.items()):
            counters[model] = counter
        mesa.Agent._ids = counters
