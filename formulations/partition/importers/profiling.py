"""Measured costs on this CPU with onnxruntime's built-in profiler.

:func:`profile_nodes` times every node of a model over repeated runs after a
warm-up (onnxruntime's per-kernel ``*_kernel_time`` events, with graph
optimizations off so that node names map one to one). :func:`time_model`
times whole runs (no profiler overhead) at any optimization level, and
:func:`prefix_latencies` times the sub-model up to given tensors: together
they measure QDMP's observation that the latency of a series of layers is
not the sum of their separate latencies.

All functions need the ``onnx`` extra (``pip install 'coinfer[onnx]'``).
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from contextlib import contextmanager
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["require_ort", "make_feeds", "profile_nodes", "time_model", "time_interleaved", "estimate",
           "prefix_latencies", "cpu_name", "realtime_priority", "Progress", "LEVELS", "STATISTIC", "MIN_SECONDS",
           "WARM_EACH", "RECHECK_RTOL", "slow_window", "probe_model", "PROBE_SHAPE", "machine_probe_ms",
           "record_probe_ms", "CACHE_ENV", "MAX_RECHECKS", "MeasurementQualityWarning"]

#: The point estimate of a timing (the import's calibration and ``split --measure`` both use it):
#: the fastest of the interleaved runs. On a shared machine a run is slowed, never sped up, by
#: other processes (a preempted inference refills its caches, which shows even in the thread's CPU
#: time), so the fastest run of runs spread over time estimates the uncontended latency and moves
#: least between an import and a later measurement. Measured here (1-minute load 6 on 2 cores,
#: five timings of the whole model, each >= 2 s of runs): the spread (largest / smallest - 1) of
#: the minimum was 2.2% (SqueezeNet), 4.5% (ShuffleNet), 5.1% (ResNet-50); of the lower quartile
#: 7.7%, 39.7%, 15.0%; of the median 24.7%, 40.7%, 26.6%. On an idle machine the runs are tight
#: and the minimum is within a few percent of the median. Median and interquartile range are still
#: recorded as the spread.
STATISTIC = "min"

#: Seconds an interleaved timing spans at least: rounds are paced (the timer sleeps, leaving the
#: CPU to others, until round ``r`` may start at ``r x MIN_SECONDS / runs``), so that ``runs``
#: rounds are spread over more than one burst of other processes' load, and a fast model gets as
#: many samples as a slow one (the fastest of more samples is lower: unpaced, the ``--measure``
#: of a 6 ms model took 200 runs against about 30 per prefix in the calibration, and ShuffleNet
#: and SqueezeNet measured 5-20% below their prediction under load 6; with 50 unpaced rounds,
#: 0.3 s, ShuffleNet's all-on-device part measured 29% above it).
MIN_SECONDS = 3.0

#: Why a timed run follows an untimed run of the same model (:func:`time_interleaved`'s
#: ``warm_each``): after the pacing pause, or after a different model, a run starts with its
#: weights out of the caches (and, on this VM, a vCPU that was idle). Measured here on a quiet
#: machine: ShuffleNet's whole model timed alone, 20 paced runs, four windows each way: the
#: fastest run was 0.6-8.0% above the calibrated prediction without the untimed run and -0.8 to
#: +0.5% with it; SqueezeNet's fastest run spread 6.03-6.46 ms over four windows without and
#: 5.99-6.15 ms with it. The calibration's prefixes run back to back and share their first
#: layers, so they need no untimed run of their own (with one, the prediction moved by 3% on
#: ShuffleNet and 0.8% on DenseNet-121, within the spread, at 65% more import time).
WARM_EACH = True

#: A timing window whose estimate exceeds a second, separate window's by more than this
#: (relative) caught the machine in a slow spell (seen on a quiet VM: one import in ten
#: calibrated ShuffleNet 50% slow). The import's calibration (:func:`.blocks.time_prefixes`)
#: then times every device part once more and keeps the runs of both windows; ``split
#: --measure`` (:func:`.segments.measure_split`) keeps the first window within this of the
#: fastest one. The estimate is the fastest run of the windows kept.
RECHECK_RTOL = 0.10

#: Most extra re-check windows the calibration times while the speed probe runs slower than this
#: machine's fastest recorded probe (:func:`machine_probe_ms`) beyond :data:`RECHECK_RTOL`.
MAX_RECHECKS = 3


def slow_window(first_ms: float, check_ms: float) -> bool:
    """Whether the first window's estimate is slower than the second's beyond :data:`RECHECK_RTOL`."""
    return first_ms > (1.0 + RECHECK_RTOL) * check_ms


#: The span is at most this many times the first round's wall time (a 6 ms model: the full 3 s;
#: a 0.1 ms test model: 50 ms).
SPAN_FACTOR = 500

#: ``progress(done, total, label)``; called after every timed run.
Progress = Callable[[int, int, str], None]

#: Optimization level names -> onnxruntime enum attribute names.
LEVELS = {"none": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
          "all": "ORT_ENABLE_ALL"}


def require_ort():
    """Import onnxruntime or raise an ImportError naming the extra."""
    try:
        import onnxruntime
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("measuring costs needs onnxruntime: pip install 'coinfer[onnx]'") from None
    onnxruntime.set_default_logger_severity(4)  # errors reach the caller as exceptions, not log lines
    return onnxruntime


def cpu_name() -> str:
    """The CPU model name (from /proc/cpuinfo when available)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@contextmanager
