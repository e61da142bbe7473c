"""Set values at dotted key paths in parsed scenario files, and write them back as TOML.

A sweep may vary any figure of any input file, so a varied scenario is written out as TOML and read
back through :func:`agingsim.scenario.load_scenario`: the schema, domain checks and provenance rules
that guard a hand-written file guard a swept one too. Every number a sweep sets is labelled
``assumption = "set by sweep <name>, axis <key>"``, so provenance survives the sweep.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from agingsim.scenario.provenance import is_wrapped_figure

#: Files a key can address, by prefix (``region:entry.annual_growth``), and the scenario's reference.
FILE_REFS = {"region": "region", "margins": "margins", "ability": "ability_model", "behaviour": "behaviour"}
#: Calibration folder searched for a bare name, per file kind (as in the loader).
FILE_FOLDERS = {"region": "regions", "margins": "margins", "ability": "ability", "behaviour": "behaviour"}

_TOKEN = re.compile(r'(\.)?(?:([A-Za-z0-9_-]+)|"([^"\\]*)")|\[(\d+|\*)\]')
_BARE = re.compile(r"[A-Za-z0-9_-]+")

Part = str | int | None  # None is the wildcard ``[*]``


@dataclass(frozen=True)
class KeyPath:
    """A parsed key: which file, and the path inside it (``None`` parts match every list item)."""

    file: str
    parts: tuple[Part, ...]
    text: str

    def dotted(self) -> str:
        """The key as the loader spells it in error messages (``a.b[0].c``; ``[*]`` kept)."""
        out = ""
        for p in self.parts:
            if p is None:
                out += "[*]"
            elif isinstance(p, int):
                out += f"[{p}]"
            else:
                out += f".{p}" if out else p
        return out

    def matches(self, loader_key: str) -> bool:
        """True if an error at ``loader_key`` is about this key: the same node, a child or a parent."""
        pattern = self.dotted()
        if re.match(_regex(pattern) + r"(?:$|[.\[])", loader_key):
            return True
        cuts = [i for i, c in enumerate(pattern) if c in ".["]
        return any(re.fullmatch(_regex(pattern[:i]), loader_key) for i in cuts)


def _regex(dotted: str) -> str:
    return re.escape(dotted).replace(re.escape("[*]"), r"\[\d+\]")


def parse_key(text: str) -> KeyPath:
    """Parse ``[file:]name(.name | ."quoted" | [i] | [*])*``; raise ValueError naming the problem."""
    file, rest = "scenario", text.strip()
    head, sep, tail = rest.partition(":")
    if sep and _BARE.fullmatch(head):
        if head not in FILE_REFS and head != "scenario":
            raise ValueError(f"unknown file prefix '{head}:'; use region:, margins:, ability: or behaviour:")
        file, rest = head, tail
    parts: list[Part] = []
    pos = 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if m is None or (m.group(1) is None and parts and m.group(4) is None) or (m.group(1) and not parts):
            raise ValueError(f"cannot read the key at '{rest[pos:]}' (write e.g. policy.schemes[0].amount)")
        if m.group(4) is not None:
            parts.append(None if m.group(4) == "*" else int(m.group(4)))
        else:
            parts.append(m.group(2) if m.group(2) is not None else m.group(3))
        pos = m.end()
    if not parts or not isinstance(parts[0], str):
        raise ValueError("empty key")
    return KeyPath(file, tuple(parts), text.strip())


def _show(trail: list[Part]) -> str:
    return KeyPath("scenario", tuple(trail), "").dotted() or "(top level)"


def _targets(node: Any, parts: tuple[Part, ...], trail: list[Part]) -> list[tuple[Any, str | int]]:
    """Every (container, key) a path addresses; a trailing ``.value`` of a wrapped figure is the figure."""
    part, rest = parts[0], parts[1:]
    if part is None or isinstance(part, int):
        if not isinstance(node, list):
            raise ValueError(
                f"'{_show(trail)}' is not a list, so it has no [{'*' if part is None else part}]"
            )
        indices = range(len(node)) if part is None else [part]
        if part is not None and part >= len(node):
            raise ValueError(f"'{_show(trail)}' has {len(node)} items; index {part} is out of range")
    else:
        if not isinstance(node, dict):
            raise ValueError(f"'{_show(trail)}' is not a table, so it has no key '{part}'")
        if part not in node and rest:
            known = ", ".join(k for k in node if k not in ("source", "assumption")) or "(none)"
            raise ValueError(f"'{_show([*trail, part])}' not found; keys there: {known}")
        indices = [part]
    out: list[tuple[Any, str | int]] = []
    for i in indices:
        if not rest or (rest == ("value",) and is_wrapped_figure(node[i])):
            out.append((node, i))
        else:
            out += _targets(node[i], rest, [*trail, i])
    return out


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _kind(x: Any) -> str | None:
    if _is_number(x):
        return "number"
    if isinstance(x, bool):
        return "true/false"
    if isinstance(x, str):
        return "text"
    return None


def set_value(data: dict[str, Any], key: KeyPath, value: Any, label: str) -> None:
    """Set ``value`` everywhere ``key`` points, labelling numbers with ``assumption = label``.

    A key must lead through existing tables and lists; only its last name may be new (the schema then
    says whether it is allowed). A value of another kind than the one it replaces is an error here,
    before any file is written.
    """
    targets = _targets(data, key.parts, [])
    if not targets:
        raise ValueError(f"'{key.dotted()}' matches nothing (an empty list?)")
    for container, k in targets:
        present = isinstance(container, list) or k in container
        old = container[k] if present else None
        if is_wrapped_figure(old):
            old = old["value"]
        was, now = _kind(old), _kind(value)
        if was is not None and now is not None and was != now:
            raise ValueError(f"'{key.dotted()}' holds a {was}; got {value!r}")
        numeric = _is_number(value) or (isinstance(value, list) and any(_is_number(v) for v in value))
        container[k] = {"value": value, "assumption": label} if numeric else value


# --------------------------------------------------------------------------- TOML writer


def _key(k: str) -> str:
    return k if _BARE.fullmatch(k) else json.dumps(k, ensure_ascii=False)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _inline(v: Any) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_inline(x)}" for k, x in v.items()) + " }" if v else "{}"
    if isinstance(v, list):
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    return _scalar(v)


def _is_section(v: Any) -> bool:
    """Tables holding tables get a ``[header]``; small ones (wrapped figures, dated values) stay inline."""
    return isinstance(v, dict) and any(isinstance(x, dict) or _is_section_array(x) for x in v.values())


def _is_section_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(d: dict[str, Any], path: str, out: list[str]) -> None:
    for k, v in d.items():
        if not (_is_section(v) or _is_section_array(v)):
            out.append(f"{_key(k)} = {_inline(v)}")
    for k, v in d.items():
        sub = f"{path}.{_key(k)}" if path else _key(k)
        if _is_section(v):
            out += ["", f"[{sub}]"]
            _table(v, sub, out)
        elif _is_section_array(v):
            for item in v:
                out += ["", f"[[{sub}]]"]
                _table(item, sub, out)


def dumps(data: dict[str, Any]) -> str:
    """TOML text that :mod:`tomllib` reads back to ``data`` (deterministic: same data, same text)."""
    out: list[str] = []
    _table(data, "", out)
    return "\n".join(out).lstrip("\n") + "\n"
