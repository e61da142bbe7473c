"""The languages every label, message and note is written in: Chinese first, then English.

Its own module below labels.py and problems.py, which both word things per language."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
