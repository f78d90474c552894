"""Multi-task pipeline offloading: configuration choice plus permutation flow shop.

Stages ``0..m-1`` (for co-inference: device, uplink, server) process a set of
tasks. Task ``j`` has a release time ``release_ms[j]`` and a list of
configurations; configuration ``c`` takes ``ms[j][c][k]`` on stage ``k`` and
has an ``accuracy``. A schedule is one order of the tasks, shared by every
stage, and one configuration per task. Each stage runs one task at a time and
every operation starts as early as allowed (a semi-active permutation
schedule)::

    C[j][-1] = release_ms[j]
    C[j][k]  = max(C[j][k-1], C[prev(j)][k]) + ms[j][c_j][k]

Objectives:

- ``"makespan"`` (minimize, ms): ``max_j C[j][m-1]``;
- ``"rate"`` (maximize, tasks/s): the tasks repeat as a stream in the chosen
  configurations, so the steady-state rate is ``n * 1000 / max_k L_k`` with
  ``L_k = sum_j ms[j][c_j][k]`` the load of stage ``k`` (the bottleneck).

Constraints (optional): ``mean_j accuracy[j][c_j] >= accuracy_min``; every
task's own latency ``<= deadline_ms`` (for ``"rate"``: the sum of its stage
times; for ``"makespan"``: ``C[j][m-1] - release_ms[j]``).

Files of ``kind: "flowshop"`` (one configuration per task given as ``ms``)
load into the same class; so does the Taillard text format
(:mod:`formulations.pipeline.taillard`). :meth:`PipelineProblem.evaluate` rebuilds the
schedule of any assignment ``{"order": [task names], "configs": {task:
config name}}`` independently of every solver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np

from ..base import AssignmentTypeError, Evaluation, Problem, require_mapping
from ..errors import InfeasibleAssignmentError, InstanceError
from ..validate import (
    as_list,
    as_mapping,
    as_name,
    as_nonneg,
    as_positive,
    as_probability,
    check_header,
    naming_file,
    reject_unknown,
    require,
)
from ..tolerances import FEASIBILITY_RTOL

__all__ = ["Config", "Task", "PipelineProblem", "Schedule", "OBJECTIVES", "ACCURACY_TOL", "DEADLINE_TOL", "rate_from_load"]

#: Supported objectives and their sense.
OBJECTIVES = {"makespan": "min", "rate": "max"}
#: Absolute tolerance when checking the accuracy floor and deadlines.
ACCURACY_TOL = FEASIBILITY_RTOL
DEADLINE_TOL = FEASIBILITY_RTOL

_TOP_FIELDS = {"kind", "version", "name", "stages", "tasks", "objective", "constraints", "metadata"}
_TASK_FIELDS = {"name", "release_ms", "configs", "ms", "meta"}
_CONFIG_FIELDS = {"name", "ms", "accuracy", "meta"}
_CONSTRAINT_FIELDS = {"accuracy_min", "deadline_ms"}


@dataclass(frozen=True)
class Config:
    """One way to run a task: time per stage (ms) and accuracy (or None)."""

    name: str
    ms: tuple[float, ...]
    accuracy: float | None = None
    meta: Mapping[str, Any] | None = None

    @property
    def total_ms(self) -> float:
        """Sum of the stage times: the task's latency when it never waits."""
        return math.fsum(self.ms)


@dataclass(frozen=True)
class Task:
    """A task: name, release time (ms) and its configurations."""

    name: str
    configs: tuple[Config, ...]
    release_ms: float = 0.0
    meta: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class Schedule(Evaluation):
    """The schedule rebuilt by :meth:`PipelineProblem.evaluate` (an :class:`~formulations.base.Evaluation`).

    Attributes
    ----------
    objective : float
        Makespan in ms, or rate in tasks/s (per the problem's objective).
    order : list of str
    configs : dict
        Task name -> configuration name.
    start_ms, end_ms : ndarray, shape (n, m)
        Start and end of every operation, row ``i`` = ``i``-th task of
        ``order``, column = stage.
    makespan_ms : float
    stage_load_ms : ndarray, shape (m,)
        Total busy time of each stage.
    rate_per_s : float
        ``n * 1000 / max(stage_load_ms)`` (``inf`` if every time is 0).
    latency_ms : dict
        Per task: completion minus release (``"makespan"``) or sum of its
        stage times (``"rate"``).
    mean_accuracy : float or None
    """

    order: list[str]
    configs: dict[str, str]
    start_ms: np.ndarray
    end_ms: np.ndarray
    makespan_ms: float
    stage_load_ms: np.ndarray
    rate_per_s: float
    latency_ms: dict[str, float] = field(default_factory=dict)
    mean_accuracy: float | None = None
    # ``feasible`` (from Evaluation) is True when returned by ``evaluate``
    # (which raises otherwise); the schedule of an infeasible assignment comes from ``schedule()``.

    @property
    def bottleneck(self) -> int:
        """Index of the most loaded stage."""
        return int(np.argmax(self.stage_load_ms))


