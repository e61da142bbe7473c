"""Errors a user can act on: each names the file, the key and what is wrong."""

from __future__ import annotations

import errno
import sys
import traceback
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


#: errno → what it means for the user, for I/O errors that are not bugs.
_OS_PROBLEMS = {
    errno.ENOSPC: "no space left on the disk",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.EEXIST: "already exists",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EIO: "input/output error (the disk or network file system failed)",
}


def describe_os_error(exc: OSError) -> str:
    """``PATH: PROBLEM`` for an I/O error, in words a user can act on."""
    problem = _OS_PROBLEMS.get(exc.errno or -1, exc.strerror or str(exc))
    where = exc.filename if exc.filename is not None else "(file system)"
    return f"{where}: {problem}; no output was written or replaced"


def report_error(exc: BaseException, debug: bool = False) -> int:
    """Print an error for the user (never a traceback unless ``debug``) and return the exit code:
    2 invalid input (``FILE: KEY: PROBLEM``), 1 anything else, 130 interrupted."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, ScenarioError):
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    if isinstance(exc, AgingsimError):
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if isinstance(exc, OSError):
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    if isinstance(exc, MemoryError):
        print("error: out of memory; try fewer simulated_people or a shorter run", file=sys.stderr)
        return 1
    print(
        f"internal error: {type(exc).__name__}: {exc}\n"
        "This is a bug in agingsim, not in your input; run again with --debug for the traceback "
        "and report it.",
        file=sys.stderr,
    )
    return 1
