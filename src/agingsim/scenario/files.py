"""Where a scenario's input files come from and how each is read: the project's data folders, the
confinement of every named path to them, TOML decoding and its limits, and validation with every
figure's provenance checked.

Below both the scenario loader and the geography (which reads its own files the same way), so
neither imports the other.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.scenario.provenance import Provenance, strict_provenance_errors, strip_provenance
from agingsim.scenario.ranges import non_finite
from agingsim.scenario.tables import read_input_bytes

M = TypeVar("M", bound=BaseModel)


def project_root() -> Path:
    """Folder holding ``scenarios/`` and ``calibration/``: $AGINGSIM_HOME or the source checkout."""
    env = os.environ.get("AGINGSIM_HOME")
    return Path(env) if env else Path(__file__).resolve().parents[3]


def default_scenario_path() -> Path:
    return project_root() / "scenarios" / "default.toml"


#: Parsed contents read in place of files (see :func:`overlaid`), by resolved path.
_OVERLAY: ContextVar[dict[Path, dict[str, Any]] | None] = ContextVar("agingsim_overlay", default=None)


@contextmanager
def overlaid(files: Mapping[str | Path, dict[str, Any]]) -> Iterator[None]:
    """Within the block, the loader reads these parsed contents in place of the files at these
    paths: a sweep point's or a lever's changed scenario, region, margins ... are validated by the
    same loader while their relative references still resolve from the originals' folders, and
    nothing is written beside the inputs."""
    current = dict(_OVERLAY.get() or {})
    token = _OVERLAY.set(current | {Path(p).resolve(): d for p, d in files.items()})
    try:
        yield
    finally:
        _OVERLAY.reset(token)


def current_overlay() -> dict[Path, dict[str, Any]]:
    """The contents read in place of files here (:func:`overlaid`), by resolved path."""
    return dict(_OVERLAY.get() or {})


def _overlay(path: Path) -> dict[str, Any] | None:
    files = _OVERLAY.get()
    return files.get(Path(path).resolve()) if files else None


def file_sha256(path: Path) -> str:
    data = _overlay(path)
    if data is not None:  # the changed contents, canonically serialised
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data_roots() -> tuple[Path, ...]:
    """Folders any scenario may read from: the project's calibration/ and scenarios/."""
    root = project_root()
    return tuple((root / d).resolve() for d in ("calibration", "scenarios"))


def confine(path: str | Path, referrer: Path, key: str) -> Path:
    """The resolved ``path`` a file names at ``key``, if it lies in the project's data folders or in
    the referring file's own folder (symlinks are resolved first, so one pointing out is refused).

    An uploaded scenario can thus never make the server read, or echo in an error, a file of its
    own choosing; the message names only what the user wrote."""
    resolved = Path(path).resolve()
    allowed = (*data_roots(), Path(referrer).resolve().parent)
    if not any(resolved.is_relative_to(root) for root in allowed):
        raise ScenarioError(
            referrer,
            key,
            "names a file outside the project's data folders (calibration/, scenarios/) and this "
            "file's own folder; copy the file beside it and name it by its file name",
        )
    return resolved


#: Largest input TOML read (bytes): the biggest bundled file is a few tens of kB.
MAX_TOML_BYTES = 5_000_000
#: Deepest nesting of tables and arrays an input may have (the bundled files need 5).
MAX_TOML_DEPTH = 20


