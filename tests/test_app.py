"""The Streamlit app (issue 6), driven headless with AppTest, checked against the engine run directly.

What is pinned down: levers read from the scenario file carry the file's value, unit and provenance;
moving a lever changes the numbers on the page exactly as running the engine with that change does;
returning to a setting comes from the cache; a bad lever value or upload shows the validator's message
and keeps the previous results; the language switch changes the words, not the numbers; scheme B is
compared on the same people; downloads are the report module's files.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from app_levers import box_key, lever_input, lever_key, open_box
from streamlit.testing.v1 import AppTest

from agingsim.app import figures, runs, sources, workdirs
from agingsim.app.levers import NEVER, all_levers, find_levers, lever_id, overrides_for
from agingsim.compare import compare_results
from agingsim.errors import ScenarioError
from agingsim.fiscal.ledger import WAN
from agingsim.report.labels import column_label, fmt_money, fmt_wan, label, payer_label
from agingsim.scenario import load_scenario
from agingsim.scenario.files import read_toml
from agingsim.scenario.provenance import strip_provenance, value_at
from agingsim.scenario.variant import load_scenario_with
from agingsim.simulate import run_scenario

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
YUQUAN = ROOT / "scenarios" / "yuquan_home_services.toml"
PEOPLE = 20_000  # the app's smallest simulated-people option: keeps each run well under a second


_ENGINE: dict[tuple[str, str], object] = {}


def _engine(overrides: dict | None = None, path: Path = YUQUAN, fresh: bool = False):
    """What the engine says for the scenario with these changes, at the test's people count.

    Runs once per (scenario, changes) for the module, since several tests compare the page with
    the same run; ``fresh`` runs it again (for a check that two runs of one setting agree)."""
    key = (str(path), json.dumps(overrides or {}, sort_keys=True))
    if fresh or key not in _ENGINE:
        scenario = load_scenario_with(path, overrides or {}, label=sources.APP_LABEL).with_run(
            simulated_people=PEOPLE
        )
        result = run_scenario(scenario)
        if fresh:
            return result
        _ENGINE[key] = result
    return _ENGINE[key]


def _select(at: AppTest, label_key: str, lang: str = "zh"):
    """A dropdown by its label (its key names the language and the options it holds)."""
    found = [s for s in at.selectbox if s.label == label(label_key, lang)]
    assert found, f"no dropdown {label_key}"
    return found[0]


def _view(at: AppTest, lang: str = "zh"):
    return at.radio(key=f"view|{lang}|0")


def _app_on(path: Path, **query: str) -> AppTest:
    """The app opened by its address on a bundled scenario at 20,000 simulated people: one run."""
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({"s": path.name, "n": str(PEOPLE)} | query)
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["page"].scenario == path.name
    assert _select(at, "app_scenario").value == path.name
    return at


@pytest.fixture
def yuquan_app() -> AppTest:
    """The app on Yuquan's purchased home services at 20,000 simulated people."""
    return _app_on(YUQUAN)


def _card(at: AppTest, title_key: str, lang: str = "zh", **fields) -> str:
    title = label(title_key, lang, **fields)
    found = [m.value for m in at.metric if m.label == title]
    assert found, f"no card {title!r} among {[m.label for m in at.metric]}"
    return found[0]


# ============================================================================ levers from the file
@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")), ids=lambda p: p.stem)
def test_every_lever_shows_the_files_value_and_its_provenance(path: Path) -> None:
    raw = read_toml(path)
    plain, labels, _ = strip_provenance(raw)
    scenario = load_scenario(path)
    sections = find_levers(raw)
    assert sections[0].id == "run"
    for lev in all_levers(sections):
        if lev.kind == "money":
            key = lev.key.replace('"', "")
            assert value_at(plain, key) == lev.default, lev.key
            assert lev.provenance == labels[key], f"{lev.key}: provenance not the file's"
            assert lev.unit and label(lev.unit, "zh") and label(lev.unit, "en")
        assert lev.title("zh") and lev.title("en")
    # the file's own values are no change at all: the app runs exactly the bundled scenario
    assert overrides_for(sections, {}) == {}
    ids = {lever_id(lev) for lev in all_levers(sections)}
    assert len(ids) == len(all_levers(sections)), "two levers share a widget id"
    if scenario.file.policy is not None:
        schemes = len(scenario.file.policy.schemes) + len(scenario.file.policy.facility_schemes)
        assert len(sections) == 1 + schemes


def test_lever_overrides_load_through_the_validator() -> None:
    sections = find_levers(read_toml(YUQUAN))
    levers = {lever_id(lev): lev for lev in all_levers(sections)}
    split = "policy.schemes[0].payers.2024-07.city#share"
    group = "policy.schemes[1].groups[0].when#switch"
    cap = "policy.schemes[0].budget_cap#cap#county"
    start = "policy.schemes[0].active#month#0"
    changes = {split: 0.7, group: False, cap: 500.0, start: 2026}
    ov = overrides_for(sections, changes)
    assert ov == {
        "policy.schemes[0].payers.2024-07.city": 0.7,
        "policy.schemes[0].payers.2024-07.county": 0.3,
        "policy.schemes[1].groups[0].when": NEVER,
        "policy.schemes[0].budget_cap": {"county": 500.0 * WAN},
        "policy.schemes[0].active": {"2026-07": True},
    }
    assert levers[split].paired == ("policy.schemes[0].payers.2024-07.county",)
    sc = load_scenario_with(YUQUAN, ov, label=sources.APP_LABEL)
    s0, s1 = sc.file.policy.schemes[0], sc.file.policy.schemes[1]
    assert s0.payers == {"2024-07": {"city": 0.7, "county": 0.3}}
    assert s0.budget_cap == {"county": 5_000_000.0}
    assert s1.groups[0].when == NEVER
    changed = [f for f in sc.figures if f.text == sources.APP_LABEL]
    assert {f.key for f in changed} >= {"policy.schemes[0].payers.2024-07.city"}


