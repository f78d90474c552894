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


# ------------------------------------------------------------------ partition
# Both file forms, from the instance dict (``problem.to_dict()``, the file
# format) and the assignment's layer names alone: the two-tier form is
# k = 2 with tiers ``device``/``server``, ``ms = [device_ms, server_ms]`` and
# one link ``network``. Formulas: docs/tiers.md and the module docstrings of
# formulations/partition (latency, device energy, stage loads of a stream).


def _bits_ms(nbytes: float, mbps: float) -> float:
    """Milliseconds to send ``nbytes`` bytes at ``mbps`` (1 Mbps = 1000 bits per ms)."""
    return nbytes * 8.0 / (mbps * 1000.0)


#: Huang et al., MobiSys'12, typed from the paper (Table 4: alpha_up, alpha_down, beta in mW/Mbps and mW;
#: Table 3: promotion mW x ms, tail phases mW x ms, the connected-waiting power = the tail base) and the
#: linear range's upper ends (Mbps, the library's documented approximation from the paper's figures).
_RADIOS = {
    "wifi": dict(alpha_up_mw_per_mbps=283.17, alpha_down_mw_per_mbps=137.01, beta_mw=132.86, max_up_mbps=10.0,
                 max_down_mbps=15.0, idle_mw=119.3, promotion_mw=124.4, promotion_ms=79.1, tail_mw=[119.3],
                 tail_ms=[238.1]),
    "lte": dict(alpha_up_mw_per_mbps=438.39, alpha_down_mw_per_mbps=51.97, beta_mw=1288.04, max_up_mbps=5.0,
                max_down_mbps=20.0, idle_mw=1060.0, promotion_mw=1210.7, promotion_ms=260.1, tail_mw=[1060.0],
                tail_ms=[11576.0]),
    "3g": dict(alpha_up_mw_per_mbps=868.98, alpha_down_mw_per_mbps=122.12, beta_mw=817.88, max_up_mbps=2.0,
               max_down_mbps=5.0, idle_mw=803.9, promotion_mw=659.4, promotion_ms=582.1, tail_mw=[803.9, 601.3],
               tail_ms=[8088.2, 824.2]),
}


def _radio_energy(data: dict, link0: dict) -> dict:
    """The energy powers (W) and burst (mJ) of an instance with a ``radio``, from the radio's formulas:
    ``P = alpha * min(rate, max) + beta`` (mW) per direction at link 0's rates, the tail base while
    waiting, promotion + tail energy once per offloaded inference."""
    spec = data["radio"]
    if isinstance(spec, str):
        r = dict(_RADIOS[spec])
    else:
        r = {**_RADIOS.get(spec.get("preset"), {}), **{k: v for k, v in spec.items() if k != "preset"}}
    tails = r.get("tail_mw", []), r.get("tail_ms", [])
    up = float(link0["uplink_mbps"])
    down = float(link0.get("downlink_mbps") or up)
    return {
        "compute_w": float(data["energy"]["compute_w"]),
        "tx_w": (r["alpha_up_mw_per_mbps"] * min(up, r["max_up_mbps"]) + r["beta_mw"]) / 1000.0,
        "rx_w": (r["alpha_down_mw_per_mbps"] * min(down, r["max_down_mbps"]) + r["beta_mw"]) / 1000.0,
        "idle_w": r["idle_mw"] / 1000.0,
        "burst_mj": (r.get("promotion_mw", 0.0) * r.get("promotion_ms", 0.0)
                     + sum(p * t for p, t in zip(*tails))) / 1000.0,
    }


def partition_form(data: dict) -> dict:
    """The k-tier view of a partition instance dict (either file form)."""
    layers = data["layers"]
    two_tier = "tiers" not in data and "links" not in data.get("network", {}) and not any("ms" in L for L in layers)
    if two_tier:
        tiers = ["device", "server"]
        ms = {L["name"]: [float(L["device_ms"]), float(L["server_ms"])] for L in layers}
        links = [data["network"]]
    else:
        ms = {L["name"]: [float(x) for x in L["ms"]] if "ms" in L else [float(L["device_ms"]), float(L["server_ms"])]
              for L in layers}
        k = len(next(iter(ms.values())))
        tiers = list(data.get("tiers") or (["device", "server"] if k == 2 else [f"tier{j}" for j in range(k)]))
        net = data.get("network", {})
        links = list(net["links"]) if "links" in net else [net]
    return {
        "tiers": tiers,
        "ms": ms,
        "bytes": {L["name"]: float(L["output_bytes"]) for L in layers},
        "device_mj": {L["name"]: float(L["device_mj"]) for L in layers if "device_mj" in L},
        "edges": [(u, v) for u, v in data.get("edges", [])],
        "links": [(float(link["uplink_mbps"]), float(link.get("downlink_mbps") or link["uplink_mbps"]),
                   float(link.get("rtt_ms", 0.0))) for link in links],
        "energy": _radio_energy(data, links[0]) if data.get("radio") is not None else data.get("energy"),
        "objective": data.get("objective", "latency"),
        "pinned": data.get("pinned", {}),
    }


def partition_tiers_of(form: dict, assignment: dict) -> dict:
    """Layer name -> tier index, from an assignment ``{tier name: [layer names]}``."""
    tier_of = {}
    for j, tier in enumerate(form["tiers"]):
        for name in assignment.get(tier, []):
            tier_of[name] = j
    return tier_of


def partition_structurally_feasible(form: dict, tier_of: dict) -> bool:
    """Every layer placed once, inputs on tier 0, data moving outward only, pins kept."""
    if set(tier_of) != set(form["ms"]):
        return False
    has_pred = {v for _, v in form["edges"]}
    if any(tier_of[v] != 0 for v in form["ms"] if v not in has_pred):
        return False
    if any(tier_of[u] > tier_of[v] for u, v in form["edges"]):
        return False
    return all(tier_of[name] == form["tiers"].index(tier) for tier, names in form["pinned"].items() for name in names)