def decode_toml_bytes(path: Path, data: bytes) -> str:
    """UTF-8 text of a TOML file (a BOM is allowed); a GBK/GB18030 file, as saved by many Chinese
    editors, is named as such so the user can re-save it as UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            encoding = "an unknown encoding"
        else:
            encoding = "GBK/GB18030 (not UTF-8)"
        raise ScenarioError(
            path,
            "",
            f"the file is in {encoding}: byte {exc.start} cannot be read as UTF-8; "
            "save it as UTF-8 (文件须为 UTF-8 编码, 请另存为 UTF-8)",
        ) from None


def _nesting_depth(text: str) -> int:
    """Upper bound of the bracket/brace nesting of TOML text (strings are not skipped: a bound)."""
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(depth - 1, 0)
    return deepest


def read_toml(path: Path) -> dict[str, Any]:
    changed = _overlay(path)
    if changed is not None:
        return copy.deepcopy(changed)
    data = read_input_bytes(path, MAX_TOML_BYTES, "TOML", "; not an input file")
    return parse_toml_text(path, decode_toml_bytes(path, data))


def parse_toml_text(path: str | Path, text: str) -> dict[str, Any]:
    """Parsed TOML text (of a file or an upload); too deep nesting and syntax errors name ``path``."""
    if _nesting_depth(text) > MAX_TOML_DEPTH:
        raise ScenarioError(path, "", f"tables or arrays are nested more than {MAX_TOML_DEPTH} deep")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(
            path, "", f"tables or arrays are nested more than {MAX_TOML_DEPTH} deep"
        ) from None


def _loc_to_key(loc: tuple[Any, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        else:
            key += f".{part}" if key else str(part)
    return key


def _non_finite_errors(data: Any, path: Path, prefix: str) -> list[ScenarioError]:
    """Every NaN or infinite number of the data, whatever its field: TOML allows ``nan`` and
    ``inf``, and no input of the model means either."""
    return [
        ScenarioError(
            path, f"{prefix}.{key}" if prefix and key else prefix or key, f"{x!r} is not a finite number"
        )
        for key, x in non_finite(data)
    ]


def validate_file(model: type[M], data: Any, path: Path, prefix: str = "") -> M:
    errors = _non_finite_errors(data, path, prefix)
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        seen = {e.key for e in errors}
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p not in ("function-after",))
            key = _loc_to_key(loc)
            if prefix:
                key = f"{prefix}.{key}" if key else prefix
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see the documented keys)"
            elif (
                err["type"] not in ("missing",)
                and "input" in err
                and not isinstance(err["input"], dict | list)
            ):
                msg = f"{msg} (got {err['input']!r})"
            if not any(k == key or k.startswith((f"{key}.", f"{key}[")) for k in seen):
                errors.append(ScenarioError(path, key, msg))
        raise ScenarioErrors(errors) from None
    if errors:
        raise ScenarioErrors(errors)
    return parsed


#: How a file of each shape is named in messages.
FILE_KINDS = {
    "ScenarioFile": "a scenario",
    "RegionFile": "a region",
    "MarginsFile": "a margins",
    "AbilityModelFile": "an ability-model",
    "BehaviourFile": "a behaviour-model",
    "GeographyFile": "a geography",
    "SweepFile": "a sweep",
}


def load_labelled(path: Path, model: type[M]) -> tuple[M, dict[str, Provenance]]:
    """Read a TOML file, check every figure's provenance, validate it against ``model``."""
    parsed, labels, _ = load_labelled_plain(path, model)
    return parsed, labels


def load_labelled_plain(path: Path, model: type[M]) -> tuple[M, dict[str, Provenance], Any]:
    """As :func:`load_labelled`, also returning the plain data (labels stripped)."""
    raw = read_toml(path)
    known = {f.alias or name for name, f in model.model_fields.items()} | set(model.model_fields)
    if raw and not known & set(raw):
        # not this kind of file at all (a wrong path): say so without listing what it contains
        what = FILE_KINDS.get(model.__name__, "input")
        raise ScenarioError(
            path, "", f"is not {what} file: it has none of the keys {', '.join(sorted(known))}"
        )
    non_finite_errors = [  # labels' spreads (sd, log_sd) too; a figure is named by its key
        ScenarioError(path, e.key.removesuffix(".value"), e.problem)
        for e in _non_finite_errors(raw, path, "")
    ]
    if non_finite_errors:
        raise ScenarioErrors(non_finite_errors)
    plain, labels, missing = strip_provenance(raw)
    errors = strict_provenance_errors(path, missing)
    try:
        parsed = validate_file(model, plain, path)
    except ScenarioErrors as exc:
        raise ScenarioErrors(errors + exc.errors) from None
    if errors:
        raise ScenarioErrors(errors)
    return parsed, labels, plain


def resolve_input(name: str, kind: str, scenario_path: Path, key: str) -> Path:
    """The input file a scenario names at ``key``: a path relative to the scenario (``*.toml``) or a
    bare name in ``calibration/<kind>/``; a missing file is a ScenarioError naming the key."""
    if name.endswith(".toml"):
        path = confine(scenario_path.parent / name, scenario_path, key)
        if not path.is_file():
            raise ScenarioError(scenario_path, key, f"file not found: {name}")
        return path
    folder = project_root() / "calibration" / kind
    path = folder / f"{name}.toml"
    if (
        "/" in name
        or "\\" in name
        or name.startswith(".")
        or not path.resolve().is_relative_to(folder.resolve())
    ):
        raise ScenarioError(
            scenario_path, key, f"'{name}' is not a name in calibration/{kind}/ (or a path ending .toml)"
        )
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.toml"))
        raise ScenarioError(
            scenario_path,
            key,
            f"unknown {kind[:-1] if kind.endswith('s') else kind} '{name}'; "
            f"known: {', '.join(known) or '(none)'}",
        )
    return path


def display_path(path: Path) -> str:
    """How outputs name a file: relative to the project root where possible."""
    try:
        return str(path.resolve().relative_to(project_root()))
    except ValueError:
        return str(path)