# ============================================================================ the page
def test_the_page_opens_on_a_scenario_that_spends_money() -> None:
    """Issue 19: a finance user's first screen shows a cost (the policy-free baseline showed none)."""
    from agingsim.app.session import OPENING

    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["n"] = str(PEOPLE)
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["page"].scenario == OPENING
    path = ROOT / "scenarios" / OPENING
    result = run_scenario(load_scenario(path).with_run(simulated_people=PEOPLE))
    h = result.headline()
    assert h["cost_total_wan"] > 0
    first, last = figures.fiscal_years(result)
    assert _card(at, "card_total", first=first, last=last) == fmt_money(h["cost_total_wan"], "zh")


def test_the_baseline_page_shows_its_population_numbers() -> None:
    default = ROOT / "scenarios" / "default.toml"
    at = _app_on(default)
    assert label("app_reduced", "zh", n="20,000", full="200,000") in [i.value for i in at.info]
    h = run_scenario(load_scenario(default).with_run(simulated_people=PEOPLE)).headline()
    last = h["last_year"] - 1  # stocks at the end of the last fiscal year (labels.fiscal_period)
    assert _card(at, "card_people", year=last) == f"{h['people_60plus_last']:,.0f} 人"
    assert _card(at, "card_need", year=last) == f"{h['needing_care_last']:,.0f} 人"


def test_moving_a_lever_changes_the_cards_as_the_engine_says(yuquan_app: AppTest) -> None:
    at = yuquan_app
    base = _engine()
    first, last = figures.fiscal_years(base)
    assert (
        _card(at, "card_total", first=first, last=last)
        == f"{fmt_wan(base.headline()['cost_total_wan'])} 万元"
    )

    key = "policy.schemes[1].groups[0].amount"  # meal service, group m1: 90 CNY a month
    lever_input(at, YUQUAN, f"{key}#money").set_value(300).run()
    assert not at.exception and not at.error
    changed = _engine({key: 300})
    total = changed.headline()["cost_total_wan"]
    assert total > base.headline()["cost_total_wan"]
    assert _card(at, "card_total", first=first, last=last) == f"{fmt_wan(total)} 万元"

    split = "policy.schemes[0].payers.2024-07.city"
    open_box(at, YUQUAN, f"{split}#share")
    at.slider(key=lever_key(YUQUAN, f"{split}#share")).set_value(0.7).run()
    both = _engine({key: 300, split: 0.7, split.replace("city", "county"): 0.3})
    year = figures.card_year(both)
    by_payer = figures.cost_by_payer(both, year)
    assert by_payer["city"] > by_payer["county"]
    assert _card(at, "card_year", year=year) == f"{fmt_wan(sum(by_payer.values()))} 万元"
    notes = [c.value for c in at.caption]
    assert f"市级 {fmt_wan(by_payer['city'])} 万元，县级 {fmt_wan(by_payer['county'])} 万元" in notes


def test_the_cards_amounts_by_payer_carry_their_unit() -> None:
    """A card in 亿元 over its payers' shares printed as bare 万元 (市级 451,784.98 under 143.96 亿元)
    read ten thousand times too large: each share and the present value carry their own unit."""
    result = run_scenario(load_scenario(ROOT / "scenarios" / "zhumadian_basic_services.toml").with_run(
        simulated_people=PEOPLE, years=3
    ))  # fmt: skip
    h = result.headline()
    for lang in ("zh", "en"):
        total = next(c for c in figures.cards(result, lang) if c.id == "total")
        shares = figures.cost_by_payer(result)
        assert total.value == fmt_money(h["cost_total_wan"], lang)
        like = h["cost_total_wan"]
        for payer, amount in shares.items():
            assert f"{payer_label(payer, lang)} {fmt_money(amount, lang, like=like)}" in total.note
        pv = fmt_money(h["cost_present_value_wan"], lang, like=like)
        assert label("card_pv", lang, value=pv) in total.note
    zh = next(c for c in figures.cards(result, "zh") if c.id == "total").note
    assert zh.count("亿元") == len(shares) + 1, zh  # a city's shares are 亿元 like its total
    # one year's card: its parts in its own figure's unit (a 13.64 亿元 year had shown 42,594.33 万元
    # and 93,841.23 万元 under it), summing to it
    year = next(c for c in figures.cards(result, "zh") if c.id == "year")
    assert year.value.endswith("亿元") and year.note.count("亿元") == len(shares) and "万元" not in year.note
    assert fmt_money(2_000.0, "zh", like=200_000.0) == "0.20 亿元" and fmt_money(2_000.0, "zh").endswith(
        "万元"
    )


