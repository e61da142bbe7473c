"""A small TOML writer for the files the region importer produces (the standard library only reads TOML).

Why not a dependency: the files are plain tables of strings, numbers, dates and lists; the importer
reads every file it writes back with :mod:`tomllib` and the scenario loader before keeping it, so a
writer bug cannot leave a wrong file behind.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any

from agingsim.scenario.provenance import is_wrapped_figure

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(k: str) -> str:
    return k if _BARE.match(k) else string(k)


def string(s: str) -> str:
    """A TOML basic string (JSON's escapes are valid TOML; DEL must be escaped too)."""
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"not a finite number: {v!r}")
        return repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        if any(isinstance(x, dict) for x in v):
            return "[\n" + "".join(f"  {value(x)},\n" for x in v) + "]"
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _is_table(v: Any) -> bool:
    return isinstance(v, dict) and not is_wrapped_figure(v)


def dumps(data: dict[str, Any], header: str = "") -> str:
    """TOML text for ``data``: nested dicts as ``[tables]``, lists (of tables too) inline."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]

    def table(node: dict[str, Any], path: list[str]) -> None:
        if path:
            lines.extend(["", "[" + ".".join(key(p) for p in path) + "]"])
        for k, v in node.items():
            if not _is_table(v):
                lines.append(f"{key(k)} = {value(v)}")
        for k, v in node.items():
            if _is_table(v):
                table(v, [*path, k])

    table(data, [])
    return "\n".join(lines).lstrip("\n") + "\n"
