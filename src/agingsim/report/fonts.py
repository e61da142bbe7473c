"""A CJK font for matplotlib, registered once, so Chinese labels render as text rather than boxes.

Out of the box matplotlib has only DejaVu Sans, which has no Chinese glyphs. The project depends on
``mplfonts``, which ships Noto Sans CJK SC (OFL); we register that file with matplotlib's font manager
(never its ``init`` command, which writes into matplotlib's folders, nor its bundled SimHei). A system
Noto/Source Han/WenQuanYi font is used only if the mplfonts file is missing.
"""

from __future__ import annotations

import functools
from pathlib import Path

import matplotlib as mpl
from matplotlib import font_manager, ft2font

from agingsim.errors import AgingsimError

#: The family the charts ask for; the file below provides it.
CJK_FAMILY = "Noto Sans CJK SC"
_FALLBACK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei")


@functools.cache
def cjk_font_path() -> Path:
    """Path of the CJK font file: mplfonts' Noto Sans CJK SC, else an installed CJK family."""
    try:
        import mplfonts

        path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
        if path.is_file():
            return path
    except ImportError:
        pass
    for entry in font_manager.fontManager.ttflist:
        if entry.name in _FALLBACK_FAMILIES:
            return Path(entry.fname)
    raise AgingsimError(
        "no CJK font found for charts: install the project's dependencies (pip install -e .) so that "
        "mplfonts provides NotoSansCJKsc-Regular.otf, or install fonts-noto-cjk"
    )


@functools.cache
def cjk_family() -> str:
    """Register the CJK font with matplotlib (once) and return its family name."""
    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return ft2font.FT2Font(str(path)).family_name


def use_cjk_font() -> str:
    """Make the CJK font matplotlib's sans-serif default; cheap to call before every chart.

    rcParams are global, so this is re-applied on each call rather than once: the app or a notebook
    may have changed them in between.
    """
    family = cjk_family()
    mpl.rcParams["font.family"] = "sans-serif"
    rest = [f for f in mpl.rcParams["font.sans-serif"] if f != family]
    mpl.rcParams["font.sans-serif"] = [family, *rest]
    mpl.rcParams["axes.unicode_minus"] = False  # CJK fonts lack U+2212 in some builds; use "-"
    mpl.rcParams["svg.fonttype"] = "path"  # SVGs carry the glyph outlines: no font needed to view them
    return family


def missing_glyphs(text: str, font: str | Path | None = None) -> list[str]:
    """Characters of ``text`` that the font (default: the CJK font) has no glyph for.

    Whitespace and control characters are ignored: they are laid out, not drawn.
    """
    face = ft2font.FT2Font(str(font or cjk_font_path()))
    return sorted(
        {c for c in text if c.isprintable() and not c.isspace() and face.get_char_index(ord(c)) == 0}
    )


def svg_glyph_id(char: str) -> str:
    """The id matplotlib gives ``char``'s outline in an SVG drawn with the CJK font.

    matplotlib writes each glyph once as ``<path id="PostScriptName-<glyph index in hex>">``; finding
    that id proves the character was drawn with this font (not a fallback, not a box).
    """
    face = ft2font.FT2Font(str(cjk_font_path()))
    return f"{face.postscript_name}-{face.get_char_index(ord(char)):x}"
