"""Dated parameters: a value that changes on given months, as in OpenFisca/PolicyEngine.

In TOML a dated parameter is a table whose keys are start months::

    amount = { "2024-07" = 200, "2027-01" = 300 }      # 200 from July 2024, 300 from January 2027

A plain value is in force for the whole run. Before its first start month a dated parameter is not in
force (``None``), which is how a scheme starts in a given year; a scheme ends with ``active`` set to
false from a month on. Months are counted as ``year * 12 + (month - 1)``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_MONTH = re.compile(r"^(\d{4})(?:-(\d{1,2}))?$")
ALWAYS = -(10**9)


def month_key(year: int, month: int = 1) -> int:
    return year * 12 + (month - 1)


def parse_month(text: str) -> int:
    """``"2027-01"`` or ``"2027"`` → month key; ValueError otherwise."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2) or 1) <= 12:
        raise ValueError(f"'{text}' is not a month (write YYYY-MM)")
    return month_key(int(m.group(1)), int(m.group(2) or 1))


def format_month(key: int) -> str:
    return "always" if key == ALWAYS else f"{key // 12}-{key % 12 + 1:02d}"


def is_dated_table(raw: Any) -> bool:
    return isinstance(raw, dict) and bool(raw) and all(_MONTH.match(str(k)) for k in raw)


@dataclass(frozen=True)
class Dated(Generic[T]):
    """A step function of the month: ``values[i]`` from ``starts[i]`` until the next start."""

    starts: tuple[int, ...]
    values: tuple[T, ...]

    @classmethod
    def constant(cls, value: T) -> Dated[T]:
        return cls((ALWAYS,), (value,))

    def at(self, month: int) -> T | None:
        i = bisect_right(self.starts, month) - 1
        return self.values[i] if i >= 0 else None

    def change_months(self) -> tuple[int, ...]:
        return self.starts


def parse_dated(raw: Any, convert: Any = lambda v: v) -> Dated[Any]:
    """A plain value or a table of start months; ``convert`` validates each value.

    Raises ValueError for a malformed month, or two keys naming the same month ("2027-1" and
    "2027-01"): overlapping dates.
    """
    if not is_dated_table(raw):
        return Dated.constant(convert(raw))
    pairs: dict[int, Any] = {}
    for text, value in raw.items():
        key = parse_month(str(text))
        if key in pairs:
            raise ValueError(f"overlapping dates: {format_month(key)} is given twice")
        pairs[key] = convert(value)
    starts = tuple(sorted(pairs))
    return Dated(starts, tuple(pairs[s] for s in starts))
