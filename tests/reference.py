"""Independent recomputation of objectives for tests.

Solutions' ``objective`` comes from ``problem.evaluate`` (the registry calls
it), so comparing the two cannot fail. These functions recompute objectives
from the raw instance data (task and configuration names, per-sample
confidences) with plain loops, sharing no code with the evaluators.
"""

from __future__ import annotations

import math


def pipeline_objective(problem, assignment) -> float:
    """Makespan (ms) of the semi-active permutation schedule, or the rate
    (tasks per s) of the bottleneck stage, from task and configuration names."""
    by_name = {t.name: t for t in problem.tasks}
    chosen = {}
    for task in problem.tasks:
        name = assignment["configs"].get(task.name, task.configs[0].name if len(task.configs) == 1 else None)
        chosen[task.name] = next(c for c in task.configs if c.name == name)
    m = len(problem.stages)
    if problem.objective == "rate":
        loads = [math.fsum(chosen[t.name].ms[k] for t in problem.tasks) for k in range(m)]
        top = max(loads)
        return math.inf if top == 0 else len(problem.tasks) * 1000.0 / top
    free = [0.0] * m  # when each stage becomes free
    for name in assignment["order"]:
        ready = by_name[name].release_ms
        for k in range(m):
            ready = max(ready, free[k]) + chosen[name].ms[k]
            free[k] = ready
    return max(free) if free else 0.0


def exits_objective(problem, assignment) -> float:
    """Mean latency (ms) or accuracy of an exit plan, sample by sample.

    A sample runs the blocks in order on their nodes, pays a link crossing
    when the node changes (``cross_ms``), evaluates the head of every kept
    exit it reaches, and stops at the first kept exit whose threshold its
    confidence meets (the final exit always)."""
    place = list(assignment["placement"])
    taus = {problem.exit_index[name]: float(t) for name, t in assignment.get("thresholds", {}).items()}
    n_exits = problem.n_exits
    exit_after = {int(problem.exit_block[e]): e for e in range(n_exits)}
    total_ms, n_correct = 0.0, 0
    for s in range(problem.n_samples):
        ms, node = 0.0, 0
        for block in range(problem.n_blocks):
            target = place[block]
            ms += sum(problem.cross_ms[block, link] for link in range(node, target))
            node = target
            ms += problem.block_ms[block, node]
            e = exit_after.get(block)
            if e is None or (e < n_exits - 1 and e not in taus):
                continue
            ms += problem.exit_ms[e, node]
            if e == n_exits - 1 or problem.confidence[s, e] >= taus[e]:
                n_correct += int(problem.correct[s, e])
                break
        total_ms += ms
    if problem.objective == "latency":
        return total_ms / problem.n_samples
    return n_correct / problem.n_samples