def rate_from_load(n_tasks: int, max_load_ms: float) -> float:
    """Steady-state rate in tasks/s of ``n_tasks`` whose bottleneck load is ``max_load_ms``."""
    return math.inf if max_load_ms <= 0 else n_tasks * 1000.0 / max_load_ms


def _check_ms(raw, m: int | None, fld: str) -> tuple[float, ...]:
    values = as_list(raw, fld, nonempty=True)
    if m is not None and len(values) != m:
        raise InstanceError(f"expected {m} values (one per stage), got {len(values)}", field=fld)
    return tuple(as_nonneg(v, f"{fld}[{k}]") for k, v in enumerate(values))


def _unique_name(name, seen: set, fld: str, what: str) -> None:
    as_name(name, fld)
    if name in seen:
        raise InstanceError(f"duplicate {what} name {name!r}", field=fld)
    seen.add(name)


class PipelineProblem(Problem):
    """A pipeline / flow-shop instance (``kind: "pipeline"`` or ``"flowshop"``).

    Parameters
    ----------
    stages : sequence of str
        Stage names, ``m >= 1``.
    tasks : sequence of Task
    objective : {"makespan", "rate"}
    accuracy_min : float, optional
        Floor on the mean accuracy over tasks, in [0, 1].
    deadline_ms : float, optional
        Bound on every task's latency (> 0).
    metadata : mapping, optional
        Provenance, units, known ``optimum``; not used by solvers.
    name : str, optional
    source_kind : {"pipeline", "flowshop"}
        The kind written by :meth:`to_dict`. Solvers dispatch on
        :attr:`kind`, always ``"pipeline"``.

    Raises
    ------
    InstanceError
        Naming the invalid field.

    Notes
    -----
    Instances are immutable; :meth:`replace` returns a changed copy.
    """

    kind = "pipeline"

    def __init__(
        self,
        stages: Sequence[str],
        tasks: Sequence[Task],
        *,
        objective: str = "makespan",
        accuracy_min: float | None = None,
        deadline_ms: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        source_kind: str = "pipeline",
    ):
        self.stages = tuple(as_name(s, f"stages[{k}]") for k, s in enumerate(as_list(stages, "stages", nonempty=True)))
        if len(set(self.stages)) != len(self.stages):
            raise InstanceError("duplicate stage names", field="stages")
        if objective not in OBJECTIVES:
            raise InstanceError(f"unknown objective {objective!r}; use one of {sorted(OBJECTIVES)}", field="objective")
        self.objective = objective
        self.sense = OBJECTIVES[objective]
        self.accuracy_min = None if accuracy_min is None else as_probability(accuracy_min, "constraints.accuracy_min")
        self.deadline_ms = None if deadline_ms is None else as_positive(deadline_ms, "constraints.deadline_ms")
        self.metadata = MappingProxyType(dict(metadata or {}))
        self.name = name
        self.source_kind = source_kind
        self.tasks = tuple(tasks)
        self._validate_tasks()
        self.index = {t.name: j for j, t in enumerate(self.tasks)}
        self.config_index = tuple(MappingProxyType({c.name: i for i, c in enumerate(t.configs)}) for t in self.tasks)
        self.times = tuple(np.array([c.ms for c in t.configs], dtype=float).reshape(len(t.configs), self.m) for t in self.tasks)
        self.accuracy = tuple(
            np.array([np.nan if c.accuracy is None else c.accuracy for c in t.configs], dtype=float) for t in self.tasks
        )
        self.release_ms = np.array([t.release_ms for t in self.tasks], dtype=float)
        self._freeze()

    def _validate_tasks(self) -> None:
        if not self.tasks:
            raise InstanceError("must not be empty", field="tasks")
        seen: set[str] = set()
        for j, task in enumerate(self.tasks):
            fld = f"tasks[{j}]"
            _unique_name(task.name, seen, f"{fld}.name", "task")
            as_nonneg(task.release_ms, f"{fld}.release_ms")
            if not task.configs:
                raise InstanceError("a task needs at least one configuration", field=f"{fld}.configs")
            names: set[str] = set()
            for c, cfg in enumerate(task.configs):
                cf = f"{fld}.configs[{c}]"
                _unique_name(cfg.name, names, f"{cf}.name", "configuration")
                _check_ms(list(cfg.ms), self.m, f"{cf}.ms")
                if cfg.accuracy is not None:
                    as_probability(cfg.accuracy, f"{cf}.accuracy")
                elif len(task.configs) > 1:
                    raise InstanceError("required when a task has several configurations", field=f"{cf}.accuracy")
                elif self.accuracy_min is not None:
                    raise InstanceError("required when constraints.accuracy_min is set", field=f"{cf}.accuracy")

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None, base_dir=None) -> "PipelineProblem":
        """Build from an instance dict (``kind`` ``"pipeline"`` or ``"flowshop"``).

        Raises
        ------
        InstanceError
            Naming ``file`` (if given) and the invalid field.
        """
        with naming_file(file):
            kind = check_header(data, ("pipeline", "flowshop"))
            reject_unknown(data, _TOP_FIELDS, "<root>")
            raw_tasks = as_list(require(data, "tasks", "tasks"), "tasks", nonempty=True)
            stages = data.get("stages")
            if stages is None:
                if kind == "pipeline":
                    raise InstanceError("missing required field", field="stages")
                first = as_mapping(raw_tasks[0], "tasks[0]")
                width = len(as_list(require(first, "ms", "tasks[0].ms"), "tasks[0].ms", nonempty=True))
                stages = [f"m{k + 1}" for k in range(width)]
            stages = as_list(stages, "stages", nonempty=True)
            m = len(stages)
            tasks = [cls._task_from_dict(raw, j, m, kind) for j, raw in enumerate(raw_tasks)]
            cons = as_mapping(data.get("constraints", {}), "constraints")
            reject_unknown(cons, _CONSTRAINT_FIELDS, "constraints")
            objective = data.get("objective", "makespan")
            if not isinstance(objective, str):
                raise InstanceError(f"expected a string, got {objective!r}", field="objective")
            metadata = as_mapping(data.get("metadata", {}), "metadata")
            name = data.get("name") or (Path(file).stem if file else None)
            return cls(
                stages,
                tasks,
                objective=objective,
                accuracy_min=cons.get("accuracy_min"),
                deadline_ms=cons.get("deadline_ms"),
                metadata=metadata,
                name=name,
                source_kind=kind,
            )

    @staticmethod
    def _task_from_dict(raw, j: int, m: int, kind: str) -> Task:
        fld = f"tasks[{j}]"
        raw = as_mapping(raw, fld)
        reject_unknown(raw, _TASK_FIELDS, fld)
        if kind == "flowshop" and "name" not in raw:
            name = f"j{j + 1}"
        else:
            name = as_name(require(raw, "name", f"{fld}.name"), f"{fld}.name")
        release = as_nonneg(raw.get("release_ms", 0.0), f"{fld}.release_ms")
        if "ms" in raw and "configs" in raw:
            raise InstanceError("give either `ms` (one configuration) or `configs`, not both", field=fld)
        if "ms" in raw:
            configs = [Config("default", _check_ms(raw["ms"], m, f"{fld}.ms"))]
        else:
            raw_cfgs = as_list(require(raw, "configs", f"{fld}.configs"), f"{fld}.configs")
            if not raw_cfgs:
                raise InstanceError("a task needs at least one configuration", field=f"{fld}.configs")
            if kind == "flowshop" and len(raw_cfgs) != 1:
                raise InstanceError("a flowshop task has exactly one configuration", field=f"{fld}.configs")
            configs = []
            for c, rc in enumerate(raw_cfgs):
                cf = f"{fld}.configs[{c}]"
                rc = as_mapping(rc, cf)
                reject_unknown(rc, _CONFIG_FIELDS, cf)
                acc = rc.get("accuracy")
                configs.append(
                    Config(
                        name=as_name(rc.get("name", "default" if len(raw_cfgs) == 1 else None), f"{cf}.name"),
                        ms=_check_ms(require(rc, "ms", f"{cf}.ms"), m, f"{cf}.ms"),
                        accuracy=None if acc is None else as_probability(acc, f"{cf}.accuracy"),
                        meta=rc.get("meta"),
                    )
                )
        return Task(name=name, configs=tuple(configs), release_ms=release, meta=raw.get("meta"))

    @classmethod
    def from_matrix(cls, ms, *, release_ms=None, stages=None, name=None, metadata=None, **kwargs) -> "PipelineProblem":
        """A flow shop (one configuration per task) from an ``(n, m)`` matrix of ms.

        Examples
        --------
        >>> p = PipelineProblem.from_matrix([[3, 2], [1, 4]])
        >>> p.evaluate({"order": ["j2", "j1"], "configs": {}}).objective
        7.0
        """
        arr = np.asarray(ms, dtype=float)
        if arr.ndim != 2:
            raise InstanceError("expected an (n tasks, m stages) matrix", field="ms")
        releases = [0.0] * arr.shape[0] if release_ms is None else list(release_ms)
        tasks = [
            Task(f"j{j + 1}", (Config("default", tuple(float(x) for x in row)),), float(releases[j]))
            for j, row in enumerate(arr)
        ]
        stages = stages or [f"m{k + 1}" for k in range(arr.shape[1])]
        return cls(stages, tasks, name=name, metadata=metadata, source_kind="flowshop", **kwargs)

    def to_dict(self) -> dict:
        """The instance as a JSON-ready dict; round-trips through :meth:`from_dict`.

        Written as ``kind: "flowshop"`` when the instance came from one and
        still has one configuration per task, else as ``"pipeline"``.
        """
        flow = self.source_kind == "flowshop" and all(len(t.configs) == 1 for t in self.tasks) and all(
            t.configs[0].accuracy is None and t.configs[0].name == "default" for t in self.tasks
        )
        out: dict[str, Any] = {"kind": "flowshop" if flow else "pipeline", "version": 1}
        if self.name:
            out["name"] = self.name
        out["stages"] = list(self.stages)
        tasks = []
        for t in self.tasks:
            item: dict[str, Any] = {"name": t.name}
            if t.release_ms:
                item["release_ms"] = t.release_ms
            if flow:
                item["ms"] = list(t.configs[0].ms)
            else:
                item["configs"] = [_config_dict(c) for c in t.configs]
            if t.meta is not None:
                item["meta"] = t.meta
            tasks.append(item)
        out["tasks"] = tasks
        out["objective"] = self.objective
        cons = {}
        if self.accuracy_min is not None:
            cons["accuracy_min"] = self.accuracy_min
        if self.deadline_ms is not None:
            cons["deadline_ms"] = self.deadline_ms
        if cons:
            out["constraints"] = cons
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    # ------------------------------------------------------------- properties
    @property
    def m(self) -> int:
        """Number of stages."""
        return len(self.stages)

    @property
    def n(self) -> int:
        """Number of tasks."""
        return len(self.tasks)

    @property
    def task_names(self) -> list[str]:
        return [t.name for t in self.tasks]

    @property
    def n_configs(self) -> list[int]:
        """Number of configurations per task."""
        return [len(t.configs) for t in self.tasks]

    @property
    def has_choice(self) -> bool:
        """Whether some task has more than one configuration."""
        return any(len(t.configs) > 1 for t in self.tasks)

    def admissible(self, j: int) -> np.ndarray:
        """Boolean mask of task ``j``'s configurations that can meet the deadline alone.

        A task's latency is at least the sum of its stage times (for both
        objectives), so a configuration whose sum exceeds ``deadline_ms`` is
        never feasible.
        """
        total = self.times[j].sum(axis=1)
        if self.deadline_ms is None:
            return np.ones(len(total), dtype=bool)
        return total <= self.deadline_ms + DEADLINE_TOL

    # ------------------------------------------------------------- evaluation
    def indices(self, assignment) -> tuple[list[int], list[int]]:
        """``(order, config)``: task indices in order, and the configuration
        index per task index.

        Raises
        ------
        InfeasibleAssignmentError
            If the order is not a permutation of the tasks, or a configuration
            is unknown or missing for a task with several.
        """
        require_mapping(assignment, '{"order": [task names], "configs": {task: configuration}}')
        extra = set(assignment) - {"order", "configs"}
        if extra:
            raise InfeasibleAssignmentError(f"unknown assignment key(s) {sorted(extra)}")
        order_names = assignment.get("order")
        if order_names is None:
            raise InfeasibleAssignmentError("the assignment has no `order`")
        if isinstance(order_names, (str, bytes, Mapping)) or not isinstance(order_names, (list, tuple, np.ndarray)):
            raise AssignmentTypeError(f"`order` must be a list of task names, got {type(order_names).__name__}")
        order = []
        for nm in order_names:
            if not isinstance(nm, str) or nm not in self.index:
                raise InfeasibleAssignmentError(f"unknown task {nm!r} in order")
            order.append(self.index[nm])
        if len(order) != self.n or len(set(order)) != self.n:
            missing = sorted(set(self.task_names) - set(order_names))
            raise InfeasibleAssignmentError(f"order is not a permutation of the tasks (missing {missing[:5]})")
        chosen = assignment.get("configs") or {}
        if not isinstance(chosen, Mapping):
            raise InfeasibleAssignmentError("`configs` must map task names to configuration names")
        for nm, cname in chosen.items():
            if not isinstance(nm, str) or nm not in self.index:
                raise InfeasibleAssignmentError(f"unknown task {nm!r} in configs")
            if not isinstance(cname, str):
                raise InfeasibleAssignmentError(f"configs[{nm!r}] must be a configuration name, got {cname!r}")
        config = []
        for j, task in enumerate(self.tasks):
            if task.name in chosen:
                cname = chosen[task.name]
                if cname not in self.config_index[j]:
                    raise InfeasibleAssignmentError(f"task {task.name!r} has no configuration {cname!r}")
                config.append(self.config_index[j][cname])
            elif len(task.configs) == 1:
                config.append(0)
            else:
                raise InfeasibleAssignmentError(f"no configuration chosen for task {task.name!r}")
        return order, config

    def assignment(self, order: Sequence[int], config: Sequence[int]) -> dict:
        """The assignment dict from task indices and configuration indices."""
        return {
            "order": [self.tasks[j].name for j in order],
            "configs": {t.name: t.configs[int(config[j])].name for j, t in enumerate(self.tasks)},
        }

    def schedule(self, assignment) -> Schedule:
        """Rebuild the semi-active schedule of ``assignment`` (no constraint check).

        Notes
        -----
        O(n m), directly from the recurrence in the module docstring.
        """
        order, config = self.indices(assignment)
        n, m = self.n, self.m
        start = np.zeros((n, m))
        end = np.zeros((n, m))
        prev_end = [0.0] * m
        for pos, j in enumerate(order):
            ready = float(self.release_ms[j])
            row = self.times[j][config[j]]
            for k in range(m):
                s = max(ready, prev_end[k])
                e = s + float(row[k])
                start[pos, k], end[pos, k] = s, e
                prev_end[k] = ready = e
        load = np.array([math.fsum(self.times[j][config[j]][k] for j in range(n)) for k in range(m)])
        makespan = float(end[:, -1].max())
        rate = rate_from_load(n, float(load.max()))
        names = [self.tasks[j].name for j in order]
        if self.objective == "makespan":
            latency = {names[p]: float(end[p, -1] - self.release_ms[j]) for p, j in enumerate(order)}
        else:
            latency = {self.tasks[j].name: self.tasks[j].configs[config[j]].total_ms for j in range(n)}
        accs = [self.tasks[j].configs[config[j]].accuracy for j in range(n)]
        mean_acc = None if any(a is None for a in accs) else math.fsum(a for a in accs if a is not None) / n
        return Schedule(
            objective=makespan if self.objective == "makespan" else rate,
            order=names,
            configs={t.name: t.configs[config[j]].name for j, t in enumerate(self.tasks)},
            start_ms=start,
            end_ms=end,
            makespan_ms=makespan,
            stage_load_ms=load,
            rate_per_s=rate,
            latency_ms=latency,
            mean_accuracy=mean_acc,
        )

    def violations(self, assignment) -> list[str]:
        """Every constraint the assignment violates, in words (empty if feasible)."""
        sched = self.schedule(assignment)
        out = []
        if self.accuracy_min is not None and sched.mean_accuracy is not None \
                and sched.mean_accuracy < self.accuracy_min - ACCURACY_TOL:
            out.append(f"mean accuracy {sched.mean_accuracy:.6g} < accuracy_min {self.accuracy_min:g}")
        if self.deadline_ms is not None:
            late = [(nm, lat) for nm, lat in sched.latency_ms.items() if lat > self.deadline_ms + DEADLINE_TOL]
            if late:
                nm, lat = max(late, key=lambda item: item[1])
                out.append(f"{len(late)} task(s) miss deadline_ms {self.deadline_ms:g} (worst {nm!r}: {lat:.6g} ms)")
        return out

    def evaluate(self, assignment) -> Schedule:
        """Rebuild the schedule and check the constraints.

        Returns
        -------
        Schedule
            ``.objective`` is the makespan (ms) or the rate (tasks/s).

        Raises
        ------
        InfeasibleAssignmentError
            For a malformed assignment, a mean accuracy below the floor, or a
            missed deadline (the message says which).
        """
        problems = self.violations(assignment)
        if problems:
            raise InfeasibleAssignmentError("; ".join(problems))
        return self.schedule(assignment)

    def max_mean_accuracy(self) -> float | None:
        """Best mean accuracy over deadline-admissible configurations (None without accuracies)."""
        best = []
        for j in range(self.n):
            acc = self.accuracy[j][self.admissible(j)]
            if acc.size == 0:
                return -math.inf
            if np.isnan(acc).any():
                return None
            best.append(float(acc.max()))
        return math.fsum(best) / self.n

    def infeasibility_reason(self) -> str | None:
        """Why no schedule can be feasible, when that is evident, else None.

        Checks each task has a configuration whose stage times fit the
        deadline, and that the best reachable mean accuracy meets the floor.
        (With ``"makespan"`` and deadlines, waiting may make an instance
        infeasible in ways only a search detects.)
        """
        for j, task in enumerate(self.tasks):
            if not self.admissible(j).any():
                return f"task {task.name!r}: every configuration takes longer than deadline_ms {self.deadline_ms:g}"
        if self.accuracy_min is not None:
            best = self.max_mean_accuracy()
            if best is not None and best < self.accuracy_min - ACCURACY_TOL:
                return f"best reachable mean accuracy {best:.6g} < accuracy_min {self.accuracy_min:g}"
        return None

    @property
    def unit(self) -> str:
        """The objective's unit: ``"ms"`` (makespan) or ``"tasks/s"`` (rate)."""
        return "ms" if self.objective == "makespan" else "tasks/s"

    def summarize(self, assignment) -> str:
        """A one-line description of a schedule for tables."""
        sched = self.schedule(assignment)
        head = " ".join(sched.order[:4]) + (" ..." if self.n > 4 else "")
        parts = [f"order {head}"]
        if self.objective == "rate":
            parts.append(f"bottleneck {self.stages[sched.bottleneck]}")
        else:
            parts.append(f"{self.m} stages")
        if sched.mean_accuracy is not None and self.has_choice:
            parts.append(f"acc {sched.mean_accuracy:.4f}")
        return ", ".join(parts)

    def __repr__(self) -> str:
        return (
            f"PipelineProblem(name={self.name!r}, tasks={self.n}, stages={self.m}, "
            f"configs={sum(self.n_configs)}, objective={self.objective!r})"
        )


def _config_dict(c: Config) -> dict:
    item: dict[str, Any] = {"name": c.name, "ms": list(c.ms)}
    if c.accuracy is not None:
        item["accuracy"] = c.accuracy
    if c.meta is not None:
        item["meta"] = c.meta
    return item