def realtime_priority(enabled: bool = True):
    """Run the block at real-time priority (``SCHED_FIFO``) when enabled and permitted.

    With one onnxruntime thread the inference runs on the calling thread, so
    at real-time priority no ordinary process can preempt a measurement: on a
    busy machine (measured here with two busy-looping processes on two
    cores) the sum of ResNet-18's kernel medians stayed at 43 ms instead of
    rising to 103 ms. Yields whether the priority was raised (False without
    permission or on systems without ``os.sched_setscheduler``); the previous
    policy is restored afterwards. Linux's real-time throttling still leaves
    other processes 5% of the core.
    """
    if not enabled or not hasattr(os, "sched_setscheduler"):
        yield False
        return
    try:
        policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except OSError:
        yield False
        return
    try:
        yield True
    finally:
        os.sched_setscheduler(0, policy, param)


def _session(model_bytes: bytes, *, level: str = "none", threads: int = 1, profile_dir: str | None = None,
             optimized_path: str | None = None):
    ort = require_ort()
    opts = ort.SessionOptions()
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, LEVELS[level])
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 4
    if profile_dir is not None:
        opts.enable_profiling = True
        opts.profile_file_prefix = os.path.join(profile_dir, "ort_profile")
    if optimized_path is not None:
        opts.optimized_model_filepath = optimized_path
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def optimize_model(model_bytes: bytes, level: str = "basic") -> bytes:
    """The model after onnxruntime's graph optimizations at ``level``.

    ``"basic"`` folds constants, removes no-ops and fuses Conv+BatchNorm
    (and Conv+Add/Mul) into standard ONNX operators, so the result is still
    plain ONNX with one node per fused group.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "optimized.onnx")
        _session(model_bytes, level=level, optimized_path=path)
        with open(path, "rb") as fh:
            return fh.read()


_NUMPY_OF_ORT = {
    "tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
    "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8, "tensor(bool)": np.bool_,
}


def make_feeds(shapes: Mapping[str, Sequence[int]], dtypes: Mapping[str, np.dtype], seed: int = 0) -> dict:
    """Inputs for timing runs: standard normal floats, zeros otherwise (fixed seed)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for name, shape in shapes.items():
        dtype = np.dtype(dtypes[name])
        if np.issubdtype(dtype, np.floating):
            feeds[name] = rng.standard_normal(tuple(shape)).astype(dtype)
        else:
            feeds[name] = np.zeros(tuple(shape), dtype=dtype)
    return feeds


def _feeds_for(session, feeds: Mapping[str, np.ndarray]) -> dict:
    return {i.name: feeds[i.name] for i in session.get_inputs()}


