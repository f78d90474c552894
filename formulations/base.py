"""The contract every problem kind follows.

Every problem class derives from :class:`Problem` and provides:

- ``from_dict(data, *, file=None, base_dir=None)`` (validating, errors name the
  field) and ``to_dict()``; :meth:`Problem.from_json` is written once, here;
- ``evaluate(assignment)``: an independent evaluation returning an object with
  ``.objective`` (float) and ``.feasible`` (bool; always True from
  ``evaluate``, which raises :class:`~formulations.errors.InfeasibleAssignmentError`
  for a malformed or infeasible assignment, and :class:`AssignmentTypeError`
  (both an ``InfeasibleAssignmentError`` and a ``TypeError``) for an
  assignment of the wrong type, saying what was expected);
- ``violations(assignment)``: every violated constraint in words (empty when
  feasible); :meth:`Problem.is_feasible` is written once, here;
- ``replace(**changes)``: the one way to get a changed copy (re-validated,
  caches dropped);
- what the CLI and reports use, declared here with defaults so no caller
  probes with ``hasattr``: :attr:`Problem.unit` (the objective's unit),
  :meth:`Problem.summarize` (one line per plan), :meth:`Problem.infeasibility_reason`
  and :meth:`Problem.breakdown` (the objective's terms).

Every ``evaluate`` returns a subclass of :class:`Evaluation`.

Problems are immutable: assigning an attribute raises ``AttributeError`` and
every numpy array they hold is read-only, so a solver's cached quantities can
never go stale.
"""

from __future__ import annotations

import copyreg
from types import MappingProxyType

import dataclasses
import functools
import inspect
import os
from pathlib import Path
from typing import Any, ClassVar, Mapping, TypeVar

import numpy as np

from .errors import InfeasibleAssignmentError

__all__ = ["Problem", "Evaluation", "AssignmentTypeError", "cached_property", "freeze_arrays", "require_mapping"]


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """A plain evaluation: the objective and, for kinds with nothing richer, its terms.

    Attributes
    ----------
    objective : float
        The objective value in the kind's unit (e.g. latency in ms).
    feasible : bool
        True when returned by ``evaluate`` (which raises otherwise).
    violations : tuple of str
        Violated constraints in words (empty when feasible).
    """

    objective: float
    feasible: bool = True
    violations: tuple[str, ...] = ()

    def __float__(self) -> float:
        return float(self.objective)


