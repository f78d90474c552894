"""Offloading task profiles derived from exit-placement instances.

:func:`formulations.offloading.task_profile` derives a task from a
*partition* instance (the whole DNN on the device, or the whole DNN on a
server). :func:`exit_task_profile` does the same for a multi-exit DNN
(``kind: "exits"``) run under an **exit policy** (the kept early exits and
their thresholds, e.g. the optimum of ``solvers.exits``): every number is the
mean over the instance's samples computed by the exit formulation's own
evaluator, :meth:`formulations.exits.ExitProblem.measure`.

A task of the offloading model is served whole, either on its device or on
a server (the offloading model has no partial tasks), so:

- **local** (``local_ms``): the plan's exits and thresholds with every block
  on the device (node 0); the mean latency of that plan is pure device
  compute (no link is crossed);
- **offloaded**: the device sends the input tensor (``input_bytes``, the
  tensor at the split before block ``b_1``) and the server node runs every
  block with the same exits and thresholds; ``server_ms`` is the mean latency
  of that plan minus the link crossings every sample makes (the exit
  formulation's own :meth:`~formulations.exits.ExitProblem.crossing_ms`,
  which every sample pays exactly once when ``b_1`` is off the device).

The plan's own placement (a split between device and server inside one task)
is evaluated and recorded (``plan_latency_ms``) but not used as a mode: a
split task would need device time *and* a link *and* server time in the same
slot, which the offloading model does not represent.

:func:`slot_terms` turns a profile into the offloading model's numbers for
one slot length: whole tasks per slot (local, server, and per link state from
the bandwidth) and device energy per task in mJ (``W x ms``), the unit of
the profiles' ``local_mj`` and of the shipped scenarios' costs.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from ..errors import InfeasibleAssignmentError, InstanceError
from ..validate import as_list, as_mapping, as_name, as_positive, require
from ..partition.units import transfer_ms

__all__ = ["exit_task_profile", "slot_terms"]


def _plan_thresholds(problem, plan: Any) -> dict:
    """The plan's ``thresholds`` after the exit formulation has parsed the whole plan."""
    try:
        problem.parse(plan)
    except InfeasibleAssignmentError as exc:
        raise InstanceError(f"not a valid plan for {problem.name!r}: {exc}", field="plan") from None
    return dict(plan.get("thresholds", {}))


def exit_task_profile(problem, plan: Mapping[str, Any], *, server_node: int = 1,
                      device_power_w: float = 2.0, tx_power_w: float = 1.0) -> dict:
    """Per-task profile of a multi-exit DNN under an exit policy.

    Parameters
    ----------
    problem : formulations.exits.ExitProblem
        Block and exit costs per node (ms), tensor sizes (bytes), samples.
    plan : dict
        An exits assignment ``{"placement": [...], "thresholds": {...}}``;
        its kept exits and thresholds are the exit policy. It must be well
        formed for ``problem``; constraint violations (e.g. ``accuracy_min``)
        are allowed and reported in ``plan_violations``.
    server_node : int
        Index of the node that plays the edge server (``1..len(nodes)-1``).
    device_power_w, tx_power_w : float
        Device power (W) while computing and while transmitting (> 0);
        energy in mJ is ``W x ms``.

    Returns
    -------
    dict
        ``name``; ``local_ms`` and ``server_ms`` (expected compute per task
        on the device / on the server node under the exit policy, ms);
        ``full_local_ms`` and ``full_server_ms`` (the same without early
        exits); ``input_bytes`` (sent per offloaded task); ``result_bytes``;
        ``rtt_ms`` (per traversal, summed over the links to the server);
        ``accuracy``; ``local_exit_counts`` (samples stopping at each exit);
        ``local_mj`` (``device_power_w x local_ms``); ``tx_mj_per_mbps``
        (transmit energy of the input at 1 Mbps; divide by the rate in
        Mbps); ``plan_latency_ms`` and ``plan_violations`` (the plan as
        given, with its own placement); ``samples``; ``server_node``.

    Raises
    ------
    InstanceError
        ``plan`` malformed for ``problem`` (field ``plan``), ``server_node``
        not a node after the device, or a power that is not > 0.

    Notes
    -----
    Five evaluations by the exit formulation, O(N E + K k) each (N samples, E exits,
    K blocks, k nodes). Exact for the sample set: the means are the exit
    formulation's evaluator's, not an estimate.
    """
    device_power_w = as_positive(device_power_w, "device_power_w")
    tx_power_w = as_positive(tx_power_w, "tx_power_w")
    if isinstance(server_node, bool) or not isinstance(server_node, int) or not 1 <= server_node < problem.n_nodes:
        raise InstanceError(
            f"must be a node index in 1..{problem.n_nodes - 1} (node 0 is the device), got {server_node!r}",
            field="server_node",
        )
    thresholds = _plan_thresholds(problem, plan)
    n_blocks = problem.n_blocks

    def on(node: int, policy: dict):
        return problem.measure({"placement": [node] * n_blocks, "thresholds": policy})

    local = on(0, thresholds)
    remote = on(server_node, thresholds)
    crossing_ms = sum(problem.crossing_ms(l, problem.input_bytes) for l in range(server_node))
    given = problem.measure(plan)
    return {
        "name": problem.name,
        "local_ms": local.mean_latency_ms,
        "server_ms": remote.mean_latency_ms - crossing_ms,
        "full_local_ms": on(0, {}).mean_latency_ms,
        "full_server_ms": on(server_node, {}).mean_latency_ms - crossing_ms,
        "input_bytes": int(problem.input_bytes),
        "result_bytes": int(problem.result_bytes),
        "rtt_ms": float(sum(problem.links[l].rtt_ms for l in range(server_node))),
        "accuracy": local.accuracy,
        "local_exit_counts": dict(local.exit_counts),
        "local_mj": device_power_w * local.mean_latency_ms,
        "tx_mj_per_mbps": tx_power_w * problem.input_bytes * 8.0 / 1000.0,
        "plan_latency_ms": given.mean_latency_ms,
        "plan_violations": list(given.violations),
        "samples": problem.n_samples,
        "server_node": server_node,
    }


