"""The PPTX briefing deck: title, headline cards and numbers, one slide per chart, the scorecard
and the key assumptions.

Split from :mod:`agingsim.report.exports` (which decides which charts a folder supports and writes
the report folder) so each file holds one concept; the deck reuses those charts' PNGs.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from agingsim.report.data import (
    Results,
    compare_rows,
    headline_period,
    headline_rows,
    interval_measures,
    replications,
    scorecard_headers,
    scorecard_rows,
)
from agingsim.report.labels import (
    ABILITY,
    Lang,
    ability_label,
    column_label,
    fmt_money,
    fmt_number,
    fmt_wan,
    label,
    period_label,
    provenance_label,
)
from agingsim.report.notes_zh import assumption_note
from agingsim.report.workbook import assumption_value

if TYPE_CHECKING:
    from agingsim.report.key_charts import Chart

#: Rows of the assumptions table on the slide; the rest are in the workbook.
DECK_ASSUMPTION_ROWS = 15
#: ``write_deck``'s default: find the geography from the scenario file the folder names.
FROM_FOLDER: Any = object()
#: Resolution of the service-circle map on its slide (the chart slides reuse the 300 dpi PNGs).
MAP_DPI = 200


def write_deck(
    results: Results, chart_list: list[Chart], lang: Lang, path: Path, geography: Any = FROM_FOLDER
) -> None:
    """Briefing deck: title; headline numbers; one slide per chart; the service-circle map (a
    scenario with a geography); the scorecard; the key assumptions.

    ``geography``: the run's :class:`~agingsim.geo.geography.Geography` (the app passes the one it
    ran), None for no map, or by default the one of the scenario file named in the folder.
    """
    from pptx import Presentation
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(40 / 3), Inches(7.5)  # exactly 16:9
    title_layout, title_only = prs.slide_layouts[0], prs.slide_layouts[5]

    slide = prs.slides.add_slide(title_layout)
    # the default template's placeholders are laid out for a 4:3 slide: centre them on the 16:9 one
    for shape, top, height in ((slide.shapes.title, 2.1, 1.6), (slide.placeholders[1], 3.9, 1.6)):
        shape.left, shape.width = Inches(0.9), Inches(13.333 - 1.8)
        shape.top, shape.height = Inches(top), Inches(height)
    _text(slide.shapes.title, results.title(lang), 36)
    s0 = results.arms[0]
    colon = "：" if lang == "zh" else ": "
    if results.kind == "run":
        sub = [results.region_name(lang, 0)]
    else:
        sub = [
            f"{arm}{colon}{results.scenario_name(lang, i)} ({results.region_name(lang, i)})"
            for i, arm in enumerate("AB")
        ]
    sub.append(
        f"{period_label(*headline_period(s0['headline']), lang)} · "
        f"{label('h_seed', lang)} {results.seed} · agingsim {results.version} · {results.date}"
    )
    _text(slide.placeholders[1], "\n".join(sub), 20)
    for shape in (slide.shapes.title, slide.placeholders[1]):
        for paragraph in shape.text_frame.paragraphs:
            paragraph.alignment = PP_ALIGN.CENTER

    if results.kind == "run":
        _cards_slide(prs, title_only, results, lang)

    # compare --replications: the headline figures are replication 0's
    title = "deck_headline" if replications(results) is None else "deck_headline_replication0"
    slide = _titled(prs, title_only, label(title, lang))
    if results.kind == "run":
        rows = [
            [name, _fmt_value(value, unit), unit] for name, value, unit in headline_rows(results, lang)[2:]
        ]
        heads = [label("col_item", lang), label("col_value", lang), label("col_unit", lang)]
        widths = [7.0, 3.5, 1.8]
    else:
        rows = [
            [m, fmt_number(a, 2), fmt_number(b, 2), f"{d:+,.2f}"]
            for m, a, b, d in compare_rows(results, lang)
        ]
        heads = [
            label("col_measure", lang),
            label("col_a", lang),
            label("col_b", lang),
            label("col_b_minus_a", lang),
        ]
        widths = [5.5, 2.4, 2.4, 2.4]
    _table(slide, heads, rows, widths, font_size=14 if len(rows) <= 10 else 12)
    if (n := replications(results)) is not None:
        _interval_slide(prs, title_only, results, n, lang)

    for chart in chart_list:
        slide = _titled(prs, title_only, chart.title)
        image = io.BytesIO(chart.png())
        width, height = chart.figure.get_size_inches()
        box_w, box_h = 12.3, 5.9
        scale = min(box_w / width, box_h / height)
        left = (13.333 - width * scale) / 2
        slide.shapes.add_picture(
            image, Inches(left), Inches(1.35), Inches(width * scale), Inches(height * scale)
        )

    if geography is FROM_FOLDER:
        geography = folder_geography(results)
    if geography is not None:
        _map_slide(prs, title_only, results, geography, lang)

    scorecard = scorecard_rows(results, lang)
    if scorecard:
        slide = _titled(prs, title_only, label("deck_scorecard", lang))
        rows = [
            [r[0], r[1], r[2], _fmt_value(r[3], r[5]), _fmt_value(r[4], r[5]), r[5], r[6]] for r in scorecard
        ]
        _table(slide, scorecard_headers(lang), rows, [3.4, 2.6, 0.9, 1.4, 1.5, 1.2, 1.3], font_size=11)

    assumptions = results.frame("assumptions.csv") if results.kind == "run" else None
    if assumptions is not None and not assumptions.empty:
        slide = _titled(prs, title_only, label("deck_assumptions", lang))
        picked, shown, total_rows = key_assumptions(results, assumptions, lang)
        heads = [
            label("col_key", lang),
            label("col_value", lang),
            label("col_provenance", lang),
            label("col_text", lang),
        ]
        _table(slide, heads, picked, [3.6, 1.9, 1.1, 5.9], font_size=9, top=1.25)
        sheet = label("sheet_assumptions", lang)
        more = total_rows - shown
        note = (
            label("deck_more", lang, n=more, sheet=sheet)
            if more > 0
            else label("deck_all", lang, sheet=sheet)
        )
        box = slide.shapes.add_textbox(Inches(0.5), Inches(6.9), Inches(12.3), Inches(0.4))
        _text(box, note, 12)
    prs.save(path)


def folder_geography(results: Results) -> Any:
    """The geography of a run folder's scenario, if its file is still there unchanged (same sha256
    as the run's summary records) and has a ``[geography]``; None otherwise (a comparison, a moved
    or edited file, a scenario without one): the deck then has no map rather than a wrong one."""
    import hashlib

    from agingsim.errors import AgingsimError
    from agingsim.scenario import load_scenario, project_root

    if results.kind != "run":
        return None
    arm = results.arms[0]
    name = arm.get("scenario_file")
    if not name:
        return None
    for candidate in (Path(name), project_root() / name):
        if candidate.is_file():
            if hashlib.sha256(candidate.read_bytes()).hexdigest() != arm.get("scenario_sha256"):
                return None
            try:
                return load_scenario(candidate).geography
            except (AgingsimError, OSError):
                return None
    return None


def _map_slide(prs: Any, layout: Any, results: Results, geography: Any, lang: Lang) -> None:
    """The 15-minute service circle in the run's last year, as the app's map view draws it, with the
    share of elders within reach of the whole region beside it."""
    from pptx.util import Inches

    from agingsim.geo.coverage import coverage_by_community, coverage_summary
    from agingsim.geo.maps import coverage_map, map_footer

    h = results.arms[0]["headline"]
    year = headline_period(h)[1]
    g = geography
    figure = coverage_map(g, year, lang, footer=map_footer(g))
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=MAP_DPI, metadata={"Software": None})
    slide = _titled(prs, layout, label("deck_map", lang, year=year, minutes=f"{g.walk.minutes:g}"))
    side = 5.9
    slide.shapes.add_picture(io.BytesIO(buf.getvalue()), Inches(0.6), Inches(1.3), Inches(side), Inches(side))
    summary = coverage_summary(coverage_by_community(g, year), g.counties)
    region = summary[summary["level"] == "all"].iloc[0]
    lines = [label("deck_map_reach", lang, minutes=f"{g.walk.minutes:g}")]
    for column in [c for c in summary.columns if c.startswith("share_within_")]:
        value = region[column]
        if value == value:  # NaN: no facility of that type
            lines.append(f"{column_label(column, lang)}{'：' if lang == 'zh' else ': '}{value:.0%}")
    if g.synthetic:
        lines.append(label("map_synthetic", lang))
    box = slide.shapes.add_textbox(Inches(7.0), Inches(1.6), Inches(5.8), Inches(4.5))
    _text(box, "\n".join(lines), 18)


def _cards_slide(prs: Any, layout: Any, results: Results, lang: Lang) -> None:
    """The page's headline cards as a slide: a few big numbers a briefing opens with."""
    from pptx.util import Inches

    h = results.arms[0]["headline"]
    first, last = headline_period(h)
    cards: list[tuple[str, str]] = []
    if isinstance(h.get("cost_total_wan"), int | float):
        cards.append(
            (label("card_total", lang, first=first, last=last), fmt_money(h["cost_total_wan"], lang))
        )
        if isinstance(h.get("cost_present_value_wan"), int | float):
            rate = h.get("discount_rate", "")
            cards.append((label("h_cost_pv", lang, rate=rate), fmt_money(h["cost_present_value_wan"], lang)))
    people = label("unit_people", lang)
    cards.append((label("h_people_last", lang, year=last), f"{fmt_number(h['people_60plus_last'])} {people}"))
    cards.append((label("h_need_last", lang, year=last), f"{fmt_number(h['needing_care_last'])} {people}"))
    slide = _titled(prs, layout, label("deck_cards", lang))
    width = (13.333 - 1.0 - 0.3 * (len(cards) - 1)) / len(cards)
    for i, (title, value) in enumerate(cards):
        left = 0.5 + i * (width + 0.3)
        box = slide.shapes.add_textbox(Inches(left), Inches(2.2), Inches(width), Inches(0.9))
        _text(box, title, 16)
        box = slide.shapes.add_textbox(Inches(left), Inches(3.1), Inches(width), Inches(1.2))
        _text(box, value, 32)


