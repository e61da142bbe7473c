"""One month of ability change and death for every person at once."""

from __future__ import annotations

import numpy as np

from agingsim.ability.intensities import N_STATES, AbilityModel
from agingsim.parallel import chunks, run_parallel


def transition_cells(
    model: AbilityModel, age_years: np.ndarray, sex: np.ndarray, state: np.ndarray
) -> np.ndarray:
    """Row of each person's (age, sex, current state) in the model's sampling tables."""
    cell = model.age_index(age_years).astype(np.int32)
    cell *= 2
    cell += sex
    cell *= N_STATES
    cell += state
    return cell


def next_state(
    model: AbilityModel,
    age_years: np.ndarray,
    sex: np.ndarray,
    state: np.ndarray,
    u: np.ndarray,
) -> np.ndarray:
    """Next month's state (0–4 ability level, 5 dead) by inverse CDF on uniforms ``u``.

    Each cell's distribution is ordered "stay" first, so one gather and one comparison settle the
    ~97% who do not change; only the movers get the full inverse CDF. The map from ``u`` to the next
    state is deterministic and monotone, which is what common random numbers need. Dead is
    absorbing (its stay probability is 1).
    """
    out = state.copy()

    def chunk(sl: slice) -> None:
        cell = transition_cells(model, age_years[sl], sex[sl], state[sl])
        uu = u[sl]
        movers = np.flatnonzero(uu >= model.stay.take(cell))
        if movers.size:
            c = cell[movers]
            k = (uu[movers, None] >= model.cumulative[c]).sum(axis=1)
            out[sl][movers] = model.order[c, k]

    run_parallel([lambda sl=sl: chunk(sl) for sl in chunks(len(state))])
    return out
