"""Elders' care choice (照护方式选择): a multinomial logit over the five care settings."""

from agingsim.choice.mnl import ChoiceInputs, CompiledChoice, choose, probabilities

__all__ = ["ChoiceInputs", "CompiledChoice", "choose", "probabilities"]
