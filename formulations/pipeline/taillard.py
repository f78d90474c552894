"""Taillard's permutation flow-shop benchmark: text format and generator.

Text format (one or more instances per file, as distributed by Taillard)::

    number of jobs, number of machines, initial seed, upper bound and lower bound :
              20           5   873654221        1278        1232
    processing times :
     54 83 15 71 77 36 53 38 27 87 76 91 14 29 12 77 32 87 68 94
     ...                                  (one row per machine, n numbers each)

:func:`read_taillard` turns such a file into a
:class:`~formulations.pipeline.PipelineProblem` (machines are stages, jobs
are tasks ``j1..jn``, times taken as ms, objective ``"makespan"``); the
header's bounds go to ``metadata`` (``best_known``, ``lower_bound``, and
``optimum`` when they are equal).

:func:`taillard_times` regenerates the processing times from the published
time seed with Taillard's portable linear congruential generator (E.
Taillard, "Benchmarks for basic scheduling problems", European Journal of
Operational Research 64 (1993) 278-285): ``seed = 16807 * seed mod (2**31 -
1)`` by Schrage's method, ``d[i][j] = 1 + floor(seed / (2**31 - 1) * 99)``,
machine by machine, job by job.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import InstanceError

__all__ = [
    "lcg_uniform",
    "taillard_times",
    "read_taillard",
    "read_taillard_all",
    "parse_taillard",
    "format_taillard",
    "TAILLARD_SOURCE",
    "TA_20x5",
    "TA_20x5_LOWER_BOUNDS",
    "TA_50x10",
    "TA_100x20",
]

TAILLARD_SOURCE = (
    'E. Taillard, "Benchmarks for basic scheduling problems", European Journal of Operational '
    "Research 64(2):278-285, 1993; instances regenerated from the published time seeds with the "
    "paper's generator"
)

#: Taillard's 20 jobs x 5 machines set: (name, time seed, optimal makespan).
#: Optima as proven in the literature (e.g. the flow-shop tables of
#: E. Taillard's benchmark page and Ruiz & Stuetzle 2007).
TA_20x5 = [
    ("ta001", 873654221, 1278),
    ("ta002", 379008056, 1359),
    ("ta003", 1866992158, 1081),
    ("ta004", 216771124, 1293),
    ("ta005", 495070989, 1235),
    ("ta006", 402959317, 1195),
    ("ta007", 1369363414, 1234),
    ("ta008", 2021925980, 1206),
    ("ta009", 573109518, 1230),
    ("ta010", 88325120, 1108),
]

#: The lower bounds printed in Taillard's own ``tai20_5.txt`` for ta001-ta010
#: (the paper's machine-based bounds); the upper bounds there are the optima above.
TA_20x5_LOWER_BOUNDS = [1232, 1290, 1073, 1268, 1198, 1180, 1226, 1170, 1206, 1082]

#: Taillard's 50 jobs x 10 machines set: (name, time seed, best-known makespan).
#: Seeds from Taillard's ``tai50_10.txt``; the generated matrices match the
#: published instances (ta041's first machine row starts 46 52 79 45 97).
#: Upper bounds as listed in issue 23 (best-known values of the literature,
#: none proven optimal here).
TA_50x10 = [
    ("ta041", 1958948863, 2991),
    ("ta042", 575633267, 2867),
    ("ta043", 655816003, 2839),
    ("ta044", 1977864101, 3063),
    ("ta045", 93805469, 2976),
    ("ta046", 1803345551, 3006),
    ("ta047", 49612559, 3093),
    ("ta048", 1899802599, 3037),
    ("ta049", 2013025619, 2897),
    ("ta050", 578962478, 3065),
]

#: Taillard's 100 jobs x 20 machines set (``tai100_20.txt``): (name, time seed,
#: best-known makespan); ta082's first machine row starts 20 24 40 36 31.
TA_100x20 = [
    ("ta081", 450926852, 6202),
    ("ta082", 1462772409, 6183),
    ("ta083", 1021685265, 6271),
    ("ta084", 83696007, 6269),
    ("ta085", 508154254, 6314),
    ("ta086", 1861070898, 6364),
    ("ta087", 26482542, 6268),
    ("ta088", 444956424, 6401),
    ("ta089", 2115448041, 6275),
    ("ta090", 118254244, 6434),
]

_M = 2147483647
_A, _B, _C = 16807, 127773, 2836


def lcg_uniform(seed: int, low: int, high: int) -> tuple[int, int]:
    """One draw of Taillard's generator: ``(value in [low, high], next seed)``."""
    k = seed // _B
    seed = _A * (seed % _B) - k * _C
    if seed < 0:
        seed += _M
    return low + int(seed / _M * (high - low + 1)), seed


