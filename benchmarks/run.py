"""Run every benchmark: ``python benchmarks/run.py [--quick]``.

Imports each ``benchmarks/bench_*.py`` in name order and calls its
``main(argv)`` with ``["--quick"]`` or ``[]``; each prints a markdown table
and writes ``benchmarks/results/<kind>.md``. A benchmark that fails is
reported and the others still run; the exit code is 1 if any failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover() -> list[Path]:
    """The benchmark scripts, ``bench_*.py`` in this folder, sorted by name."""
    return sorted(HERE.glob("bench_*.py"))


def run_one(path: Path, argv: list[str]) -> None:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "main"):
        raise AttributeError(f"{path.name} has no main()")
    module.main(argv)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats (smoke run)")
    parser.add_argument("only", nargs="*", help="run only these benchmarks (e.g. partition)")
    args = parser.parse_args(argv)
    failed = []
    for path in discover():
        kind = path.stem.removeprefix("bench_")
        if args.only and kind not in args.only:
            continue
        print(f"# {path.name}", file=sys.stderr)
        start = time.perf_counter()
        try:
            run_one(path, ["--quick"] if args.quick else [])
        except (Exception, SystemExit):  # report and go on: one broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(path.name)
        print(f"# {path.name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
