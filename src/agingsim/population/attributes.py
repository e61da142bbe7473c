"""The vocabulary of a person's state: categories as the policy documents name them.

Codes are small integers stored in the people arrays; the tuples below give their order. Chinese
terms map each code to the wording of GB/T 42195-2022 and the seed documents (shared/DOMAIN.md).
"""

from __future__ import annotations

#: GB/T 42195-2022 老年人能力评估规范, five grades: 能力完好, 轻度失能, 中度失能, 重度失能, 完全失能.
ABILITY_LEVELS: tuple[str, ...] = ("intact", "mild", "moderate", "severe", "complete")
ABILITY_ZH: dict[str, str] = {
    "intact": "能力完好",
    "mild": "轻度失能",
    "moderate": "中度失能",
    "severe": "重度失能",
    "complete": "完全失能",
}
N_LEVELS: int = len(ABILITY_LEVELS)
#: Levels counted as "in need of care" (moderate or worse): the run's headline, the geography's
#: elders_need and the report's people needing care.
NEED_LEVELS: tuple[str, ...] = ABILITY_LEVELS[2:]
#: The absorbing state after the five levels.
DEAD: int = N_LEVELS
#: Levels that count as "needing care" (moderate, severe, complete loss), as in issue 4's outputs.
NEEDS_CARE_FROM: int = ABILITY_LEVELS.index("moderate")

SEXES: tuple[str, ...] = ("M", "F")
RESIDENCES: tuple[str, ...] = ("urban", "rural")

#: 经济状况: 特困 集中供养 / 分散供养, 低保, 低保边缘, 普通.
ECON_STATUSES: tuple[str, ...] = (
    "tekun_centralised",
    "tekun_dispersed",
    "dibao",
    "near_dibao",
    "ordinary",
)
#: 家庭状况 (mutually exclusive living arrangement): 与家人同住, 空巢, 留守, 独居.
FAMILY_SITUATIONS: tuple[str, ...] = ("with_family", "empty_nest", "left_behind", "alone")

#: 照护方式: where a person's care comes from. Until the behaviour issue makes this a monthly choice,
#: it is drawn from the margins (P(setting | economic status, ability)).
CARE_SETTINGS: tuple[str, ...] = ("family_care", "home_services", "family_bed", "day_care", "institution")

#: Yes/no attributes stored as bits of one byte: 失独, 计生特扶, 优抚对象, 劳模/因公致残/见义勇为,
#: 残疾人, 长护险参保.
FLAGS: tuple[str, ...] = (
    "lost_only_child",
    "fp_special",
    "veteran_family",
    "model_worker",
    "handicapped",
    "ltc_insured",
)
BOOLEAN = ("no", "yes")

#: Attributes drawn from margins, in the order they are drawn; a margin may condition only on
#: age band, sex, residence and attributes drawn before it.
CATEGORICAL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "ability": ABILITY_LEVELS,
    "econ": ECON_STATUSES,
    "family": FAMILY_SITUATIONS,
    "care_setting": CARE_SETTINGS,
}
#: Flags drawn from margins (ltc_insured comes from the county's enrolment share instead).
MARGIN_FLAGS: tuple[str, ...] = FLAGS[:-1]
ATTRIBUTE_ORDER: tuple[str, ...] = (*CATEGORICAL_ATTRIBUTES, *MARGIN_FLAGS)


def categories_of(attribute: str) -> tuple[str, ...]:
    """Category labels of an attribute or conditioning variable (booleans are no/yes)."""
    if attribute in CATEGORICAL_ATTRIBUTES:
        return CATEGORICAL_ATTRIBUTES[attribute]
    if attribute in FLAGS:
        return BOOLEAN
    if attribute == "sex":
        return SEXES
    if attribute == "residence":
        return RESIDENCES
    raise KeyError(attribute)
