"""Sweeps of online policies over V, seeds and scenarios: local processes or a Dask cluster."""

from __future__ import annotations

import itertools
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Iterable, Mapping, Sequence

__all__ = ["sweep", "run_one"]


def run_one(instance: Mapping[str, Any], scenario: str, policy: str, params: Mapping[str, Any], slots: int, seed: int) -> dict:
    """Simulate one (scenario, policy, params, seed) cell; returns a JSON-ready row.

    Runs in a worker process (or a Dask worker): the instance travels as its
    JSON dict and the policy by its registered name.
    """
    from formulations.offloading import OffloadingProblem
    from formulations.offloading.simulator import simulate

    from .policies import make_policy

    problem = OffloadingProblem.from_dict(instance)
    result = simulate(problem, make_policy(problem, policy, **params), slots=slots, seed=seed)
    row = {"scenario": scenario, **result.to_dict()}
    row.pop("per_queue")
    return row


def _tasks(problems, policies, vs, seeds, slots):
    from .policies import V_POLICIES

    for (scenario, problem), policy, seed in itertools.product(problems.items(), policies, seeds):
        for v in (vs if policy in V_POLICIES else [None]):
            params = {"v": float(v)} if v is not None else {}
            yield (problem.to_dict(), scenario, policy, params, int(slots), int(seed))


def sweep(
    problems: Mapping[str, Any],
    *,
    vs: Sequence[float] = (1.0, 10.0, 100.0),
    seeds: Iterable[int] = (0,),
    policies: Sequence[str] = ("dpp",),
    slots: int = 10_000,
    scheduler: str | None = None,
    max_workers: int | None = None,
) -> list[dict]:
    """Simulate every (scenario, policy, V, seed) combination in parallel.

    Parameters
    ----------
    problems : mapping
        Scenario name -> :class:`~formulations.offloading.OffloadingProblem`.
    vs : sequence of float
        Values of V (used by ``dpp`` and ``fqla``; other policies run once per seed).
    seeds, policies, slots
        As for :func:`formulations.offloading.simulator.simulate`.
    scheduler : str, optional
        Address of a Dask scheduler (``"tcp://host:8786"``); runs the cells
        on that cluster (optional extra ``coinfer[dask]``). Without it, a
        local :class:`~concurrent.futures.ProcessPoolExecutor`.
    max_workers : int, optional
        Local processes (default: the executor's default); ``1`` runs in
        this process.

    Returns
    -------
    list of dict
        One row per cell, in a fixed order (scenario, policy, seed, V):
        ``scenario``, ``policy``, ``params``, ``seed``, ``average_penalty``,
        ``average_backlog``, ``measured_delay_ms``, ``stable``, ``converged``,
        ``slots_needed``, ... Results do not depend on where
        the cells ran.
    """
    from .policies import V_POLICIES, make_policy

    for name, problem in problems.items():  # fail fast on bad names/params, before spawning workers
        for policy in policies:
            make_policy(problem, policy, **({"v": float(vs[0])} if policy in V_POLICIES and vs else {}))
    tasks = list(_tasks(problems, policies, vs, seeds, slots))
    if scheduler is not None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise ImportError("a Dask sweep needs the optional extra: pip install 'coinfer[dask]'") from None
        with Client(scheduler) as client:
            futures = [client.submit(run_one, *task, pure=False) for task in tasks]
            return client.gather(futures)
    if max_workers == 1:
        return [run_one(*task) for task in tasks]
    with ProcessPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(run_one, *zip(*tasks))) if tasks else []
