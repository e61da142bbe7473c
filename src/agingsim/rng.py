"""Random streams with common random numbers (CRN).

Every random draw that concerns a person is keyed by (seed, replication, purpose, month) and the
person's id, not by their position in the arrays. So the same person draws the same number in both
arms of a comparison whatever else differs (who else is alive, the array order after compaction),
and a reform that changes nothing shows exactly zero difference.

Per-person draws are counter-based: a person's number is a hash of their id under the month's key
(:meth:`RandomStreams.draws`), so only the people alive are drawn for, in any order, on any number
of threads, with the same result. Other draws (building the population, a cohort's attributes) come
from numpy generators on ``SeedSequence(seed, spawn_key=(replication, purpose, *keys))``.

Independent replications are spawned child seeds: ``SeedSequence(seed, spawn_key=(r,))`` is exactly
``SeedSequence(seed).spawn(r + 1)[r]``.
"""

from __future__ import annotations

import zlib

import numpy as np

# Chris Wellons' "triple32" integer hash (hash-prospector; bias 0.021, near the ideal 0.0): three
# xorshift-multiply rounds, a bijection of 32-bit words. The month's second key word is mixed in
# after the first round, so two months (or purposes) give unrelated numbers to the same id.
_GOLDEN = np.uint32(0x9E3779B9)
_MUL = (np.uint32(0xED5AD4BB), np.uint32(0xAC4C1B51), np.uint32(0x31848BAB))
_SHIFT = (np.uint32(17), np.uint32(11), np.uint32(15), np.uint32(14))
#: Ids hashed per pass: the 14 passes of a block stay in the core's cache (measured ~30% faster than
#: whole-array passes at a million ids).
HASH_BLOCK = 1 << 16


def purpose_key(purpose: str) -> int:
    """A stable integer for a stream's name (``hash()`` is salted per process, crc32 is not)."""
    return zlib.crc32(purpose.encode("utf-8"))


def hash32(ids: np.ndarray, k1: np.uint32, k2: np.uint32, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
    """``triple32(id · φ + k1)`` with ``k2`` mixed in after the first round, into ``out`` (uint32).

    ``out`` and ``tmp`` are uint32 buffers of ``len(ids)``; every step is an in-place ufunc, so the
    hash allocates nothing and runs at memory speed (about 1 ns per id and core)."""
    x = np.multiply(ids.view(np.uint32) if ids.dtype == np.int32 else ids.astype(np.uint32), _GOLDEN, out=out)
    np.add(x, k1, out=x)
    for r in range(3):
        np.bitwise_xor(x, np.right_shift(x, _SHIFT[r], out=tmp), out=x)
        np.multiply(x, _MUL[r], out=x)
        if r == 0:
            np.bitwise_xor(x, k2, out=x)
    np.bitwise_xor(x, np.right_shift(x, _SHIFT[3], out=tmp), out=x)
    return x


class RandomStreams:
    """Named, independent, reproducible random streams for one replication of one seed."""

    def __init__(self, seed: int, replication: int = 0) -> None:
        self.seed = int(seed)
        self.replication = int(replication)

    def seed_sequence(self, purpose: str, *keys: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(
            self.seed, spawn_key=(self.replication, purpose_key(purpose), *map(int, keys))
        )

    def generator(self, purpose: str, *keys: int) -> np.random.Generator:
        """A generator for draws that are not per person (e.g. building the population)."""
        return np.random.default_rng(self.seed_sequence(purpose, *keys))

    def keys(self, purpose: str, month: int) -> tuple[np.uint32, np.uint32]:
        """The two 32-bit key words of ``purpose`` in ``month`` for :func:`hash32`."""
        k1, k2 = self.seed_sequence(purpose, month).generate_state(2, dtype=np.uint32)
        return k1, k2

    def draws(self, purpose: str, month: int, pids: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """One uniform 32-bit word per person for ``purpose`` in ``month``, from the id alone:
        ``hash32(pid, *keys(purpose, month))``.

        ``U = (word + 0.5) / 2**32`` is uniform on (0, 1). Person ``k`` gets the same word whoever
        else is drawn for, in whatever order and on however many threads, which is what common
        random numbers need; only the people passed are drawn for (never every id ever issued).
        ``out`` (uint32, ``len(pids)``) is filled when given. The monthly ability transition computes
        the same words block by block inside its own pass (ability.transitions.month_transition).
        """
        k1, k2 = self.keys(purpose, month)
        n = len(pids)
        out = np.empty(n, np.uint32) if out is None else out[:n]
        tmp = np.empty(min(n, HASH_BLOCK), np.uint32)
        for a in range(0, n, HASH_BLOCK):
            b = min(a + HASH_BLOCK, n)
            hash32(pids[a:b], k1, k2, out[a:b], tmp[: b - a])
        return out

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
