"""One month of ability change and death for every person at once.

The monthly engine keeps one packed state code per person, ``(sex × state) × span + months past 60``
(:func:`state_code`), so a person's row in the sampling tables is that code itself: the month's
transition is one gather of a threshold, one comparison with the person's draw, and work on the ~3%
who move (:func:`month_transition`). Ageing adds 1 to the code, a level change adds a multiple of the
span. :class:`PackedTables` are built from an :class:`AbilityModel`'s fields (``stay``, ``cumulative``,
``order`` keep their meaning), cheaply enough to rebuild for each calendar year's tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agingsim.ability.intensities import N_STATES, AbilityModel
from agingsim.parallel import chunks, run_parallel
from agingsim.population.attributes import DEAD
from agingsim.rng import HASH_BLOCK, hash32

MONTHS_PER_YEAR = 12
#: Age in months at which the tables start (everyone simulated is 60 or over).
AGE0_M = 60 * MONTHS_PER_YEAR
#: Draws are 32-bit: a move happens when the draw exceeds the row's threshold (see PackedTables).
U32 = float(1 << 32)
#: person-months (people at the start plus half the run's entrants, times months) above which the
#: fused compiled month (ability.fused, with the care stage's compiled loops and the overlap of
#: AgingModel.run) pays for loading numba (~0.45 s of wall time per process: import and cached
#: code). Measured on the default scenario with behaviour, whole runs side by side, 3 December 2026
#: (fused ÷ numpy, median of 3): 32 M 1.67, 76 M 0.98, 79 M 1.02, 111 M 0.83, 115 M 0.84,
#: 191 M 0.72; so above ~80 M the fused run is faster, and 100 M keeps a margin. (It was 200 M,
#: set when the kernel saved less.) Here so that deciding does not import numba.
FUSED_MIN_PERSON_MONTHS = 100_000_000


def fused_worth_it(person_months: float) -> bool:
    """Whether a run of about ``person_months`` should use the fused kernel instead of numpy."""
    return person_months >= FUSED_MIN_PERSON_MONTHS


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
    absorbing (its stay probability is 1). The model's engine uses :func:`month_transition`, which
    gives the same states as this function on ``u = (draw + 0.5) / 2**32``.
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


def code_span(age_max: int, n_months: int) -> int:
    """Months of age one (sex, state) block of codes covers: from 60 to the oldest age anyone can
    reach in the run (the oldest starting age, ``age_max`` and 11 months, plus the horizon).

    Codes are int16 (People.FIELDS): 2 × 6 × span ≤ 32767 holds for age_max ≤ 120 and horizons up
    to 166 years, beyond the schema's 60."""
    span = (age_max + 1) * MONTHS_PER_YEAR - AGE0_M + n_months
    if 2 * N_STATES * span > np.iinfo(np.int16).max:
        raise ValueError(f"packed state codes overflow int16 for age_max {age_max}, {n_months} months")
    return span


def state_code(span: int, age_m: np.ndarray, sex: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Packed code ``(sex * 6 + state) * span + age_m - 720`` of each person (int16)."""
    code = sex.astype(np.int32) * N_STATES + state
    code *= span
    code += age_m
    code -= AGE0_M
    return code.astype(np.int16)


@dataclass(frozen=True)
class PackedTables:
    """An ability model's sampling tables indexed by packed state code.

    ``threshold[code]`` is the largest 32-bit draw that keeps the person in their state: a draw
    ``d`` moves them iff ``d > threshold``, i.e. iff ``(d + 0.5) / 2**32 >= stay`` (the model's
    ``stay``; 1 keeps everyone, so the dead stay dead). ``cell[code]`` is the model's cell, whose
    ``cumulative`` and ``order`` rows settle where a mover goes. Ages past ``age_max`` use its cell.
    """

    span: int
    threshold: np.ndarray  # uint32, (2 * 6 * span,)
    cell: np.ndarray  # int32, (2 * 6 * span,)

    @classmethod
    def build(cls, model: AbilityModel, span: int) -> PackedTables:
        code = np.arange(2 * N_STATES * span)
        block, age_m = np.divmod(code, span)
        sex, state = np.divmod(block, N_STATES)
        cell = transition_cells(model, (age_m + AGE0_M) // MONTHS_PER_YEAR, sex, state)
        # d moves ⇔ d + 0.5 ≥ stay·2³² ⇔ d ≥ ceil(stay·2³² − 0.5); the threshold is one less
        first_move = np.ceil(model.stay.astype(np.float64)[cell] * U32 - 0.5)
        threshold = np.clip(first_move - 1.0, 0.0, U32 - 1.0).astype(np.uint32)
        return cls(span, threshold, cell.astype(np.int32))


def month_transition(
    model: AbilityModel,
    tables: PackedTables,
    code: np.ndarray,
    pids: np.ndarray,
    keys: tuple[np.uint32, np.uint32],
) -> tuple[np.ndarray, np.ndarray]:
    """Who moves this month and to which state, from each person's packed ``code`` and the 32-bit
    draw ``rng.hash32(pid, *keys)`` of their id under this month's keys.

    One pass in cache-sized blocks: hash the block's ids, gather its thresholds, compare, keep the
    movers and their draws; the draws of everyone else are never stored. Blocks are split across
    threads; each person's draw and outcome depend only on their id and code, never on the split.
    Returns the rows that change state (in row order) and their new states; nothing else is
    touched: updating the movers' codes and state is the caller's (:func:`apply_moves`).
    """
    k1, k2 = keys
    parts = chunks(len(code))
    found: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0, np.intp), np.empty(0, np.uint32))] * len(parts)

    def run(i: int, sl: slice) -> None:
        size = min(HASH_BLOCK, sl.stop - sl.start)
        u, tmp, thr = (np.empty(size, np.uint32) for _ in range(3))
        mask = np.empty(size, bool)
        rows, words = [], []
        for a in range(sl.start, sl.stop, HASH_BLOCK):
            b = min(a + HASH_BLOCK, sl.stop)
            m = b - a
            hash32(pids[a:b], k1, k2, u[:m], tmp[:m])
            tables.threshold.take(code[a:b], out=thr[:m], mode="clip")  # codes index the tables
            hit = np.flatnonzero(np.greater(u[:m], thr[:m], out=mask[:m]))
            rows.append(hit + a)
            words.append(u[hit])
        if rows:
            found[i] = (np.concatenate(rows), np.concatenate(words))

    run_parallel([lambda i=i, sl=sl: run(i, sl) for i, sl in enumerate(parts)])
    rows = np.concatenate([r for r, _ in found])
    draws = np.concatenate([w for _, w in found])
    cell = tables.cell[code[rows]]
    u = (draws + 0.5) * (1.0 / U32)
    k = (u[:, None] >= model.cumulative[cell]).sum(axis=1)
    new = model.order[cell, k]
    moved = k > 0  # a draw past the threshold whose float32 CDF still says "stay" stays
    return rows[moved], new[moved]


def apply_moves(
    code: np.ndarray, state: np.ndarray, rows: np.ndarray, new: np.ndarray, span: int
) -> np.ndarray:
    """Give the movers their new state and code; returns the rows of those who died."""
    old = state[rows]
    state[rows] = new
    code[rows] += (new.astype(code.dtype) - old) * code.dtype.type(span)
    return rows[new == DEAD]
