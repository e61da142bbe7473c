"""Scenario input: TOML files, their validated schema and the provenance of every figure."""

from agingsim.scenario.files import project_root
from agingsim.scenario.loader import Scenario, load_scenario
from agingsim.scenario.provenance import Provenance

__all__ = ["Provenance", "Scenario", "load_scenario", "project_root"]
