"""Run one job per input file, serially, on local processes or on a Dask cluster.

``coinfer solve FILES... --workers N`` and ``--scheduler ADDRESS`` use
:func:`run_ordered`; so does ``benchmarks/bench_batch.py``. A job is a
module-level function ``job(path, settings)`` returning plain data (rows and
JSON records, never problem objects), so it pickles to any worker; each
worker loads its own file, so the workers must see the same file system as
the caller (true for local processes and a :class:`~dask.distributed.LocalCluster`;
on a real cluster, a shared folder).

Results are yielded **in input order**, each as soon as it and every result
before it are done, so the printed table and JSON equal the serial run's
(bar the timings) and a batch is diffable against its serial twin.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

__all__ = ["run_ordered", "default_workers"]


def default_workers() -> int:
    """The number of local worker processes when ``--workers`` is given as 0: the usable cores."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


def run_ordered(
    job: Callable[[str, Any], Any],
    paths: Sequence[str],
    settings: Any,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
) -> Iterator[Any]:
    """Yield ``job(path, settings)`` for every path, in the order of ``paths``.

    Parameters
    ----------
    job : callable
        A module-level (picklable) function of ``(path, settings)``; it must
        catch its own errors and return them as data.
    paths : sequence of str
        The input files, one job each.
    settings : object
        Picklable options passed to every job.
    workers : int, optional
        Local worker processes (``None`` or 1: run in this process).
    scheduler : str, optional
        A Dask scheduler address (``tcp://host:port``); takes precedence over
        ``workers``. Needs the optional extra ``coinfer[dask]``.

    Yields
    ------
    object
        Each job's return value, in input order. Memory: the results that
        finished ahead of an unfinished earlier one are held until it is done.
    """
    if scheduler is not None:
        yield from _dask(job, paths, settings, scheduler)
    elif workers is None or workers <= 1 or len(paths) <= 1:
        for path in paths:
            yield job(path, settings)
    else:
        yield from _processes(job, paths, settings, workers)


def _processes(job, paths, settings, workers: int) -> Iterator[Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: no state forked from the parent (OR-Tools threads, open pipes) leaks into a worker.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(paths)), mp_context=context) as pool:
        futures = [pool.submit(job, path, settings) for path in paths]
        try:
            for future in futures:  # in input order; later ones run meanwhile
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _dask(job, paths, settings, scheduler: str) -> Iterator[Any]:
    from dask.distributed import Client

    with Client(scheduler, set_as_default=False) as client:
        futures = [client.submit(job, path, settings, pure=False) for path in paths]
        try:
            for future in futures:
                yield future.result()
        finally:
            client.cancel(futures)