def test_a_group_switched_off_is_paid_nothing(yuquan_app: AppTest) -> None:
    at = yuquan_app
    open_box(at, YUQUAN, "policy.schemes[0].groups[3].when#switch")
    at.toggle(key=lever_key(YUQUAN, "policy.schemes[0].groups[3].when#switch")).set_value(False).run()
    off = _engine({"policy.schemes[0].groups[3].when": NEVER})
    assert "g4_fp_or_alone_70" not in set(off.ledger["rule"])
    first, last = figures.fiscal_years(off)
    assert (
        _card(at, "card_total", first=first, last=last) == f"{fmt_wan(off.headline()['cost_total_wan'])} 万元"
    )


def test_a_money_lever_replays_payments_and_the_cards_match_a_full_run() -> None:
    """Zhumadian's allowances do not change anyone's care: moving an amount recomputes payments on the
    people and care already simulated (simulate.replay_payments), and the page shows exactly what
    a full run of the changed scenario gives."""
    path = ROOT / "scenarios" / "zhumadian_basic_services.toml"
    at = _app_on(path)
    key = "policy.schemes[0].amount"
    lever_input(at, path, f"{key}#money").set_value(160).run()
    assert not at.exception and not at.error
    assert any(c.value.startswith(label("app_replayed", "zh", s="")[:12]) for c in at.caption)
    assert at.session_state["last_run"].result.replayed_from
    full = _engine({key: 160}, path=path)
    first, last = figures.fiscal_years(full)
    total = full.headline()["cost_total_wan"]
    assert _card(at, "card_total", first=first, last=last) == fmt_money(total, "zh")


def test_the_service_circle_view_shows_the_geo_modules_map_and_shares() -> None:
    """Issue 8 in the app: for a scenario with a geography (Guiyang), the 15-minute service circle of
    the chosen year is the map `agingsim geo coverage` draws and its shares within reach; scenarios
    without a geography do not offer the view."""
    from agingsim.geo.coverage import coverage_by_community, coverage_summary

    path = ROOT / "scenarios" / "guiyang_service_circle.toml"
    at = _app_on(path)
    assert label("tab_circle", "zh") in _view(at).options
    _view(at).set_value("circle").run()
    assert not at.exception and not at.error
    run = at.session_state["last_run"]
    g = run.result.scenario.geography
    year = next(s for s in at.select_slider if s.label == label("circle_year", "zh")).value
    assert year == run.result.scenario.run.start_year + run.result.scenario.run.years - 1
    from agingsim.report import tables

    raw = coverage_summary(coverage_by_community(g, year), g.counties)
    want = tables.display(raw, "zh", counties=tables.region_names(run.result.scenario))
    shown = at.dataframe[0].value
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), want)
    assert "南明区" in shown.to_string()
    assert "nanming" not in shown.to_string() and "None" not in shown.to_string()
    assert len(at.get("image")) == 1 and run.map_png("zh", year)[:4] == b"\x89PNG"

    _select(at, "app_scenario").set_value(YUQUAN.name).run()  # no geography: no such view
    assert label("tab_circle", "zh") not in _view(at).options


def test_a_lever_box_draws_its_levers_only_while_open_and_its_edits_outlive_it(yuquan_app: AppTest) -> None:
    """Issue 19 (cold start): a shut box draws none of its levers (the first page drew ~100
    elements of them, and its cards waited for the browser to lay them out); opening it draws
    them from the page state, so an edit made in it still counts, and still shows, after the box
    was shut and opened again."""
    at = yuquan_app
    lever = "policy.schemes[1].groups[0].amount#money"  # meal service, group m1: 90 CNY a month
    key = lever_key(YUQUAN, lever)
    assert key not in [n.key for n in at.number_input]
    first, last = figures.fiscal_years(_engine())
    before = _card(at, "card_total", first=first, last=last)
    lever_input(at, YUQUAN, lever).set_value(310).run()
    changed = _card(at, "card_total", first=first, last=last)
    assert changed != before
    at.session_state[box_key(YUQUAN, lever)] = False  # shut it
    at.run()
    assert key not in [n.key for n in at.number_input]
    assert _card(at, "card_total", first=first, last=last) == changed  # the edit still counts
    assert label("app_changed", "zh", n=1) in " ".join(m.value for m in at.markdown)
    assert lever_input(at, YUQUAN, lever).value == 310  # and shows again when the box opens


def test_returning_to_a_setting_is_served_from_the_cache(yuquan_app: AppTest) -> None:
    at = yuquan_app
    lever = "policy.schemes[1].groups[5].amount#money"
    lever_input(at, YUQUAN, lever).set_value(120).run()
    lever_input(at, YUQUAN, lever).set_value(90).run()  # back to the file's value
    assert label("app_cached", "zh") in [c.value for c in at.caption]
    key = runs.run_key(sources.load(sources.from_file(YUQUAN), {}, simulated_people=PEOPLE))
    assert at.session_state["last_run"] is runs.CACHE.get(key)


def test_an_invalid_lever_shows_the_validators_message_and_keeps_the_results(yuquan_app: AppTest) -> None:
    at = yuquan_app
    before = [m.value for m in at.metric]
    lever_input(at, YUQUAN, "policy.schemes[0].groups[0].amount.mild#money").set_value(-50).run()
    assert not at.exception
    with pytest.raises(ScenarioError) as exc:
        load_scenario_with(YUQUAN, {"policy.schemes[0].groups[0].amount.mild": -50}, label=sources.APP_LABEL)
    shown = "\n".join(e.value for e in at.error)
    assert str(exc.value) in shown and "amount" in shown
    assert [m.value for m in at.metric] == before


