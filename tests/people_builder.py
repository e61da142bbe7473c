"""Hand-built people for rule tests: one dict per person, evaluated through the real scheme tables."""

from __future__ import annotations

import numpy as np

from agingsim.population.attributes import (
    ABILITY_LEVELS,
    CARE_SETTINGS,
    ECON_STATUSES,
    FAMILY_SITUATIONS,
    FLAGS,
)
from agingsim.schemes.monthly import PersonSchemes


def person(
    age=60,
    ability="intact",
    econ="ordinary",
    family="with_family",
    flags=(),
    sex="M",
    urban=True,
    setting="family_care",
):
    """A person aged ``age`` and a half, in the given states."""
    bits = 0
    for f in flags:
        bits |= 1 << FLAGS.index(f)
    return {
        "age_m": age * 12 + 6,
        "ability": ABILITY_LEVELS.index(ability),
        "econ": ECON_STATUSES.index(econ),
        "family": FAMILY_SITUATIONS.index(family),
        "care_setting": CARE_SETTINGS.index(setting),
        "flags": bits,
        "residence": 0 if urban else 1,
        "sex": 0 if sex == "M" else 1,
    }


def entitle(schemes: PersonSchemes, scheme_id: str, people: list[dict], month: int):
    """(monthly CNY, rule id or None) for each person, with earlier schemes' exclusions applied."""
    cols = {k: np.array([p[k] for p in people]) for k in people[0]}
    cells = schemes.grid.cells(cols)
    county = np.zeros(len(people), dtype=np.int64)
    received: dict[str, np.ndarray] = {}
    for s in schemes.schemes:
        a, rule = schemes.entitlements(s, month, cells, county, received)
        received[s.id] = a > 0
        if s.id == scheme_id:
            return [(float(x), s.group_ids[r] if x > 0 else None) for x, r in zip(a, rule, strict=True)]
    raise KeyError(scheme_id)