def slot_terms(profile: Mapping[str, Any], *, slot_ms: float, device_power_w: float,
               link_states: Sequence[Mapping[str, Any]]) -> dict:
    """Offloading-model numbers of one task profile for slots of ``slot_ms``.

    Parameters
    ----------
    profile : mapping
        From :func:`exit_task_profile` (or ``task_profile``): needs
        ``local_ms``, ``server_ms`` and ``input_bytes``.
    slot_ms : float
        Slot length (ms, > 0).
    device_power_w : float
        Device power while computing (W, > 0).
    link_states : sequence of mapping
        One per link state: ``{"name": str, "mbps": float > 0, "radio_w": float > 0}``.

    Returns
    -------
    dict
        ``local_capacity = floor(slot_ms / local_ms)`` tasks/slot,
        ``local_cost`` (mJ per task, ``device_power_w x local_ms``, the
        profile's ``local_mj`` at that power),
        ``server_capacity = floor(slot_ms / server_ms)`` tasks/slot, and
        ``states``: per link state ``capacity = floor(slot_ms / tx_ms)``
        tasks/slot with ``tx_ms = input_bytes x 8 / (mbps x 1000)`` and
        ``cost = radio_w x tx_ms`` mJ per task (0 when the capacity is 0),
        plus ``tx_ms`` and ``name``.

    Notes
    -----
    Assumptions: tasks are served back to back within a slot (a task that
    does not fit whole is not counted); uploads pipeline, so ``rtt_ms`` and
    the result transfer do not limit a link's throughput. O(states).
    Costs are rounded to 0.01 mJ, as in the partition-derived scenario.
    """
    slot_ms = as_positive(slot_ms, "slot_ms")
    device_power_w = as_positive(device_power_w, "device_power_w")
    local_ms = as_positive(require(profile, "local_ms", "profile.local_ms"), "profile.local_ms")
    server_ms = as_positive(require(profile, "server_ms", "profile.server_ms"), "profile.server_ms")
    nbytes = as_positive(require(profile, "input_bytes", "profile.input_bytes"), "profile.input_bytes")
    states = []
    for w, raw in enumerate(as_list(link_states, "link_states", nonempty=True)):
        fld = f"link_states[{w}]"
        raw = as_mapping(raw, fld)
        mbps = as_positive(require(raw, "mbps", f"{fld}.mbps"), f"{fld}.mbps")
        radio_w = as_positive(require(raw, "radio_w", f"{fld}.radio_w"), f"{fld}.radio_w")
        tx_ms = transfer_ms(nbytes, mbps)
        capacity = math.floor(slot_ms / tx_ms)
        states.append({
            "name": as_name(raw.get("name", f"state{w}"), f"{fld}.name"),
            "capacity": capacity,
            "cost": round(radio_w * tx_ms, 2) if capacity else 0.0,
            "tx_ms": round(tx_ms, 3),
        })
    return {
        "local_capacity": math.floor(slot_ms / local_ms),
        "local_cost": round(device_power_w * local_ms, 2),
        "server_capacity": math.floor(slot_ms / server_ms),
        "states": states,
    }
