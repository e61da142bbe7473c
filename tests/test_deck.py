"""Issue 19 item 5, the briefing deck: the service-circle map slide where the scenario has a
geography (Guiyang) and none where it has not (Zhumadian); the map is the app's (geo.maps) in the
run's last year, beside the share of elders within reach; a folder whose scenario file changed since
the run gets no map rather than a map of another geography. A Chinese deck's assumption notes are
Chinese (report.notes_zh), an untranslated one visibly marked, and every text frame has Chinese."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from pptx import Presentation

from agingsim.report.data import headline_period, load_results
from agingsim.report.deck import folder_geography
from agingsim.report.exports import make_report
from agingsim.report.labels import label
from agingsim.report.notes_zh import ENGLISH_ONLY_MARK, NOTES_ZH, assumption_note
from agingsim.scenario import load_scenario
from agingsim.simulate import run_scenario

ROOT = Path(__file__).resolve().parents[1]
GUIYANG = ROOT / "scenarios" / "guiyang_service_circle.toml"
ZHUMADIAN = ROOT / "scenarios" / "zhumadian_basic_services.toml"
PICTURE = 13


def _folder(path: Path, out: Path) -> Path:
    run_scenario(load_scenario(path).with_run(years=2, simulated_people=4000)).write(out)
    return out


@pytest.fixture(scope="module")
def gy(tmp_path_factory) -> Path:
    return _folder(GUIYANG, tmp_path_factory.mktemp("gy") / "run")


@pytest.fixture(scope="module")
def zmd(tmp_path_factory) -> Path:
    return _folder(ZHUMADIAN, tmp_path_factory.mktemp("zmd") / "run")


def _deck(folder: Path, out: Path, lang: str = "zh", **kw) -> Presentation:
    path, _, _ = make_report(load_results(folder), out, lang=lang, formats=("pptx",), **kw)
    return Presentation(str(path / "briefing.pptx"))


def _map_slides(prs: Presentation, lang: str, year: int) -> list:
    title = label("deck_map", lang, year=year, minutes="15")
    return [s for s in prs.slides if s.shapes.title is not None and s.shapes.title.text == title]


def test_guiyang_deck_has_the_service_circle_map_in_the_last_year(gy: Path, tmp_path: Path) -> None:
    last = headline_period(json.loads((gy / "summary.json").read_text(encoding="utf-8"))["headline"])[1]
    for lang in ("zh", "en"):
        slides = _map_slides(_deck(gy, tmp_path / lang, lang), lang, last)
        assert len(slides) == 1
        shapes = list(slides[0].shapes)
        assert sum(sh.shape_type == PICTURE for sh in shapes) == 1
        text = "\n".join(sh.text_frame.text for sh in shapes if sh.has_text_frame)
        assert label("deck_map_reach", lang, minutes="15") in text
        assert "%" in text and label("map_synthetic", lang) in text  # the Guiyang geography is synthetic


def test_zhumadian_deck_has_no_map(zmd: Path, tmp_path: Path) -> None:
    prs = _deck(zmd, tmp_path / "zh")
    titles = [s.shapes.title.text for s in prs.slides if s.shapes.title is not None]
    assert not any("养老服务圈" in t for t in titles), titles
    assert folder_geography(load_results(zmd)) is None


def test_a_changed_scenario_file_gives_no_map_and_the_app_passes_its_own(gy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "moved"
    shutil.copytree(gy, folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    summary["scenario_sha256"] = "0" * 64  # as if the file were edited after the run
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    results = load_results(folder)
    assert folder_geography(results) is None
    last = headline_period(summary["headline"])[1]
    assert not _map_slides(_deck(folder, tmp_path / "none"), "zh", last)
    geography = load_scenario(GUIYANG).geography  # what the app's run holds
    assert len(_map_slides(_deck(folder, tmp_path / "given", geography=geography), "zh", last)) == 1


# ------------------------------------------------------------------ Chinese assumption notes
CJK = re.compile(r"[\u4e00-\u9fff]")


def _frames(prs: Presentation) -> list[tuple[int, str]]:
    """Every text frame of the deck and every table's header row, with its slide number (table
    bodies hold values and the files' own names: checked column by column below)."""
    out = []
    for i, slide in enumerate(prs.slides):
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text.strip():
                out.append((i, shape.text_frame.text))
            if shape.has_table:
                out += [(i, c.text) for c in shape.table.rows[0].cells]
    return out


@pytest.mark.parametrize("which", ["gy", "zmd"])
def test_a_chinese_deck_has_chinese_assumption_notes_and_chinese_in_every_frame(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    prs = _deck(request.getfixturevalue(which), tmp_path / "zh")
    slides = [s for s in prs.slides if s.shapes.title is not None]
    notes = next(s for s in slides if s.shapes.title.text == label("deck_assumptions", "zh"))
    table = next(sh.table for sh in notes.shapes if sh.has_table)
    rows = [[c.text for c in r.cells] for r in list(table.rows)[1:]]
    assert rows
    for _key, value, kind, text in rows:
        assert kind in ("来源", "假设")
        assert not re.search(r"\b(intact|mild|moderate|severe|complete)\b", value), value
        if kind == "假设":
            assert CJK.search(text) and ENGLISH_ONLY_MARK not in text, text
    missing = [(i, t) for i, t in _frames(prs) if not CJK.search(t)]
    assert not missing, missing


def test_untranslated_notes_are_marked_in_chinese_and_english_is_untouched(tmp_path: Path) -> None:
    text = "a label nobody translated"
    assert assumption_note(text, "assumption", "zh") == ENGLISH_ONLY_MARK + text
    assert assumption_note(text, "assumption", "en") == text
    assert assumption_note("seed 002 三(四): 每张床位每月200元", "source", "zh").startswith("seed 002")


def test_every_translation_matches_a_label_of_a_bundled_scenario() -> None:
    """A translation whose English was edited away would never apply: fail so it is redone."""
    from agingsim.app.levers import all_levers, find_levers
    from agingsim.app.sources import APP_LABEL, bundled_paths
    from agingsim.scenario.files import read_toml

    texts = {APP_LABEL}
    for path in bundled_paths():
        texts |= {f.text for f in load_scenario(path).figures if f.kind == "assumption"}
        levers = all_levers(find_levers(read_toml(path)))  # switches' labels are no figures
        texts |= {lev.provenance.text for lev in levers if lev.provenance is not None}
    stale = [en for en in NOTES_ZH if en not in texts]
    assert not stale, stale
    assert all(CJK.search(zh) for zh in NOTES_ZH.values())
