"""The optimal partition as a function of the uplink bandwidth."""

from __future__ import annotations

import numpy as np

from formulations.errors import OptionError
from formulations.partition import transfer_ms

from .bandwidth_pieces import BandwidthMap, Piece

__all__ = ["BandwidthMap", "Piece", "bandwidth_map"]


def _line(problem, assignment) -> tuple[float, float, frozenset]:
    """(fixed_ms, per_mbps_ms, device set): latency = fixed + per_mbps / uplink."""
    b = problem.breakdown(assignment)
    follows = problem.network.downlink_mbps is None
    per = transfer_ms(b["uplink_bytes"], 1.0)
    fixed = b["device_compute_ms"] + b["server_compute_ms"] + b["rtt_ms"]
    if follows:
        per += transfer_ms(b["downlink_bytes"], 1.0)
    else:
        fixed += b["downlink_ms"]
    return fixed, per, frozenset(assignment["device"])


def bandwidth_map(problem, min_mbps: float, max_mbps: float, *, method: str | None = None,
                  rel_tol: float = 1e-9) -> BandwidthMap:
    """Exact breakpoints of the optimal partition over ``[min_mbps, max_mbps]``.

    For an instance whose objective is ``"throughput"`` (either form; k tiers
    vary link 0), the breakpoints of the throughput-optimal partition:
    :func:`~.bandwidth_stream.stream_bandwidth_map` (a :class:`StreamMap`).

    With ``x = 1 / uplink_mbps``, each partition's latency is a line
    ``a + b x`` (the downlink follows the uplink unless the instance fixes
    it), so the optimum is their lower envelope, concave and piecewise
    linear in ``x``. Starting from the optima at both ends, the envelope is
    refined at the intersection of two optimal lines: if the optimum there
    is no lower, the intersection is a breakpoint; otherwise the new line
    splits the interval (Eisner-Severance). Each piece costs at most two
    solves: ``2 * #pieces - 1`` in total.

    Parameters
    ----------
    problem : PartitionProblem
    min_mbps, max_mbps : float
        The range, ``0 < min_mbps <= max_mbps``.
    method : str, optional
        Exact partition method used at each probe (default ``qdmp``; ``ilp``
        for instances with a device budget, and the default for throughput).
    rel_tol : float
        Relative tolerance when comparing latencies.

    Returns
    -------
    BandwidthMap

    Raises
    ------
    ValueError
        For a bad range, or an infeasible instance.
    """
    from ...registry import solve

    for label, given in (("min_mbps", min_mbps), ("max_mbps", max_mbps)):
        if isinstance(given, bool) or not isinstance(given, (int, float, np.integer, np.floating)):
            raise OptionError(f"`{label}` must be a number of Mbps, got {given!r}")
    if not (min_mbps > 0 and max_mbps >= min_mbps and np.isfinite(max_mbps)):
        raise OptionError(f"need 0 < `min_mbps` <= `max_mbps` < inf, got {min_mbps}, {max_mbps}")
    if getattr(problem, "throughput", False):
        from .bandwidth_stream import stream_bandwidth_map

        return stream_bandwidth_map(problem, min_mbps, max_mbps, method=method or "ilp", rel_tol=rel_tol)
    method = method or "qdmp"
    solves = 0

    def optimum(x: float):
        nonlocal solves
        solves += 1
        inst = problem.with_network(uplink_mbps=1.0 / x)
        sol = solve(inst, method=method)
        if sol.assignment is None:
            raise OptionError(f"no optimal partition at {1.0 / x:g} Mbps: {sol.status} {sol.message}")
        return _line(problem, sol.assignment)

    def value(line, x):
        return line[0] + line[1] * x

    x_lo, x_hi = 1.0 / max_mbps, 1.0 / min_mbps
    left, right = optimum(x_lo), optimum(x_hi)
    # breakpoints as (x, line to the left in x, i.e. higher bandwidth side)
    lines: list[tuple[float, tuple]] = []

    def refine(x1, l1, x2, l2, depth=0):
        if l1[2] == l2[2] or depth > 200:
            return
        if abs(l1[1] - l2[1]) <= rel_tol * max(1.0, l1[1], l2[1]):
            return  # parallel and both optimal: the same latency everywhere
        xs = (l2[0] - l1[0]) / (l1[1] - l2[1])
        xs = min(max(xs, x1), x2)
        mid = optimum(xs)
        tol = rel_tol * max(1.0, abs(value(l1, xs)))
        if value(mid, xs) >= value(l1, xs) - tol or mid[2] in (l1[2], l2[2]):
            lines.append((xs, l1))
            return
        refine(x1, l1, xs, mid, depth + 1)
        refine(xs, mid, x2, l2, depth + 1)

    refine(x_lo, left, x_hi, right)
    lines.sort(key=lambda item: item[0])
    # segments in x ascending, each with its optimal line; Mbps ascending is the reverse
    segments = []
    start = x_lo
    for xb, line_left in lines:
        segments.append((start, xb, line_left))
        start = xb
    segments.append((start, x_hi, right))
    names_order = {nm: i for i, nm in enumerate(problem.names)}
    pieces = [
        Piece(
            min_mbps=1.0 / b,
            max_mbps=1.0 / a,
            device=tuple(sorted(line[2], key=names_order.__getitem__)),
            fixed_ms=line[0],
            per_mbps_ms=line[1],
        )
        for a, b, line in segments
    ]
    pieces.reverse()
    pieces = [p for p in pieces if p.max_mbps > p.min_mbps] or pieces[:1]
    return BandwidthMap(pieces=pieces, solves=solves, method=method)
