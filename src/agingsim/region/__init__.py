"""Bring your own region: an Excel template a civil-affairs user fills, and its import into the region,
population-base and margins files the model reads (``agingsim region template`` / ``import``).

For the app: :func:`import_workbook` takes a path or an upload's bytes; :func:`template_bytes` gives
the template for a download button. Both are imported on first use, so that building the command
line parser does not load openpyxl.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "ImportedRegion": "agingsim.region.importer",
    "import_workbook": "agingsim.region.importer",
    "template_bytes": "agingsim.region.template",
    "write_template": "agingsim.region.template",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
