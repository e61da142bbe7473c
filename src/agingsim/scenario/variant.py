"""Load a scenario with some of its values changed: the app's levers and a sweep's axes.

A changed scenario is read through :func:`load_scenario` with the changed contents in place of the
files (:func:`~agingsim.scenario.loader.overlaid`, so relative file references still resolve and
nothing is written beside the inputs): the schema, domain checks and provenance rules
that guard a hand-written file guard a changed one too, and the message for a bad value is the
validator's own. Every number set here is labelled ``assumption = label``, so provenance survives.

Keys are written as in sweep files: ``policy.schemes[0].amount.mild``, ``policy.schemes[*].payers``,
``run.years``, and ``region:``/``margins:``/``ability:`` prefixes for the files the scenario names.
A value of ``None`` removes the key (TOML has no null): e.g. a budget cap the user takes away.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.scenario.files import (
    decode_toml_bytes,
    display_path,
    overlaid,
    parse_toml_text,
    read_toml,
    resolve_input,
)
from agingsim.scenario.loader import Scenario, load_scenario
from agingsim.sweep.overrides import FILE_FOLDERS, FILE_REFS, KeyPath, parse_key, set_value


def parse_scenario_text(text: str | bytes, name: str | Path) -> dict[str, Any]:
    """Parsed TOML of an uploaded or edited scenario; a ScenarioError naming ``name`` if unreadable."""
    raw = decode_toml_bytes(Path(name), text) if isinstance(text, bytes) else text
    return parse_toml_text(name, raw)  # GBK files and deep nesting are clear errors


def load_scenario_with(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    label: str = "changed by the user",
    data: dict[str, Any] | None = None,
    shown_as: str | None = None,
) -> Scenario:
    """The scenario at ``path`` with ``overrides`` (key → value) applied, validated by the loader.

    ``data`` replaces the file's parsed contents (an upload: ``path`` then only says where relative
    references resolve from, and need not exist). Errors name the original file (or ``shown_as``)
    and, where a changed value caused them, the key and value.
    """
    path = Path(path).resolve()
    shown = shown_as or display_path(path)
    overrides = dict(overrides or {})
    if not overrides and data is None:
        return load_scenario(path)
    scenario = copy.deepcopy(data) if data is not None else read_toml(path)
    keys: list[tuple[KeyPath, Any]] = []
    for text, value in overrides.items():
        try:
            keys.append((parse_key(text), value))
        except ValueError as exc:
            raise ScenarioError(shown, text, str(exc)) from None
    files: dict[str, tuple[Path, dict[str, Any]]] = {}
    # scenario keys first: they may change which region, margins or ability file is used
    for key, value in sorted(keys, key=lambda kv: kv[0].file != "scenario"):
        if key.file == "scenario":
            target, where = scenario, shown
        else:
            if key.file not in files:
                name = str(scenario.get("population", {}).get(FILE_REFS[key.file], ""))
                ref = f"population.{FILE_REFS[key.file]}"
                original = resolve_input(name, FILE_FOLDERS[key.file], path, ref)
                files[key.file] = (original, read_toml(original))
            target, where = files[key.file][1], display_path(files[key.file][0])
        try:
            if value is None:
                _remove(target, key)
            else:
                set_value(target, key, _labelled(value, label), label)
        except ValueError as exc:
            raise ScenarioError(where, key.dotted(), f"value {value!r}: {exc}") from None
    # the changed files are read in place of the originals (loader.overlaid): relative references
    # resolve as in the originals and nothing is written beside them (a read-only install works)
    changed = {"scenario": path} | {kind: original for kind, (original, _) in files.items()}
    overlay = {path: scenario} | {original: contents for original, contents in files.values()}
    try:
        with overlaid(overlay):
            loaded = load_scenario(path)
    except ScenarioError as exc:
        raise _explain(exc, changed, files, shown, keys) from None
    originals = {"scenario": shown} | {k: display_path(p) for k, (p, _) in files.items()}
    suffix = f" ({label})" if overrides else ""
    names = {display_path(changed[k]): f"{originals[k]}{suffix}" for k in changed}
    figures = [replace(f, file=names.get(f.file, f.file)) for f in loaded.figures]
    inputs = {names.get(k, k): v for k, v in loaded.inputs.items()}
    return replace(loaded, path=path, figures=figures, inputs=inputs)


def _explain(
    exc: ScenarioError,
    changed: dict[str, Path],
    files: dict[str, tuple[Path, dict[str, Any]]],
    shown: str,
    keys: list[tuple[KeyPath, Any]],
) -> ScenarioError:
    """The loader's errors, naming the file as the user knows it and the value set that caused them."""
    kinds = {str(p): k for k, p in changed.items()} | {display_path(p): k for k, p in changed.items()}
    originals = {"scenario": shown} | {k: display_path(p) for k, (p, _) in files.items()}
    out = []
    for e in exc.errors if isinstance(exc, ScenarioErrors) else [exc]:
        kind = kinds.get(e.path)
        if kind is None:
            out.append(e)
            continue
        blamed = [(k, v) for k, v in keys if k.file == kind and k.matches(e.key)]
        problem = e.problem
        if blamed:
            problem += " (changed: " + ", ".join(f"{k.text} = {v!r}" for k, v in blamed) + ")"
        out.append(ScenarioError(originals[kind], e.key, problem))
    return ScenarioErrors(out)


def _labelled(value: Any, label: str) -> Any:
    """A table of numbers (a budget cap by level, a dated amount) carries the label on itself."""
    numbers = isinstance(value, dict) and any(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
    )
    if numbers and not any(k in value for k in ("source", "assumption")):
        return {**value, "assumption": label}
    return value


def _remove(data: dict[str, Any], key: KeyPath) -> None:
    """Delete the key's last part from its table; a missing key is already removed."""
    node: Any = data
    for part in key.parts[:-1]:
        if part is None:
            raise ValueError("[*] cannot be used to remove a key")
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    last = key.parts[-1]
    if isinstance(node, dict) and isinstance(last, str):
        node.pop(last, None)
    else:
        raise ValueError("only a table's key can be removed")