def key_assumptions(results: Results, table: pd.DataFrame, lang: Lang) -> tuple[list[list[str]], int, int]:
    """The ~15 figures a reader asks about first: subsidy amounts, payer shares, caps, then the rest.

    Figures that differ only in their last key part and share one note (e.g. an amount by ability
    level) are folded into one row, so the slide shows more distinct parameters. Returns the rows,
    how many assumptions.csv rows they cover, and how many the file has (for "N more in the workbook").
    """

    def rank(key: str) -> int:
        for i, words in enumerate(
            (
                ("amount", "tiers"),
                ("payers",),
                ("budget_cap", "lottery", "delivery_rate"),
                ("discount_rate",),
                ("pop_60plus", "entrants_per_year"),
                ("facilities",),
            )
        ):
            if any(w in key for w in words):
                return i
        return 6 if key.startswith("policy.") else 7

    groups: dict[tuple[str, str, str, str], list[tuple[str, Any]]] = {}
    ranks: dict[tuple[str, str, str, str], int] = {}
    for r in table.itertuples(index=False):
        parent, _, leaf = str(r.key).rpartition(".")
        group = (r.file, parent or leaf, r.provenance, str(r.text))
        groups.setdefault(group, []).append((leaf, r.value))
        ranks[group] = min(ranks.get(group, 99), rank(str(r.key)))
    ordered = sorted(groups.items(), key=lambda kv: ranks[kv[0]])[:DECK_ASSUMPTION_ROWS]
    rows = []
    for (_file, parent, kind, text), items in ordered:
        if len(items) == 1:
            key = f"{parent}.{items[0][0]}" if parent != items[0][0] else parent
            value = _short(_show(assumption_value(items[0][1])), 24)
        else:
            key = parent
            value = " / ".join(f"{_leaf(leaf, lang)} {_show(assumption_value(v))}" for leaf, v in items)
            value = _short(value, 60)
        note = assumption_note(text, kind, lang)
        rows.append([results.pretty_key(key, lang), value, provenance_label(kind, lang), _short(note, 120)])
    return rows, sum(len(items) for _, items in ordered), len(table)