def taillard_times(n_jobs: int, n_machines: int, time_seed: int) -> list[list[int]]:
    """Processing times ``[machine][job]`` in 1..99 generated from ``time_seed``. O(n m)."""
    seed = int(time_seed)
    rows = []
    for _ in range(n_machines):
        row = []
        for _ in range(n_jobs):
            value, seed = lcg_uniform(seed, 1, 99)
            row.append(value)
        rows.append(row)
    return rows


def format_taillard(times: list[list[int]], seed: int, upper: int, lower: int) -> str:
    """Write one instance in Taillard's text format (rows = machines)."""
    m, n = len(times), len(times[0])
    lines = [
        "number of jobs, number of machines, initial seed, upper bound and lower bound :",
        f"{n:12d}{m:12d}{seed:12d}{upper:12d}{lower:12d}",
        "processing times :",
    ]
    lines += [" " + " ".join(f"{v:2d}" for v in row) for row in times]
    return "\n".join(lines) + "\n"


_HEADER = re.compile(r"number of jobs", re.IGNORECASE)


def parse_taillard(text: str, *, file: str | None = None, name: str | None = None) -> list:
    """Parse every instance in ``text``; returns a list of PipelineProblem.

    Raises
    ------
    InstanceError
        Naming the line for a malformed header or matrix.
    """
    from .problem import PipelineProblem

    lines = [ln.strip() for ln in text.splitlines()]
    starts = [i for i, ln in enumerate(lines) if _HEADER.search(ln)]
    if not starts:
        raise InstanceError("not a Taillard file (no 'number of jobs' header)", field="line 1", file=file)
    problems = []
    for idx, s in enumerate(starts):
        stop = starts[idx + 1] if idx + 1 < len(starts) else len(lines)
        header = lines[s + 1].split() if s + 1 < len(lines) else []
        where = f"line {s + 2}"
        if len(header) < 2:
            raise InstanceError("expected 'jobs machines [seed upper lower]'", field=where, file=file)
        try:
            nums = [int(x) for x in header]
        except ValueError:
            raise InstanceError(f"non-integer in header {header!r}", field=where, file=file) from None
        n, m = nums[0], nums[1]
        if n < 1 or m < 1:
            raise InstanceError(f"need >= 1 job and machine, got {n} x {m}", field=where, file=file)
        body = [ln for ln in lines[s + 2 : stop] if ln and not ln.lower().startswith("processing")]
        values: list[int] = []
        for ln in body:
            for tok in ln.split():
                try:
                    v = int(tok)
                except ValueError:
                    raise InstanceError(f"non-integer processing time {tok!r}", field=f"instance {idx + 1}", file=file) from None
                if v < 0:
                    raise InstanceError(f"negative processing time {v}", field=f"instance {idx + 1}", file=file)
                values.append(v)
        if len(values) != n * m:
            raise InstanceError(
                f"expected {m} rows of {n} processing times ({n * m} numbers), got {len(values)}",
                field=f"instance {idx + 1}", file=file,
            )
        matrix = [[values[k * n + j] for k in range(m)] for j in range(n)]
        meta = {"source": TAILLARD_SOURCE, "units": "processing times read as ms", "format": "taillard"}
        if len(nums) >= 5:
            meta.update({"time_seed": nums[2], "best_known": nums[3], "lower_bound": nums[4]})  # type: ignore[dict-item]
            if nums[3] == nums[4]:
                meta["optimum"] = nums[3]  # type: ignore[assignment]
        inst_name = name if len(starts) == 1 else f"{name or 'taillard'}#{idx + 1}"
        problems.append(PipelineProblem.from_matrix(matrix, name=inst_name, metadata=meta))
    return problems


def read_taillard_all(path: str | os.PathLike) -> list:
    """Every instance of a Taillard text file."""
    path = Path(path)
    if not path.is_file():
        raise InstanceError("no such file", file=str(path))
    try:
        return parse_taillard(path.read_text(encoding="utf-8"), file=str(path), name=path.stem)
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError(f"cannot read: {exc}", file=str(path)) from None


def read_taillard(path: str | os.PathLike):
    """Read a Taillard text file holding one instance (the ``load`` reader for ``.fsp``).

    Raises
    ------
    InstanceError
        If the file is malformed or holds several instances (use
        :func:`read_taillard_all` for those).
    """
    problems = read_taillard_all(path)
    if len(problems) != 1:
        raise InstanceError(
            f"holds {len(problems)} instances; use formulations.pipeline.taillard.read_taillard_all", file=str(path)
        )
    return problems[0]
