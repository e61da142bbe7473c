"""Start-up costs of the libraries a run imports, kept off the clock without changing what they do.

mesa 3.3 (``mesa_logging.create_module_logger`` and ``method_logger``, at import) and salabim
(``Environment()``, ``_get_caller_frame``) call :func:`inspect.stack` only to learn their caller's
module, function or file. ``inspect.stack`` also reads the source of every frame on the stack, and
for each frame without a file on disk (every ``<frozen importlib>`` frame of a nested import) it
scans all of ``sys.modules``, resolving each module's path once (CPython issue 92041: the cost
grows with the number of modules loaded). With pandas, scipy and pydantic loaded that was 0.3–1 s
of a city run's start (cProfile: 345 ``getmodule`` calls, 12,700 ``lstat``), for answers the frame
objects already carry.

:func:`shallow_inspect` answers those calls from the frames themselves while it is active: the
same frames, file names, line numbers and function names, without the source lines
(``code_context`` is None), and a frame's module is the one its globals belong to.
"""

from __future__ import annotations

import inspect
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, ModuleType
from typing import Any

_lock = threading.RLock()  # one patch at a time; a nested block re-enters


def _frames(frame: FrameType | None) -> list[inspect.FrameInfo]:
    """``frame`` and its callers outward, as :func:`inspect.stack` lists them (without source)."""
    out = []
    while frame is not None:
        code = frame.f_code
        out.append(inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None))
        frame = frame.f_back
    return out


@contextmanager
def shallow_inspect() -> Iterator[None]:
    """Within the block, :func:`inspect.stack`, :func:`inspect.getouterframes` and
    :func:`inspect.getmodule` (of a frame) read the frames only; restored on leaving."""
    with _lock:
        saved = inspect.stack, inspect.getouterframes, inspect.getmodule
        getmodule = saved[2]

        def stack(context: int = 1) -> list[inspect.FrameInfo]:
            return _frames(sys._getframe(1))

        def getouterframes(frame: FrameType, context: int = 1) -> list[inspect.FrameInfo]:
            return _frames(frame)

        def module_of(obj: Any, _filename: str | None = None) -> ModuleType | None:
            if inspect.isframe(obj):
                module = sys.modules.get(obj.f_globals.get("__name__", ""))
                if module is not None:
                    return module
            return getmodule(obj, _filename)

        inspect.stack, inspect.getouterframes, inspect.getmodule = stack, getouterframes, module_of  # type: ignore[assignment]
        try:
            yield
        finally:
            inspect.stack, inspect.getouterframes, inspect.getmodule = saved
