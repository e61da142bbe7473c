"""Issue 9 §4: Monte Carlo replications and draws of figures with stated distributions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agingsim.cli import main
from agingsim.errors import ScenarioError
from agingsim.scenario import load_scenario
from agingsim.scenario.files import read_toml
from agingsim.scenario.provenance import strip_provenance
from agingsim.uncertainty import Distributions, draw, intervals, run_replications, stated_distributions
from agingsim.uncertainty.draws import Group, Stated

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"


def _small(tmp_path: Path, years: int = 2, people: int = 4000) -> Path:
    """The tiny test world, shorter and smaller (the ability model is calibration/ability/default.toml)."""
    text = (DATA / "tiny.toml").read_text(encoding="utf-8")
    text = text.replace("years = 3", f"years = {years}").replace(
        "simulated_people = 20000", f"simulated_people = {people}"
    )
    text = text.replace(
        "../../calibration/ability/default.toml", str(ROOT / "calibration/ability/default.toml")
    )
    for name in ("tiny_region.toml", "tiny_margins.toml"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    path = tmp_path / "small.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_scenario_states_the_fit_and_hazard_ratio_distributions():
    dists = stated_distributions(load_scenario())
    names = {s.name for s in dists.figures}
    assert "ability:transitions[0].rate_60" in names and "ability:mortality.hazard_ratio.severe" in names
    # the fit now estimates the hazard ratios too (from CLHLS death-rate ratios), so they are drawn with
    # the fit's correlation, not as the starting file's common factor
    assert {g.name for g in dists.groups if g.kind == "ability"} == {"fit"}
    assert {g.name for g in dists.groups if g.kind == "behaviour"} >= {
        "prices_institution_private",
        "needs_hours",
    }
    fit = next(g for g in dists.groups if g.name == "fit")
    assert all(f"ability:{k}" in names for k in fit.keys)
    # each drawn figure's label says where the spread comes from
    for s in dists.figures:
        assert "Jacobian" in s.label or "Spread" in s.label or "fitted by agingsim calibrate" in s.label, s


def test_draws_are_reproducible_keyed_by_replication_and_by_figure():
    dists = stated_distributions(load_scenario())
    a, b = draw(dists, 5, 3), draw(dists, 5, 3)
    assert a == b
    assert draw(dists, 5, 4) != a and draw(dists, 6, 3) != a
    # common random numbers: a figure's draw does not depend on which other figures are drawn
    beh = [s for s in dists.figures if s.kind == "behaviour"]
    assert beh
    only = Distributions(tuple(beh), tuple(g for g in dists.groups if g.kind == "behaviour"))
    assert {k: v for k, v in a.items() if k.startswith("behaviour:")} == draw(only, 5, 3)


def test_correlation_groups_are_honoured():
    s = [Stated("ability", f"x{i}", "f.toml", 1.0, "normal", 1.0, "assumption: test") for i in range(3)]
    corr = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
    dists = Distributions(tuple(s), (Group("ability", "g", ("x0", "x1"), _factor(corr[:2, :2])),))
    x = np.array([[d[f"ability:x{i}"] for i in range(3)] for d in (draw(dists, 1, r) for r in range(3000))])
    c = np.corrcoef(x.T)
    assert c[0, 1] == pytest.approx(0.9, abs=0.03) and abs(c[0, 2]) < 0.06
    assert x.std(axis=0) == pytest.approx([1, 1, 1], abs=0.06)
    # the starting file's hazard ratios are one common factor: every level scaled alike, order kept
    from agingsim.uncertainty.draws import _groups, _stated

    raw = read_toml(ROOT / "calibration" / "ability" / "default.toml")
    found, _ = _stated("ability", "default.toml", raw)
    groups, _ = _groups("ability", "default.toml", raw, found)
    d = draw(Distributions(tuple(found), tuple(groups)), 1, 0)
    ratios = {
        lv: d[f"ability:mortality.hazard_ratio.{lv}"] / c0 for lv, c0 in [("mild", 1.5), ("severe", 4.0)]
    }
    assert ratios["mild"] == pytest.approx(ratios["severe"], rel=1e-9)


def test_draws_change_the_behaviour_coefficients_of_a_replication():
    """Issue 15: every behaviour coefficient states a spread, so a replication with parameter draws
    runs with different choice, supply, investment and carer coefficients (and the same on a repeat)."""
    from agingsim.uncertainty.draws import scenario_with

    scenario = load_scenario()
    dists = stated_distributions(scenario)
    drawn = {s.key for s in dists.figures if s.kind == "behaviour"}
    for key in (
        "choice.price_per_1000.ordinary",
        "choice.asc.institution.severe",
        "choice.family.alone.institution",
        "supply.public_bed_share",
        "investment.closure_rate",
        "investment.capital_cost_per_bed",
        "carers.hiring_share",
        "prices.institution_private.severe",
        "needs.hours_per_month.complete",
    ):
        assert key in drawn, key
    values = draw(dists, scenario.run.seed, 3)
    drawn_scenario = scenario_with(scenario, values, 3)
    b0, b1 = scenario.behaviour, drawn_scenario.behaviour
    assert b1.choice.price_per_1000["ordinary"] == pytest.approx(
        values["behaviour:choice.price_per_1000.ordinary"]
    )
    assert b1.choice.price_per_1000["ordinary"] != b0.choice.price_per_1000["ordinary"]
    assert b1.choice.asc["institution"]["severe"] != b0.choice.asc["institution"]["severe"]
    assert b1.investment.closure_rate != b0.investment.closure_rate
    assert b1.supply.public_bed_share != b0.supply.public_bed_share
    assert b1.carers.hiring_share != b0.carers.hiring_share
    # prices move as one factor per table, so the grades keep their order
    ratio = {
        lv: b1.prices.institution_private[lv] / b0.prices.institution_private[lv]
        for lv in ("mild", "complete")
    }
    assert ratio["mild"] == pytest.approx(ratio["complete"], rel=1e-9) and ratio["mild"] != 1.0
    # what is a normalisation, not a coefficient, is held: the reference alternative and the timing
    assert b1.choice.asc["family_care"] == b0.choice.asc["family_care"]
    assert b1.choice.review_every_months == b0.choice.review_every_months


def _factor(corr: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(corr)
    return v * np.sqrt(w)


def test_spread_without_label_is_unlabelled_and_bad_spreads_are_errors(tmp_path):
    _, _, missing = strip_provenance({"x": {"value": 1.0, "sd": 0.1}})
    assert missing == ["x"]
    path = _small(tmp_path)
    region = tmp_path / "tiny_region.toml"
    text = region.read_text(encoding="utf-8")
    assert "annual_growth" in text
    text = re.sub(r"annual_growth = ([0-9.\-]+)", r"annual_growth = { value = \1, sd = -1 }", text, count=1)
    region.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        stated_distributions(load_scenario(path))
    assert "tiny_region.toml" in str(err.value) and "sd" in str(err.value) and "positive" in str(err.value)
    assert main(["run", str(path), "--replications", "2", "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_interval_of_the_mean_shrinks_with_replications_and_the_spread_does_not():
    """Synthetic runs whose outcome is N(100, 10²): the 90% interval of the mean narrows as 1/√n,
    the p05–p95 interval of outcomes stays near ±16.4."""
    rng = np.random.default_rng(0)
    runs = [
        {"t": pd.DataFrame({"year": [2025], "people": [100 + 10 * rng.standard_normal()]})}
        for _ in range(160)
    ]
    few, many = intervals(runs[:10]).iloc[0], intervals(runs).iloc[0]
    assert few["n"] == 10 and many["n"] == 160

    def width(r: pd.Series, lo: str, hi: str) -> float:
        return float(r[hi] - r[lo])

    # expected ratio √(10/160) × t(0.95, 159) / t(0.95, 9) ≈ 0.23
    assert width(many, "mean_p05", "mean_p95") < 0.4 * width(few, "mean_p05", "mean_p95")
    assert width(many, "mean_p05", "mean_p95") == pytest.approx(2 * 1.654 * 10 / np.sqrt(160), rel=0.15)
    assert width(many, "p05", "p95") == pytest.approx(2 * 1.645 * 10, rel=0.2)
    assert many["mean_p05"] < 100 < many["mean_p95"]


def test_missing_rows_count_as_zero_and_true_false_as_one_zero():
    a = {"t": pd.DataFrame({"year": [2025, 2025], "county": ["a", "b"], "n": [1.0, 3.0], "ok": [True, True]})}
    b = {"t": pd.DataFrame({"year": [2025], "county": ["a"], "n": [3.0], "ok": [False]})}
    out = intervals([a, b]).set_index(["key", "measure"])
    assert out.loc[("county=b", "n"), "mean"] == pytest.approx(1.5)
    assert out.loc[("county=a", "ok"), "mean"] == pytest.approx(0.5)


def test_replications_cover_every_run_table_and_shrink_the_mean_interval(tmp_path):
    scenario = load_scenario(_small(tmp_path))
    few = run_replications(scenario, 3)
    many = run_replications(scenario, 10)
    tables = {n.removesuffix(".csv") for n in many.first.files() if n.endswith(".csv")}
    iv_few, iv_many = few.intervals(), many.intervals()
    assert set(iv_many["table"]) == (tables - {"assumptions", "ledger"}) | {"by_year"}

    def width(iv: pd.DataFrame) -> float:
        row = iv[(iv.table == "by_year") & (iv.measure == "needing_care")].iloc[-1]
        return float(row.mean_p95 - row.mean_p05)

    assert width(iv_many) < 0.6 * width(iv_few)
    # replications share the first 3 runs: same scenario, seed and index give the same results
    pd.testing.assert_frame_equal(few.by_year(), many.by_year()[many.by_year().replication < 3])
    # parameter draws are applied: the drawn hazard ratios differ by replication and are labelled
    assert many.draws["value"].nunique() > 4
    labelled = many.first.assumptions()
    assert labelled["text"].str.contains("parameter-draws-replication-0").any()


def test_one_and_two_workers_give_identical_results(tmp_path):
    scenario = load_scenario(_small(tmp_path, years=1, people=2000))
    one = run_replications(scenario, 3, workers=1)
    two = run_replications(scenario, 3, workers=2)
    pd.testing.assert_frame_equal(one.intervals(), two.intervals())
    pd.testing.assert_frame_equal(one.draws, two.draws)


def test_run_replications_cli_writes_intervals_and_records_what_was_drawn(tmp_path):
    path = _small(tmp_path, years=1, people=2000)
    out, plain = tmp_path / "out", tmp_path / "plain"
    assert main(["run", str(path), "--replications", "3", "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"intervals.csv", "replications.csv", "draws.csv", "population.csv", "summary.json"} <= names
    iv = pd.read_csv(out / "intervals.csv")
    assert list(iv.columns[:8]) == ["table", "year", "key", "measure", "n", "p05", "p50", "p95"]
    assert (iv["p05"] <= iv["p50"] + 1e-9).all() and (iv["p50"] <= iv["p95"] + 1e-9).all()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["uncertainty"]["replications"] == 3 and summary["seed"] == 7
    assert summary["replication"] == 0  # the same type as a single run's record: the full tables' replication
    assert summary["uncertainty"]["parameter_uncertainty"] is True
    assert len(summary["uncertainty"]["figures_drawn"]) == 4
    assert (
        main(["run", str(path), "--replications", "3", "--no-parameter-uncertainty", "--out", str(plain)])
        == 0
    )
    assert not (plain / "draws.csv").exists()
    summary = json.loads((plain / "summary.json").read_text(encoding="utf-8"))
    assert summary["uncertainty"]["figures_drawn"] == []


def test_a_yes_no_column_with_gaps_is_a_measure_and_a_missing_key_is_empty():
    """`agingsim run --replications` on a scenario with targets: targets.csv's ``met`` is true,
    false or empty (a target that cannot be judged), read back as booleans and NaN; with pandas 3
    its missing values survived ``astype(str)`` and the key's join failed (TypeError). ``met`` is a
    share of replications meeting the target, over those where it could be judged; a key column's
    missing value reads as empty."""
    a = {"t": pd.DataFrame({"year": [2025, 2025], "id": ["x", None], "met": [True, np.nan]})}
    b = {"t": pd.DataFrame({"year": [2025, 2025], "id": ["x", None], "met": [False, np.nan]})}
    out = intervals([a, b]).set_index(["key", "measure"])
    assert out.loc[("id=x", "met"), "mean"] == pytest.approx(0.5)
    assert ("id=", "met") not in out.index  # never judged: no row, not a zero


def test_replications_of_a_scenario_with_targets_not_judged_every_year(tmp_path):
    """Zhumadian's scenario has clause targets, some not judged in its third year (this command
    failed on it before the fix above)."""
    out = tmp_path / "out"
    path = ROOT / "scenarios" / "zhumadian_basic_services.toml"
    assert main(["run", str(path), "--years", "3", "--replications", "2", "--out", str(out)]) == 0
    iv = pd.read_csv(out / "intervals.csv")
    met = iv[(iv.table == "targets") & (iv.measure == "met")]
    assert len(met) > 0 and met["mean"].between(0, 1).all()


def test_replications_say_how_many_of_those_in_need_are_served(tmp_path, capsys):
    """The product's second question under uncertainty: with a behaviour model, each replication's
    yearly rows (replications.csv, the by_year intervals, the sweep store's rows) carry the people
    needing care in a formal setting and their share of those in need, as coverage.csv gives them
    (monthly means; empty in the closing 1 January), and the terminal prints their interval."""
    out = tmp_path / "out"
    path = ROOT / "scenarios" / "yuquan_home_services.toml"
    assert main(["run", str(path), "--years", "2", "--replications", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    reps = pd.read_csv(out / "replications.csv")
    cov = pd.read_csv(out / "coverage.csv")  # replication 0's full table
    first = reps[reps.replication == 0].set_index("year")
    for year in (2024, 2025):
        rows = cov[cov.year == year]
        formal = rows.loc[rows.setting != "family_care", "people"].sum()
        assert first.loc[year, "needing_care_served"] == pytest.approx(formal, abs=1e-3)
        assert first.loc[year, "needing_care_served_share"] == pytest.approx(
            formal / rows.people.sum(), abs=1e-4
        )
    assert reps.loc[reps.year == 2026, "needing_care_served"].isna().all()  # not simulated
    assert reps["needing_care_served"].nunique() > 1  # the replications differ
    iv = pd.read_csv(out / "intervals.csv")
    assert {"needing_care_served", "needing_care_served_share"} <= set(
        iv.loc[iv.table == "by_year", "measure"]
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    q = summary["uncertainty"]["headline"]["needing_care_served_last"]
    assert summary["uncertainty"]["headline"]["served_year"] == 2025
    assert q["p05"] <= q["p50"] <= q["p95"]
    line = next(
        x for x in printed.splitlines() if "Served by formal care (2025年月均 monthly mean of 2025)" in x
    )
    assert f"{q['p50']:,.0f} [{q['p05']:,.0f} – {q['p95']:,.0f}]" in line
    assert "Share served (2025年月均 monthly mean of 2025)" in printed
    # the stock dated 1 January 2026 is the end of fiscal 2025, as the app and the report say it
    assert "People 60+ (2025年末 end of 2025)" in printed and "2024–2025年度 FY2024–FY2025" in printed
    # the report draws its median and 90% band by year beside those of cost and need
    assert main(["report", str(out), "--formats", "png"]) == 0
    drawn = pd.read_csv(out / "report" / "band_needing_care_served.csv", encoding="utf-8-sig").set_index(
        "year"
    )
    assert drawn.loc[2025, "p50"] == pytest.approx(q["p50"], abs=0.01)
    assert (out / "report" / "band_needing_care_served.png").stat().st_size > 0


YUQUAN = ROOT / "scenarios" / "yuquan_home_services.toml"
MEAL = "policy.schemes[1].groups[0].amount"  # Yuquan's meal allowance (the file: 90 CNY)


def test_the_draws_of_a_changed_scenario_are_drawn_on_the_change():
    """A variant (a lever set in the app, scenario.variant.load_scenario_with) keeps its change in
    every replication: the draws used to reload the file from disk, so the app's uncertainty bands
    and A-vs-B interval of a changed scenario were the unchanged file's (B − A exactly 0)."""
    from agingsim.scenario.variant import load_scenario_with
    from agingsim.uncertainty.run import replication_scenarios

    variant = load_scenario_with(YUQUAN, {MEAL: 300}).with_run(simulated_people=4000)
    scenarios, dists, draws = replication_scenarios(variant, 2)
    assert [s.file.policy.schemes[1].groups[0].amount for s in scenarios] == [300, 300]
    assert len(dists.figures) == len(stated_distributions(load_scenario(YUQUAN)).figures) > 0
    assert draws["replication"].nunique() == 2


def test_an_uploaded_scenario_can_be_replicated():
    """An upload has no file at its path (app.sources.from_upload): its replications draw on the
    uploaded contents (they failed with 'file not found', so the app's bands of an upload broke)."""
    from agingsim.app import sources
    from agingsim.uncertainty.run import replication_scenarios

    data = YUQUAN.read_bytes().replace(b"value = 90", b"value = 333", 1)
    upload = sources.load(sources.from_upload("mine.toml", data), {}, simulated_people=4000)
    assert not upload.path.exists()
    scenarios, _, _ = replication_scenarios(upload, 2)
    assert [s.file.policy.schemes[1].groups[0].amount for s in scenarios] == [333, 333]
