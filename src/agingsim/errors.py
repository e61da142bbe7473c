"""Errors a user can act on: each names the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path


class AgingsimError(Exception):
    """Base class for errors reported to the user without a traceback."""


class ScenarioError(AgingsimError):
    """A scenario (or a data file it refers to) is invalid.

    The message always has the form ``FILE: KEY: PROBLEM`` so that a civil-affairs officer editing a
    TOML file can go straight to the line.
    """

    def __init__(self, path: str | Path, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key or "(top level)"
        self.problem = problem
        super().__init__(f"{self.path}: {self.key}: {problem}")


class ScenarioErrors(ScenarioError):
    """Several problems found in one file; all are reported at once."""

    def __init__(self, errors: list[ScenarioError]) -> None:
        self.errors = errors
        first = errors[0]
        super().__init__(first.path, first.key, first.problem)
        self.args = ("\n".join(str(e) for e in errors),)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)
