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

:func:`defer_submodules` keeps the parts of a package that a run never touches from loading with
it: ``import mesa`` runs ``import mesa.experimental``, whose ``continuous_space`` imports
``scipy.spatial`` (with scipy 1.17's docstring parsing, 0.3–0.5 s of a city run's start) although
the model uses only ``mesa.Model`` and ``mesa.DataCollector``.

:func:`defer_lazy_submodules` does the same for a package already imported whose own ``__getattr__``
imports a submodule on first use: scipy 1.17's ``array_api_compat.numpy`` (loaded by
``scipy.linalg``, for ``expm``) asks numpy for every name in ``dir(numpy)``, which imports
``numpy.f2py`` (its Fortran parser, ~40 ms of a city run's start) and ``numpy.testing`` only to copy
the module objects.

:func:`pandas_without_pyarrow` imports pandas as if pyarrow were not installed, for a one-shot
``agingsim run``: pandas 3 imports pyarrow (and ``pyarrow.compute``) when it is installed, to back
its default string columns (the app's streamlit needs pyarrow, so it is), while a run's frames are
small and come out the same with pandas' own string storage (the run's outputs are byte-identical
either way; tests/test_startup.py). That import was 0.06–0.1 s of a city run's 1.2–1.4 s.

:func:`frozen_start` is for a one-shot command's start (its imports and input loading): the cyclic
garbage collector is off meanwhile (modules, classes and the validated inputs live until exit; the
collections during a city run's imports found ~0 garbage and cost ~0.05 s), and what is alive at the
end is frozen (:func:`gc.freeze`) so that no later collection walks it again: each full collection
during the run, and the one at interpreter exit, walked all of it (0.17–0.28 s of GC in a 2.2–2.6 s
``agingsim run``, measured with ``gc.callbacks``).
"""

from __future__ import annotations

import gc
import importlib.machinery
import importlib.util
import inspect
import sys
import threading
from collections.abc import Callable, Iterator
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


def pandas_without_pyarrow() -> None:
    """Import pandas with pyarrow hidden from it, unless either is already loaded. Only for a
    process that exits after one run (``cli.cmd_run``): pandas then keeps pyarrow off for the rest
    of the process (its string columns use pandas' own storage; parquet and Arrow-backed dtypes are
    unavailable), although a later ``import pyarrow`` itself works."""
    if "pandas" in sys.modules or "pyarrow" in sys.modules:
        return
    sys.modules["pyarrow"] = None  # type: ignore[assignment]  # "import pyarrow" raises ImportError
    try:
        import pandas  # noqa: F401
    finally:
        del sys.modules["pyarrow"]


@contextmanager
def frozen_start() -> Iterator[None]:
    """Within the block no cyclic garbage collection; on leaving, everything alive is frozen
    (:func:`gc.freeze`, never collected) and the collector is as it was. For the start of a command
    whose process exits after it; a long-lived process (the app's server) should not use it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def defer_submodules(package: str, names: tuple[str, ...]) -> None:
    """Register ``package.<name>`` as modules that run their code on first use, before ``package``
    is imported (nothing happens if it already is).

    Why not :class:`importlib.util.LazyLoader`: its module loads as soon as the import system reads
    its ``__spec__``, which ``import package.name`` inside the package's ``__init__`` does. Here the
    placeholder is the real module object (spec, ``__path__``, file) with a module ``__getattr__``
    (PEP 562) that runs the module's code into it on the first attribute it lacks; its own
    submodules can be imported before that, as usual.
    """
    if package in sys.modules:
        return
    spec = importlib.util.find_spec(package)  # a top-level package: finding it does not import it
    if spec is None or not spec.submodule_search_locations:
        return
    for name in names:
        full = f"{package}.{name}"
        sub = importlib.machinery.PathFinder.find_spec(full, list(spec.submodule_search_locations))
        if full in sys.modules or sub is None or sub.loader is None:
            continue
        sys.modules[full] = _placeholder(sub, DEFERRED_FUNCTIONS.get(full, ()))


def defer_lazy_submodules(package: str, names: tuple[str, ...]) -> None:
    """Give the imported ``package`` placeholders (as :func:`defer_submodules` makes) for the
    submodules ``names`` that its module ``__getattr__`` would import on first access, so that
    merely reading ``package.name`` does not run them; their first attribute does.

    The placeholder is set as the package's attribute too: an import finding a module already in
    ``sys.modules`` does not bind it to its parent, and without the binding ``package.name`` would
    still go to the package's ``__getattr__``."""
    parent = sys.modules.get(package)
    path = getattr(parent, "__path__", None)
    if parent is None or path is None:
        return
    for name in names:
        full = f"{package}.{name}"
        if full in sys.modules or name in vars(parent):
            continue
        sub = importlib.machinery.PathFinder.find_spec(full, list(path))
        if sub is None or sub.loader is None:
            continue
        sys.modules[full] = module = _placeholder(sub)
        setattr(parent, name, module)


def _placeholder(spec: importlib.machinery.ModuleSpec, functions: tuple[str, ...] = ()) -> ModuleType:
    """The module of ``spec``, not yet run: its first missing attribute runs its code into it.

    Each of ``functions`` is there already as a stand-in that runs the module's code on its first
    call and calls the module's own function, so that ``from package.module import function`` (as
    a package's ``__init__`` does) does not run the module."""
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    assert loader is not None

    def run() -> None:
        if "__getattr__" in vars(module):  # not run yet
            del module.__getattr__
            loader.exec_module(module)

    def load(attr: str) -> Any:
        if attr == "__path__":  # the import system asking whether a plain module is a package
            raise AttributeError(attr)
        run()
        return getattr(module, attr)

    def stand_in(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            run()
            return vars(module)[name](*args, **kwargs)

        call.__name__ = call.__qualname__ = name
        return call

    module.__getattr__ = load  # type: ignore[method-assign]
    for name in functions:
        setattr(module, name, stand_in(name))
    return module


#: numpy's lazily imported submodules that scipy.linalg's import touches and a run never uses.
NUMPY_DEFERRED = ("f2py", "testing")

#: mesa's subpackages that ``import mesa`` loads and agingsim does not use (mesa 3.3): experimental
#: (continuous_space → scipy.spatial), the discrete and legacy spaces, and the batch runner (its
#: ``tqdm.auto`` imports asyncio: ~30 ms). Still importable as usual.
MESA_DEFERRED = ("experimental", "discrete_space", "space", "batchrunner")
#: functions that a package's ``__init__`` imports from a deferred module: stand-ins until called
DEFERRED_FUNCTIONS: dict[str, tuple[str, ...]] = {"mesa.batchrunner": ("batch_run",)}