def partition_measures(form: dict, tier_of: dict) -> dict:
    """``latency_ms``, ``energy_mj`` (None without an energy model) and ``period_ms`` of a tier placement.

    Latency: compute of each layer on its tier; on link ``b`` (tiers ``b`` and
    ``b+1``), each tensor whose producer is at or below ``b`` and some
    consumer above ``b``, sent once (uplink); each output layer (no
    successor) above ``b``, sent back (downlink); the RTT of link ``b`` if
    any layer is above ``b``. Energy of tier 0: its compute
    (``device_mj`` or ``compute_w * ms``), ``tx_w`` times link 0's uplink
    time, ``rx_w`` times its downlink time, ``idle_w`` for the rest of the
    latency (with a ``radio``: its powers at link 0's rates, plus its
    promotion + tail energy once when any layer leaves tier 0). Period: the largest stage load of a pipelined stream (each
    tier's compute, each link's uplink and downlink; RTT is not a stage).
    """
    k = len(form["tiers"])
    succ = {name: [] for name in form["ms"]}
    for u, v in form["edges"]:
        succ[u].append(v)
    compute = [0.0] * k
    for name, t in tier_of.items():
        compute[t] += form["ms"][name][t]
    up, down, rtt = [0.0] * (k - 1), [0.0] * (k - 1), 0.0
    for b, (up_mbps, down_mbps, rtt_ms) in enumerate(form["links"][: k - 1]):
        for name, t in tier_of.items():
            far = max((tier_of[w] for w in succ[name]), default=-1)
            if t <= b < far:
                up[b] += _bits_ms(form["bytes"][name], up_mbps)
            if not succ[name] and t > b:
                down[b] += _bits_ms(form["bytes"][name], down_mbps)
        if any(t > b for t in tier_of.values()):
            rtt += rtt_ms
    latency = sum(compute) + sum(up) + sum(down) + rtt
    energy = None
    if form["energy"]:
        e = form["energy"]
        local = [name for name, t in tier_of.items() if t == 0]
        device_mj = sum(form["device_mj"].get(name, e["compute_w"] * form["ms"][name][0]) for name in local)
        u0, w0 = (up[0], down[0]) if k > 1 else (0.0, 0.0)
        energy = device_mj + e["tx_w"] * u0 + e["rx_w"] * w0 + e["idle_w"] * (latency - compute[0] - u0 - w0)
        if any(t > 0 for t in tier_of.values()):
            energy += e.get("burst_mj", 0.0)  # a radio's promotion + tail, once per offloaded inference
    period = max(compute + up + down)
    return {"latency_ms": latency, "energy_mj": energy, "period_ms": period}


def partition_objective(problem, assignment: dict) -> float:
    """The objective of a partition plan (either form) from the instance dict and the plan's layer names."""
    form = partition_form(problem.to_dict())
    m = partition_measures(form, partition_tiers_of(form, assignment))
    objective = form["objective"]
    if objective == "latency":
        return m["latency_ms"]
    if objective == "energy":
        return m["energy_mj"]
    if objective == "throughput":
        return math.inf if m["period_ms"] == 0 else 1000.0 / m["period_ms"]
    weights = objective["weighted"]
    return weights.get("latency", 0.0) * m["latency_ms"] + weights.get("energy", 0.0) * (m["energy_mj"] or 0.0)


# ----------------------------------------------------------------- offloading
def _stationary_probs(link: dict) -> list[float]:
    """The stationary distribution of a link's states: ``probs``; of a ``transition`` matrix
    (power iteration from uniform, to 1e-15); or the state frequencies of a ``trace``."""
    n = len(link["states"])
    if "probs" in link:
        return [float(p) for p in link["probs"]]
    if "trace" in link:
        return [link["trace"].count(w) / len(link["trace"]) for w in range(n)]
    P = link["transition"]
    pi = [1.0 / n] * n
    for _ in range(100_000):
        nxt = [math.fsum(pi[i] * P[i][j] for i in range(n)) for j in range(n)]
        if max(abs(a - b) for a, b in zip(nxt, pi)) < 1e-15:
            return nxt
        pi = nxt
    return pi


def offloading_stationary(problem, policy: dict) -> dict:
    """Expected ``cost`` per slot, ``served`` (tasks/slot per device name), ``load`` (per server name)
    and ``rates`` (arrival tasks/slot per device name) of a stationary randomized policy, from the
    instance dict: ``sum_m local_cost_m local_m + sum_{l,w} pi_lw cost_lw send_lw``."""
    data = problem.to_dict()
    devices = data["devices"]
    served = {d["name"]: float(x) for d, x in zip(devices, policy["local"])}
    load = {s["name"]: 0.0 for s in data["servers"]}
    cost = [float(d["local_cost"]) * float(x) for d, x in zip(devices, policy["local"])]
    for link, sends in zip(data["links"], policy["send"]):
        for pi, state, x in zip(_stationary_probs(link), link["states"], sends):
            cost.append(pi * float(state["cost"]) * float(x))
            served[link["device"]] += pi * float(x)
            load[link["server"]] += pi * float(x)
    rates = {}
    for d in devices:
        arr = d["arrivals"]
        rates[d["name"]] = float(arr["poisson"]) if "poisson" in arr else math.fsum(
            v * p for v, p in zip(arr["values"], arr["probs"]))
    return {"cost": math.fsum(cost), "served": served, "load": load, "rates": rates}
