"""Exit placement, thresholds and multi-node split for multi-exit DNNs.

One formulation covers LEIME's exit setting (one node), Edgent/SPINN's exit
plus split (two nodes) and DistrEE's chain of ``k`` nodes.

A backbone is a chain of blocks ``b_1..b_K``; candidate exits sit after
blocks (strictly increasing block positions), the last one after ``b_K`` is
the final classifier and is always kept. Nodes ``n_0..n_{k-1}`` form a chain
(link ``l`` joins ``n_l`` and ``n_{l+1}``). A plan is a **placement** (a
nondecreasing node index per block), a set of **kept** early exits and a
**threshold** per kept exit. Sample ``s`` stops at the first kept exit ``e``
with ``conf[s][e] >= tau_e``, else at the final exit. Its latency in ms::

    sum of ms of blocks b_1..(block of e), each on its node
  + sum of ms of every kept exit up to and including e, on its block's node
  + for each link l crossed before e's node:
        bytes * 8 / (mbps_l * 1000) + rtt_ms_l     (bytes: output of the last
        block before the crossing, or input_bytes when no block precedes it)
  + for each of those links, on the way back to n_0:
        result_bytes * 8 / (mbps_l * 1000) + rtt_ms_l

``rtt_ms`` is thus charged once per link traversal in each direction. A
sample crosses link ``l`` exactly when it reaches the first block placed on a
node ``> l``, and then also returns over ``l``.

Accuracy is the mean of ``correct[s][exit taken]``. Objective ``"latency"``
(default, ``sense = "min"``): minimize mean latency subject to
``accuracy >= accuracy_min`` and at most ``max_exits`` kept early exits.
Objective ``"accuracy"`` (``sense = "max"``): maximize accuracy subject to
``mean latency <= latency_max_ms`` (and the other two, when given).

An exit may carry a fixed ``"threshold"`` (LEIME-style given thresholds): it is
then only kept or dropped. Otherwise thresholds are free and, without loss,
restricted to the observed confidences of that exit (any other value selects
the same samples as the next observed value above it, or none at all, which
is dominated by dropping the exit).

This module holds the data, validation and the independent evaluator
(:meth:`ExitProblem.evaluate`). The CP-SAT model is in
:mod:`formulations.exits.model`, Hypothesis strategies in
:mod:`formulations.exits.strategies`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np

from ..base import cached_property, Evaluation, Problem, require_mapping
from ..errors import InfeasibleAssignmentError, InstanceError
from ..partition.units import transfer_ms
from ..validate import (
    as_bytes,
    as_list,
    as_mapping,
    as_name,
    as_nonneg,
    as_number,
    as_positive,
    as_probability,
    check_header,
    naming_file,
    reject_unknown,
    require,
)
from ..tolerances import FEASIBILITY_RTOL

__all__ = ["ExitProblem", "ExitBlock", "Exit", "Link", "ExitEvaluation", "OBJECTIVES", "LATENCY_RTOL"]

OBJECTIVES = ("latency", "accuracy")
#: Relative tolerance of the ``latency_max_ms`` check (float summation order).
LATENCY_RTOL = FEASIBILITY_RTOL

_TOP_FIELDS = {
    "kind", "version", "name", "nodes", "links", "input_bytes", "result_bytes", "blocks",
    "exits", "samples", "objective", "constraints", "metadata",
}
_CONSTRAINTS = {"accuracy_min", "max_exits", "latency_max_ms"}


@dataclass(frozen=True)
class Link:
    """Link ``l`` between nodes ``l`` and ``l + 1``: bandwidth (Mbps) and a
    per-traversal delay ``rtt_ms`` (charged in each direction)."""

    mbps: float
    rtt_ms: float = 0.0


@dataclass(frozen=True)
class ExitBlock:
    """A backbone block: ``ms`` per node (nodes order), output size in bytes."""

    name: str
    ms: tuple[float, ...]
    output_bytes: int


@dataclass(frozen=True)
class Exit:
    """A candidate exit after block ``after``; ``ms`` per node; optional fixed threshold."""

    name: str
    after: str
    ms: tuple[float, ...]
    threshold: float | None = None


@dataclass(frozen=True, kw_only=True)
class ExitEvaluation(Evaluation):
    """What :meth:`ExitProblem.evaluate` returns (an :class:`~formulations.base.Evaluation`).

    Attributes
    ----------
    objective : float
        ``mean_latency_ms`` (objective ``"latency"``) or ``accuracy``.
    mean_latency_ms : float
    accuracy : float
        Fraction of samples answered correctly.
    correct : int
        Number of samples answered correctly.
    exit_counts : dict
        Exit name -> number of samples stopping there (kept exits and final).
    feasible : bool
        Always True when returned by ``evaluate`` (it raises otherwise);
        False from :meth:`ExitProblem.measure` for a constraint violation.
    violations : tuple of str
    """

    mean_latency_ms: float
    accuracy: float
    correct: int
    exit_counts: dict = field(default_factory=dict)


class ExitProblem(Problem):
    """An exit placement / threshold / split instance (``kind: "exits"``).

    Build with :meth:`from_dict`, :meth:`from_json` or :func:`formulations.load`.
    Immutable: :meth:`replace` returns a changed copy.

    Parameters
    ----------
    nodes : sequence of str
    links : sequence of Link
        ``len(nodes) - 1`` links.
    input_bytes, result_bytes : int
    blocks : sequence of ExitBlock
    exits : sequence of Exit
        In backbone order; the last one sits after the last block (final).
    confidence : array (N, E) of float in [0, 1]
    correct : array (N, E) of 0/1
    objective : {"latency", "accuracy"}
    constraints : mapping
        ``accuracy_min``, ``max_exits``, ``latency_max_ms`` (all optional;
        ``latency_max_ms`` is required for objective ``"accuracy"``).
    metadata : mapping, optional
    name : str, optional
    samples_file : str, optional
        Name of the ``.npz`` the samples came from (kept by :meth:`to_dict`).
    """

    kind = "exits"

    def __init__(
        self,
        nodes: Sequence[str],
        links: Sequence[Link],
        input_bytes: int,
        result_bytes: int,
        blocks: Sequence[ExitBlock],
        exits: Sequence[Exit],
        confidence,
        correct,
        *,
        objective: str = "latency",
        constraints: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        samples_file: str | None = None,
    ):
        self.nodes = tuple(as_name(n, f"nodes[{i}]") for i, n in enumerate(nodes))
        if not self.nodes:
            raise InstanceError("must not be empty", field="nodes")
        if len(set(self.nodes)) != len(self.nodes):
            raise InstanceError("duplicate node names", field="nodes")
        self.links = tuple(links)
        if len(self.links) != len(self.nodes) - 1:
            raise InstanceError(f"expected {len(self.nodes) - 1} links (len(nodes) - 1), got {len(self.links)}", field="links")
        for i, link in enumerate(self.links):
            as_positive(link.mbps, f"links[{i}].mbps")
            as_nonneg(link.rtt_ms, f"links[{i}].rtt_ms")
        self.input_bytes = as_bytes(input_bytes, "input_bytes")
        self.result_bytes = as_bytes(result_bytes, "result_bytes")
        self.blocks = tuple(blocks)
        self.exits = tuple(exits)
        self.name = name
        self.samples_file = samples_file
        self.metadata = MappingProxyType(dict(metadata or {}))
        self._check_structure()
        self.confidence, self.correct = self._check_samples(confidence, correct)
        if objective not in OBJECTIVES:
            raise InstanceError(f"expected one of {list(OBJECTIVES)}, got {objective!r}", field="objective")
        self.objective = objective
        self.sense = "min" if objective == "latency" else "max"
        self.constraints = MappingProxyType(self._check_constraints(constraints or {}))
        self._freeze()

    # ------------------------------------------------------------ validation
    def _check_structure(self) -> None:
        k = len(self.nodes)
        if not self.blocks:
            raise InstanceError("must not be empty", field="blocks")
        self.block_index: dict[str, int] = {}
        for i, b in enumerate(self.blocks):
            nm = as_name(b.name, f"blocks[{i}].name")
            if nm in self.block_index:
                raise InstanceError(f"duplicate block name {nm!r}", field=f"blocks[{i}].name")
            self.block_index[nm] = i
            self._check_ms(b.ms, f"blocks[{i}].ms", k)
            as_bytes(b.output_bytes, f"blocks[{i}].output_bytes")
        if not self.exits:
            raise InstanceError("must not be empty (the final exit is required)", field="exits")
        self.exit_index: dict[str, int] = {}
        last = -1
        for e, x in enumerate(self.exits):
            nm = as_name(x.name, f"exits[{e}].name")
            if nm in self.exit_index or nm in self.block_index:
                raise InstanceError(f"duplicate name {nm!r}", field=f"exits[{e}].name")
            self.exit_index[nm] = e
            if x.after not in self.block_index:
                raise InstanceError(f"unknown block {x.after!r}", field=f"exits[{e}].after")
            pos = self.block_index[x.after]
            if pos <= last:
                raise InstanceError(
                    "exits must be listed in backbone order, at most one per block", field=f"exits[{e}].after"
                )
            last = pos
            self._check_ms(x.ms, f"exits[{e}].ms", k)
            if x.threshold is not None:
                if e == len(self.exits) - 1:
                    raise InstanceError("the final exit takes no threshold", field=f"exits[{e}].threshold")
                as_number(x.threshold, f"exits[{e}].threshold")
        if last != len(self.blocks) - 1:
            raise InstanceError(
                f"no final exit: the last exit must sit after the last block {self.blocks[-1].name!r}",
                field=f"exits[{len(self.exits) - 1}].after",
            )

    @staticmethod
    def _check_ms(ms, fld: str, k: int) -> None:
        ms = as_list(ms, fld)
        if len(ms) != k:
            raise InstanceError(f"expected {k} values (one per node), got {len(ms)}", field=fld)
        for n, v in enumerate(ms):
            as_nonneg(v, f"{fld}[{n}]")

    def _check_samples(self, confidence, correct) -> tuple[np.ndarray, np.ndarray]:
        n_exits = len(self.exits)
        arrays = []
        for key, raw in (("confidence", confidence), ("correct", correct)):
            fld = f"samples.{key}"
            if isinstance(raw, np.ndarray):
                arr = raw
                if arr.ndim != 2:
                    raise InstanceError(f"expected a 2-D array, got shape {arr.shape}", field=fld)
            else:
                rows = as_list(raw, fld, nonempty=True)
                for s, row in enumerate(rows):
                    row = as_list(row, f"{fld}[{s}]")
                    if len(row) != n_exits:
                        raise InstanceError(
                            f"expected {n_exits} values (one per exit), got {len(row)}", field=f"{fld}[{s}]"
                        )
                    for e, v in enumerate(row):
                        if isinstance(v, bool) or not isinstance(v, (int, float)):
                            raise InstanceError(f"expected a number, got {v!r}", field=f"{fld}[{s}][{e}]")
                arr = np.array(rows, dtype=float)
            if arr.shape[0] == 0:
                raise InstanceError("must not be empty", field=fld)
            if arr.shape[1] != n_exits:
                raise InstanceError(f"expected {n_exits} columns (one per exit), got {arr.shape[1]}", field=fld)
            arrays.append(arr)
        conf, corr = arrays
        if conf.shape[0] != corr.shape[0]:
            raise InstanceError(
                f"{conf.shape[0]} confidence rows but {corr.shape[0]} correct rows", field="samples.correct"
            )
        conf = conf.astype(float)
        bad = ~np.isfinite(conf) | (conf < 0) | (conf > 1)
        if bad.any():
            s, e = map(int, np.argwhere(bad)[0])
            raise InstanceError(f"must be in [0, 1], got {float(conf[s, e])!r}", field=f"samples.confidence[{s}][{e}]")
        badc = ~np.isin(corr, (0, 1))
        if badc.any():
            s, e = map(int, np.argwhere(badc)[0])
            raise InstanceError(f"must be 0 or 1, got {corr[s, e].item()!r}", field=f"samples.correct[{s}][{e}]")
        return conf, corr.astype(np.int8)

    def _check_constraints(self, raw: Mapping[str, Any]) -> dict[str, float]:
        raw = as_mapping(raw, "constraints")
        reject_unknown(raw, _CONSTRAINTS, "constraints")
        out: dict[str, Any] = {}
        if raw.get("accuracy_min") is not None:
            out["accuracy_min"] = as_probability(raw["accuracy_min"], "constraints.accuracy_min")
        if raw.get("max_exits") is not None:
            m = as_nonneg(raw["max_exits"], "constraints.max_exits")
            if m != int(m):
                raise InstanceError(f"must be a whole number, got {raw['max_exits']!r}", field="constraints.max_exits")
            out["max_exits"] = int(m)
        if raw.get("latency_max_ms") is not None:
            out["latency_max_ms"] = as_nonneg(raw["latency_max_ms"], "constraints.latency_max_ms")
        if self.objective == "accuracy" and "latency_max_ms" not in out:
            raise InstanceError("objective 'accuracy' needs constraints.latency_max_ms", field="constraints.latency_max_ms")
        return out

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None, base_dir=None) -> "ExitProblem":
        """Build from an instance dict (the JSON format, see docs/exits.md).

        ``samples`` is either ``{"confidence": [[...]], "correct": [[...]]}``
        or the name of an ``.npz`` file (arrays ``confidence`` and
        ``correct``) resolved against ``base_dir``.

        Raises
        ------
        InstanceError
            Naming ``file`` (if given) and the invalid field.
        """
        with naming_file(file):
            check_header(data, "exits")
            reject_unknown(data, _TOP_FIELDS, "<root>")
            nodes = as_list(require(data, "nodes", "nodes"), "nodes", nonempty=True)
            links = []
            for i, raw in enumerate(as_list(data.get("links", []), "links")):
                raw = as_mapping(raw, f"links[{i}]")
                reject_unknown(raw, {"mbps", "rtt_ms"}, f"links[{i}]")
                links.append(Link(as_positive(require(raw, "mbps", f"links[{i}].mbps"), f"links[{i}].mbps"),
                                  as_nonneg(raw.get("rtt_ms", 0.0), f"links[{i}].rtt_ms")))
            blocks = []
            for i, raw in enumerate(as_list(require(data, "blocks", "blocks"), "blocks", nonempty=True)):
                raw = as_mapping(raw, f"blocks[{i}]")
                reject_unknown(raw, {"name", "ms", "output_bytes"}, f"blocks[{i}]")
                blocks.append(ExitBlock(
                    as_name(require(raw, "name", f"blocks[{i}].name"), f"blocks[{i}].name"),
                    tuple(as_list(require(raw, "ms", f"blocks[{i}].ms"), f"blocks[{i}].ms")),
                    as_bytes(require(raw, "output_bytes", f"blocks[{i}].output_bytes"), f"blocks[{i}].output_bytes"),
                ))
            exits = []
            for e, raw in enumerate(as_list(require(data, "exits", "exits"), "exits", nonempty=True)):
                raw = as_mapping(raw, f"exits[{e}]")
                reject_unknown(raw, {"name", "after", "ms", "threshold"}, f"exits[{e}]")
                exits.append(Exit(
                    as_name(require(raw, "name", f"exits[{e}].name"), f"exits[{e}].name"),
                    as_name(require(raw, "after", f"exits[{e}].after"), f"exits[{e}].after"),
                    tuple(as_list(require(raw, "ms", f"exits[{e}].ms"), f"exits[{e}].ms")),
                    None if raw.get("threshold") is None else as_number(raw["threshold"], f"exits[{e}].threshold"),
                ))
            samples = require(data, "samples", "samples")
            samples_file = None
            if isinstance(samples, str):
                samples_file = samples
                confidence, correct = _read_npz(samples, base_dir)
            else:
                samples = as_mapping(samples, "samples")
                reject_unknown(samples, {"confidence", "correct"}, "samples")
                confidence = require(samples, "confidence", "samples.confidence")
                correct = require(samples, "correct", "samples.correct")
            objective = data.get("objective", "latency")
            name = data.get("name") or (Path(file).stem if file else None)
            return cls(
                nodes, links,
                require(data, "input_bytes", "input_bytes"),
                data.get("result_bytes", 0),
                blocks, exits, confidence, correct,
                objective=objective,
                constraints=data.get("constraints"),
                metadata=as_mapping(data.get("metadata", {}), "metadata"),
                name=name,
                samples_file=samples_file,
            )

    def to_dict(self, *, inline_samples: bool | None = None) -> dict:
        """The JSON instance dict; round-trips through :meth:`from_dict`.

        Samples are written inline unless the instance came from an ``.npz``
        (then its name is kept) and ``inline_samples`` is not True.
        """
        inline = self.samples_file is None if inline_samples is None else inline_samples
        exits = []
        for x in self.exits:
            d: dict[str, Any] = {"name": x.name, "after": x.after, "ms": [float(v) for v in x.ms]}
            if x.threshold is not None:
                d["threshold"] = float(x.threshold)
            exits.append(d)
        out = {
            "kind": "exits",
            "version": 1,
            "nodes": list(self.nodes),
            "links": [{"mbps": l.mbps, "rtt_ms": l.rtt_ms} for l in self.links],
            "input_bytes": self.input_bytes,
            "result_bytes": self.result_bytes,
            "blocks": [{"name": b.name, "ms": [float(v) for v in b.ms], "output_bytes": int(b.output_bytes)} for b in self.blocks],
            "exits": exits,
            "samples": {"confidence": self.confidence.tolist(), "correct": self.correct.astype(int).tolist()}
            if inline else self.samples_file,
            "objective": self.objective,
            "constraints": dict(self.constraints),
            "metadata": dict(self.metadata),
        }
        if self.name:
            out["name"] = self.name
        return out

    def with_samples(self, confidence, correct, **changes) -> "ExitProblem":
        """``replace(confidence=..., correct=..., **changes)``: other sample data (e.g. a holdout split)."""
        return self.replace(confidence=confidence, correct=correct, **changes)

    # ------------------------------------------------------------ properties
    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    @property
    def n_exits(self) -> int:
        """Candidate exits, the final one included."""
        return len(self.exits)

    @property
    def n_samples(self) -> int:
        return int(self.confidence.shape[0])

    @property
    def early_exits(self) -> list[str]:
        """Names of the candidate early exits (all but the final)."""
        return [x.name for x in self.exits[:-1]]

    @cached_property
    def block_ms(self) -> np.ndarray:
        """(K, k) ms of each block on each node."""
        return np.array([b.ms for b in self.blocks], dtype=float)

    @cached_property
    def exit_ms(self) -> np.ndarray:
        """(E, k) ms of each exit head on each node."""
        return np.array([x.ms for x in self.exits], dtype=float)

    @cached_property
    def exit_block(self) -> np.ndarray:
        """(E,) block index each exit sits after."""
        return np.array([self.block_index[x.after] for x in self.exits], dtype=np.int64)

    @cached_property
    def fixed_thresholds(self) -> dict[int, float]:
        """Exit index -> fixed threshold, for exits that have one."""
        return {e: float(x.threshold) for e, x in enumerate(self.exits[:-1]) if x.threshold is not None}

    @cached_property
    def cross_ms(self) -> np.ndarray:
        """(K, k - 1): ms per sample on link ``l`` (forward and back) when block
        ``i`` is the first block on a node ``> l``."""
        K, k = self.n_blocks, self.n_nodes
        out = np.zeros((K, max(k - 1, 0)))
        for i in range(K):
            for l in range(k - 1):
                out[i, l] = self.crossing_ms(l, self.sent_bytes(i))
        return out

    def crossing_ms(self, link: int, nbytes: int) -> float:
        """ms per sample to cross ``link`` forward with ``nbytes`` and come back
        with ``result_bytes``: two transfers and two ``rtt_ms``."""
        ln = self.links[link]
        return transfer_ms(nbytes + self.result_bytes, ln.mbps) + 2.0 * ln.rtt_ms

    def sent_bytes(self, block: int) -> int:
        """Bytes sent when the first block on a farther node is ``block``:
        output of ``block - 1``, or ``input_bytes`` for ``block == 0``."""
        return self.input_bytes if block == 0 else int(self.blocks[block - 1].output_bytes)

    def candidate_thresholds(self, e: int) -> np.ndarray:
        """Sorted thresholds worth trying at early exit ``e``: the fixed one,
        else the distinct observed confidences (no loss of optimality)."""
        fixed = self.exits[e].threshold
        if fixed is not None:
            return np.array([float(fixed)])
        return np.unique(self.confidence[:, e])

    def min_correct(self) -> int:
        """Fewest correct samples meeting ``accuracy_min`` (0 without it), by the
        evaluator's own test ``correct / N >= accuracy_min``."""
        amin = self.constraints.get("accuracy_min")
        n = self.n_samples
        if amin is None:
            return 0
        c = max(0, min(n + 1, int(math.ceil(amin * n))))
        while c > 0 and (c - 1) / n >= amin:
            c -= 1
        while c <= n and c / n < amin:
            c += 1
        return c

    def latency_ok(self, mean_latency_ms: float) -> bool:
        """The evaluator's test of ``latency_max_ms`` (relative tolerance
        :data:`LATENCY_RTOL` for float summation order)."""
        lmax = self.constraints.get("latency_max_ms")
        return lmax is None or mean_latency_ms <= lmax + LATENCY_RTOL * max(1.0, lmax)

    # -------------------------------------------------------------- evaluate
    def parse(self, assignment) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Check the format of an assignment.

        Returns
        -------
        placement : (K,) int array
        kept : (E,) bool array (final exit True)
        tau : (E,) float array (``inf`` for dropped early exits, ``-inf`` final)

        Raises
        ------
        InfeasibleAssignmentError
            Unknown keys or exits, a placement of the wrong length, a node
            index out of range or decreasing, a threshold that is not a
            finite number or differs from the exit's fixed threshold, or more
            kept exits than ``max_exits``.
        """
        require_mapping(assignment, "{'placement': [node index per block], 'thresholds': {exit: tau}}")
        extra = set(assignment) - {"placement", "thresholds"}
        if extra:
            raise InfeasibleAssignmentError(f"unknown assignment key(s) {sorted(extra)}")
        placement = assignment.get("placement")
        if not isinstance(placement, (list, tuple, np.ndarray)) or len(placement) != self.n_blocks:
            raise InfeasibleAssignmentError(f"placement must list {self.n_blocks} node indices (one per block)")
        place = np.empty(self.n_blocks, dtype=np.int64)
        for i, v in enumerate(placement):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not 0 <= v < self.n_nodes:
                raise InfeasibleAssignmentError(f"placement[{i}] must be a node index in 0..{self.n_nodes - 1}, got {v!r}")
            place[i] = int(v)
        if np.any(np.diff(place) < 0):
            raise InfeasibleAssignmentError("placement must be nondecreasing (blocks move forward along the node chain)")
        thresholds = assignment.get("thresholds", {})
        if not isinstance(thresholds, Mapping):
            raise InfeasibleAssignmentError("thresholds must map exit names to numbers")
        E = self.n_exits
        kept = np.zeros(E, dtype=bool)
        kept[-1] = True
        tau = np.full(E, np.inf)
        tau[-1] = -np.inf
        for nm, t in thresholds.items():
            e = self.exit_index.get(nm)
            if e is None:
                raise InfeasibleAssignmentError(f"unknown exit {nm!r} in thresholds")
            if e == E - 1:
                raise InfeasibleAssignmentError(f"the final exit {nm!r} takes no threshold (it is always kept)")
            if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, float, np.integer, np.floating)) or not math.isfinite(t):
                raise InfeasibleAssignmentError(f"threshold of {nm!r} must be a finite number, got {t!r}")
            fixed = self.exits[e].threshold
            if fixed is not None and float(t) != fixed:
                raise InfeasibleAssignmentError(f"exit {nm!r} has the fixed threshold {fixed}, got {t!r}")
            kept[e] = True
            tau[e] = float(t)
        m = self.constraints.get("max_exits")
        if m is not None and kept[:-1].sum() > m:
            raise InfeasibleAssignmentError(f"{int(kept[:-1].sum())} early exits kept, max_exits is {m}")
        return place, kept, tau

    def stop_exits(self, kept: np.ndarray, tau: np.ndarray, confidence: np.ndarray | None = None) -> np.ndarray:
        """Exit index where each sample stops. O(N E)."""
        conf = self.confidence if confidence is None else confidence
        passes = (conf >= tau[None, :]) & kept[None, :]
        passes[:, -1] = True
        return np.argmax(passes, axis=1)

    def exit_latency_ms(self, placement: np.ndarray, kept: np.ndarray) -> np.ndarray:
        """(E,) latency in ms of a sample stopping at each exit (the formula
        of the module docstring), for the given placement and kept set. O(K k + E)."""
        place = np.asarray(placement)
        K = self.n_blocks
        bms = self.block_ms[np.arange(K), place]
        step = np.zeros(K)
        prev = 0
        for i in range(K):
            step[i] = self.cross_ms[i, prev : int(place[i])].sum()
            prev = int(place[i])
        per_block = np.cumsum(bms + step)
        eb = self.exit_block
        ems = np.where(kept, self.exit_ms[np.arange(self.n_exits), place[eb]], 0.0)
        return per_block[eb] + np.cumsum(ems)

    def measure(self, assignment, *, confidence=None, correct=None) -> ExitEvaluation:
        """Mean latency and accuracy of ``assignment`` without raising on a
        violated constraint (see ``feasible``/``violations``); optionally on
        other sample data (holdout). Format errors still raise. O(N E + K k)."""
        place, kept, tau = self.parse(assignment)
        conf = self.confidence if confidence is None else np.asarray(confidence, dtype=float)
        corr = self.correct if correct is None else np.asarray(correct)
        n = conf.shape[0]
        stop = self.stop_exits(kept, tau, conf)
        counts = np.bincount(stop, minlength=self.n_exits)
        lat = self.exit_latency_ms(place, kept)
        mean_latency = float(counts @ lat) / n
        n_correct = int(corr[np.arange(n), stop].sum())
        accuracy = n_correct / n
        violations = []
        amin = self.constraints.get("accuracy_min")
        if amin is not None and accuracy < amin:
            violations.append(f"accuracy {accuracy:.6g} < accuracy_min {amin}")
        if not self.latency_ok(mean_latency):
            violations.append(f"mean latency {mean_latency:.6g} ms > latency_max_ms {self.constraints['latency_max_ms']}")
        objective = mean_latency if self.objective == "latency" else accuracy
        exit_counts = {self.exits[e].name: int(c) for e, c in enumerate(counts) if kept[e]}
        return ExitEvaluation(objective=objective, mean_latency_ms=mean_latency, accuracy=accuracy, correct=n_correct,
                              exit_counts=exit_counts, feasible=not violations, violations=tuple(violations))

    def evaluate(self, assignment) -> ExitEvaluation:
        """Evaluate a plan independently of any solver.

        Parameters
        ----------
        assignment : dict
            ``{"placement": [node index per block], "thresholds": {exit: tau}}``
            listing only kept early exits.

        Returns
        -------
        ExitEvaluation
            ``.objective`` (mean latency in ms, or accuracy), ``.mean_latency_ms``,
            ``.accuracy``, ``.exit_counts``.

        Raises
        ------
        InfeasibleAssignmentError
            For a malformed plan or a violated constraint.

        Notes
        -----
        O(N E + K k).
        """
        result = self.measure(assignment)
        if not result.feasible:
            raise InfeasibleAssignmentError("; ".join(result.violations))
        return result

    def violations(self, assignment) -> list[str]:
        """Every constraint the plan violates, in words (empty if feasible).

        Raises
        ------
        InfeasibleAssignmentError
            For a malformed plan (see :meth:`parse`).
        """
        return list(self.measure(assignment).violations)

    def assignment(self, placement, kept, tau) -> dict:
        """Build the assignment dict from arrays (``kept``/``tau`` per exit)."""
        return {
            "placement": [int(v) for v in placement],
            "thresholds": {self.exits[e].name: float(tau[e]) for e in range(self.n_exits - 1) if kept[e]},
        }

    def infeasibility_reason(self) -> str | None:
        """A cheap proof of infeasibility, or None (not a feasibility proof).

        Checks that ``accuracy_min`` does not exceed the per-sample oracle
        accuracy (each sample at its best exit), which no plan can beat. O(N E).
        """
        amin = self.constraints.get("accuracy_min")
        if amin is not None:
            oracle = int(self.correct.max(axis=1).sum())
            if oracle < self.min_correct():
                return (f"accuracy_min {amin} exceeds the per-sample oracle accuracy "
                        f"{oracle / self.n_samples:.6g} (each sample at its best exit)")
        return None

    @property
    def unit(self) -> str:
        """The objective's unit: ``"ms"`` (mean latency) or ``"fraction"`` (accuracy, of the samples)."""
        return "ms" if self.objective == "latency" else "fraction"

    def summarize(self, assignment) -> str:
        """One line for tables: exits kept, split, latency and accuracy."""
        res = self.measure(assignment)
        place = assignment["placement"]
        names = ",".join(assignment.get("thresholds", {})) or "none"
        split = "/".join(str(int(np.sum(np.asarray(place) == n))) for n in range(self.n_nodes))
        return f"exits {names}; blocks per node {split}; {res.mean_latency_ms:.3f} ms, acc {res.accuracy:.4f}"

    def __repr__(self) -> str:
        return (f"ExitProblem(name={self.name!r}, nodes={self.n_nodes}, blocks={self.n_blocks}, "
                f"exits={self.n_exits}, samples={self.n_samples}, objective={self.objective!r})")




def _read_npz(name: str, base_dir) -> tuple[np.ndarray, np.ndarray]:
    if not name.endswith(".npz"):
        raise InstanceError(f"expected the name of an .npz file or an object, got {name!r}", field="samples")
    path = Path(base_dir or ".") / name
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = {"confidence", "correct"} - set(data.files)
            if missing:
                raise InstanceError(f"{name} lacks array(s) {sorted(missing)}", field="samples")
            return np.array(data["confidence"], dtype=float), np.array(data["correct"])
    except FileNotFoundError:
        raise InstanceError(f"no such file {str(path)!r}", field="samples") from None
    except InstanceError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable archive (BadZipFile, EOFError...) is bad input
        raise InstanceError(f"cannot read {name} as a numpy .npz archive: {exc}", field="samples") from None
