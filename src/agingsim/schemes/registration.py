"""Registered vs resident population (户籍 vs 常住) for schemes that require local registration.

The simulated people are the region's residents (常住人口). Seed 004 三 requires 具有玉泉区户籍 (and
long residence) for purchased home services and meal service; seed 000 §3 ties services to the
resident population instead. ``[policy.registration]`` states the share of resident people 60+ who
hold local registration (one number or by county) and the schemes that require it: those schemes
pay, and count as served, only that share of the residents they would otherwise cover. The share
is not drawn per person, so no one's other attributes or care change with it.
"""

from __future__ import annotations

import numpy as np

from agingsim.errors import ScenarioError, ScenarioErrors
from agingsim.scenario.schema import PolicySection


def registered_shares(policy: PolicySection, county_ids: list[str], path: object) -> dict[str, np.ndarray]:
    """Scheme id → share of residents registered, per county (only schemes requiring registration)."""
    reg = policy.registration
    if reg is None:
        return {}
    errors: list[ScenarioError] = []
    raw = reg.share
    if isinstance(raw, dict):
        unknown = sorted(set(raw) - set(county_ids))
        missing = sorted(set(county_ids) - set(raw))
        if unknown or missing:
            errors.append(
                ScenarioError(
                    path,
                    "policy.registration.share",
                    f"needs a share for each county ({', '.join(county_ids)}); "
                    f"unknown {unknown or 'none'}, missing {missing or 'none'}",
                )
            )
        values = [raw.get(c, 1.0) for c in county_ids]
    else:
        values = [raw] * len(county_ids)
    for c, v in zip(county_ids, values, strict=True):
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
            errors.append(
                ScenarioError(path, "policy.registration.share", f"{c}: must be in [0, 1] (got {v!r})")
            )
    ids = {s.id for s in policy.schemes}
    unknown_schemes = [s for s in reg.schemes if s not in ids]
    if unknown_schemes:
        errors.append(
            ScenarioError(path, "policy.registration.schemes", f"unknown scheme(s) {unknown_schemes}")
        )
    if errors:
        raise ScenarioErrors(errors)
    share = np.array(values, dtype=float)
    return {s: share for s in reg.schemes}