def freeze_arrays(value: Any, _depth: int = 0) -> None:
    """Make every numpy array reachable from ``value`` read-only (in place).

    Looks into mappings and dataclass fields (two levels deep) and into
    sequences of arrays; a sequence whose first item is not an array (e.g. a
    tuple of layers or of edges) is taken to hold none, so freezing a problem
    costs O(number of arrays), not O(number of layers).
    """
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif _depth > 2:
        return
    elif isinstance(value, (tuple, list)):
        first = value[0] if value else None
        if isinstance(first, np.ndarray) or (isinstance(first, (tuple, list)) and first
                                             and isinstance(first[0], np.ndarray)):
            for item in value:
                freeze_arrays(item, _depth + 1)
    elif isinstance(value, Mapping):
        for item in value.values():
            freeze_arrays(item, _depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            freeze_arrays(getattr(value, f.name), _depth + 1)


class AssignmentTypeError(InfeasibleAssignmentError, TypeError):
    """An assignment of the wrong type; both an ``InfeasibleAssignmentError`` and a ``TypeError``."""


class cached_property(functools.cached_property):
    """:func:`functools.cached_property` whose value's numpy arrays are made read-only.

    Problems compute derived arrays lazily (e.g. upload times); freezing them
    on first use keeps the problem immutable.
    """

    def __get__(self, instance, owner=None):
        value = super().__get__(instance, owner)
        if instance is not None:
            freeze_arrays(value)
        return value


def require_mapping(assignment: Any, expected: str) -> Mapping:
    """``assignment`` if it is a mapping, else :class:`AssignmentTypeError` saying what was expected."""
    if not isinstance(assignment, Mapping):
        raise AssignmentTypeError(f"an assignment is {expected}, got {type(assignment).__name__}")
    return assignment


def read_only_mapping(items: dict) -> MappingProxyType:
    """A read-only view of ``items`` (how unpickling rebuilds a problem's mappings)."""
    return MappingProxyType(items)


def _reduce_mappingproxy(proxy: MappingProxyType):
    return read_only_mapping, (dict(proxy),)


# Problems keep read-only mappings (MappingProxyType), which the pickle module cannot store; this
# makes every problem and Solution picklable (local process pools, Dask) without a copy per kind.
copyreg.pickle(MappingProxyType, _reduce_mappingproxy)


#: A concrete problem class (``replace`` returns the class it is called on).
_P = TypeVar("_P", bound="Problem")

class Problem:
    """Base of every problem class (see the module docstring for the contract).

    Subclasses set :attr:`kind` and call :meth:`_freeze` at the end of
    ``__init__``; from then on attribute assignment raises.
    """

    #: The ``kind`` field of the instance files of this class.
    kind: ClassVar[str] = ""
    #: ``"min"`` or ``"max"``: the sense of ``evaluate(...).objective``.
    sense: str = "min"

    # ---------------------------------------------------------------- immutability
    def _freeze(self) -> None:
        for value in self.__dict__.values():
            freeze_arrays(value)
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_frozen", False):
            raise AttributeError(
                f"{type(self).__name__} is immutable: cannot set {name!r}; use .replace({name}=...) for a changed copy"
            )
        object.__setattr__(self, name, value)

    def __setstate__(self, state: dict) -> None:
        """Unpickling: restore the attributes and make the arrays read-only again (pickle drops the flag)."""
        self.__dict__.update(state)
        for value in self.__dict__.values():
            freeze_arrays(value)

    def __delattr__(self, name: str) -> None:
        if self.__dict__.get("_frozen", False):
            raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")
        object.__delattr__(self, name)

    # --------------------------------------------------------------------- I/O
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None, base_dir=None) -> "Problem":
        raise NotImplementedError

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "Problem":
        """Read one instance file of this kind (errors name the file and the field)."""
        from .io import read_json

        path = Path(path)
        return cls.from_dict(read_json(path), file=str(path), base_dir=path.parent)

    def to_dict(self) -> dict:
        raise NotImplementedError

    # -------------------------------------------------------------- evaluation
    def evaluate(self, assignment):
        raise NotImplementedError

    def violations(self, assignment) -> list[str]:
        raise NotImplementedError

    def is_feasible(self, assignment) -> bool:
        """Whether ``assignment`` is well formed and violates no constraint."""
        try:
            return not self.violations(assignment)
        except InfeasibleAssignmentError:
            return False

    def replace(self: _P, **changes: Any) -> _P:
        """A validated copy with some constructor arguments replaced (caches dropped).

        Written once for every kind: the fields are the keyword-able
        parameters of the class's ``__init__`` (except private ones such as
        ``_topology``), each read back from the
        attribute of the same name (:meth:`_field_value`); the copy is built
        by the constructor, so it is re-validated. Unknown names raise
        ``TypeError`` listing the known ones; a bad value raises what the
        constructor raises (``InstanceError`` naming the field). O(size of the problem).
        """
        cls = type(self)
        params = [p for p in inspect.signature(cls.__init__).parameters.values()
                  if p.name != "self" and not p.name.startswith("_") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        known = [p.name for p in params]
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise TypeError(f"replace() got unknown field(s) {unknown}; known: {sorted(known)}")
        args, kwargs = [], {}
        for p in params:
            value = changes[p.name] if p.name in changes else self._field_value(p.name)
            if p.kind == p.KEYWORD_ONLY:
                kwargs[p.name] = value
            else:
                args.append(value)
        return cls(*args, **kwargs)

    def _field_value(self, name: str) -> Any:
        """The current value of constructor argument ``name`` (for :meth:`replace`): the attribute of that name."""
        return getattr(self, name)

    # ------------------------------------------------------ what reports use
    @property
    def unit(self) -> str:
        """The unit of ``evaluate(...).objective``, one word (``"ms"``, ``"mJ/slot"``, ``"tasks/s"``).

        Every kind overrides it; ``""`` means the kind has not said.
        """
        return ""

    def summarize(self, assignment) -> str:
        """A one-line description of a plan for tables (default: its objective and unit)."""
        return f"objective {self.evaluate(assignment).objective:.6g} {self.unit}".rstrip()

    def infeasibility_reason(self) -> str | None:
        """Why no plan can be feasible, when that is evident without a search; else None (the default)."""
        return None

    def breakdown(self, assignment) -> dict:
        """The objective's terms for a plan (``--json`` output); ``{}`` (the default) for kinds without terms."""
        return {}
