"""A disk cache of the monthly transition matrices P = expm(Q/12), so that a repeat run neither
imports scipy.linalg nor calls expm.

Why: a city run's ability model is 92 per-cell ``scipy.linalg.expm`` (a calendar-time scenario's,
~40 stacked sets), and scipy.linalg's import alone is 0.05–0.16 s of the run's start; the matrices
depend only on Q, which the same scenario builds again run after run.

Safe by construction:

- the key is a SHA-256 of Q's exact bytes, shape and dtype, of the code that computes P from it
  (the compute function's bytecode and constants, and of the functions it calls here), and of the
  numpy and scipy versions and the machine: any change computes afresh;
- each file carries the SHA-256 of its contents and is checked on read (magic, digest, shape, dtype);
  anything that does not match, or cannot be read, is computed again and rewritten;
- files are written to a temporary name in the cache folder and renamed into place (atomic), so a
  reader never sees half a file and concurrent runs can share the folder;
- a cache that cannot be written (read-only home, full disk) is skipped silently: a run never fails
  or changes because of it. The cached P is the computed P bit for bit, so outputs are byte-identical.

Where: ``$AGINGSIM_CACHE_DIR`` if set, else the user cache folder platformdirs gives
(``$XDG_CACHE_HOME/agingsim`` or ``~/.cache/agingsim`` on Linux, ``~/Library/Caches/agingsim`` on
macOS, ``%LOCALAPPDATA%\\agingsim\\Cache`` on Windows), in ``matrices/``. ``AGINGSIM_NO_CACHE=1``
turns it off. Deleting the folder clears it. At most :data:`MAX_FILES` files are kept (each
~24 KB); past that the oldest half is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import FunctionType

import numpy as np

#: first bytes of a cache file; bump the digit when the file layout changes
MAGIC = b"agingsim-matrices-1\n"
#: files kept in the cache folder before the oldest half is removed (a sweep over ability
#: parameters makes one file per point)
MAX_FILES = 2000
_DIGEST = 32  # bytes of SHA-256


def cache_dir() -> Path | None:
    """The folder of cached matrices, or None when the cache is off (``AGINGSIM_NO_CACHE``)."""
    if os.environ.get("AGINGSIM_NO_CACHE", "").strip() not in ("", "0"):
        return None
    env = os.environ.get("AGINGSIM_CACHE_DIR")
    if env:
        return Path(env) / "matrices"
    from platformdirs import user_cache_path  # the platform's user cache folder (XDG on Linux)

    return user_cache_path("agingsim", appauthor=False) / "matrices"


def _code_digest(fn: Callable[..., object], seen: set[str] | None = None) -> bytes:
    """A digest of ``fn``'s bytecode and constants, of the module constants it reads and of the
    functions of its module it calls, so that an edit to the computation is a new key without anyone
    remembering to bump a version."""
    seen = set() if seen is None else seen
    h = hashlib.sha256()
    code = getattr(fn, "__code__", None)
    if code is None:
        return h.digest()
    seen.add(fn.__qualname__)
    h.update(code.co_code)
    h.update(repr(code.co_consts).encode())
    h.update(repr(code.co_names).encode())
    module_globals = getattr(fn, "__globals__", {})
    for name in code.co_names:
        other = module_globals.get(name)
        if isinstance(other, FunctionType) and other.__module__ == fn.__module__:
            if other.__qualname__ not in seen:
                h.update(_code_digest(other, seen))
        elif isinstance(other, int | float | str):  # a module constant (MONTHS_PER_YEAR)
            h.update(f"{name}={other!r}".encode())
    return h.digest()


@cache
def _versions() -> str:
    """numpy's and scipy's versions and the machine: what else can move P's last bits (read once per
    process: the metadata lookup is ~3 ms, and a calendar-time scenario keys ~16 sets of matrices)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        scipy_version = version("scipy")
    except PackageNotFoundError:
        scipy_version = "none"
    import platform

    return f"numpy {np.__version__}; scipy {scipy_version}; {sys.platform} {platform.machine()}"


def matrix_key(q: np.ndarray, compute: Callable[[np.ndarray], np.ndarray]) -> str:
    """The cache key of ``compute(q)`` (see the module docstring)."""
    h = hashlib.sha256(MAGIC)
    h.update(f"{compute.__module__}.{compute.__qualname__}".encode())
    h.update(_code_digest(compute))
    h.update(_versions().encode())
    h.update(f"{q.dtype.str} {q.shape}".encode())
    h.update(np.ascontiguousarray(q).tobytes())
    return h.hexdigest()


def _read(path: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """The array in ``path`` if the file is whole and as written, else None."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + _DIGEST
    if len(data) <= head or not data.startswith(MAGIC):
        return None
    payload = data[head:]
    if hashlib.sha256(payload).digest() != data[len(MAGIC) : head]:
        return None
    try:
        p = np.load(io.BytesIO(payload), allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None
    if p.shape != shape or p.dtype != np.float64:
        return None
    return p


def _write(path: Path, p: np.ndarray) -> None:
    """Write ``p`` to ``path`` atomically; any OS error leaves the cache as it was."""
    buf = io.BytesIO()
    np.save(buf, p, allow_pickle=False)
    payload = buf.getvalue()
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
        tmp = None
        _prune(path.parent, keep=path.name)
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _prune(folder: Path, keep: str) -> None:
    """Keep the folder to :data:`MAX_FILES` files: past that, remove the oldest half (never ``keep``,
    the file just written: files written within one clock tick share their mtime)."""
    entries = [e for e in os.scandir(folder) if e.is_file() and e.name.endswith(".npy")]
    if len(entries) <= MAX_FILES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime)
    for entry in [e for e in entries if e.name != keep][: len(entries) // 2]:
        with contextlib.suppress(OSError):
            os.unlink(entry.path)


def cached_matrices(q: np.ndarray, compute: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``compute(q)``, read from the disk cache when it holds it, else computed and stored."""
    folder = cache_dir()
    if folder is None:
        return compute(q)
    path = folder / f"{matrix_key(q, compute)}.npy"
    p = _read(path, q.shape)
    if p is None:
        p = compute(q)
        _write(path, p)
    return p