def _leaf(leaf: str, lang: Lang) -> str:
    """A folded row's item name: an ability level in the deck's language, other keys as written."""
    return ability_label(leaf, lang) if leaf in ABILITY else leaf


def _show(value: Any) -> str:
    """20000 -> 20,000; 0.6 stays 0.6; text as is."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, ",")
    return str(value)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _fmt_value(value: Any, unit: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not unit:
        return str(value)  # seeds and years are not amounts: no thousands separator
    return fmt_wan(value) if unit in (label("unit_wan", "zh"), label("unit_wan", "en")) else fmt_number(value)


def _interval_slide(prs: Any, layout: Any, results: Results, n: int, lang: Lang) -> None:
    """compare --replications: B − A's median and 90% interval per measure, absolute and relative,
    and whether the interval excludes zero (the headline slide above is replication 0)."""
    slide = _titled(prs, layout, label("deck_interval", lang, n=n))

    def cell(x: float, relative: bool = False) -> str:
        return "—" if math.isnan(x) else f"{100 * x:+.1f}%" if relative else f"{x:+,.2f}"

    rows = [
        [
            words,
            cell(v[3]),
            f"{cell(v[2])} – {cell(v[4])}",
            "—" if math.isnan(v[6]) else f"{cell(v[6], True)} [{cell(v[5], True)} – {cell(v[7], True)}]",
            verdict,
        ]
        for _, words, v, verdict in interval_measures(results, lang)
    ]
    heads = [
        label("col_measure", lang),
        label("col_diff_p50", lang),
        f"{label('col_diff_p05', lang)} – {label('col_diff_p95', lang)}",
        label("col_rel_p50", lang),
        label("col_verdict", lang),
    ]
    _table(slide, heads, rows, [4.3, 1.9, 2.7, 2.3, 1.3], font_size=12 if len(rows) <= 12 else 10)


def _titled(prs: Any, layout: Any, title: str) -> Any:
    from pptx.util import Inches

    slide = prs.slides.add_slide(layout)
    shape = slide.shapes.title
    shape.left, shape.top, shape.width, shape.height = Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.9)
    _text(shape, title, 28)
    return slide


_EA_FONT = "Microsoft YaHei"


def _text(shape: Any, text: str, size: int) -> None:
    """Set a shape's text at a size; East Asian runs ask for a common CJK face."""
    from pptx.util import Pt

    frame = shape.text_frame
    frame.word_wrap = True
    frame.text = text
    for paragraph in frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = Pt(size)
            _east_asian(run)


def _east_asian(run: Any) -> None:
    rpr = run._r.get_or_add_rPr()
    ea = rpr.find("{http://schemas.openxmlformats.org/drawingml/2006/main}ea")
    if ea is None:
        ea = rpr.makeelement("{http://schemas.openxmlformats.org/drawingml/2006/main}ea", {})
        rpr.append(ea)
    ea.set("typeface", _EA_FONT)


def _table(
    slide: Any,
    heads: list[str],
    rows: list[list[Any]],
    widths: list[float],
    font_size: int,
    top: float = 1.4,
) -> None:
    from pptx.util import Inches, Pt

    n_rows = len(rows) + 1
    height = min(5.4, 0.4 * n_rows)
    shape = slide.shapes.add_table(
        n_rows, len(heads), Inches(0.5), Inches(top), Inches(sum(widths)), Inches(height)
    )
    table = shape.table
    for j, w in enumerate(widths):
        table.columns[j].width = Inches(w)
    for i, row in enumerate([heads, *rows]):
        for j, value in enumerate(row[: len(heads)]):
            cell = table.cell(i, j)
            cell.text = str(value)
            for paragraph in cell.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(font_size)
                    run.font.bold = i == 0
                    _east_asian(run)
