"""agingsim: agent-based costing of elderly-care subsidy schemes in China.

The package is laid out as the monthly pipeline it simulates: ``population`` (the people arrays),
``ability`` (GB/T 42195-2022 ability levels and death), ``scenario`` (validated TOML input with
provenance), ``model`` (the mesa.Model that wires a month) and ``results`` (atomic output files).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("agingsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