def test_an_unreadable_upload_is_a_message_not_a_crash() -> None:
    with pytest.raises(ScenarioError, match=r"bad\.toml: \(top level\): not valid TOML"):
        sources.from_upload("bad.toml", b"[run\nyears = ")
    text = YUQUAN.read_bytes().replace(b"years = 10", b"years = 0")
    with pytest.raises(ScenarioError, match=r"mine\.toml \(uploaded\): run\.years"):
        sources.load(sources.from_upload("mine.toml", text))
    source = sources.from_upload("mine.toml", YUQUAN.read_bytes())
    assert sources.load(source).file.policy is not None


def test_language_switch_changes_words_not_numbers(yuquan_app: AppTest) -> None:
    at = yuquan_app
    zh = [m.value for m in at.metric]
    at.radio(key="lang").set_value("en").run()
    en = [m.value for m in at.metric]
    assert [v.split()[0] for v in zh] == [v.split()[0] for v in en]
    assert en[0].endswith("10,000 CNY") and zh[0].endswith("万元")
    assert label("app_title", "en") in [t.value for t in at.title]


def test_scheme_b_is_compared_on_the_same_people(yuquan_app: AppTest) -> None:
    at = yuquan_app
    key = "policy.schemes[1].groups[0].amount"
    lever_input(at, YUQUAN, f"{key}#money").set_value(300).run()
    _select(at, "compare_with").set_value("@file").run()
    _view(at).set_value("compare").run()
    assert not at.exception and not at.warning
    table = compare_results(_engine({key: 300}), _engine())
    cost = table[table["measure"] == "cost_total_wan"][["a", "b", "b_minus_a"]].sum()
    shown = next(d.value for d in at.dataframe if d.value.columns[0] == label("col_measure", "zh"))
    row = shown[shown.iloc[:, 0].str.startswith(label("h_cost_total", "zh")[:3])].iloc[0]
    assert row.iloc[1] == pytest.approx(cost["a"]) and row.iloc[3] == pytest.approx(cost["b_minus_a"])
    assert cost["b_minus_a"] < 0  # B (the file's 90 CNY) spends less than A (300 CNY)


def test_downloads_are_the_report_modules_files() -> None:
    source = sources.from_file(YUQUAN)
    run, _ = runs.CACHE.run(sources.load(source, {}, simulated_people=PEOPLE))
    with zipfile.ZipFile(io.BytesIO(run.csv_zip())) as zf:
        assert {"ledger.csv", "summary.json", "assumptions.csv"} <= set(zf.namelist())
    charts, _ = run.charts("zh")
    assert run.chart_file(charts[0], "png").startswith(b"\x89PNG")
    assert b"<svg" in run.chart_file(charts[0], "svg")[:400]
    assert run.report_file("zh", "pptx")[:2] == b"PK"
    with zipfile.ZipFile(io.BytesIO(run.charts_zip("en"))) as zf:
        assert {f"{c.id}.{x}" for c in charts for x in ("png", "svg")} <= set(zf.namelist())


# ============================================================================ state (issue 19) and uploads (issue 18)
def test_an_upload_is_an_entry_of_the_dropdown_and_a_bad_one_changes_nothing(yuquan_app: AppTest) -> None:
    """Defect 5: an upload no longer silently wins over the dropdown: it becomes the chosen entry of
    the dropdown (the bundled scenarios stay selectable), and a refused upload leaves the page on the
    scenario it showed, its levers and its results, with the validator's message."""
    at = yuquan_app
    before = [m.value for m in at.metric]
    bad = YUQUAN.read_bytes().replace(b"years = 10", b"years = 0")
    at.file_uploader(key="upload").set_value(("mine.toml", bad, "application/toml")).run()
    assert not at.exception
    shown = "\n".join(e.value for e in at.error)
    assert label("app_upload_refused", "zh", name="mine.toml") in shown and "run.years" in shown
    assert at.session_state["page"].scenario == YUQUAN.name
    assert [m.value for m in at.metric] == before
    assert _select(at, "app_scenario").value == YUQUAN.name

    good = YUQUAN.read_bytes().replace(b"years = 10", b"years = 5")
    at.file_uploader(key="upload").set_value(("mine.toml", good, "application/toml")).run()
    assert not at.exception and not at.error
    state = at.session_state["page"]
    assert state.scenario.startswith("upload:")
    box = _select(at, "app_scenario")
    title = sources.from_file(YUQUAN).title[0]
    assert box.value == state.scenario
    shown = label("app_upload_name", "zh", name=title, file="mine.toml", digest=state.scenario[7:13])
    assert {title, shown} <= set(box.options)
    assert [m.value for m in at.metric] != before
    workdir = at.session_state["workdir"]
    assert list((workdir / "uploads").glob("*mine.toml"))
    assert not (ROOT / "scenarios" / "mine.toml").exists()
    box.set_value(YUQUAN.name).run()  # back to the bundled file: its results again
    assert [m.value for m in at.metric] == before


def _project_files() -> set[Path]:
    return {p for d in ("scenarios", "calibration") for p in (ROOT / d).rglob("*")}


