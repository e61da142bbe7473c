"""Issue 16: seed clauses the rules had wrong, each pinned by the clause it implements."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from agingsim.fiscal.ledger import lottery_report
from agingsim.scenario import load_scenario
from agingsim.simulate import RunResult

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- 000 二(一)8, 001 二(三)9: lottery


def _lottery_ledger(amount: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"year": [2025], "payer_level": ["city"], "funding": ["lottery"], "amount_cny": [amount]}
    )


def test_lottery_spending_equal_to_funds_is_not_overspent_000_8_001_9():
    """000-8 / 001-9: funds retained vs spent are money, compared to the fen: a float sum a hair above
    the funds (1,000,000.0000000001) is not overspending, one fen more is."""
    report = lottery_report(_lottery_ledger(1_000_000.0000000001), {"city": 1_000_000.0}, 0.55, 0.7, [2025])
    assert not report["overspent"].item()
    assert report["meets_rule"].item()
    report = lottery_report(_lottery_ledger(1_000_000.01), {"city": 1_000_000.0}, 0.55, 0.7, [2025])
    assert report["overspent"].item()


def test_lottery_minimum_share_is_met_to_the_fen_000_8():
    """000-8: ≥ 55%: spending 55,000 CNY of 100,000 retained meets it, although 0.55 × 100,000 is the
    float 55,000.00000000001; one fen less does not."""
    assert 0.55 * 100_000.0 > 55_000.0  # why the comparison is in fen
    ok = lottery_report(_lottery_ledger(55_000.0), {"city": 100_000.0}, 0.55, 0.7, [2025])
    assert ok["meets_rule"].item()
    short = lottery_report(_lottery_ledger(54_999.99), {"city": 100_000.0}, 0.55, 0.7, [2025])
    assert not short["meets_rule"].item()


# ---------------------------------------------------------------- assumptions inside rules


@pytest.mark.parametrize(
    ("scenario_file", "key", "rule", "says"),
    [
        # 004-三(一)-9: 享受长期护理保险的人员 read as insured and severe+
        (
            "yuquan_home_services.toml",
            "policy.schemes[0].exclude",
            "ltc_insured and ability >= severe",
            "LTC",
        ),
        ("yuquan_home_services.toml", "policy.definitions.disabled_or_semi", "ability >= mild", "半失能"),
        # 000-14-1 高龄 without an age → 80+; 000-7-2 失能 → mild+; 经济困难 → the means-tested groups
        ("zhumadian_basic_services.toml", "policy.definitions.very_old", "age >= 80", "80"),
        ("zhumadian_basic_services.toml", "policy.definitions.disabled", "ability >= mild", "GB/T 42195"),
        ("zhumadian_basic_services.toml", "policy.definitions.econ_hardship", "dibao", "经济困难"),
        ("ninghe_allowances.toml", "policy.definitions.econ_hardship", "dibao", "困难老年人"),
        ("ninghe_allowances.toml", "policy.definitions.disabled", "ability >= mild", "失能"),
        ("shanxi_beds_to_vouchers.toml", "policy.definitions.economically_difficult", "dibao", "经济困难"),
        # the admission lists' own readings (高龄 in 001-13-3 has no age)
        ("shanxi_beds_to_vouchers.toml", "definitions.very_old", "age >= 80", "高龄"),
    ],
)
def test_assumptions_inside_rules_reach_the_assumptions_table(scenario_file, key, rule, says):
    """Issue 16 defect 9: a reading of the seed built into a rule (LTC recipient = insured and severe+,
    高龄 = 80, 失能 = mild+, the 经济困难 categories) is a labelled figure of assumptions.csv."""
    sc = load_scenario(ROOT / "scenarios" / scenario_file)
    result = RunResult(sc, 0, *(pd.DataFrame(),) * 5, run_time_s=0.0)
    table = result.assumptions()
    row = table[table["key"] == key]
    assert len(row) == 1, f"{key} missing from assumptions.csv"
    assert row["provenance"].item() == "assumption"
    assert rule in row["value"].item() and says in row["text"].item()


# ---------------------------------------------------------------- no citation outside the repository

#: Files outside the repository a label might cite: the reference folder beside it (shared/…, its
#: DOMAIN.md / TOOLING.md) or an absolute path of the machine it was written on.
OUTSIDE = re.compile(r"\bshared/|\bDOMAIN\.md\b|\bTOOLING\.md\b|(?<![\w.])/(?:work|home|tmp|Users)/")
#: A relative path climbing out of its folder (``../data/x.csv``): fine while it stays in the repository.
RELATIVE = re.compile(r"(?:\.\./)+[\w./-]*")


def test_no_file_in_scenarios_or_calibration_cites_a_file_outside_the_repository():
    """Non-negotiable 3 (issue 16 defect 8): every figure's citation is a publication or a file of the
    repository (calibration/data/…), never a file beside it that a user does not have."""
    hits = []
    for folder in ("scenarios", "calibration"):
        for path in sorted((ROOT / folder).rglob("*")):
            if not path.is_file() or path.suffix.lower() in {".png", ".jpg", ".pdf", ".parquet"}:
                continue
            text = path.read_text(encoding="utf-8")
            for n, line in enumerate(text.splitlines(), 1):
                escapes = [
                    m for m in RELATIVE.findall(line) if not (path.parent / m).resolve().is_relative_to(ROOT)
                ]
                if OUTSIDE.search(line) or escapes:
                    hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert not hits, "outside citations:\n" + "\n".join(hits)


def test_the_tianjin_2017_figures_the_scenarios_borrow_are_in_calibration_data():
    """The Tianjin 2017 home-care subsidy (200/400/600, city : district 1 : 1) that four scenarios use
    is copied into calibration/data with its publication."""
    table = pd.read_csv(ROOT / "calibration/data/tianjin_subsidy_standards.csv").set_index("indicator")
    assert table.loc[
        ["home_care_subsidy_mild", "home_care_subsidy_moderate", "home_care_subsidy_severe"], "value"
    ].tolist() == [200, 400, 600]
    assert table.loc["home_care_subsidy_city_share", "value"] == 0.5
    assert table["source"].str.len().gt(40).all()
    assert "关于调整我市居家养老服务(护理)补贴标准的通知" in table.loc["home_care_subsidy_mild", "source"]
