"""Issue 19 item 5, the briefing deck: the service-circle map slide where the scenario has a
geography (Guiyang) and none where it has not (Zhumadian); the map is the app's (geo.maps) in the
run's last year, beside the share of elders within reach; a folder whose scenario file changed since
the run gets no map rather than a map of another geography."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pptx import Presentation

from agingsim.report.data import headline_period, load_results
from agingsim.report.deck import folder_geography
from agingsim.report.exports import make_report
from agingsim.report.labels import label
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