def test_lever_changes_never_write_into_scenarios(yuquan_app: AppTest) -> None:
    """Issue 18: a changed scenario is validated in memory (loader.overlaid), never written as a
    hidden file beside the bundled ones (another session would list it, a read-only install fails)."""
    at = yuquan_app
    before = _project_files()
    lever_input(at, YUQUAN, "policy.schemes[1].groups[0].amount#money").set_value(310).run()
    assert not at.exception and not at.error
    assert _project_files() == before


def test_a_changed_region_file_is_read_in_place_of_the_original_and_nothing_is_written(monkeypatch) -> None:
    """Issue 18: a value changed in a file the scenario names (region:…) is validated by the loader
    without a copy beside the original (a read-only install works); its errors name the original
    file and the value set."""
    import tempfile

    from agingsim.errors import ScenarioError
    from agingsim.scenario.variant import load_scenario_with

    made: list[str] = []
    real = tempfile.mkstemp

    def spy(*args, **kwargs):
        made.append(str(kwargs.get("dir") or ""))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    before = _project_files()
    sc = load_scenario_with(YUQUAN, {"region:counties[0].urban_share": 0.25})
    assert sc.region.counties[0].urban_share == 0.25
    with pytest.raises(ScenarioError) as err:
        load_scenario_with(YUQUAN, {"region:counties[0].urban_share": 2.0})
    assert str(err.value).startswith("calibration/regions/")
    assert "changed: region:counties[0].urban_share = 2.0" in str(err.value)
    assert _project_files() == before
    assert not [d for d in made if Path(d).resolve().is_relative_to(ROOT)], made


def test_bundled_scenarios_are_the_projects_files_only(tmp_path: Path, monkeypatch) -> None:
    """Issue 18: hidden and run-written files in scenarios/ are never offered to users."""
    (tmp_path / "scenarios").mkdir()
    for name in ("default.toml", "b.toml", ".b.variant-x1.toml", ".sweep-3.toml", "c.toml.tmp"):
        (tmp_path / "scenarios" / name).write_text("")
    monkeypatch.setenv("AGINGSIM_HOME", str(tmp_path))
    assert [p.name for p in sources.bundled_paths()] == ["default.toml", "b.toml"]


def test_bundled_sources_are_parsed_once_and_an_edited_file_is_seen(tmp_path: Path, monkeypatch) -> None:
    """The page asks for the bundled scenarios several times a run: a file is parsed again only when
    its bytes change, so an edit (even of the same size, within the same second) shows at once."""
    (tmp_path / "scenarios").mkdir()
    path = tmp_path / "scenarios" / "default.toml"
    path.write_text('[scenario]\nname = "aaa"\n', encoding="utf-8")
    monkeypatch.setenv("AGINGSIM_HOME", str(tmp_path))
    first = sources.bundled_sources()
    assert sources.bundled_sources()["default.toml"] is first["default.toml"]  # not parsed again
    assert first["default.toml"].title[0] == "aaa"
    path.write_text('[scenario]\nname = "bbb"\n', encoding="utf-8")  # same size
    again = sources.bundled_sources()["default.toml"]
    assert again.title[0] == "bbb" and again == sources.from_file(path)


def test_temporary_folders_of_dead_app_processes_are_removed(tmp_path: Path) -> None:
    """Issue 18: a crashed app process leaves its folder behind; the next one removes it on start
    (and leaves a live process's folder alone)."""
    import os
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    pid = int(dead.stdout)
    orphan = tmp_path / f"{workdirs.TEMP_PREFIX}{pid}-abc"
    live = tmp_path / f"{workdirs.TEMP_PREFIX}{os.getppid()}-def"
    for folder in (orphan, live):
        (folder / "run").mkdir(parents=True)
    assert workdirs.clean_orphans(tmp_path) == [orphan]
    assert not orphan.exists() and live.exists()