def profile_nodes(model_bytes: bytes, feeds: Mapping[str, np.ndarray], *, runs: int = 20, warmup: int = 3,
                  threads: int = 1, progress: Progress | None = None, level: str = "none",
                  label: str = "profiling nodes") -> dict[str, np.ndarray]:
    """Per-node kernel times in ms over ``runs`` runs after ``warmup`` runs.

    With ``level="none"`` graph optimizations are off, so every node of
    ``model_bytes`` keeps its name; with ``"extended"`` a fused group is
    timed under its first node's name and the nodes fused into it have no
    entry. Kernel times are wall times: on a busy machine a preempted run
    inflates some nodes' samples, which the caller's median filters out as
    long as a node is preempted in fewer than half of the runs (short
    kernels rarely are). Rescaling by each run's CPU share was tried and
    rejected: preemption falls mostly between short kernels, so it
    underestimated them by up to 3x under load.

    Returns ``{node name: array of run times in ms}`` for the nodes the
    runtime executed (constants folded at load have no entry).

    Complexity: ``runs + warmup`` inferences plus parsing the trace,
    O((runs + warmup) * nodes).
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"`runs` must be >= 1 and `warmup` >= 0, got {runs}, {warmup}")
    total = runs + warmup
    with tempfile.TemporaryDirectory() as tmp:
        sess = _session(model_bytes, level=level, threads=threads, profile_dir=tmp)
        inputs = _feeds_for(sess, feeds)
        for k in range(total):
            sess.run(None, inputs)
            if progress:
                progress(k + 1, total, label)
        with open(sess.end_profiling(), encoding="utf-8") as fh:
            events = json.load(fh)
    times: dict[str, list[float]] = {}
    for ev in events:
        name = ev.get("name", "")
        if ev.get("cat") == "Node" and name.endswith("_kernel_time"):
            times.setdefault(name[: -len("_kernel_time")], []).append(ev["dur"] / 1000.0)
    return {k: np.asarray(v[len(v) - runs:] if len(v) >= runs else v) for k, v in times.items()}


def estimate(samples) -> float:
    """The point estimate of timing samples in ms (:data:`STATISTIC`: the fastest run)."""
    return float(np.min(np.asarray(samples, dtype=float)))


#: Shape of the speed probe's input: one 32-channel 56 x 56 activation (401 kB of float32).
PROBE_SHAPE = (1, 32, 56, 56)


def probe_model() -> tuple[bytes, dict[str, np.ndarray]]:
    """The speed probe: a fixed model timed beside the models compared, and its feeds.

    Two 3 x 3 convolutions of 32 channels with a ReLU between, on
    :data:`PROBE_SHAPE` (about 0.12 GFLOP, a millisecond or two on one
    core; weights 74 kB, fixed seed). It measures the machine, not a model:
    its fastest run in a window, against its fastest run in the import's
    calibration (``probe_ms``), says whether the machine runs as fast as
    it did then (:func:`.segments.measure_split` re-times the windows in
    which it did not).
    """
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    c = PROBE_SHAPE[1]
    weights = [numpy_helper.from_array((rng.standard_normal((c, c, 3, 3)) * 0.05).astype(np.float32), f"w{k}")
               for k in range(2)]
    nodes = [helper.make_node("Conv", ["x", "w0"], ["h"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Conv", ["r", "w1"], ["y"], pads=[1, 1, 1, 1])]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(PROBE_SHAPE))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, list(PROBE_SHAPE))
    graph = helper.make_graph(nodes, "coinfer_speed_probe", [x], [y], initializer=weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    feeds = {"x": rng.standard_normal(PROBE_SHAPE).astype(np.float32)}
    return model.SerializeToString(), feeds


class MeasurementQualityWarning(UserWarning):
    """The measurements disagree with each other, spread widely, or were taken while the machine
    ran slow (also importable from :mod:`.onnx`)."""


#: Environment variable naming the directory of coinfer's machine records (default
#: ``$XDG_CACHE_HOME/coinfer`` or ``~/.cache/coinfer``).
CACHE_ENV = "COINFER_CACHE_DIR"


def _probe_file() -> str:
    base = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "coinfer")
    return os.path.join(base, "speed_probe.json")


def _probe_key() -> str:
    try:
        import onnxruntime as ort

        version = ort.__version__
    except ImportError:  # pragma: no cover  (the probe is only timed with onnxruntime)
        version = "?"
    return f"{cpu_name()} | onnxruntime {version}"


def _probe_records() -> dict:
    """The probe records of every machine (``speed_probe.json``); unreadable means empty."""
    try:
        with open(_probe_file(), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def machine_probe_ms() -> float | None:
    """The fastest speed-probe estimate recorded on this machine (CPU name and onnxruntime
    version), or None. Kept in ``speed_probe.json`` under :data:`CACHE_ENV`; unreadable means None."""
    value = _probe_records().get(_probe_key())
    return float(value) if isinstance(value, (int, float)) and value > 0 else None


def record_probe_ms(ms: float) -> None:
    """Keep ``ms`` as this machine's probe reference when it is the fastest seen (best effort:
    an unwritable cache directory is ignored)."""
    data, key = _probe_records(), _probe_key()
    best = data.get(key)
    if isinstance(best, (int, float)) and 0 < best <= ms:
        return
    data[key] = float(ms)
    path = _probe_file()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, path)
    except OSError:
        pass


def time_interleaved(models: Sequence[bytes], feeds: Sequence[Mapping[str, np.ndarray]], *, runs: int = 20,
                     warmup: int = 3, threads: int = 1, level: str = "all", min_seconds: float = 0.0,
                     progress: Progress | None = None, label: str = "timing models",
                     warm_each: bool = WARM_EACH) -> list[np.ndarray]:
    """ms of runs of several models, interleaved: round ``r`` runs every model once.

    Protocol (the import's calibration and ``split --measure`` use it): all
    sessions are built first; each model runs ``warmup`` untimed runs; then
    rounds run every model once, the order rotated by one each round, so
    that a burst of load on a shared machine slows every compared model
    alike instead of one of them. Rounds are paced: round ``r`` starts
    no earlier than ``r x min_seconds / runs`` (sleeping in between), so
    ``runs`` rounds span about ``min_seconds`` whatever the models' speed;
    rounds continue until ``min_seconds`` have passed (at most ``20 x
    runs`` rounds); the span is at most :data:`SPAN_FACTOR` times the
    first round's wall time. Every timed run directly follows a run of
    the same model (``warm_each``, the default: an untimed run before each
    timed one, :data:`WARM_EACH`) or, with ``warm_each=False``, the previous
    model of the round (for prefixes of one model, which share their first
    layers, or one model run back to back; the round's first model gets one
    untimed run after a pacing pause). With
    ``threads=1`` onnxruntime computes on the calling thread and its CPU
    time is measured (:func:`time.thread_time`: time the thread was
    preempted is not counted); with more threads, wall time.

    Returns one array of ms per model (at least ``runs`` samples each).
    Complexity: ``(2 rounds + warmup) x len(models)`` inferences (at most
    ``rounds x (len(models) + 1) + warmup x len(models)`` without
    ``warm_each``); the
    sessions of all models are in memory at once.
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"`runs` must be >= 1 and `warmup` >= 0, got {runs}, {warmup}")
    sessions = [_session(m, level=level, threads=threads) for m in models]
    inputs = [_feeds_for(sess, f) for sess, f in zip(sessions, feeds)]
    clock = time.thread_time if threads == 1 else time.perf_counter
    for sess, inp in zip(sessions, inputs):
        for _ in range(warmup):
            sess.run(None, inp)
    out: list[list[float]] = [[] for _ in sessions]
    start_wall = time.perf_counter()
    rounds, n, span = 0, len(sessions), min_seconds
    while rounds < runs or (time.perf_counter() - start_wall < span and rounds < 20 * runs):
        wait = start_wall + rounds * span / runs - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        for j in range(n):
            k = (j + rounds) % n
            if warm_each or (j == 0 and wait > 0):
                sessions[k].run(None, inputs[k])
            start = clock()
            sessions[k].run(None, inputs[k])
            out[k].append((clock() - start) * 1000.0)
        rounds += 1
        if rounds == 1:  # a model of microseconds needs no seconds of spread
            span = min(min_seconds, SPAN_FACTOR * (time.perf_counter() - start_wall))
        if progress:
            progress(min(rounds, runs), runs, label)
    return [np.asarray(v) for v in out]


