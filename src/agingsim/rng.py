"""Random streams with common random numbers (CRN).

Every random draw that concerns a person is keyed by (seed, replication, purpose, month) and indexed
by the person's id, not by their position in the arrays. So the same person draws the same number in
both arms of a comparison whatever else differs (who else is alive, the array order after
compaction), and a reform that changes nothing shows exactly zero difference. This is Starsim's
"draw for every slot, index by uid" scheme on numpy's SeedSequence/PCG64.

Independent replications are spawned child seeds: ``SeedSequence(seed, spawn_key=(r,))`` is exactly
``SeedSequence(seed).spawn(r + 1)[r]``.
"""

from __future__ import annotations

import zlib
from concurrent.futures import Future

import numpy as np

from agingsim.parallel import run_parallel, start_background

#: Person ids are drawn for in fixed blocks, each from its own stream, so blocks can be generated on
#: separate threads and a person's number never depends on the thread count.
PID_BLOCK = 1 << 18


def purpose_key(purpose: str) -> int:
    """A stable integer for a stream's name (``hash()`` is salted per process, crc32 is not)."""
    return zlib.crc32(purpose.encode("utf-8"))


class RandomStreams:
    """Named, independent, reproducible random streams for one replication of one seed."""

    def __init__(self, seed: int, replication: int = 0) -> None:
        self.seed = int(seed)
        self.replication = int(replication)
        #: (purpose, month) → (draws, one future per block): see :meth:`prefetch`.
        self._ahead: dict[tuple[str, int], tuple[np.ndarray, list[Future[None]]]] = {}

    def seed_sequence(self, purpose: str, *keys: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(
            self.seed, spawn_key=(self.replication, purpose_key(purpose), *map(int, keys))
        )

    def generator(self, purpose: str, *keys: int) -> np.random.Generator:
        """A generator for draws that are not per person (e.g. building the population)."""
        return np.random.default_rng(self.seed_sequence(purpose, *keys))

    def _fill(self, purpose: str, month: int, draws: np.ndarray, b: int) -> None:
        self.generator(purpose, month, b).random(out=draws[b * PID_BLOCK : (b + 1) * PID_BLOCK])

    def prefetch(self, purpose: str, month: int, max_pid: int) -> None:
        """Start drawing :meth:`uniforms` for ``(purpose, month)`` on a background thread now.

        The model asks for next month's ability draws as soon as this month's transitions are done,
        so they are generated on the second core while the single-threaded stages (care choice,
        admissions, payments) run. The numbers are those :meth:`uniforms` would draw anyway; blocks
        not yet drawn when they are needed are drawn then, on every thread.
        """
        n_blocks = -(-int(max_pid) // PID_BLOCK)
        draws = np.empty(n_blocks * PID_BLOCK)
        tasks = [lambda b=b: self._fill(purpose, month, draws, b) for b in range(n_blocks)]
        futures = start_background(tasks)
        if futures is not None:
            self._ahead[(purpose, int(month))] = (draws, futures)

    def uniforms(self, purpose: str, month: int, pids: np.ndarray, max_pid: int) -> np.ndarray:
        """One U[0,1) float64 per person for ``purpose`` in ``month``, keyed by person id.

        Draws a number for every id below ``max_pid`` (in blocks of PID_BLOCK ids, one stream each)
        and picks each person's own, so person ``k`` gets the same number regardless of which other
        people exist, how many threads ran or whether the draws were prefetched.
        """
        n_blocks = -(-int(max_pid) // PID_BLOCK)
        draws, futures = self._ahead.pop((purpose, int(month)), (None, []))
        todo = [b for b, f in enumerate(futures) if f.cancel()]  # not started: draw them here
        for f in futures:
            if not f.cancelled():
                f.result()
        if draws is None or len(draws) < n_blocks * PID_BLOCK:
            more = np.empty(n_blocks * PID_BLOCK - (0 if draws is None else len(draws)))
            todo += range(len(futures), n_blocks)
            draws = more if draws is None else np.concatenate([draws, more])
        run_parallel([lambda b=b: self._fill(purpose, month, draws, b) for b in todo])
        return draws[pids]

    def sparse_uniforms(self, purpose: str, month: int, pids: np.ndarray) -> np.ndarray:
        """One U[0,1) per given person, computed from (seed, replication, purpose, month, pid) alone.

        For draws that only a few people need each month (the care choice of those reviewing it):
        a counter-based hash (SplitMix64's finaliser) costs O(len(pids)) instead of a draw for every
        id. Like :meth:`uniforms`, a person's number depends only on their id, never on who else is
        drawing, so common random numbers hold across the arms of a comparison.
        """
        key = self.seed_sequence(purpose, month).generate_state(1, dtype=np.uint64)[0]
        with np.errstate(over="ignore"):
            z = pids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + key
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
