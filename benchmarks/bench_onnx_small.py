"""Import rate of the 140 small exported ONNX files that ship inside the onnx wheel.

Run ``python benchmarks/bench_onnx_small.py [--quick]``. Writes
``benchmarks/results/onnx_small.md`` (and ``.json``).

Protocol
--------
- Files: every ``model.onnx`` under ``onnx/backend/test/data/{pytorch-converted,
  pytorch-operator,simple}/*/`` of the installed onnx wheel (140 with onnx 1.23).
- Each file goes through ``coinfer import FILE --runs 1 --warmup 0 --quiet``
  in its own process (timeout 120 s): exit 0 = imported; exit 2 = rejected
  with a one-line message (grouped by reason below); exit 1 = internal
  error (the issue's target: none).
- Each imported file is also classed by how its device costs were obtained:
  measured by onnxruntime or modelled by the roofline fallback.
- ``--quick``: the first 20 files only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DIRS = ("pytorch-converted", "pytorch-operator", "simple")


def small_files() -> list[Path]:
    """The 140 small model files of the installed onnx wheel, sorted."""
    import onnx

    data = Path(onnx.__file__).parent / "backend" / "test" / "data"
    return sorted(p for d in DIRS for p in (data / d).glob("*/model.onnx"))


def classify(stderr: str) -> str:
    """A short reason for a rejected file (the first `error:` line, with names blanked)."""
    line = next((ln for ln in stderr.splitlines() if ln.startswith(("error:", "internal error:"))), stderr[-200:])
    line = re.sub(r"^error: \S+: ", "", line)
    line = re.sub(r"'[^']*'", "'…'", line)
    return line[:110]


def run_one(path: Path, out: Path) -> dict:
    """Import one file in a fresh process; returns code, reason and cost model."""
    cmd = [sys.executable, "-c", "import sys; from solvers.cli import main; sys.exit(main())", "import", str(path),
           "--runs", "1", "--warmup", "0", "--quiet", "-o", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        return {"file": "/".join(path.parts[-3:]), "code": "timeout", "reason": "timeout (120 s)"}
    row = {"file": "/".join(path.parts[-3:]), "code": proc.returncode}
    if proc.returncode == 0:
        meta = json.loads(out.read_text())["metadata"]
        row["costs"] = "measured" if meta["device_costs"].get("model") == "measured" else "roofline fallback"
        row["opset"] = (meta["import"].get("normalize") or {}).get("opset")
        row["warnings"] = [ln.replace(str(path), row["file"]) for ln in proc.stderr.splitlines()
                           if ln.startswith("warning:")][:3]
    else:
        row["reason"] = classify(proc.stderr)
        row["stderr"] = [ln.replace(str(path), row["file"]) for ln in proc.stderr.strip().splitlines()[-1:]]
    return row


def report(rows: list[dict]) -> str:
    """The markdown summary: counts, cost models, rejection reasons."""
    total = len(rows)
    ok = [r for r in rows if r["code"] == 0]
    internal = [r for r in rows if r["code"] not in (0, 2)]
    lines = [f"Imported {len(ok)}/{total} ({100 * len(ok) / max(total, 1):.1f}%); rejected with exit 2: "
             f"{sum(r['code'] == 2 for r in rows)}; internal errors or timeouts: {len(internal)}.", ""]
    costs = Counter(r["costs"] for r in ok)
    converted = sum(1 for r in ok if r.get("opset") and "converted" in r["opset"])
    lines.append(f"Imported files by device costs: {dict(costs)}; old opsets converted: {converted}.")
    lines += ["", "| Exit | Reason | Files |", "|---|---|---|"]
    for (code, reason), n in Counter((r["code"], r.get("reason", "")) for r in rows if r["code"] != 0).most_common():
        lines.append(f"| {code} | {reason.replace('|', '/')} | {n} |")
    fallback = Counter(re.sub(r"^warning: \S+: ", "", w)[:150] for r in ok if r.get("costs") != "measured"
                       for w in r.get("warnings", []) if "onnxruntime cannot run" in w)
    if fallback:
        lines += ["", "Roofline fallbacks (first warning):", ""]
        lines += [f"- {n} x `{w}`" for w, n in fallback.most_common()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="first 20 files only")
    parser.add_argument("--report", action="store_true", help="rewrite the report from results/onnx_small.json")
    args = parser.parse_args(argv)
    if args.report:
        text = report(json.loads((HERE / "results" / "onnx_small.json").read_text()))
        (HERE / "results" / "onnx_small.md").write_text(text, encoding="utf-8")
        print(text)
        return 0
    files = small_files()[:20] if args.quick else small_files()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, path in enumerate(files):
            rows.append(run_one(path, Path(tmp) / "out.json"))
            print(f"{k + 1}/{len(files)} {path.parent.name}: {rows[-1]['code']} {rows[-1].get('reason', '')}",
                  file=sys.stderr)
    text = report(rows)
    print(text)
    if not args.quick:
        (HERE / "results" / "onnx_small.md").write_text(text, encoding="utf-8")
        (HERE / "results" / "onnx_small.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