def time_model(model_bytes: bytes, feeds: Mapping[str, np.ndarray], *, runs: int = 20, warmup: int = 3,
               threads: int = 1, level: str = "all", progress: Progress | None = None,
               label: str = "timing model") -> np.ndarray:
    """ms of ``runs`` whole inferences after ``warmup`` (no profiler): :func:`time_interleaved` of one
    model, back to back (no pacing, so each run follows the previous one: no untimed runs between)."""
    return time_interleaved([model_bytes], [feeds], runs=runs, warmup=warmup, threads=threads, level=level,
                            progress=progress, label=label, warm_each=False)[0]


def prefix_latencies(model, outputs: Sequence[Sequence[str]], feeds: Mapping[str, np.ndarray], *,
                     runs: int = 10, warmup: int = 2, threads: int = 1, levels: Sequence[str] = ("none", "all"),
                     progress: Progress | None = None) -> list[dict[str, Any]]:
    """Median ms of each prefix sub-model, run as its own model.

    Parameters
    ----------
    model : onnx.ModelProto
        A model with static shapes.
    outputs : sequence of sequence of str
        For each prefix, the tensor names that end it (e.g. a cut vertex's
        outputs); the prefix is every node those tensors depend on
        (``onnx.utils.Extractor``).
    levels : sequence of str
        Optimization levels to time each prefix at (keys of :data:`LEVELS`).

    Returns
    -------
    list of dict
        ``{level: median ms, level + "_iqr": [q1, q3] ms}`` per prefix.
    """
    import onnx.utils

    graph_inputs = [i.name for i in model.graph.input
                    if i.name not in {t.name for t in model.graph.initializer}]
    extractor = onnx.utils.Extractor(model)
    result = []
    for k, outs in enumerate(outputs):
        sub = extractor.extract_model(graph_inputs, list(outs)).SerializeToString()
        row: dict[str, Any] = {}
        for level in levels:
            t = time_model(sub, feeds, runs=runs, warmup=warmup, threads=threads, level=level)
            row[level] = float(np.median(t))
            row[f"{level}_iqr"] = [float(np.percentile(t, 25)), float(np.percentile(t, 75))]
        result.append(row)
        if progress:
            progress(k + 1, len(outputs), "timing prefixes")
    return result
