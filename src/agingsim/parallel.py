"""Threads for elementwise array work inside one month.

numpy releases the GIL in random generation, ``take`` and ufuncs, so splitting a million-person
operation into contiguous chunks uses every core. Results never depend on the number of threads:
each element is computed the same way whichever chunk it falls in, and random numbers are keyed by
person id (rng.py), not by thread. :func:`background` runs one stage beside the next on a thread
of its own (the care stage beside the next month's transitions: model.AgingModel.run).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import TypeVar

T = TypeVar("T")

#: Below this many elements a chunk is not worth a thread hand-off.
MIN_CHUNK = 250_000


def n_threads() -> int:
    """$AGINGSIM_THREADS, else the number of cores."""
    env = os.environ.get("AGINGSIM_THREADS")
    return max(1, int(env)) if env else max(1, os.cpu_count() or 1)


@cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agingsim")


@cache
def _background_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="agingsim-background")


def background(task: Callable[[], T]) -> Future[T]:
    """Run ``task`` on a thread of its own while the caller goes on (model.AgingModel.run overlaps a
    month's care stage with the next month's population step). One thread: tasks run one at a time,
    in the order submitted, so a task may rely on those submitted before it having finished."""
    return _background_pool().submit(task)


def run_parallel(tasks: list[Callable[[], None]]) -> None:
    """Run independent tasks, on threads when there is more than one; re-raise the first error."""
    workers = min(n_threads(), len(tasks))
    if workers <= 1:
        for task in tasks:
            task()
        return
    for future in [_pool(workers).submit(task) for task in tasks]:
        future.result()


def chunks(n: int) -> list[slice]:
    """Contiguous slices covering ``range(n)``, one per thread, none smaller than MIN_CHUNK."""
    k = max(1, min(n_threads(), n // MIN_CHUNK))
    edges = [n * i // k for i in range(k + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]
