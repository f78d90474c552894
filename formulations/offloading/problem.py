"""Online offloading of co-inference tasks across many devices and edge servers.

Time is slotted (``slot_ms`` per slot). Device ``m`` keeps a task queue
``Q_m``; server ``s`` keeps a queue ``H_s``. In slot ``t``:

- ``A_m(t)`` tasks arrive at device ``m`` (i.i.d. per slot: Poisson with
  ``rate`` tasks/slot, or an empirical distribution);
- device ``m`` runs ``local_m <= local_capacity_m`` tasks itself, each
  costing ``local_cost_m``;
- link ``(m, s)`` is in state ``w`` (i.i.d., a Markov chain, or a trace) and
  carries ``send_{m,s} <= capacity_{m,s,w}`` tasks, each costing
  ``cost_{m,s,w}``;
- a device never serves more tasks than it holds: ``local_m + sum_s send_{m,s} <= Q_m``;
- server ``s`` finishes up to ``capacity_s`` tasks per slot.

Queues evolve as ``Q_m <- Q_m - local_m - sum_s send_{m,s} + A_m`` and
``H_s <- max(H_s - capacity_s, 0) + sum_m send_{m,s}``. Costs are in the
instance's ``metadata.cost_unit`` (mJ of device energy in the shipped
scenarios); the objective is the time-average cost per slot.

A *stationary randomized policy* fixes, for each device, the expected number
of tasks run locally per slot (``local[m]``) and, for each link and state,
the expected number sent in a slot where the link is in that state
(``send[l][w]``). Its expected cost per slot is
``sum_m local_cost_m local[m] + sum_{l,w} pi_{l,w} cost_{l,w} send[l][w]``
(``pi`` the stationary state distribution); it serves the arrival rates when
``local[m] + sum_{l at m, w} pi_{l,w} send[l][w] >= rate_m`` for all ``m``
and keeps servers stable when ``sum_{l at s, w} pi_{l,w} send[l][w] <= capacity_s``.
:meth:`OffloadingProblem.evaluate` computes this; the LP that minimizes it is
built by :mod:`formulations.offloading.lp`. Online policies are not
evaluated here: a run is simulated once by
:func:`formulations.offloading.simulator.simulate` and judged by its
:class:`~formulations.offloading.simulator.SimulationResult` (cost, backlog,
delay in ms, stability verdict).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np

from ..base import AssignmentTypeError, cached_property, Evaluation, Problem, require_mapping
from ..errors import InfeasibleAssignmentError, InstanceError
from ..validate import as_list, as_mapping, as_name, as_nonneg, as_number, as_probability, check_header, naming_file, reject_unknown, require
from ..tolerances import EVALUATION_RTOL, FEASIBILITY_RTOL

__all__ = ["Device", "Server", "Link", "OffloadingProblem", "StationaryEvaluation", "task_profile", "PROB_TOL", "STATIONARY_FORMAT"]

#: Tolerance on "probabilities sum to 1".
PROB_TOL = FEASIBILITY_RTOL
#: Relative tolerance of :meth:`OffloadingProblem.evaluate` on rates and bounds.
EVAL_TOL = EVALUATION_RTOL

_TOP = {"kind", "version", "name", "slot_ms", "devices", "servers", "links", "metadata"}
_DEV = {"name", "arrivals", "local_capacity", "local_cost", "meta"}
_SRV = {"name", "capacity", "meta"}
_LINK = {"device", "server", "states", "probs", "transition", "trace", "trace_file", "meta"}


def _record(raw: Any, fld: str, allowed: set) -> Mapping[str, Any]:
    """An object ``fld`` without fields outside ``allowed``."""
    raw = as_mapping(raw, fld)
    reject_unknown(raw, allowed, fld)
    return raw


def _get(raw: Mapping[str, Any], key: str, fld: str, convert):
    """``convert(raw[key])``; errors name ``fld.key``."""
    return convert(require(raw, key, f"{fld}.{key}"), f"{fld}.{key}")


def _as_count(value: Any, field: str) -> int:
    """A non-negative whole number of tasks (``3.0`` is accepted, ``3.5`` is not)."""
    number = as_nonneg(value, field)
    if number != int(number):
        raise InstanceError(f"must be a whole number of tasks, got {value!r}", field=field)
    return int(number)


def _as_distribution(values: Any, field: str) -> np.ndarray:
    """A non-empty list of probabilities summing to 1 (within :data:`PROB_TOL`)."""
    values = as_list(values, field, nonempty=True)
    probs = np.array([as_probability(v, f"{field}[{i}]") for i, v in enumerate(values)])
    total = float(probs.sum())
    if abs(total - 1.0) > PROB_TOL:
        raise InstanceError(f"probabilities sum to {total:.12g}, not 1", field=field)
    return probs


def _stationary(transition: np.ndarray, field: str) -> np.ndarray:
    """The unique stationary distribution of the row-stochastic matrix ``transition``."""
    n_states = len(transition)
    balance = transition.T - np.eye(n_states)
    if n_states > 1 and np.linalg.matrix_rank(balance, tol=1e-10) != n_states - 1:
        raise InstanceError("the Markov chain must have exactly one recurrent class", field=field)
    system = np.vstack([balance, np.ones(n_states)])
    rhs = np.zeros(n_states + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(system, rhs, rcond=None)[0]
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


#: The shape of a stationary policy, for error messages.
STATIONARY_FORMAT = "{'local': [tasks/slot per device], 'send': [[tasks/slot per state] per link]}"


@dataclass(frozen=True, kw_only=True)
class StationaryEvaluation(Evaluation):
    """The evaluation of a stationary randomized policy (:meth:`OffloadingProblem.evaluate`; an
    :class:`~formulations.base.Evaluation`).

    Attributes
    ----------
    objective : float
        Expected cost per slot (``metadata.cost_unit`` per slot; mJ/slot in the shipped scenarios).
    served : ndarray (n_devices,)
        Expected tasks/slot served per device (>= its arrival rate).
    server_load : ndarray (n_servers,)
        Expected tasks/slot arriving at each server (<= its capacity).
    feasible : bool
        Always True (``evaluate`` raises for an infeasible policy).
    violations : tuple of str
        Empty.
    """

    served: np.ndarray
    server_load: np.ndarray

    def __post_init__(self):
        self.served.setflags(write=False)
        self.server_load.setflags(write=False)


@dataclass(frozen=True)
class Arrivals:
    """Per-slot arrivals at one device: Poisson (``rate``) or empirical (``values``/``probs``)."""

    rate: float | None = None
    values: tuple[int, ...] = ()
    probs: tuple[float, ...] = ()

    @property
    def mean(self) -> float:
        """Expected arrivals per slot (tasks/slot)."""
        if self.rate is not None:
            return self.rate
        return float(np.dot(self.values, self.probs))

    @property
    def second_moment(self) -> float:
        """``E[A^2]`` (tasks^2); ``rate + rate^2`` for Poisson."""
        if self.rate is not None:
            return self.rate + self.rate**2
        return float(np.dot(np.square(self.values), self.probs))

    def to_dict(self) -> dict:
        if self.rate is not None:
            return {"poisson": self.rate}
        return {"values": list(self.values), "probs": list(self.probs)}

    @classmethod
    def from_dict(cls, raw: Any, field: str) -> "Arrivals":
        raw = _record(raw, field, {"poisson", "values", "probs"})
        if "poisson" in raw:
            if "values" in raw or "probs" in raw:
                raise InstanceError("give either 'poisson' or 'values'/'probs', not both", field=field)
            return cls(rate=as_nonneg(raw["poisson"], f"{field}.poisson"))
        listed = as_list(require(raw, "values", f"{field}.values"), f"{field}.values", nonempty=True)
        values = tuple(_as_count(v, f"{field}.values[{i}]") for i, v in enumerate(listed))
        probs = _as_distribution(require(raw, "probs", f"{field}.probs"), f"{field}.probs")
        if len(probs) != len(values):
            raise InstanceError(f"{len(probs)} probabilities for {len(values)} values", field=f"{field}.probs")
        return cls(values=values, probs=tuple(float(p) for p in probs))


@dataclass(frozen=True)
class Device:
    """An end device: its arrivals, local capacity (tasks/slot) and cost per local task."""

    name: str
    arrivals: Arrivals
    local_capacity: int
    local_cost: float
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Server:
    """An edge server finishing up to ``capacity`` tasks per slot."""

    name: str
    capacity: int
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Link:
    """A device-server link with per-state capacity (tasks/slot) and cost per task.

    Exactly one state process: ``probs`` (i.i.d. per slot), ``transition``
    (a Markov chain, row-stochastic), or ``trace`` (state indices replayed
    cyclically from slot 0).
    """

    device: str
    server: str
    capacities: tuple[int, ...]
    costs: tuple[float, ...]
    probs: tuple[float, ...] | None = None
    transition: tuple[tuple[float, ...], ...] | None = None
    trace: tuple[int, ...] | None = None
    meta: Mapping[str, Any] | None = None

    @property
    def n_states(self) -> int:
        return len(self.capacities)

    @cached_property
    def stationary(self) -> np.ndarray:
        """Long-run fraction of slots in each state."""
        if self.trace is not None:
            return np.bincount(self.trace, minlength=self.n_states) / len(self.trace)
        if self.transition is not None:
            return _stationary(np.array(self.transition), "transition")
        return np.array(self.probs)

    @cached_property
    def transition_matrix(self) -> np.ndarray:
        """Row-stochastic matrix of the state process (i.i.d.: identical rows)."""
        if self.transition is not None:
            return np.array(self.transition)
        return np.tile(self.stationary, (self.n_states, 1))

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "device": self.device,
            "server": self.server,
            "states": [{"capacity": c, "cost": k} for c, k in zip(self.capacities, self.costs)],
        }
        if self.trace is not None:
            out["trace"] = list(self.trace)
        elif self.transition is not None:
            out["transition"] = [list(r) for r in self.transition]
        else:
            out["probs"] = list(self.probs or ())
        if self.meta:
            out["meta"] = dict(self.meta)
        return out


#: Largest trace file read (bytes): a trace of whole state indices this long has millions of slots;
#: a device such as /dev/zero or a huge file is refused instead of read forever.
MAX_TRACE_BYTES = 64 * 2**20


def _read_trace_file(path: Path, field: str) -> list:
    try:
        if not path.is_file():
            raise InstanceError(f"trace file {str(path)!r} is not a regular file", field=field)
        with open(path, "rb") as handle:
            raw = handle.read(MAX_TRACE_BYTES + 1)
        if len(raw) > MAX_TRACE_BYTES:
            raise InstanceError(f"trace file {str(path)!r} is larger than {MAX_TRACE_BYTES // 2**20} MiB", field=field)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:  # missing, a directory, binary data
        raise InstanceError(f"cannot read trace file {str(path)!r} as text: {getattr(exc, 'strerror', None) or exc}",
                            field=field) from None
    tokens = text.replace(",", " ").split()
    try:
        return [int(t) for t in tokens]
    except ValueError:
        raise InstanceError("a trace file holds whole state indices separated by spaces or commas", field=field) from None


def _parse_states(raw: Mapping[str, Any], fld: str) -> tuple[list[int], list[float]]:
    """Per-state capacities (tasks/slot) and costs per task of link record ``raw``."""
    states = as_list(require(raw, "states", f"{fld}.states"), f"{fld}.states", nonempty=True)
    capacities, costs = [], []
    for state, raw_state in enumerate(states):
        state_fld = f"{fld}.states[{state}]"
        raw_state = _record(raw_state, state_fld, {"capacity", "cost", "meta"})
        capacities.append(_get(raw_state, "capacity", state_fld, _as_count))
        costs.append(_get(raw_state, "cost", state_fld, as_nonneg))
    return capacities, costs


def _parse_transition(raw: Any, n_states: int, fld: str) -> tuple[tuple[float, ...], ...]:
    rows = as_list(raw, f"{fld}.transition")
    if len(rows) != n_states:
        raise InstanceError(f"{len(rows)} rows for {n_states} states", field=f"{fld}.transition")
    matrix = []
    for row_index, row in enumerate(rows):
        probs = _as_distribution(row, f"{fld}.transition[{row_index}]")
        if len(probs) != n_states:
            raise InstanceError(f"{len(probs)} entries for {n_states} states", field=f"{fld}.transition[{row_index}]")
        matrix.append(tuple(float(x) for x in probs))
    _stationary(np.array(matrix), f"{fld}.transition")
    return tuple(matrix)


def _parse_trace(raw: Mapping[str, Any], key: str, n_states: int, fld: str, base_dir) -> tuple[int, ...]:
    if key == "trace_file":
        path = Path(base_dir or ".") / as_name(raw["trace_file"], f"{fld}.trace_file")
        values = _read_trace_file(path, f"{fld}.trace_file")
    else:
        values = as_list(raw["trace"], f"{fld}.trace")
    if not values:
        raise InstanceError("the trace is empty (zero length)", field=f"{fld}.{key}")
    for position, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n_states:
            raise InstanceError(f"state index must be an integer in [0, {n_states - 1}], got {value!r}",
                                field=f"{fld}.{key}[{position}]")
    return tuple(values)


def _parse_link(raw: Any, link_index: int, base_dir) -> Link:
    fld = f"links[{link_index}]"
    raw = _record(raw, fld, _LINK)
    capacities, costs = _parse_states(raw, fld)
    n_states = len(capacities)
    given = [key for key in ("probs", "transition", "trace", "trace_file") if key in raw]
    if len(given) > 1:
        raise InstanceError(f"give one state process, got {given}", field=fld)
    probs: tuple[float, ...] | None = None
    transition = trace = None
    if not given:
        if n_states != 1:
            raise InstanceError("several states need 'probs', 'transition', 'trace' or 'trace_file'", field=fld)
        probs = (1.0,)
    elif given[0] == "probs":
        distribution = _as_distribution(raw["probs"], f"{fld}.probs")
        if len(distribution) != n_states:
            raise InstanceError(f"{len(distribution)} probabilities for {n_states} states", field=f"{fld}.probs")
        probs = tuple(float(x) for x in distribution)
    elif given[0] == "transition":
        transition = _parse_transition(raw["transition"], n_states, fld)
    else:
        trace = _parse_trace(raw, given[0], n_states, fld, base_dir)
    return Link(
        device=_get(raw, "device", fld, as_name),
        server=_get(raw, "server", fld, as_name),
        capacities=tuple(capacities),
        costs=tuple(costs),
        probs=probs,
        transition=transition,
        trace=trace,
        meta=raw.get("meta"),
    )


class OffloadingProblem(Problem):
    """An online offloading instance (``kind: "offloading"``).

    Parameters
    ----------
    devices : sequence of Device
    servers : sequence of Server
    links : sequence of Link
        At most one link per (device, server) pair.
    slot_ms : float
        Slot length in ms (> 0); informational for the model, used to derive
        capacities from task profiles.
    metadata : mapping, optional
        Provenance, ``cost_unit``, known ``optimum`` (p*).
    name : str, optional

    Raises
    ------
    InstanceError
        For any invalid field, naming it.

    Examples
    --------
    >>> p = OffloadingProblem.from_dict({
    ...     "kind": "offloading", "version": 1, "slot_ms": 100,
    ...     "devices": [{"name": "d0", "arrivals": {"poisson": 1.5},
    ...                  "local_capacity": 1, "local_cost": 4.0}],
    ...     "servers": [{"name": "s0", "capacity": 3}],
    ...     "links": [{"device": "d0", "server": "s0",
    ...                "states": [{"capacity": 2, "cost": 1.0}, {"capacity": 0, "cost": 0.0}],
    ...                "probs": [0.5, 0.5]}]})
    >>> p.evaluate({"local": [0.5], "send": [[2.0, 0.0]]}).objective
    3.0
    """

    kind = "offloading"
    sense = "min"

    def __init__(
        self,
        devices: Sequence[Device],
        servers: Sequence[Server],
        links: Sequence[Link],
        *,
        slot_ms: float = 1.0,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
    ):
        self.devices = tuple(devices)
        self.servers = tuple(servers)
        self.links = tuple(links)
        self.slot_ms = _slot_ms(slot_ms)
        self.metadata = MappingProxyType(dict(metadata or {}))
        self.name = name
        if not self.devices:
            raise InstanceError("at least one device is needed", field="devices")
        _check_parts(self.devices, self.servers, self.links)
        self.device_index = self._names([d.name for d in self.devices], "devices")
        self.server_index = self._names([s.name for s in self.servers], "servers")
        seen: set[tuple[int, int]] = set()
        self.link_device = np.zeros(len(self.links), dtype=np.int64)
        self.link_server = np.zeros(len(self.links), dtype=np.int64)
        for link_index, link in enumerate(self.links):
            fld = f"links[{link_index}]"
            if link.device not in self.device_index:
                raise InstanceError(f"unknown device {link.device!r}", field=f"{fld}.device")
            if link.server not in self.server_index:
                raise InstanceError(f"unknown server {link.server!r}", field=f"{fld}.server")
            pair = (self.device_index[link.device], self.server_index[link.server])
            if pair in seen:
                raise InstanceError(f"duplicate link {link.device!r} -> {link.server!r}", field=fld)
            seen.add(pair)
            self.link_device[link_index], self.link_server[link_index] = pair
        self._freeze()

    @staticmethod
    def _names(names: list[str], field: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for i, nm in enumerate(names):
            as_name(nm, f"{field}[{i}].name")
            if nm in out:
                raise InstanceError(f"duplicate name {nm!r}", field=f"{field}[{i}].name")
            out[nm] = i
        return out

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None, base_dir=None) -> "OffloadingProblem":
        """Build from an instance dict (format in ``docs/offloading.md``).

        Raises
        ------
        InstanceError
            Naming ``file`` (if given) and the invalid field.
        """
        with naming_file(file):
            check_header(data, "offloading")
            reject_unknown(data, _TOP, "<root>")
            devices = []
            for i, raw in enumerate(as_list(require(data, "devices", "devices"), "devices", nonempty=True)):
                fld = f"devices[{i}]"
                raw = _record(raw, fld, _DEV)
                devices.append(
                    Device(
                        name=_get(raw, "name", fld, as_name),
                        arrivals=_get(raw, "arrivals", fld, Arrivals.from_dict),
                        local_capacity=_get(raw, "local_capacity", fld, _as_count),
                        local_cost=_get(raw, "local_cost", fld, as_nonneg),
                        meta=raw.get("meta"),
                    )
                )
            servers = []
            for j, raw in enumerate(as_list(data.get("servers", []), "servers")):
                fld = f"servers[{j}]"
                raw = _record(raw, fld, _SRV)
                servers.append(Server(name=_get(raw, "name", fld, as_name), capacity=_get(raw, "capacity", fld, _as_count), meta=raw.get("meta")))
            links = [_parse_link(raw, index, base_dir) for index, raw in enumerate(as_list(data.get("links", []), "links"))]
            slot_ms = _slot_ms(require(data, "slot_ms", "slot_ms"))
            metadata = as_mapping(data.get("metadata", {}), "metadata")
            name = data.get("name") or (Path(file).stem if file else None)
            return cls(devices, servers, links, slot_ms=slot_ms, metadata=metadata, name=name)

    def to_dict(self) -> dict:
        """The JSON instance dict (round-trips through :meth:`from_dict`)."""
        devs = []
        for d in self.devices:
            item = {"name": d.name, "arrivals": d.arrivals.to_dict(), "local_capacity": d.local_capacity, "local_cost": d.local_cost}
            if d.meta:
                item["meta"] = dict(d.meta)
            devs.append(item)
        srvs = [{"name": s.name, "capacity": s.capacity, **({"meta": dict(s.meta)} if s.meta else {})} for s in self.servers]
        out: dict[str, Any] = {"kind": "offloading", "version": 1}
        if self.name:
            out["name"] = self.name
        out.update(slot_ms=self.slot_ms, devices=devs, servers=srvs, links=[l.to_dict() for l in self.links])
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    # ------------------------------------------------------------ arrays
    @property
    def n_devices(self) -> int:
        return len(self.devices)

    @property
    def n_servers(self) -> int:
        return len(self.servers)

    @property
    def n_links(self) -> int:
        return len(self.links)

    @cached_property
    def max_states(self) -> int:
        return max((l.n_states for l in self.links), default=1)

    @cached_property
    def rates(self) -> np.ndarray:
        """Mean arrivals per slot of each device (tasks/slot)."""
        return np.array([d.arrivals.mean for d in self.devices])

    @cached_property
    def local_capacity(self) -> np.ndarray:
        return np.array([d.local_capacity for d in self.devices], dtype=np.int64)

    @cached_property
    def local_cost(self) -> np.ndarray:
        return np.array([d.local_cost for d in self.devices], dtype=float)

    @cached_property
    def server_capacity(self) -> np.ndarray:
        return np.array([s.capacity for s in self.servers], dtype=np.int64)

    def _padded(self, attr: str, dtype) -> np.ndarray:
        out = np.zeros((self.n_links, self.max_states), dtype=dtype)
        for link_index, link in enumerate(self.links):
            values = getattr(link, attr)
            out[link_index, : len(values)] = values
        return out

    @cached_property
    def link_capacity(self) -> np.ndarray:
        """``(n_links, max_states)`` tasks/slot per state (0 for padding)."""
        return self._padded("capacities", np.int64)

    @cached_property
    def link_cost(self) -> np.ndarray:
        """``(n_links, max_states)`` cost per task sent in each state."""
        return self._padded("costs", float)

    @cached_property
    def link_pi(self) -> np.ndarray:
        """``(n_links, max_states)`` stationary probability of each state."""
        return self._padded("stationary", float)

    # ------------------------------------------------------------ bounds
    @cached_property
    def max_service(self) -> np.ndarray:
        """Most tasks each device can serve in one slot (local + every link's best state)."""
        out = self.local_capacity.astype(float).copy()
        np.add.at(out, self.link_device, self.link_capacity.max(axis=1, initial=0))
        return out

    @cached_property
    def max_server_arrivals(self) -> np.ndarray:
        """Most tasks that can reach each server in one slot."""
        out = np.zeros(self.n_servers)
        np.add.at(out, self.link_server, self.link_capacity.max(axis=1, initial=0))
        return out

    @cached_property
    def lyapunov_b(self) -> float:
        """The constant ``B`` of the drift-plus-penalty bound (tasks^2).

        ``B = 1/2 sum_m (E[A_m^2] + b_m^2) + 1/4 sum_m b_m^2
        + 1/2 sum_s (C_s^2 + a_s^2)`` with ``b_m`` the most tasks device m
        can serve in a slot, ``a_s`` the most that can reach server s and
        ``C_s`` its capacity. The first and last terms bound the squared
        queue changes; the ``1/4 b_m^2`` term pays for never serving more
        than a queue holds (see :mod:`solvers.algorithms.offloading.dpp`).
        """
        a2 = sum(d.arrivals.second_moment for d in self.devices)
        b = self.max_service
        c = self.server_capacity.astype(float)
        a = self.max_server_arrivals
        return float(0.5 * (a2 + (b**2).sum()) + 0.25 * (b**2).sum() + 0.5 * ((c**2).sum() + (a**2).sum()))

    @cached_property
    def penalty_range(self) -> tuple[float, float]:
        """``(p_min, p_max)``: smallest and largest cost one slot can incur."""
        pmax = float((self.local_cost * self.local_capacity).sum() + (self.link_capacity * self.link_cost).max(axis=1, initial=0).sum())
        return 0.0, pmax

    # ------------------------------------------------------------ evaluate
    def _stationary_arrays(self, assignment) -> tuple[np.ndarray, np.ndarray]:
        """``(local, send)`` arrays of a stationary policy; errors say what is malformed."""
        require_mapping(assignment, STATIONARY_FORMAT)
        if "policy" in assignment:
            raise AssignmentTypeError(
                f"{dict(assignment)!r} is an online run, not a stationary policy ({STATIONARY_FORMAT}); "
                "evaluate does not replay simulations: a run is simulated once, e.g. "
                "solvers.solve(problem, method='dpp') (its SimulationResult is solution.evaluation) or "
                "formulations.offloading.simulator.simulate(problem, policy, slots=..., seed=...)"
            )
        if "local" not in assignment or "send" not in assignment:
            raise InfeasibleAssignmentError(f"a stationary policy is {STATIONARY_FORMAT}; missing key(s) "
                                            f"{sorted({'local', 'send'} - set(assignment))}")
        extra = set(assignment) - {"local", "send"}
        if extra:
            raise InfeasibleAssignmentError(f"unknown assignment key(s) {sorted(extra)}; a stationary policy is {STATIONARY_FORMAT}")
        try:
            local = np.asarray(assignment["local"], dtype=float)
            rows = list(assignment["send"])
        except (TypeError, ValueError) as exc:
            raise InfeasibleAssignmentError(f"not numeric: {exc}") from None
        if local.shape != (self.n_devices,):
            raise InfeasibleAssignmentError(f"'local' needs {self.n_devices} numbers, got shape {local.shape}")
        if len(rows) != self.n_links:
            raise InfeasibleAssignmentError(f"'send' needs {self.n_links} rows (one per link), got {len(rows)}")
        send = np.zeros((self.n_links, self.max_states))
        for link_index, (row, link) in enumerate(zip(rows, self.links)):
            try:
                row = np.asarray(row, dtype=float)
            except (TypeError, ValueError) as exc:
                raise InfeasibleAssignmentError(f"send[{link_index}] is not numeric: {exc}") from None
            if row.shape != (link.n_states,):
                raise InfeasibleAssignmentError(f"send[{link_index}] needs {link.n_states} numbers, got shape {row.shape}")
            send[link_index, : link.n_states] = row
        if not (np.isfinite(local).all() and np.isfinite(send).all()):
            raise InfeasibleAssignmentError("values must be finite")
        return local, send

    def served_rates(self, local: np.ndarray, send: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Expected tasks/slot served per device and arriving per server."""
        per_link = (self.link_pi * send).sum(axis=1)
        served = local.astype(float).copy()
        np.add.at(served, self.link_device, per_link)
        load = np.zeros(self.n_servers)
        np.add.at(load, self.link_server, per_link)
        return served, load

    def _violations_of(self, local: np.ndarray, send: np.ndarray, served: np.ndarray, load: np.ndarray) -> list[str]:
        tol = EVAL_TOL
        out = []
        for device in np.flatnonzero((local < -tol) | (local > self.local_capacity + tol * np.maximum(1, self.local_capacity))):
            out.append(f"local[{device}] = {local[device]:g} outside [0, {self.local_capacity[device]}] "
                       f"for device {self.devices[device].name!r}")
        capacity = self.link_capacity
        for link_index, state in np.argwhere((send < -tol) | (send > capacity + tol * np.maximum(1, capacity))):
            link = self.links[link_index]
            out.append(f"send[{link_index}][{state}] = {send[link_index, state]:g} outside [0, {capacity[link_index, state]}] "
                       f"on link {link.device}->{link.server}")
        for device in np.flatnonzero(served < self.rates - tol * np.maximum(1, self.rates)):
            out.append(f"device {self.devices[device].name!r} is served {served[device]:.6g} tasks/slot "
                       f"< arrival rate {self.rates[device]:.6g}")
        server_capacity = self.server_capacity
        for server in np.flatnonzero(load > server_capacity + tol * np.maximum(1, server_capacity)):
            out.append(f"server {self.servers[server].name!r} receives {load[server]:.6g} tasks/slot "
                       f"> capacity {server_capacity[server]}")
        return out

    def _run_violations(self, run) -> list[str]:
        """What is wrong with a simulated run as this problem's answer (empty: a checked run of its shape)."""
        out = []
        if not run.checked:
            out.append("the run was simulated with check=False: its decisions were not checked")
        shape = (len(run.per_queue["device_final"]), len(run.per_queue["server_final"]))
        if shape != (self.n_devices, self.n_servers):
            out.append(f"the run has {shape[0]} devices and {shape[1]} servers, the problem "
                       f"{self.n_devices} and {self.n_servers}")
        return out

    def violations(self, assignment) -> list[str]:
        """Every constraint a stationary policy violates, in words (empty if feasible).

        A :class:`~formulations.offloading.simulator.SimulationResult` (an
        online policy's run, from this module's simulator, which checks every
        decision) is accepted too: empty when its decisions were checked and
        it has this problem's devices and servers.

        Raises
        ------
        InfeasibleAssignmentError
            For a malformed policy (missing keys, wrong shapes, non-numbers);
            :class:`~formulations.base.AssignmentTypeError` for a non-mapping
            or an online run spec (see :meth:`evaluate`). O(links x states).
        """
        if _is_run(assignment):
            return self._run_violations(assignment)
        local, send = self._stationary_arrays(assignment)
        served, load = self.served_rates(local, send)
        return self._violations_of(local, send, served, load)

    def evaluate(self, assignment) -> StationaryEvaluation:
        """Expected cost per slot of a stationary randomized policy.

        Parameters
        ----------
        assignment : dict
            ``{"local": [per device], "send": [[per state] per link]}``:
            expected tasks per slot run locally, and sent over each link in a
            slot where it is in each state (links and states in instance
            order). Online policies are not evaluated here: a run is
            simulated once (``solvers.solve(problem, method="dpp")`` returns
            its :class:`~formulations.offloading.simulator.SimulationResult`
            as ``solution.evaluation``; or call
            :func:`formulations.offloading.simulator.simulate`).

        Returns
        -------
        StationaryEvaluation
            ``objective = sum_m local_cost_m local_m + sum_{l,w} pi_{l,w}
            cost_{l,w} send_{l,w}`` (cost per slot), the served rates per
            device and the load per server (tasks/slot).

        Raises
        ------
        InfeasibleAssignmentError
            If a value is outside ``[0, capacity]``, the policy serves less
            than a device's arrival rate, or sends more than a server's
            capacity per slot (relative tolerance ``1e-7``), or the policy is
            malformed. :class:`~formulations.base.AssignmentTypeError` for a
            non-mapping or an online run spec ``{"policy": ...}``. A
            :class:`~formulations.offloading.simulator.SimulationResult`
            (what ``dpp``, ``fqla`` and the baselines return as their
            assignment) is returned as is when its decisions were checked and
            its shape is this problem's (a run is never replayed).
            O(links x states).
        """
        if _is_run(assignment):  # an online run: simulated (and checked) once, never replayed
            violated = self._run_violations(assignment)
            if violated:
                raise InfeasibleAssignmentError(violated[0])
            return assignment
        local, send = self._stationary_arrays(assignment)
        served, load = self.served_rates(local, send)
        violated = self._violations_of(local, send, served, load)
        if violated:
            more = f" (and {len(violated) - 1} more violation(s))" if len(violated) > 1 else ""
            raise InfeasibleAssignmentError(violated[0] + more)
        cost = float(self.local_cost @ np.clip(local, 0, None) + (self.link_pi * self.link_cost * np.clip(send, 0, None)).sum())
        return StationaryEvaluation(objective=cost, served=served, server_load=load)

    @property
    def unit(self) -> str:
        """The objective's unit: ``metadata.cost_unit`` per slot (``"mJ/slot"`` in the shipped scenarios;
        ``"cost/slot"`` without one; spaces become ``_`` so the unit stays one word)."""
        return f"{str(self.metadata.get('cost_unit') or 'cost').strip().replace(' ', '_')}/slot"

    def summarize(self, assignment) -> str:
        """One line: share of tasks run locally and the busiest server's load (or the run, for a run spec)."""
        if _is_run(assignment):
            params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                               for k, v in sorted(assignment.params.items()))
            verdict = "converged" if assignment.converged else "NOT converged"
            return f"{assignment.policy}({params}) over {assignment.slots} slots, seed {assignment.seed}, {verdict}"
        if isinstance(assignment, Mapping) and "policy" in assignment:
            params = ", ".join(f"{k}={v}" for k, v in sorted((assignment.get("params") or {}).items()))
            return f"{assignment['policy']}({params}) over {assignment.get('slots')} slots, seed {assignment.get('seed')}"
        local, send = self._stationary_arrays(assignment)
        served, load = self.served_rates(local, send)
        share = local.sum() / max(served.sum(), 1e-12)
        util = ""
        if self.n_servers:
            s = int(np.argmax(load / np.maximum(self.server_capacity, 1e-12)))
            util = f", busiest server {self.servers[s].name} {load[s]:.3g}/{self.server_capacity[s]} tasks/slot"
        return f"local {100 * share:.1f}% of {served.sum():.4g} tasks/slot{util}"

    @cached_property
    def lp_slack(self) -> float | None:
        """The slack LP's ``epsilon`` (tasks/slot; :func:`formulations.offloading.lp.capacity_slack`), computed once."""
        from .lp import capacity_slack

        return capacity_slack(self)

    @cached_property
    def lp_optimum(self):
        """``p*`` and the LP's multipliers (:func:`formulations.offloading.lp.lp_optimum`), computed once; None if no optimum."""
        from .lp import lp_optimum

        return lp_optimum(self)

    def infeasibility_reason(self) -> str | None:
        """Why no policy can serve the arrival rates (from the LP), or None."""
        slack = self.lp_slack
        if slack is None or slack < -1e-9:
            return "the arrival rates exceed what the devices, links and servers can serve (the stationary LP is infeasible)"
        return None

    def __repr__(self) -> str:
        nm = f" {self.name!r}" if self.name else ""
        return (
            f"<OffloadingProblem{nm}: {self.n_devices} devices, {self.n_servers} servers, {self.n_links} links, "
            f"{self.rates.sum():.4g} tasks/slot, slot {self.slot_ms:g} ms>"
        )


def _is_run(assignment) -> bool:
    from .simulator import SimulationResult

    return isinstance(assignment, SimulationResult)


def _check_parts(devices, servers, links) -> None:
    """Types and numbers of parts built in Python (``from_dict`` has checked its own already)."""
    for kind, items, cls in (("devices", devices, Device), ("servers", servers, Server), ("links", links, Link)):
        for position, item in enumerate(items):
            if not isinstance(item, cls):
                raise InstanceError(f"must be a {cls.__name__}, got {type(item).__name__}", field=f"{kind}[{position}]")
    for position, device in enumerate(devices):
        _as_count(device.local_capacity, f"devices[{position}].local_capacity")
        as_nonneg(device.local_cost, f"devices[{position}].local_cost")
        if not isinstance(device.arrivals, Arrivals):
            raise InstanceError("must be an Arrivals", field=f"devices[{position}].arrivals")
    for position, server in enumerate(servers):
        _as_count(server.capacity, f"servers[{position}].capacity")
    for position, link in enumerate(links):
        if len(link.capacities) != len(link.costs) or not link.capacities:
            raise InstanceError("needs one capacity and one cost per state", field=f"links[{position}].states")
        for state, (capacity, cost) in enumerate(zip(link.capacities, link.costs)):
            _as_count(capacity, f"links[{position}].states[{state}].capacity")
            as_nonneg(cost, f"links[{position}].states[{state}].cost")


def _slot_ms(value: Any) -> float:
    value = as_number(value, "slot_ms")
    if value <= 0:
        raise InstanceError(f"must be > 0, got {value!r}", field="slot_ms")
    return value


def task_profile(partition, *, device_power_w: float = 2.0, tx_power_w: float = 1.0) -> dict:
    """Per-task profile of one co-inference task from a partition instance.

    Parameters
    ----------
    partition : formulations.partition.PartitionProblem
        A DNN with per-layer ``device_ms``, ``server_ms`` and tensor sizes.
    device_power_w, tx_power_w : float
        Device power (W) while computing and while transmitting; energy in
        mJ is ``W x ms``.

    Returns
    -------
    dict
        ``local_ms`` (all layers on the device), ``server_ms`` (all layers
        on the server), ``input_bytes`` (tensors of the input layers sent
        for full offloading), ``local_mj`` and ``tx_mj_per_mbps``
        (transmit energy at 1 Mbps; divide by the rate in Mbps).
    """
    inputs = [partition.index[n] for n in partition.inputs]
    local_ms = float(partition.device_ms.sum())
    server_ms = float(partition.server_ms.sum())
    input_bytes = int(partition.output_bytes[inputs].sum())
    tx_ms_at_1mbps = input_bytes * 8.0 / 1000.0
    return {
        "name": partition.name,
        "local_ms": local_ms,
        "server_ms": server_ms,
        "input_bytes": input_bytes,
        "local_mj": device_power_w * local_ms,
        "tx_mj_per_mbps": tx_power_w * tx_ms_at_1mbps,
        "rtt_ms": float(partition.network.rtt_ms),
    }
