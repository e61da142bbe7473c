"""Issue 19: every word the app, workbook and deck show comes from one label table in both languages.

Walks every table of :mod:`agingsim.report.labels` (key → (Chinese, English)) and fails on a key
whose Chinese or English text is missing, whose Chinese has no Chinese in it (an untranslated
English string) or whose English has Chinese in it, or whose two texts take different
``{placeholders}``; and on any label key the code asks for that the table does not have.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from agingsim.report import labels

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]{2,}")
#: The language switch names both languages in both: it must be readable by someone who reads neither
#: the current one.
BILINGUAL = {"app_language"}
TABLES = {
    name: table
    for name, table in vars(labels).items()
    if isinstance(table, dict) and table and all(isinstance(v, tuple) and len(v) == 2 for v in table.values())
}


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_the_label_tables_are_found() -> None:
    assert {"LABELS", "MEASURES", "COLUMNS", "PAYER_LEVELS", "PRIORITY_GROUPS"} <= set(TABLES)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_label_has_chinese_and_english(table: str) -> None:
    problems = []
    for key, (zh, en) in TABLES[table].items():
        if not zh.strip() or not en.strip():
            problems.append(f"{key}: missing {'Chinese' if not zh.strip() else 'English'}")
            continue
        words = re.sub(r"\{[^}]*\}", "", zh)
        if not CJK.search(zh) and WORD.search(words) and zh != en:
            problems.append(f"{key}: Chinese text has no Chinese: {zh!r}")
        if CJK.search(en) and key not in BILINGUAL:
            problems.append(f"{key}: English text has Chinese: {en!r}")
        if _fields(zh) != _fields(en):
            problems.append(f"{key}: placeholders differ: {_fields(zh)} vs {_fields(en)}")
    assert not problems, "\n".join(problems)


def test_every_label_key_the_code_uses_exists() -> None:
    used: dict[str, list[str]] = {}
    call = re.compile(r"""\blabel\(\s*["']([A-Za-z0-9_]+)["']""")
    for path in [ROOT / "app.py", *sorted((ROOT / "src" / "agingsim").rglob("*.py"))]:
        for key in call.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, []).append(str(path.relative_to(ROOT)))
    missing = {k: v for k, v in used.items() if k not in labels.LABELS and not k.endswith("_")}
    assert used and not missing, missing


def test_every_view_and_card_has_its_words() -> None:
    from agingsim.app.page import VIEW_LABELS

    for key in VIEW_LABELS.values():
        assert key in labels.LABELS
    for kind in ("source", "assumption"):
        assert f"provenance_{kind}" in labels.LABELS
