"""``coinfer import`` and ``coinfer profiles``: real models to partition instances.

Commands
--------
coinfer import MODEL [-o FILE] [--server-profile NAME] [--device-profile NAME]
               [--input-shape SHAPE] [--runs N] [--warmup N] [--threads N]
               [--optimize basic|fuse|none] [--uplink-mbps X] [--prefixes K]
               [--realtime] [--save-profile FILE] [--quiet]
               [--device-costs calibrated|additive]
               [--tiers P0,P1,... --links UP/DOWN/RTT,... [--radio wifi|lte|3g] [--compute-w W]]
coinfer profiles

With ``--tiers`` (profiles from the data's source outward; the first may be
``measured``) and ``--links`` (k - 1 links) the instance is a k-tier one
(:func:`formulations.partition.importers.tier_builder.import_tiers`);
``--radio`` adds the phone's radio and energy model.

``MODEL`` is an ONNX file or ``torchvision:NAME`` (built with random
weights, no download, exported to ONNX; needs the ``torch`` extra). A
progress bar for the profiling runs goes to stderr; the instance goes to
``-o FILE`` (or stdout). Bad input (a corrupt or truncated file, a dynamic
shape without ``--input-shape``, an unknown profile or architecture, a
missing extra) exits with code 2 and a one-line message, no traceback.
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from pathlib import Path

from formulations.errors import InstanceError

from .framework import ProgressBar, check_writable, write_output

__all__ = ["add_commands", "cmd_import", "cmd_profiles"]


def _usage(message: str):
    from .framework import UsageError

    return UsageError(message)


def _torchvision_onnx(name: str, tmp: str) -> tuple[Path, list[int], dict]:
    try:  # both packages of the extra, checked before any work (torch alone is not enough)
        import torch
        import torchvision

        from formulations.partition.importers.torchfx import default_input_shape, export_onnx, torchvision_model
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "torch"
        raise _usage(f"torchvision:{name} needs the torch extra (torch and torchvision; {missing} is missing): "
                     "pip install 'coinfer[torch]'") from None

    model = torchvision_model(name)
    shape = default_input_shape(name)
    path = Path(tmp) / f"{name}.onnx"
    export_onnx(model, path, shape)
    info = {"model": f"torchvision.models.{name}", "torchvision": torchvision.__version__,
            "weights": "random (weights=None, no download)",
            "exporter": f"torch {torch.__version__} TorchScript ONNX exporter, opset 17"}
    return path, shape, info


def cmd_import(args) -> int:
    """Import a model, measure or model its costs, write the instance."""
    try:
        from formulations.partition.importers.onnx import import_onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise _usage(str(exc)) from None
    from formulations.partition.importers.profiles import get_profile

    from ..split import additive_candidates

    get_profile(args.server_profile)  # fail fast, before any export or profiling
    if args.device_profile:
        get_profile(args.device_profile, "device_profile")
    if args.runs < 1 or args.warmup < 0 or args.threads < 1 or args.prefixes < 0:
        raise _usage("--runs and --threads must be >= 1, --warmup and --prefixes >= 0")
    for path, option in ((args.output, "--output"), (args.save_profile, "--save-profile")):
        if path:
            check_writable(path, option)  # before any profiling
    if not args.tiers and (args.links or args.radio or args.compute_w is not None):
        raise _usage("--links, --radio and --compute-w need --tiers (a k-tier instance)")
    progress = None if args.quiet else ProgressBar()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        source, shape, name = args.model, args.input_shape, None
        info: dict = {}
        if args.model.startswith("torchvision:"):
            name = args.model.split(":", 1)[1]
            source, default_shape, info = _torchvision_onnx(name, tmp)
            shape = shape or default_shape
        try:
            if args.tiers:
                problem = _import_tiers(args, source, shape, name, progress, info)
            else:
                problem = import_onnx(source, input_shape=shape, server_profile=args.server_profile,
                                  device_profile=args.device_profile, runs=args.runs, warmup=args.warmup,
                                  threads=args.threads, optimize=args.optimize, uplink_mbps=args.uplink_mbps,
                                  prefixes=args.prefixes, realtime=args.realtime, name=name, progress=progress,
                                  source_info=info, input_bytes=args.input_bytes, input_dtype=args.input_dtype,
                                  segments=args.segments if args.segments > 0 else args.segments == -1,
                                  segment_candidates=additive_candidates, device_costs=args.device_costs)
        except ImportError as exc:
            raise _usage(str(exc)) from None
        except ValueError as exc:
            if isinstance(exc, InstanceError):
                raise
            raise _usage(str(exc)) from None
    for w in caught:
        if issubclass(w.category, UserWarning) and not issubclass(w.category, DeprecationWarning):
            print(f"warning: {args.model}: {w.message}", file=sys.stderr)
    text = json.dumps(problem.to_dict(), indent=1) + "\n"
    if args.output:
        write_output(args.output, "--output", lambda: Path(args.output).write_text(text, encoding="utf-8"))
    else:
        sys.stdout.write(text)
    if args.save_profile:
        profile = {"kind": "measured_profile", "version": 1,
                   "source": f"coinfer import {args.model}: device side",
                   "layers_ms": dict(zip(problem.names, problem.device_ms.tolist()))}
        write_output(args.save_profile, "--save-profile",
                     lambda: Path(args.save_profile).write_text(json.dumps(profile, indent=1) + "\n", encoding="utf-8"))
    lat = problem.metadata.get("latency", {})
    extra = ""
    if "whole_model_ms_all_opt" in lat:
        extra = (f", sum of layers {lat['sum_of_layers_ms']:.2f} ms, whole model "
                 f"{lat['whole_model_ms_all_opt']:.2f} ms (all optimizations)")
        if "sum_of_layers_additive_ms" in lat:
            extra += f"; calibrated (additive sum {lat['sum_of_layers_additive_ms']:.2f} ms)"
    if not args.quiet:
        cuts = f", {len(problem.tiers)} tiers" if args.tiers else f", {len(problem.cut_vertices)} cut vertices"
        print(f"{args.output or 'stdout'}: {problem.n_layers} layers, {len(problem.edges)} edges{cuts}{extra}",
              file=sys.stderr)
    return 0


def _import_tiers(args, source, shape, name, progress, info):
    """``coinfer import --tiers ... --links ...``: a k-tier instance (issue 22)."""
    from formulations.partition.importers.tier_builder import import_tiers

    if not args.links:
        raise _usage("--tiers needs --links: one UP[/DOWN[/RTT]] per pair of adjacent tiers, comma-separated")
    if args.device_profile or args.server_profile != "datacentre-gpu" or args.segments or args.save_profile:
        raise _usage("--tiers sets every tier's profile: drop --device-profile, --server-profile, --segments "
                     "and --save-profile")
    return import_tiers(source, [t.strip() for t in args.tiers.split(",")], args.links.split(","),
                        radio=args.radio, compute_w=args.compute_w, name=name, input_shape=shape,
                        runs=args.runs, warmup=args.warmup, threads=args.threads, optimize=args.optimize,
                        prefixes=args.prefixes, realtime=args.realtime, progress=progress, source_info=info,
                        input_bytes=args.input_bytes, input_dtype=args.input_dtype)


def cmd_profiles(args) -> int:
    """List the shipped device profiles."""
    from formulations.partition.importers.profiles import get_profile, profile_names

    from .framework import format_table

    rows = []
    for name in profile_names():
        p = get_profile(name)
        rows.append({"name": name, "gflops": f"{p.peak_gflops:g}", "gbps": f"{p.memory_gbps:g}",  # type: ignore[union-attr]
                     "eff": f"{p.efficiency:g}", "us": f"{p.overhead_us:g}", "desc": p.description})  # type: ignore[union-attr]
    print(format_table(rows, [("name", "Profile", "<"), ("gflops", "Peak GFLOP/s", ">"),
                              ("gbps", "Memory GB/s", ">"), ("eff", "Efficiency", ">"),
                              ("us", "Overhead(us)", ">"), ("desc", "Device", "<")]))
    return 0


def add_commands(subparsers) -> None:
    """Register ``import`` and ``profiles`` on the ``coinfer`` parser."""
    p = subparsers.add_parser("import", help="import an ONNX file or torchvision:NAME as a partition instance")
    p.add_argument("model", metavar="MODEL", help="an .onnx file or torchvision:NAME (e.g. torchvision:resnet50)")
    p.add_argument("-o", "--output", metavar="FILE", default=None, help="instance file to write (default: stdout)")
    p.add_argument("--server-profile", default="datacentre-gpu", metavar="NAME",
                   help="a profile from `coinfer profiles` or a measured_profile .json (default: datacentre-gpu)")
    p.add_argument("--device-profile", default=None, metavar="NAME",
                   help="model the device with a profile instead of measuring on this CPU")
    p.add_argument("--input-shape", default=None, metavar="SHAPE",
                   help="static input shape, e.g. 1,3,224,224 or 'x:1,3,224,224;mask:1,128'")
    p.add_argument("--runs", type=int, default=20, help="timed runs per measurement (median kept)")
    p.add_argument("--warmup", type=int, default=3, help="untimed warm-up runs")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime threads")
    p.add_argument("--optimize", choices=("basic", "fuse", "none"), default="basic",
                   help="basic: constant folding and Conv+BN fusion before import (default); fuse: also one layer "
                        "per group the runtime fuses (Conv+Relu...), timed fused; none: the graph as written")
    p.add_argument("--uplink-mbps", type=float, default=5.85, help="uplink stored in the instance (default: LTE)")
    p.add_argument("--prefixes", type=int, default=0,
                   help="also time this many cut-vertex prefixes (measured vs additive latency)")
    p.add_argument("--realtime", action="store_true",
                   help="measure at real-time priority (SCHED_FIFO) when permitted, so other processes cannot "
                        "preempt the timing (recommended on a busy machine)")
    p.add_argument("--save-profile", metavar="FILE", default=None,
                   help="also write the device times as a measured_profile file")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary line (warnings still shown)")
    p.add_argument("--input-bytes", type=int, default=None, metavar="N",
                   help="bytes the source really sends for the input (e.g. a JPEG's size); the input layer's "
                        "output_bytes")
    p.add_argument("--input-dtype", default=None, metavar="DTYPE",
                   help="model the input as sent in this dtype (e.g. uint8: 1 byte per element, not float32's 4)")
    p.add_argument("--segments", nargs="?", type=int, const=-1, default=0, metavar="K",
                   help="also time the real device and server sub-models at every cut vertex (or at K evenly spaced "
                        "ones) and of the additive optimum of every bandwidth range into metadata.segments, for "
                        "choosing a split by measured latency (coinfer split --segments)")
    p.add_argument("--device-costs", choices=("calibrated", "additive"), default="calibrated",
                   help="measured device costs: calibrated (default, QDMP's method: per-layer times scaled so that "
                        "the device part ending at every cut vertex costs its measured time, run as its own model) "
                        "or additive (per-layer medians as timed; over-predicts what the runtime does)")
    p.add_argument("--tiers", default=None, metavar="P0,P1,...",
                   help="write a k-tier instance: one profile per tier from the data's source outward, e.g. "
                        "phone-cpu,edge-gpu,datacentre-gpu (the first may be 'measured': timed on this machine)")
    p.add_argument("--links", default=None, metavar="UP/DOWN/RTT,...",
                   help="with --tiers: the k-1 links (Mbps/Mbps/ms; DOWN and RTT optional), e.g. 100/100/5,1000/1000/30")
    p.add_argument("--radio", default=None, metavar="NAME",
                   help="with --tiers: the phone's radio (wifi, lte, 3g; Huang et al. MobiSys'12) and an energy model")
    p.add_argument("--compute-w", type=float, default=None, metavar="W",
                   help="with --tiers: the phone's compute power in W (default 3 W with --radio, an assumption)")
    p.set_defaults(func=cmd_import)

    p = subparsers.add_parser("profiles", help="list the shipped device profiles")
    p.set_defaults(func=cmd_profiles)
