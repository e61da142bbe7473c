"""The app's temporary folders: one per process (runs, comparisons, sessions), removed at exit, and
those of app processes that died removed at the next start; nothing is written beside the bundled
scenarios, which may be read-only and are shared by every session."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agingsim.app.sources import Source

#: Prefix of each app process's temporary folder (its pid follows, so a later start can tell
#: whose process has died and remove what it left behind).
TEMP_PREFIX = "agingsim-app-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_orphans(tmp: Path | None = None) -> list[Path]:
    """Remove the temporary folders of app processes that have died (a crash skips their clean-up)."""
    removed = []
    for folder in Path(tmp or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
        m = re.match(rf"{TEMP_PREFIX}(\d+)-", folder.name)
        if folder.is_dir() and m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def process_folder() -> Path:
    """This process's temporary folder (runs, comparisons, sessions), removed when it exits; the
    folders of dead app processes are removed first."""
    clean_orphans()
    folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


_ROOT: list[Path] = []
_ROOT_LOCK = threading.Lock()


def process_root() -> Path:
    """The folder this process's runs, comparisons and sessions share (process_folder, made once)."""
    with _ROOT_LOCK:
        if not _ROOT:
            _ROOT.append(process_folder())
        return _ROOT[0]


def session_folder(session: str | None = None) -> Path:
    """A folder of one browser session's own for its uploads and changed scenarios."""
    folder = process_root() / "sessions" / (session or uuid.uuid4().hex)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_upload(folder: Path, source: Source, data: bytes) -> Path:
    """Keep an upload in the session's folder (never in ``scenarios/``)."""
    path = folder / "uploads" / f"{source.digest[:12]}-{source.name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
