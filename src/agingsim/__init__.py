"""agingsim: agent-based costing of elderly-care subsidy schemes in China.

The package is laid out as the monthly pipeline it simulates: ``population`` (the people arrays),
``ability`` (GB/T 42195-2022 ability levels and death), ``scenario`` (validated TOML input with
provenance), ``model`` (the mesa.Model that wires a month) and ``results`` (atomic output files).
"""

import os

# One OpenBLAS thread unless the user asks for more (set before numpy loads). agingsim's matrices are
# tiny (6×6 transition matrices, county × level tables) and its own threads split the arrays of
# people (parallel.py); OpenBLAS's per-core threads only contend for the cores. Measured on the
# project's shared 2-core machine: building the ability model (92 expm) took 0.5–1.2 s with them and
# 10–30 ms without.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``agingsim.__version__``, read from the installed metadata on first use: importing
    importlib.metadata costs ~50 ms, half of ``agingsim --help``, which does not need it."""
    if name != "__version__":
        raise AttributeError(f"module 'agingsim' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("agingsim")
    except PackageNotFoundError:  # running from a source tree without installation
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