def test_the_app_runs_from_a_read_only_install(tmp_path: Path, monkeypatch) -> None:
    """Issue 18: with scenarios/ read-only the page still runs a changed scenario."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(ROOT / "scenarios", home / "scenarios")
    (home / "calibration").symlink_to(ROOT / "calibration")
    for p in [home / "scenarios", *(home / "scenarios").rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    monkeypatch.setenv("AGINGSIM_HOME", str(home))
    try:
        source = sources.from_file(home / "scenarios" / YUQUAN.name)
        key = "policy.schemes[1].groups[0].amount"
        scenario = sources.load(
            source, {key: 123}, workdir=workdirs.session_folder(), simulated_people=PEOPLE
        )
        assert scenario.file.policy.schemes[1].groups[0].amount == 123
        run, _ = runs.CACHE.run(scenario)
        assert run.result.headline()["cost_total_wan"] > 0
    finally:
        for p in [home / "scenarios", *(home / "scenarios").rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)


def test_the_page_state_survives_its_address(yuquan_app: AppTest) -> None:
    """The address holds scenario, language, view, people and every lever changed; a new session
    opened on it shows the same cards (AppTest; the browser test does it with a real reload)."""
    at = yuquan_app
    lever_input(at, YUQUAN, "policy.schemes[1].groups[0].amount#money").set_value(250).run()
    _view(at).set_value("groups").run()
    query = dict(at.query_params)
    assert query["s"] == YUQUAN.name and query["view"] == "groups" and query["n"] == str(PEOPLE)
    other = AppTest.from_file(APP, default_timeout=240)
    other.query_params.update(query)
    other.run()
    assert not other.exception
    assert [m.value for m in other.metric] == [m.value for m in at.metric]
    assert other.session_state["page"].view == "groups"


def test_a_link_is_user_input_and_nonsense_in_it_is_ignored() -> None:
    from agingsim.app.state import PageState

    names = ["a.toml", "b.toml"]
    state = PageState.from_query(
        {"s": "../../etc/passwd", "lang": "fr", "n": "x", "e": '{"a.toml": {"k": "nan", "j": 1e999}, "c": 1'},
        names,
        "a.toml",
    )
    assert (state.scenario, state.lang, state.people, state.edits) == ("a.toml", "zh", {}, {})
    good = PageState.from_query({"s": "b.toml", "e": '{"b.toml": {"k": 2}}', "b": "@file"}, names, "a.toml")
    assert good.edits == {"b.toml": {"k": 2}} and good.compare == "@file"
    assert PageState.from_query(good.to_query(), names, "a.toml").to_query() == good.to_query()


# ============================================================================ what changed (issue 19)
def test_the_waterfall_bars_sum_to_the_total_difference() -> None:
    """B − A by line item (the waterfall's bars) and by payer per year both add up to the total
    B − A of the two runs' headlines; a reform that changes nothing gives all-zero bars."""
    from agingsim.report.charts import waterfall
    from agingsim.report.data import line_item_difference, payer_difference_by_year

    key = "policy.schemes[1].groups[0].amount"
    a, b = _engine(), _engine({key: 300, "policy.schemes[0].groups[0].amount.mild": 150})
    total = b.headline()["cost_total_wan"] - a.headline()["cost_total_wan"]
    diffs = line_item_difference(a.ledger, b.ledger)
    assert len(diffs) >= 2 and (diffs["b_minus_a_wan"] != 0).sum() == 2
    assert diffs["b_minus_a_wan"].sum() == pytest.approx(total, abs=0.02)
    by_payer = payer_difference_by_year(a.ledger, b.ledger)
    assert by_payer["total"].sum() == pytest.approx(total, abs=0.02)
    assert by_payer.drop(columns="total").sum(axis=1).to_numpy() == pytest.approx(
        by_payer["total"].to_numpy()
    )
    fig = waterfall(diffs, "zh", "footer")
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert sum(heights[:-1]) == pytest.approx(heights[-1]) == pytest.approx(total, abs=0.02)
    same = line_item_difference(a.ledger, _engine(fresh=True).ledger)  # a second run, not a's
    assert (same["b_minus_a_wan"] == 0).all()


def test_a_changed_lever_shows_its_change_on_the_cards_and_what_changed(yuquan_app: AppTest) -> None:
    at = yuquan_app
    assert all(not m.proto.delta for m in at.metric)  # the file's own values: nothing to compare
    key = "policy.schemes[1].groups[0].amount"
    lever_input(at, YUQUAN, f"{key}#money").set_value(300).run()
    assert not at.exception and not at.error
    base, changed = _engine(), _engine({key: 300})
    first, last = figures.fiscal_years(base)
    title = label("card_total", "zh", first=first, last=last)
    card = next(m for m in at.metric if m.label == title)
    diff = changed.headline()["cost_total_wan"] - base.headline()["cost_total_wan"]
    assert card.proto.delta == f"+{fmt_wan(diff)} 万元"
    assert label("changed_title", "zh") in [e.label for e in at.expander]
    text = "\n".join(m.value for m in at.markdown)
    assert "→ 300" in text and fmt_wan(diff) in text


def test_the_downloaded_scenario_loads_back_identically(tmp_path: Path) -> None:
    """The downloaded scenario ("Download this scenario (TOML)"): the edited file labels each changed value `set in the app`,
    is a valid scenario of its own and runs to exactly the numbers the page showed."""
    source = sources.from_file(YUQUAN)
    sections = find_levers(source.raw)
    changes = {
        "policy.schemes[1].groups[0].amount#money": 300,
        "policy.schemes[0].payers.2024-07.city#share": 0.7,
        "policy.schemes[0].budget_cap#cap#county": 500.0,
        "policy.schemes[1].groups[5].when#switch": False,
    }
    overrides = overrides_for(sections, changes)
    text = sources.scenario_toml(source, overrides)
    path = tmp_path / "edited.toml"
    path.write_text(text, encoding="utf-8")
    back = load_scenario(path)
    shown = sources.load(source, overrides, workdir=tmp_path)
    assert back.file.model_dump() == shown.file.model_dump()
    a = run_scenario(back.with_run(simulated_people=PEOPLE))
    b = run_scenario(shown.with_run(simulated_people=PEOPLE))
    pd.testing.assert_frame_equal(a.ledger, b.ledger)
    raw = read_toml(path)
    meal = raw["policy"]["schemes"][1]["groups"][0]["amount"]
    assert meal["value"] == 300 and meal["assumption"].startswith("set in the app: 300 (the file had 90")
    assert raw["policy"]["schemes"][0]["budget_cap"]["assumption"].startswith("set in the app:")
    assert sources.scenario_toml(source, {}) and load_scenario(path).file.policy is not None


def test_who_gets_what_sums_to_the_ledger() -> None:
    """Issue 19: the distributional tables (by county of residence, by scheme and eligible group)
    add up to the ledger's spending, and the page shows them in words with the change after a lever."""
    from agingsim.report.data import spending_by_county, spending_by_group
    from agingsim.schemes.person import person_line_items

    result = _engine()
    total = result.ledger["amount_cny"].sum() / WAN
    people = person_line_items(result.scenario.file.policy)
    county = spending_by_county(result.ledger, result.population, people)
    group = spending_by_group(result.ledger, people)
    assert county["spending_wan"].sum() == pytest.approx(total)
    assert group["spending_wan"].sum() == pytest.approx(total)
    assert (county["people_60plus"] > 0).all() and (county["spending_per_person_60plus_cny"] > 0).all()
    assert set(group["rule"]) == set(result.ledger["rule"])

    at = _app_on(YUQUAN, view="who")
    key = "policy.schemes[1].groups[0].amount"
    lever_input(at, YUQUAN, f"{key}#money").set_value(300).run()
    assert not at.exception and not at.error
    shown = [d.value for d in at.dataframe][-2:]
    change = column_label("spending_change_wan", "zh")
    changed = _engine({key: 300})
    diff = (changed.ledger["amount_cny"].sum() - result.ledger["amount_cny"].sum()) / WAN
    for table in shown:
        assert table[change].sum() == pytest.approx(diff)
        assert "None" not in table.to_string() and "g1_" not in table.to_string()


def test_downloaded_csvs_open_in_excel_with_a_bom_and_optional_chinese_headers() -> None:
    source = sources.from_file(YUQUAN)
    run, _ = runs.CACHE.run(sources.load(source, {}, simulated_people=PEOPLE))
    for chinese in (False, True):
        with zipfile.ZipFile(io.BytesIO(run.csv_zip(chinese))) as zf:
            data = zf.read("ledger.csv")
        assert data.startswith(b"\xef\xbb\xbf")
        table = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
        plain = pd.read_csv(run.folder / "ledger.csv")
        assert len(table) == len(plain)
        assert list(table.columns) == (
            [column_label(c, "zh") for c in plain.columns] if chinese else list(plain.columns)
        )
        pd.testing.assert_frame_equal(table.set_axis(plain.columns, axis=1), plain)


def test_the_page_says_why_a_lever_needs_a_full_run() -> None:
    """Zhumadian's allowance amount is replayed on the same people; its start year is not, and the
    page says why (Yuquan's home services change care choices: every change there is a full run)."""
    path = ROOT / "scenarios" / "zhumadian_basic_services.toml"
    source = sources.from_file(path)
    money = sources.load(source, {"policy.schemes[0].amount": 160}, simulated_people=PEOPLE)
    year = sources.load(source, {"run.start_year": 2026}, simulated_people=PEOPLE)
    assert runs.payments_only(source, money) and not runs.payments_only(source, year)
    yuquan = sources.from_file(YUQUAN)
    meal = sources.load(yuquan, {"policy.schemes[1].groups[0].amount": 300}, simulated_people=PEOPLE)
    assert not runs.payments_only(yuquan, meal)
    at = _app_on(path)
    lever_input(at, path, "policy.schemes[0].amount#money").set_value(160).run()
    assert label("app_full_run_why", "zh") not in [c.value for c in at.caption]
    lever_input(at, path, "run.start_year#year").set_value(2026).run()
    assert not at.exception and not at.error
    assert label("app_full_run_why", "zh") in [c.value for c in at.caption]


def test_the_headline_pair_is_offered_and_compared() -> None:
    """The supply-vs-demand headline pair (scenarios/headline/) is in the scenario list and scheme B."""
    names = [p.name for p in sources.bundled_paths()]
    assert {"supply_beds.toml", "demand_vouchers.toml"} <= set(names)
    at = _app_on(
        ROOT / "scenarios" / "headline" / "supply_beds.toml", b="demand_vouchers.toml", view="compare"
    )
    assert not at.exception and not at.error
    assert _select(at, "compare_with").value == "demand_vouchers.toml"
    assert any(d.value.columns[0] == label("col_measure", "zh") for d in at.dataframe)


def test_one_split_lever_sets_every_scheme_that_shares_it() -> None:
    """Issue 19: every Guiyang scheme that splits 6 : 4 between city and county (the five facility
    schemes and the family-bed subsidy, seed 002 四(一)) moves with one lever (1 : 1 here), and the
    cards are the engine's for that change."""
    import tomllib

    path = ROOT / "scenarios" / "guiyang_service_circle.toml"
    policy = tomllib.loads(path.read_text(encoding="utf-8"))["policy"]
    sharing = [
        f"policy.{table}[{i}].payers"
        for table in ("schemes", "facility_schemes")
        for i, s in enumerate(policy.get(table, []))
        if s["payers"].get("city") == 0.6 and s["payers"].get("county") == 0.4
    ]
    assert len(sharing) >= 5
    at = _app_on(path)
    key = next(s.key for s in at.slider if s.key.startswith(f"linked|{path.name}|lever_split_all"))
    at.slider(key=key).set_value(0.5).run()
    assert not at.exception and not at.error
    edits = at.session_state["page"].changed(path.name)
    assert sorted(edits) == sorted(f"{k}.city#share" for k in sharing) and set(edits.values()) == {0.5}
    overrides = {}
    for k in sharing:
        overrides |= {f"{k}.city": 0.5, f"{k}.county": 0.5}
    want = _engine(overrides, path=path)
    year = figures.card_year(want)
    by_payer = figures.cost_by_payer(want, year)
    assert _card(at, "card_year", year=year) == fmt_money(sum(by_payer.values()), "zh")
    before = figures.cost_by_payer(_engine(path=path), year)
    assert by_payer["city"] < before["city"] and by_payer["county"] > before["county"]


def test_one_switch_over_year_moves_every_dated_switch_of_that_month() -> None:
    path = ROOT / "scenarios" / "shanxi_beds_to_vouchers.toml"
    at = _app_on(path)
    key = next(n.key for n in at.number_input if n.key.startswith(f"linked|{path.name}|lever_switch_year"))
    at.number_input(key=key).set_value(2027).run()
    assert not at.exception and not at.error
    edits = at.session_state["page"].changed(path.name)
    assert len(edits) == 3 and set(edits.values()) == {2027}
    assert all("#month#" in k for k in edits)


def test_the_run_progress_is_shown_at_most_once_per_interval() -> None:
    """Each fraction shown is a message the browser redraws the page for: a run shows one per
    ``interval`` of its own clock (a fake one here), never one for every month, and none at the end
    (the bar is removed then)."""
    now = [0.0]
    shown: list[float] = []
    progress = runs.Progress(120, shown.append, interval=0.5, clock=lambda: now[0])
    for _ in range(60):  # half the run within 0.4 s: nothing shown
        now[0] += 0.4 / 60
        progress.update()
    assert shown == []
    now[0] += 0.2
    progress.update()  # 0.6 s since the bar was drawn: one message, the fraction done
    assert shown == [61 / 120]
    for _ in range(58):  # time stands still: no more
        progress.update()
    now[0] += 1.0
    progress.update()  # month 120: the run is over, the bar goes
    assert shown == [61 / 120] and progress.done == 120


# ============================================================================ uncertainty bands
def test_replications_draw_the_bands_of_cost_need_and_those_served(yuquan_app: AppTest) -> None:
    """The spending view's opt-in replications (each a full run with parameter draws) draw the
    report's fan charts: yearly cost, people needing care and, with the behaviour model, those of
    them who get formal care, each with its PNG, SVG and CSV downloads; one replication draws none."""
    at = yuquan_app

    def bands() -> set[str]:
        keys = [b.proto.id for b in at.get("download_button")]
        return {k.split("|")[-1] for k in keys if "|band_" in k}

    def replications():
        title = label("app_replications", "zh")
        return next(n for n in at.number_input if n.label == title)

    assert bands() == set()
    replications().set_value(3).run(timeout=600)
    assert not at.exception, at.exception
    expected = {"band_cost_total_wan_3", "band_needing_care_3", "band_needing_care_served_3"}
    assert bands() == expected
    formats = {b.proto.id.split("|")[0][-3:] for b in at.get("download_button") if "|band_" in b.proto.id}
    assert formats == {"png", "svg", "csv"}
    assert at.session_state["page"].replications == {YUQUAN.name: 3}
    assert at.query_params["k"] == "3"  # the address carries them: a reload draws the same bands


def test_the_replications_are_page_state_per_scenario_and_a_link_carries_only_a_valid_count() -> None:
    """The bands' replication count lives in the page state, per scenario (opening another scenario
    starts no runs of it) and in the address; a link's count outside the widget's 2–50 is ignored
    (one replication is the default and travels as nothing)."""
    from agingsim.app.state import REPLICATIONS, PageState

    names = ["a.toml", "b.toml"]
    state = PageState.from_query({"s": "b.toml", "k": "20"}, names, "a.toml")
    assert state.replications == {"b.toml": 20} and state.to_query()["k"] == "20"
    state.scenario = "a.toml"
    assert "k" not in state.to_query()  # b's replications are not a's
    for bad in ("1", "0", "-3", str(REPLICATIONS[1] + 1), "x", "2.5", "nan"):
        assert PageState.from_query({"s": "b.toml", "k": bad}, names, "a.toml").replications == {}, bad


def test_the_service_circle_year_is_page_state_and_a_year_the_run_lacks_shows_the_last() -> None:
    """The map's year lives in the page state per scenario and in the address (``y``); a linked year
    the run does not cover (an edited link, a shorter run) draws the run's last year, no error."""
    from agingsim.app.state import PageState

    state = PageState.from_query({"s": "a.toml", "y": "2027"}, ["a.toml"], "a.toml")
    assert state.circle_year == {"a.toml": 2027} and state.to_query()["y"] == "2027"
    assert PageState.from_query({"s": "a.toml", "y": "soon"}, ["a.toml"], "a.toml").circle_year == {}
    path = ROOT / "scenarios" / "guiyang_service_circle.toml"
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params.update({"s": path.name, "view": "circle", "y": "1999", "n": str(PEOPLE)})
    at.run()
    assert not at.exception and not at.error
    sc = at.session_state["last_run"].result.scenario
    slider = next(s for s in at.select_slider if s.label == label("circle_year", "zh"))
    assert slider.value == sc.run.start_year + sc.run.years - 1
    slider.set_value(sc.run.start_year + 2).run()
    assert at.query_params["y"] == str(sc.run.start_year + 2)
