"""Issue 15: the headline difference with its interval (agingsim.uncertainty.difference)."""

from __future__ import annotations

from agingsim.scenario import load_scenario
from agingsim.uncertainty import stated_distributions
from agingsim.uncertainty.difference import main, paired_difference
from tests.conftest import ROOT

BEHAVIOUR = ROOT / "calibration" / "behaviour" / "default.toml"


def _arms(tiny_copy):
    tiny_copy("tiny.toml", 'ability_model = "', f'behaviour = "{BEHAVIOUR}"\nability_model = "')
    text = tiny_copy.scenario.read_text(encoding="utf-8").replace("years = 3", "years = 2")
    tiny_copy.scenario.write_text(text, encoding="utf-8")
    same = tiny_copy.dir / "same.toml"  # a reform that changes nothing: the same figures, another file
    same.write_text(text, encoding="utf-8")
    return load_scenario(tiny_copy.scenario), load_scenario(same)


def test_a_reform_that_changes_nothing_shows_exactly_zero_with_parameter_draws_on(tiny_copy):
    """Common random numbers and common parameter draws: every replication's B − A is exactly 0, while
    the draws do change the figures from one replication to the next."""
    a, b = _arms(tiny_copy)
    dists = stated_distributions(a)
    assert any(s.kind == "behaviour" for s in dists.figures) and any(
        s.kind == "ability" for s in dists.figures
    )
    result = paired_difference(a, b, 3, parameter_uncertainty=True)
    assert (result.diff.to_numpy() == 0.0).all()
    assert result.a["needing_care_served"].nunique() > 1  # the replications differ: draws are on
    summary = result.summary()
    assert summary["needing_care_served"]["distinguishable_from_zero"] is False
    assert summary["needing_care_served"]["difference_90"] == {"p05": 0.0, "p50": 0.0, "p95": 0.0}


def test_the_command_reports_the_interval_and_refuses_a_single_replication(tiny_copy, capsys):
    a, b = _arms(tiny_copy)
    assert main([str(a.path), str(b.path), "--replications", "2", "--people", "3000"]) == 0
    out = capsys.readouterr().out
    assert '"replications": 2' in out and "difference_90" in out and '"parameter_uncertainty": true' in out
    assert main([str(a.path), str(b.path), "--replications", "1"]) == 2
