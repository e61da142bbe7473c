"""The care-setting choice as a multinomial logit, evaluated over arrays of people.

Each month the people who review their care (new entrants, anyone whose ability level changed, anyone
waiting for a bed, and a stated share of the rest) weigh the five settings of CARE_SETTINGS:

    V_j = asc[j, ability] + family[j, family situation]
          + price_per_1000[econ] × net price_j / 1000        (after vouchers that pay for j)
          + wait_per_month × expected wait_j                  (institution: the county's queue)
          + shortage × unmet share_j                          (home services, family beds: carer gaps)
          + distance_per_km × distance_j                      (day care: the 15-minute circle)
          + stay × [j is the current setting]

and pick j with probability exp(V_j) / Σ exp(V_k), drawn with the person's own uniform (common random
numbers: the same person draws the same number in both arms of a comparison). Family care has price 0
and is the reference alternative. Coefficients live in calibration/behaviour/*.toml with their labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from agingsim.population.attributes import ABILITY_LEVELS, CARE_SETTINGS, ECON_STATUSES, FAMILY_SITUATIONS
from agingsim.scenario.schema import BehaviourFile

N_SETTINGS = len(CARE_SETTINGS)
INSTITUTION = CARE_SETTINGS.index("institution")
HOME = CARE_SETTINGS.index("home_services")
FAMILY_BED = CARE_SETTINGS.index("family_bed")
DAY_CARE = CARE_SETTINGS.index("day_care")
FAMILY_CARE = CARE_SETTINGS.index("family_care")


@dataclass(frozen=True)
class CompiledChoice:
    """The coefficients as arrays indexed by codes."""

    asc: np.ndarray  # (n_levels, n_settings)
    family: np.ndarray  # (n_family, n_settings)
    price: np.ndarray  # (n_econ,) utility per 1,000 CNY a month
    wait_per_month: float
    shortage: float
    distance_per_km: float
    stay: float
    review_every_months: int

    @cached_property
    def base(self) -> np.ndarray:
        """(n_settings, n_levels × n_family): asc + family effect, one column per level × situation."""
        both = self.asc[:, None, :] + self.family[None, :, :]
        return np.ascontiguousarray(both.reshape(-1, N_SETTINGS).T)

    @classmethod
    def from_file(cls, b: BehaviourFile) -> CompiledChoice:
        c = b.choice
        asc = np.zeros((len(ABILITY_LEVELS), N_SETTINGS))
        for setting, table in c.asc.items():
            asc[:, CARE_SETTINGS.index(setting)] = [table[lv] for lv in ABILITY_LEVELS]
        fam = np.zeros((len(FAMILY_SITUATIONS), N_SETTINGS))
        for situation, table in c.family.items():
            for setting, v in table.items():
                fam[FAMILY_SITUATIONS.index(situation), CARE_SETTINGS.index(setting)] = v
        price = np.array([c.price_per_1000.get(e, 0.0) for e in ECON_STATUSES])
        return cls(
            asc, fam, price, c.wait_per_month, c.shortage, c.distance_per_km, c.stay, c.review_every_months
        )


@dataclass
class ChoiceInputs:
    """What a reviewing person faces, one row per person (arrays of equal length)."""

    ability: np.ndarray  # int codes 0–4
    family: np.ndarray
    econ: np.ndarray
    current: np.ndarray  # current care setting
    net_price: np.ndarray  # (n, n_settings) CNY a month after vouchers; family care 0
    wait_months: np.ndarray  # (n,) expected wait for a bed in the person's county
    unmet_share: np.ndarray  # (n,) share of home-care hours not delivered in the county
    distance_km: np.ndarray  # (n,) to the nearest day-care facility (0 where unknown)


def utilities(model: CompiledChoice, x: ChoiceInputs) -> np.ndarray:
    """(n_settings, n) systematic utilities: one row per setting, so the softmax below works on five
    long contiguous rows (vectorised) rather than along n rows of five."""
    n = len(x.ability)
    v = model.base.take(x.ability * model.family.shape[0] + x.family, axis=1)  # asc + family
    v += (model.price[x.econ] / 1000.0) * x.net_price.T
    v[INSTITUTION] += model.wait_per_month * x.wait_months
    v[HOME] += model.shortage * x.unmet_share
    v[FAMILY_BED] += model.shortage * x.unmet_share
    v[DAY_CARE] += model.distance_per_km * x.distance_km
    if model.stay:
        v.reshape(-1)[x.current * n + np.arange(n)] += model.stay
    return v


def _running(rows: np.ndarray, op: np.ufunc) -> np.ndarray:
    """``op`` accumulated down the rows, in place, row by row (numpy's reductions along a short
    first axis are several times slower than these elementwise passes, with the same result)."""
    for j in range(1, rows.shape[0]):
        op(rows[j - 1], rows[j], out=rows[j])
    return rows


def probabilities(v: np.ndarray) -> np.ndarray:
    """Logit choice probabilities from (n_settings, n) utilities: a stable softmax per column."""
    top = v[0].copy()
    for row in v[1:]:
        np.maximum(top, row, out=top)
    e = v - top
    np.exp(e, out=e)
    e /= _running(e.copy(), np.add)[-1]
    return e


def cumulative(p: np.ndarray) -> np.ndarray:
    """Running sums down the (n_settings, n) probabilities: the inverse CDF :func:`choose` reads."""
    return _running(p.copy(), np.add)


def choose(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The chosen setting per person: inverse CDF of their column at their uniform ``u``."""
    return choose_cumulative(cumulative(p), u)


def choose_cumulative(cum: np.ndarray, u: np.ndarray, col: np.ndarray | None = None) -> np.ndarray:
    """:func:`choose` from running sums already formed; with ``col``, person i reads column
    ``col[i]`` of ``cum`` (a table of cells), one row at a time (a 2-D gather was ~5× slower)."""
    out = np.zeros(len(u), dtype=np.int8)
    for row in cum:
        out += u >= (row if col is None else row[col])
    return np.minimum(out, cum.shape[0] - 1, out=out)
