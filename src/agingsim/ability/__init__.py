"""Ability levels (GB/T 42195-2022) and death: a continuous-time multi-state model."""

from agingsim.ability.intensities import AbilityModel, build_ability_model
from agingsim.ability.transitions import next_state

__all__ = ["AbilityModel", "build_ability_model", "next_state"]
