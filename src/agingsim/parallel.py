"""Threads for elementwise array work inside one month.

numpy releases the GIL in random generation, ``take`` and ufuncs, so splitting a million-person
operation into contiguous chunks uses every core. Results never depend on the number of threads:
each element is computed the same way whichever chunk it falls in, and random numbers are keyed by
fixed blocks of person ids (rng.py), not by thread.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache

#: Below this many elements a chunk is not worth a thread hand-off.
MIN_CHUNK = 250_000


def n_threads() -> int:
    """$AGINGSIM_THREADS, else the number of cores."""
    env = os.environ.get("AGINGSIM_THREADS")
    return max(1, int(env)) if env else max(1, os.cpu_count() or 1)


@cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agingsim")


def run_parallel(tasks: list[Callable[[], None]]) -> None:
    """Run independent tasks, on threads when there is more than one; re-raise the first error."""
    workers = min(n_threads(), len(tasks))
    if workers <= 1:
        for task in tasks:
            task()
        return
    for future in [_pool(workers).submit(task) for task in tasks]:
        future.result()


@cache
def _background() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="agingsim-ahead")


def start_background(tasks: list[Callable[[], None]]) -> list[Future[None]] | None:
    """Queue tasks on one background thread and return at once, so the calling thread keeps a core
    for itself (``None`` with one thread: the caller runs the tasks when it needs them). A task not
    yet started can be taken back with ``Future.cancel()`` and run in parallel by the caller."""
    if n_threads() <= 1:
        return None
    return [_background().submit(task) for task in tasks]


def chunks(n: int) -> list[slice]:
    """Contiguous slices covering ``range(n)``, one per thread, none smaller than MIN_CHUNK."""
    k = max(1, min(n_threads(), n // MIN_CHUNK))
    edges = [n * i // k for i in range(k + 1)]
    return [slice(a, b) for a, b in itertools.pairwise(edges)]
