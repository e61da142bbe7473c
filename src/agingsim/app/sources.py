"""Scenario sources the page can run: the bundled files (parsed once per content), a file, or an
upload; each loaded with the user's changes (written to the session's folder, never beside the
bundled files) or written back as a TOML whose changed values say they were set in the app."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agingsim.app.workdirs import session_folder
from agingsim.scenario import Scenario, load_scenario, project_root
from agingsim.scenario.files import display_path
from agingsim.scenario.variant import load_scenario_with, parse_scenario_text

#: The label every value changed in the app carries in assumptions.csv.
APP_LABEL = "changed in the agingsim app"
#: Files the app or a sweep writes beside a scenario (never listed as bundled scenarios).
_WRITTEN = re.compile(r"^\.|\.variant-|\.sweep-|\.tmp")
#: Scenario keys that name another file: a relative ``*.toml`` path resolves from the scenario's folder.
FILE_KEYS = (
    ("population", "region"),
    ("population", "margins"),
    ("population", "ability_model"),
    ("population", "behaviour"),
    ("geography", "communities"),
)


@dataclass(frozen=True)
class Source:
    """A scenario the user picked: a bundled file, or an upload kept as its parsed text."""

    name: str
    path: Path  # where relative references resolve from (an upload's is virtual, in scenarios/)
    raw: dict[str, Any]
    digest: str
    uploaded: bool = False

    @property
    def id(self) -> str:
        """How the page state names the source: a bundled file's name, or ``upload:`` and a digest."""
        return f"upload:{self.digest[:12]}" if self.uploaded else self.name

    @property
    def title(self) -> tuple[str, str]:
        meta = self.raw.get("scenario", {}) if isinstance(self.raw.get("scenario"), dict) else {}
        name = str(meta.get("name", self.name))
        return name, str(meta.get("name_en", "") or name)


def bundled_paths() -> list[Path]:
    """The bundled scenarios, the default first: the project's own files in ``scenarios/`` and the
    headline pair in ``scenarios/headline/``, never a hidden or written-by-a-run file (an older app
    or a killed sweep may have left one there)."""
    folder = project_root() / "scenarios"
    found = [*sorted(folder.glob("*.toml")), *sorted((folder / "headline").glob("*.toml"))]
    paths = [p for p in found if p.is_file() and not _WRITTEN.search(p.name)]
    return sorted(paths, key=lambda p: p.stem != "default")  # the headline pair (supply vs demand) last


#: bundled_sources' parsed files by path (each Source carries the hash of the bytes it was parsed from)
_PARSED: dict[Path, Source] = {}
_PARSED_LOCK = threading.Lock()


def bundled_sources() -> dict[str, Source]:
    """The bundled scenarios (bundled_paths) as sources, by file name. Each file is read every time
    but parsed again only when its bytes change (by hash), so an edited file is always seen: the
    page asks for them several times a run, and parsing every file each time was most of that."""
    found: dict[str, Source] = {}
    for path in bundled_paths():
        path = path.resolve()
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        with _PARSED_LOCK:
            known = _PARSED.get(path)
        if known is None or known.digest != digest:
            known = Source(path.name, path, parse_scenario_text(data, path.name), digest)
            with _PARSED_LOCK:
                _PARSED[path] = known
        found[known.name] = known
    return found


def from_file(path: str | Path) -> Source:
    path = Path(path).resolve()
    data = path.read_bytes()
    raw = parse_scenario_text(data, path.name)
    return Source(path.name, path, raw, hashlib.sha256(data).hexdigest())


def from_upload(name: str, data: bytes) -> Source:
    """An uploaded TOML; bad text is a ScenarioError naming the file (the loader checks the rest)."""
    shown = Path(name).name or "upload.toml"
    raw = parse_scenario_text(data, shown)
    return Source(shown, project_root() / "scenarios" / shown, raw, hashlib.sha256(data).hexdigest(), True)


def absolute_refs(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``raw`` with each relative ``*.toml`` file it names made absolute from ``folder``, so that a
    copy of the scenario written elsewhere (the session's folder) names the same files."""
    out = dict(raw)
    for table, key in FILE_KEYS:
        section = out.get(table)
        if not isinstance(section, dict) or not isinstance(section.get(key), str):
            continue
        name = section[key]
        if (name.endswith(".toml") or "/" in name) and not Path(name).is_absolute():
            out[table] = {**section, key: str((folder / name).resolve())}
    return out


def load(
    source: Source,
    overrides: Mapping[str, Any] | None = None,
    workdir: Path | None = None,
    **run: int | None,
) -> Scenario:
    """The source's scenario with the overrides and run settings applied, validated by the loader.

    A changed or uploaded scenario is written to ``workdir`` (the session's temporary folder, by
    default a fresh one of this process), never beside the bundled files: the install may be
    read-only and another session must never see it.
    """
    if not overrides and not source.uploaded:
        scenario = load_scenario(source.path)
    else:
        folder = workdir or session_folder()
        scenario = load_scenario_with(
            folder / source.name,
            overrides,
            label=APP_LABEL,
            data=absolute_refs(source.raw, source.path.parent),
            shown_as=f"{source.name} (uploaded)" if source.uploaded else display_path(source.path),
        )
        written = (folder / source.name).resolve()
        # named after its source; its changed contents go with the new name (loaded again by draws)
        overlay = {source.path.resolve() if p == written else p: d for p, d in scenario.overlay.items()}
        scenario = replace(scenario, path=source.path, overlay=overlay)
    return scenario.with_run(**run)


#: How a value changed in the app is labelled in a downloaded scenario file.
SET_IN_APP = "set in the app: {new} (the file had {old}{why})"


def scenario_toml(source: Source, overrides: Mapping[str, Any]) -> str:
    """The source's scenario file with the overrides applied, as TOML: each changed figure carries
    ``assumption = "set in the app: …"`` naming the file's value and its label, so the file is a
    valid scenario of its own that loads back to the scenario the page ran."""
    import copy

    from agingsim.scenario.provenance import strip_provenance, value_at
    from agingsim.scenario.variant import _labelled, _remove
    from agingsim.sweep.overrides import dumps, parse_key, set_value

    data = copy.deepcopy(source.raw)
    plain, labels, _ = strip_provenance(source.raw)
    for text, value in overrides.items():
        key = parse_key(text)
        dotted = text.replace('"', "")
        try:
            old: Any = value_at(plain, dotted)
        except (KeyError, IndexError, TypeError, ValueError):
            old = None
        was = labels.get(dotted)
        why = f"; {was.kind}: {was.text}" if was is not None else ""
        note = SET_IN_APP.format(new=_short(value), old=_short(old), why=why)
        if value is None:
            _remove(data, key)
        else:
            set_value(data, key, _labelled(value, note), note)
    return dumps(data)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} = {v}" for k, v in value.items() if k not in ("source", "assumption"))
    return "none" if value is None else str(value)
