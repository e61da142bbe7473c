"""Provenance of every figure in a scenario or calibration file.

Rule (non-negotiable 3): each number carries a ``source`` (document, table, year) or an explicit
``assumption`` with its reasoning. In TOML that is written either

* on a table: ``source = "..."`` or ``assumption = "..."`` applies to every number inside it, nested
  tables included, unless a deeper label overrides it; or
* inline on one figure: ``x = { value = 0.3, source = "seed 002 三(四)" }``.

:func:`strip_provenance` removes the labels, returning the plain data that the schema validates and a
map from each figure's dotted key to its label, which the app shows next to the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

PROVENANCE_KEYS = ("source", "assumption")
#: Keys stating a figure's distribution (drawn per replication by :mod:`agingsim.uncertainty`):
#: ``sd`` (normal), ``log_sd`` (lognormal around the value), ``interval90 = [p05, p95]`` (normal).
SPREAD_KEYS = {"sd", "log_sd", "interval90"}
#: Keys of a wrapped figure: ``{ value = ..., source = ... }``, optionally with a spread.
FIGURE_KEYS = {"value", "source", "assumption", "unit", "note", *SPREAD_KEYS}
#: A top-level table of any input file holding joint distributions of its figures (correlation
#: groups for :mod:`agingsim.uncertainty`); its figures need labels but it is not model data.
UNCERTAINTY_TABLE = "uncertainty"
#: Keys that hold settings or structure, not figures: they need no source.
STRUCTURAL_KEYS = {"run", "age_bands", "levels", "categories", "by", "age_max", "period"}


@dataclass(frozen=True)
class Provenance:
    """Where a figure comes from: a cited ``source`` or a labelled ``assumption``."""

    kind: Literal["source", "assumption"]
    text: str

    def label(self) -> str:
        return f"{self.kind}: {self.text}"


def _own_label(table: dict[str, Any]) -> Provenance | None:
    for kind in PROVENANCE_KEYS:
        text = table.get(kind)
        if isinstance(text, str) and text.strip():
            return Provenance(kind, text.strip())  # type: ignore[arg-type]
    return None


def block_label(data: Any, key: str) -> Provenance | None:
    """The ``source``/``assumption`` of the table at dotted ``key`` itself, or None. A block's label
    reaches assumptions.csv only through the figures under it; a block whose figures carry their
    own labels (or that holds files and dates, not figures) needs it read here."""
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return _own_label(node) if isinstance(node, dict) else None


def is_wrapped_figure(value: Any) -> bool:
    """True for ``{ value = ..., source|assumption = ... }`` and for ``{ value = ..., sd = ... }`` (whose
    label is inherited from its table)."""
    return (
        isinstance(value, dict)
        and "value" in value
        and set(value) <= FIGURE_KEYS
        and any(k in value for k in (*PROVENANCE_KEYS, *SPREAD_KEYS))
    )


def _is_figure(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, list) and any(_is_figure(v) for v in value)


def _join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def strip_provenance(
    data: Any,
) -> tuple[Any, dict[str, Provenance], list[str]]:
    """Return ``(plain_data, provenance_by_key, keys_without_provenance)``.

    ``keys_without_provenance`` lists every number that has neither its own label nor an inherited
    one; the loader turns each into an error naming the key.
    """
    labels: dict[str, Provenance] = {}
    missing: list[str] = []

    def walk(node: Any, path: str, inherited: Provenance | None, structural: bool) -> Any:
        if is_wrapped_figure(node):
            own = _own_label(node) or inherited
            if own is None:
                missing.append(path)
            else:
                labels[path] = own
            return node["value"]
        if isinstance(node, dict):
            here = _own_label(node) or inherited
            out = {}
            for key, value in node.items():
                if key in PROVENANCE_KEYS and isinstance(value, str):
                    continue
                child_structural = structural or key in STRUCTURAL_KEYS
                out[key] = walk(value, _join(path, key), here, child_structural)
            return out
        if isinstance(node, list) and any(isinstance(v, dict) for v in node):
            return [walk(v, _join(path, i), inherited, structural) for i, v in enumerate(node)]
        if _is_figure(node) and not structural:
            if inherited is None:
                missing.append(path)
            else:
                labels[path] = inherited
        return node

    plain = walk(data, "", None, False)
    if isinstance(plain, dict) and UNCERTAINTY_TABLE in plain:
        # distributions of the file's figures: checked for labels above, not part of the model's data
        plain.pop(UNCERTAINTY_TABLE)
        labels = {k: v for k, v in labels.items() if not k.startswith(f"{UNCERTAINTY_TABLE}.")}
    return plain, labels, missing


def strict_provenance_errors(path: Any, missing: list[str]) -> list[Any]:
    """One error per unlabelled figure (imported lazily to keep this module dependency-free)."""
    from agingsim.errors import ScenarioError

    return [
        ScenarioError(
            path,
            key,
            'figure has no source or assumption label (add source = "..." or '
            'assumption = "..." to it or to its table)',
        )
        for key in missing
    ]


def value_at(data: Any, key: str) -> Any:
    """The value at a dotted key with list indices, e.g. ``policy.schemes[0].amount``."""
    node = data
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", key):
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    return node
