"""Public-bed admission order per seed (issue 16 defect 1): 000 二(三)15, 001 二(四)13 and 16, 003 二(五)12.

Eleven hand-built people wait for public beds in one county; each seed's list, as the bundled
scenario of that seed compiles it (its own [policy.definitions] included), must admit them in the
order worked out by hand from the clause text below.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from people_builder import person

from agingsim.scenario import load_scenario
from agingsim.services.admission import admit, compile_admission

ROOT = Path(__file__).resolve().parents[1]

#: (person, month they joined the waiting list)
PEOPLE = [
    (person(age=70, econ="tekun_centralised"), 10),  # 0 特困 wanting centralised support
    (person(age=70, econ="dibao", ability="mild"), 5),  # 1 低保, mildly disabled (失能 = mild+)
    (person(age=85), 1),  # 2 80+, not poor
    (person(age=85, econ="dibao"), 6),  # 3 80+ and 低保
    (person(age=68, econ="dibao", family="left_behind"), 2),  # 4 poor, left behind (留守)
    (person(age=66, flags=("fp_special",)), 3),  # 5 计生特扶, not poor
    (person(age=66, econ="near_dibao", flags=("fp_special",)), 7),  # 6 计生特扶 and 低保边缘
    (person(age=70, flags=("veteran_family",)), 9),  # 7 veterans' family, not poor
    (person(age=72, flags=("model_worker",)), 0),  # 8 model worker, not poor
    (person(age=65, family="empty_nest", ability="moderate"), 4),  # 9 empty nest, disabled, not poor
    (person(age=75, econ="tekun_dispersed", family="alone", flags=("veteran_family",)), 8),  # 10
]


def admission_order(scenario_file: str) -> tuple[list[int], list[str]]:
    """The order in which the scenario's admission list admits the eleven (11 free public beds)."""
    sc = load_scenario(ROOT / "scenarios" / scenario_file)
    rules = compile_admission(
        sc.behaviour.admission, dict(sc.file.policy.definitions), sc.ability.age_max, sc.path
    )
    cols = {k: np.array([p[k] for p, _ in PEOPLE]) for k in PEOPLE[0][0]}
    group, tie = rules.of(cols)
    n = len(PEOPLE)
    joined = np.array([j for _, j in PEOPLE])
    got, where = admit(
        np.ones(n), np.zeros(n, dtype=np.int64), group, joined, np.arange(n), [[0]], [[]],
        np.array([float(n)]), tie,
    )  # fmt: skip
    assert (where == 0).all()
    return got.tolist(), [rules.names[g] for g in group]


def test_seed_000_section_15_order_with_zhumadians_reading_of_disability():
    """000-15-2: 政策保障对象 first; then 经济困难家庭中失能、残疾、空巢独居 (the 低保 elder with mild
    disability is 失能 under the Zhumadian scenario's mild+ reading); 80+ (any income); 计划生育特殊家庭
    (poor or not); 老年优待抚恤对象、为社会作出突出贡献的; first come first served within each."""
    order, groups = admission_order("zhumadian_basic_services.toml")
    assert groups[1] == "difficult_disabled_alone"
    assert order == [0, 1, 10, 2, 3, 5, 6, 8, 7, 4, 9]


def test_seed_001_sections_13_and_16_poor_only_with_veterans_as_tie_break():
    """001-13-3: only 经济困难的 空巢、留守、失能、残疾、高龄、计划生育特殊家庭 elders have priority (not every
    80+, not a well-off 计生 family; the poor left-behind elder does); 001-16-1: veterans' families
    同等条件下优先 — ahead of their own group on equal terms (10 in the poor group, 7 among the others),
    not a class above the others."""
    order, groups = admission_order("shanxi_beds_to_vouchers.toml")
    assert groups[2] == "others" and groups[4] == "difficult_focus_groups" and groups[7] == "others"
    assert order == [0, 10, 4, 1, 3, 6, 7, 8, 2, 5, 9]


def test_seed_003_section_12_poor_list_then_family_planning_then_servicemen():
    """003-12-1: 经济困难的孤寡、空巢、留守、失能、残疾、高龄 first (poor 80+, poor left-behind); then
    计划生育特殊家庭 (as a class); then 现役军人家属和…遗属 (as a class); model workers are not named."""
    order, groups = admission_order("ninghe_allowances.toml")
    assert groups[8] == "others" and groups[7] == "servicemen_families"
    assert order == [0, 4, 1, 3, 10, 5, 6, 7, 8, 2, 9]


@pytest.mark.parametrize(
    ("scenario_file", "first_group"),
    [
        ("zhumadian_basic_services.toml", "difficult_disabled_alone"),
        ("default.toml", "difficult_disabled_alone"),  # Zhumadian too
        ("headline/supply_beds.toml", "difficult_disabled_alone"),
        ("headline/demand_vouchers.toml", "difficult_disabled_alone"),
        ("shanxi_beds_to_vouchers.toml", "difficult_focus_groups"),
        ("ninghe_allowances.toml", "difficult_groups"),
    ],
)
def test_each_seed_scenario_runs_its_own_admission_list(scenario_file, first_group):
    """The scenario names its seed's list (population.admission), which the care system's queues use."""
    from agingsim.model import AgingModel

    sc = load_scenario(ROOT / "scenarios" / scenario_file).with_run(simulated_people=2000, years=1)
    model = AgingModel(sc)
    assert model.care.group_names[1] == first_group
    assert any(k.startswith("calibration/behaviour/admission/") for k in sc.inputs)


def test_an_admission_list_without_a_behaviour_model_is_an_error(tiny_copy, capsys):
    from agingsim.cli import main

    path = tiny_copy.scenario
    text = path.read_text()
    path.write_text(text.replace("[population]\n", '[population]\nadmission = "seed001"\n', 1))
    assert main(["validate", str(path)]) == 2
    assert "population.admission: an admission list needs a behaviour model" in capsys.readouterr().err


def test_a_tie_break_ranks_within_a_group_never_across_groups():
    """001-16-1 同等条件下优先: the tie-break orders people of one priority group (before first come,
    first served) but never lifts anyone above a higher group; private beds ignore it."""
    group = np.array([1, 1, 0, 2, 2], dtype=np.int8)
    tie = np.array([1, 0, 1, 0, 1], dtype=np.int8)  # 0 = veteran's family
    joined = np.array([0, 5, 9, 8, 1])
    n = len(group)
    got, where = admit(
        np.ones(n), np.zeros(n, dtype=np.int64), group, joined, np.arange(n), [[0]], [[1]],
        np.array([3.0, 2.0]), tie,
    )  # fmt: skip
    assert got[where == 0].tolist() == [2, 1, 0]  # group 0, then group 1 with the veteran (1) first
    assert got[where == 1].tolist() == [4, 3]  # private: first come (month 1 before 8), tie ignored
