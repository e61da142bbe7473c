"""Issue 15 / non-negotiable 6: the difference of two arms with its interval
(``agingsim compare A B --replications N``, agingsim.uncertainty.difference)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from agingsim.cli import main
from agingsim.scenario import load_scenario
from agingsim.uncertainty import stated_distributions
from agingsim.uncertainty.difference import DIFFERENCE_COLUMNS, describe, paired_replications
from tests.conftest import ROOT

BEHAVIOUR = ROOT / "calibration" / "behaviour" / "default.toml"

POLICY = """
[policy]
[[policy.schemes]]
id = "allowance_80"
name = "高龄津贴"
family = "allowance"
eligible = "age >= 80"
amount = { value = 100, assumption = "test" }
payers = { city = 0.6, county = 0.4, source = "test" }
"""
DOUBLED = POLICY.replace("value = 100", "value = 200")


def _arms(tiny_copy, b_policy: str = POLICY, b_behaviour: bool = True):
    """A: the tiny world with the behaviour model and an 80+ allowance, 2 years; B: the same figures
    in another file, with ``b_policy`` and (unless ``b_behaviour`` is false) the behaviour model."""
    tiny_copy("tiny.toml", 'ability_model = "', f'behaviour = "{BEHAVIOUR}"\nability_model = "')
    plain = tiny_copy.scenario.read_text(encoding="utf-8").replace("years = 3", "years = 2")
    tiny_copy.scenario.write_text(plain + POLICY, encoding="utf-8")
    b_text = plain if b_behaviour else plain.replace(f'behaviour = "{BEHAVIOUR}"\n', "")
    other = tiny_copy.dir / "b.toml"
    other.write_text(b_text + b_policy, encoding="utf-8")
    return load_scenario(tiny_copy.scenario), load_scenario(other)


def test_a_reform_that_changes_nothing_shows_exactly_zero_with_parameter_draws_on(tiny_copy):
    """Common random numbers and common parameter draws: every replication's B − A is exactly 0, while
    the draws do change the figures from one replication to the next."""
    a, b = _arms(tiny_copy)
    dists = stated_distributions(a)
    assert any(s.kind == "behaviour" for s in dists.figures) and any(
        s.kind == "ability" for s in dists.figures
    )
    paired = paired_replications(a, b, 3, parameter_uncertainty=True)
    per = paired.differences()
    assert len(per) > 0 and (per["b_minus_a"] == 0.0).all()
    served = per[per["measure"] == "needing_care_served"]["a"]
    assert served.nunique() > 1  # the replications differ: draws are on
    row = paired.difference().set_index("measure").loc["needing_care_served"]
    assert row["distinguishable_from_zero"] is not None and not row["distinguishable_from_zero"]
    assert (row["difference_p05"], row["difference_p50"], row["difference_p95"]) == (0.0, 0.0, 0.0)
    assert any("identical in every replication" in line for line in describe(paired))


def test_doubling_an_allowance_doubles_its_cost_in_every_replication(tiny_copy):
    """Same people and same draws in both arms: the city pays only the 80+ allowance, so doubling it
    is +100% exactly in each replication, an interval of one point; the people it reaches are the
    same (+0)."""
    a, b = _arms(tiny_copy, DOUBLED)
    table = paired_replications(a, b, 3).difference().set_index("measure")
    city = table.loc["cost_city_wan"]
    assert city["b_mean"] == pytest.approx(2 * city["a_mean"], rel=1e-12)
    for p in ("p05", "p50", "p95"):
        assert city[f"relative_{p}"] == pytest.approx(1.0, rel=1e-12)
    assert bool(city["distinguishable_from_zero"]) is True
    assert table.loc["people_served_per_month", "difference_p95"] == 0.0


def test_the_figures_are_the_same_whatever_the_number_of_workers(tiny_copy):
    a, b = _arms(tiny_copy, DOUBLED)
    one = paired_replications(a, b, 2, workers=1)
    two = paired_replications(a, b, 2, workers=2)
    assert two.workers == 2
    pd.testing.assert_frame_equal(one.differences(), two.differences())
    pd.testing.assert_frame_equal(one.difference(), two.difference())
    pd.testing.assert_frame_equal(one.comparison(0), two.comparison(0))
    pd.testing.assert_frame_equal(one.draws, two.draws)


def test_an_arm_without_a_behaviour_model_has_no_interval_for_who_is_served(tiny_copy):
    """B names no behaviour model: it does not model who of those in need is served, so the
    difference is empty (—), never a difference against zero served."""
    a, b = _arms(tiny_copy, b_behaviour=False)
    paired = paired_replications(a, b, 2)
    row = paired.difference().set_index("measure").loc["needing_care_served"]
    assert math.isnan(row["b_mean"]) and math.isnan(row["difference_p50"])
    assert row["distinguishable_from_zero"] is None
    line = next(x for x in describe(paired) if "formal care" in x)
    assert line.endswith(": — (an arm does not model it)"), line


def test_the_command_writes_the_interval_beside_replication_0(tiny_copy, capsys, tmp_path):
    a, b = _arms(tiny_copy, DOUBLED)
    out = tmp_path / "cmp"
    code = main(["compare", str(a.path), str(b.path), "--replications", "2", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["comparison.csv", "difference.csv", "differences.csv", "draws.csv", "summary.json"]
    )
    table = pd.read_csv(out / "difference.csv")
    assert tuple(table.columns) == DIFFERENCE_COLUMNS
    per = pd.read_csv(out / "differences.csv")
    assert sorted(per["replication"].unique()) == [0, 1]
    draws = pd.read_csv(out / "draws.csv")
    assert set(draws["arm"]) == {"A", "B"}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    u = summary["uncertainty"]
    assert u["replications"] == 2 and u["parameter_uncertainty"] is True
    assert u["difference"]["cost_city_wan"]["relative_p50"] == pytest.approx(1.0)
    assert summary["a"]["seed"] == summary["b"]["seed"]
    assert "+100.0% [+100.0% – +100.0%]" in printed
    assert "rough 90% interval" in printed  # 2 replications: said plainly


def test_a_single_replication_is_refused_before_running(tiny_copy, capsys, tmp_path):
    a, b = _arms(tiny_copy)
    out = tmp_path / "cmp"
    with pytest.raises(SystemExit) as exc:
        main(["compare", str(a.path), str(b.path), "--replications", "1", "--out", str(out)])
    assert exc.value.code == 2
    assert "--replications: must be at least 2" in capsys.readouterr().err
    assert not out.exists()


def test_the_report_of_an_interval_folder_carries_the_interval(tiny_copy, capsys, tmp_path):
    """``agingsim report`` of a compare --replications folder: the workbook's interval sheet and a
    deck slide with it, and the A/B figures said to be replication 0's; a difference.csv that lost
    a column is a clear error."""
    import openpyxl
    from pptx import Presentation

    a, b = _arms(tiny_copy, DOUBLED)
    out, rep = tmp_path / "cmp", tmp_path / "rep"
    assert main(["compare", str(a.path), str(b.path), "--replications", "2", "--out", str(out)]) == 0
    assert main(["report", str(out), "--out", str(rep), "--lang", "en"]) == 0
    capsys.readouterr()
    book = openpyxl.load_workbook(rep / "report.xlsx")
    rows = list(book["Difference interval"].iter_rows(values_only=True))
    assert rows[0][4] == "B − A median" and rows[0][9] == "90% interval"
    city = next(r for r in rows if str(r[0]).startswith("City spending"))
    assert city[7] == pytest.approx(1.0) and city[9] == "excludes 0"
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert any(str(r[0]).startswith("A and B below are replication 0") for r in summary)
    titles = [s.shapes.title.text for s in Presentation(str(rep / "briefing.pptx")).slides if s.shapes.title]
    assert "B − A with its 90% interval (2 paired replications)" in titles
    assert "Headline numbers (replication 0)" in titles

    table = pd.read_csv(out / "difference.csv").drop(columns=["difference_p95"])
    table.to_csv(out / "difference.csv", index=False)
    assert main(["report", str(out), "--out", str(tmp_path / "rep2")]) == 2
    err = capsys.readouterr().err
    assert "difference.csv: missing column(s) difference_p95" in err, err
    assert not (tmp_path / "rep2").exists()


def test_arms_with_no_year_in_common_say_so_once(tiny_copy):
    """B starts after A ends: there is no difference to give, and the terminal says that, rather
    than calling every measure one an arm does not model."""
    a, b = _arms(tiny_copy)
    b.path.write_text(b.path.read_text(encoding="utf-8").replace("start_year = 2024", "start_year = 2030"))
    paired = paired_replications(a, load_scenario(b.path), 2)
    lines = describe(paired)
    assert lines[-1].startswith("无共同年份 no year both arms cover (A 2024–2025, B 2030–2031)"), lines
    assert not any("does not model" in line for line in lines)
    assert paired.difference()["difference_p50"].isna().all()
