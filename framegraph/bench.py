"""`python -m framegraph bench`: GPU time, CPU time and barrier counts per frame under each barrier
strategy, for the synthetic workloads of benchmarks/workloads.py or a sample's `build`.

This module holds the command line and the measurement helpers (frame loop, statistics, table,
JSON, chart); it never imports `vulkan` — the runner in benchmarks/strategies.py does, when the
command runs.
"""
from __future__ import annotations

import argparse
import datetime
import functools
import importlib
import json
import math
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

STRATEGIES = ("naive", "per_resource", "batched", "split")
WORKLOAD_NAMES = ("chain", "streams", "split", "mips")
ROOT = Path(__file__).resolve().parents[1]


# -- command line -----------------------------------------------------------------------------------

def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 256x256, got {text!r}") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return width, height


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--workload", dest="workloads", action="append", metavar="NAME",
                        help=f"a synthetic workload ({', '.join(WORKLOAD_NAMES)}, or 'all'); repeatable; "
                             "default: all, unless --sample is given")
    parser.add_argument("--sample", dest="samples", action="append", default=[], metavar="NAME",
                        help="bench samples.NAME.build(fg, frame) (skipped with a message if it does not exist)")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES, metavar="S",
                        help="strategies to compare (default: all four)")
    parser.add_argument("--frames", type=int, default=100, help="timed frames per strategy (default 100)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed frames first (default 10)")
    parser.add_argument("--size", type=parse_size, default=(256, 256), metavar="WxH",
                        help="output image size (default 256x256); workload sizes are --param")
    parser.add_argument("--param", dest="params", action="append", default=[], metavar="WORKLOAD.KEY=VALUE",
                        help="override a workload parameter, e.g. chain.passes=32 (repeatable)")
    parser.add_argument("--tiny", action="store_true",
                        help="small workload sizes (lavapipe, tests): same structure, little work")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), metavar="DIR",
                        help="where strategies-TAG.json and .png go (default benchmarks/results)")
    parser.add_argument("--tag", help="file name tag (default: from the device name)")
    parser.add_argument("--validation", choices=("on", "off", "env"), default="env",
                        help="validation layer (default: FRAMEGRAPH_VALIDATION, on unless 0)")
    parser.add_argument("--frames-in-flight", type=int, default=1,
                        help="1 (default) isolates frames: each frame's GPU span is its own")
    parser.add_argument("--no-alias", action="store_true", help="compile with alias_transients=False")
    parser.add_argument("--replay", action="store_true",
                        help="re-submit each frame's recordings (Renderer(replay='all')); the synthetic workloads, "
                             "which carry no per-frame data, are also declared once per frame slot: the CPU per "
                             "frame falls under the GPU's, so frame rates show the strategies' GPU difference")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")
    return parser


def add_cli(subparsers) -> argparse.ArgumentParser:
    """Register `bench` on `python -m framegraph`'s subparsers."""
    parser = subparsers.add_parser(
        "bench", help="GPU/CPU time and barrier counts per frame under each strategy",
        description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.set_defaults(fn=run_cli)
    return parser


def import_benchmark(name: str):
    """benchmarks.NAME from the repository (benchmarks/ is scripts, found from the root). An
    installed package has no benchmarks/: that is a FrameGraphError saying so (the CLI's `error:`)."""
    module = f"benchmarks.{name}"
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name not in ("benchmarks", module):
            raise
        if not (ROOT / "benchmarks" / f"{name}.py").is_file():
            from .errors import FrameGraphError
            raise FrameGraphError(f"`bench` runs benchmarks/{name}.py of a source checkout, which the installed "
                                  "package does not include: clone the repository and run it there "
                                  "(./dev.sh sets it up)") from None
    sys.path.insert(0, str(ROOT))
    return importlib.import_module(module)


def run_cli(args) -> int:
    return import_benchmark("strategies").run(args)


# -- measurement ------------------------------------------------------------------------------------

def measure_frames(renderer, build, *, frames: int, warmup: int, each_frame=None, redeclare: bool = True) -> dict:
    """Render warmup + frames frames, one at a time: render (declare, compile-cache lookup, record,
    submit: the CPU time, as wall time, as process CPU time -- all threads, a CPU driver's too -- and as
    the calling thread's CPU time), then
    a host wait on the frame's timeline values (wall time from submit to completion), then the GPU span
    of its command buffers from timestamps (first start to last end, over every queue; barriers and
    waits included). `redeclare=False`: render(build, redeclare=False). Returns lists of milliseconds."""
    render = renderer.render if redeclare else functools.partial(renderer.render, redeclare=False)
    gpu, cpu, wall, process, thread = [], [], [], [], []
    for i in range(warmup + frames):
        p0 = time.process_time()
        h0 = time.thread_time()
        t0 = time.perf_counter()
        render(build)
        t1 = time.perf_counter()
        h1 = time.thread_time()
        p1 = time.process_time()
        renderer.wait()
        t2 = time.perf_counter()
        if each_frame is not None:
            each_frame(i)
        if i < warmup:
            continue
        cpu.append((t1 - t0) * 1e3)
        process.append((p1 - p0) * 1e3)
        thread.append((h1 - h0) * 1e3)
        wall.append((t2 - t1) * 1e3)
        if renderer.last_gpu_frame_ms is not None:
            gpu.append(renderer.last_gpu_frame_ms)
    return {"gpu_ms": gpu, "cpu_ms": cpu, "wall_ms": wall, "process_cpu_ms": process, "thread_cpu_ms": thread}


def percentile(values, q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), without numpy."""
    xs = sorted(values)
    if not xs:
        return math.nan
    k = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summarize(values) -> dict | None:
    if not values:
        return None
    return {"median": percentile(values, 50), "p10": percentile(values, 10), "p90": percentile(values, 90),
            "mean": sum(values) / len(values), "min": min(values), "max": max(values), "n": len(values)}


STAT_KEYS = ("barrier_calls", "image_barriers", "buffer_barriers", "memory_barriers", "events", "semaphore_waits")


def plan_counts(plan) -> dict:
    """Per-frame synchronization counts of a plan (its stats, plus submits and ownership transfers)."""
    counts = {k: plan.stats.get(k, 0) for k in STAT_KEYS}
    counts["passes"] = len(plan.passes)
    counts["submits"] = len(plan.submits)
    data = json.loads(plan.to_json())
    transfers = 0
    for submit in data["submits"]:
        for command in submit["commands"]:
            deps = ([command["dependency"]] if "dependency" in command else command.get("dependencies", []))
            for dep in deps:
                for b in dep.get("images", []) + dep.get("buffers", []):
                    if b.get("src_queue") is not None and b.get("src_queue") != b.get("dst_queue"):
                        transfers += 1
    counts["ownership_barriers"] = transfers
    return counts


def verify(plan) -> list[str]:
    from .verifier import verify_plan
    return [str(p) for p in verify_plan(json.loads(plan.to_json()))]


# -- reporting --------------------------------------------------------------------------------------

def _fmt(x, digits=3) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def format_table(results: list[dict], *, key: str = "workload", variant: str = "strategy") -> str:
    """One row per (workload, strategy): GPU ms median (p10-p90), its ratio to the first strategy of
    the workload, CPU ms median, wall ms median, and the per-frame synchronization counts."""
    head = (f"{key:<14} {variant:<22} {'gpu ms':>9} {'p10-p90':>17} {'x first':>7} {'cpu ms':>8} {'wall ms':>8} "
            f"{'calls':>5} {'img':>5} {'buf':>5} {'mem':>4} {'events':>6} {'sem':>4} {'own':>4} {'valid':>5}")
    lines = [head, "-" * len(head)]
    first: dict[str, float] = {}
    for r in results:
        if r.get("skipped"):
            lines.append(f"{r[key]:<14} skipped: {r['skipped']}")
            continue
        g, c, w, s = r.get("gpu_ms"), r.get("cpu_ms"), r.get("wall_ms"), r["counts"]
        median = g["median"] if g else None
        base = first.setdefault(r[key], median) if median is not None else None
        ratio = median / base if (median is not None and base) else None
        spread = f"{_fmt(g['p10'])}-{_fmt(g['p90'])}" if g else "-"
        lines.append(
            f"{r[key]:<14} {r[variant]:<22} {_fmt(median):>9} {spread:>17} {_fmt(ratio, 2):>7} "
            f"{_fmt(c and c['median']):>8} {_fmt(w and w['median']):>8} {s['barrier_calls']:>5} "
            f"{s['image_barriers']:>5} {s['buffer_barriers']:>5} {s['memory_barriers']:>4} {s['events']:>6} "
            f"{s['semaphore_waits']:>4} {s.get('ownership_barriers', 0):>4} "
            f"{r.get('validation_messages', '-')!s:>5}")
    return "\n".join(lines)


def environment(device: dict | None = None) -> dict:
    """Where the numbers come from: machine, Python, git commit, and the device (as the runner
    describes it)."""
    env = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "python": platform.python_version(), "machine": platform.machine(), "node": platform.node()}
    try:
        env["git_commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                           timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        env["git_commit"] = None
    if device is not None:
        env["device"] = device
    return env


def device_tag(name: str) -> str:
    """A file-name tag from a device name: 'NVIDIA H100 80GB HBM3' -> 'h100', 'llvmpipe (LLVM ...)' -> 'llvmpipe'."""
    lowered = name.lower()
    for known in ("h100", "h200", "a100", "llvmpipe", "lavapipe"):
        if known in lowered:
            return known
    return re.sub(r"[^a-z0-9]+", "-", lowered).strip("-")[:32] or "device"


def write_json(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return path


def plot(results: list[dict], path: Path, *, title: str, key: str = "workload", variant: str = "strategy") -> Path:
    """A bar chart: one column per workload; GPU ms per frame (median, whiskers p10-p90) above, CPU ms
    (render: declare + record + submit) below; each GPU bar is labelled with barrier calls / events."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in results if not r.get("skipped")]
    groups = list(dict.fromkeys(r[key] for r in rows))
    if not groups:
        raise ValueError("nothing to plot")
    fig, axes = plt.subplots(2, len(groups), figsize=(3.6 * len(groups) + 0.6, 6.4), squeeze=False)
    colors = ["#8c8c8c", "#4c72b0", "#55a868", "#dd8452", "#c44e52", "#8172b3"]
    for col, group in enumerate(groups):
        mine = [r for r in rows if r[key] == group]
        names = [r[variant] for r in mine]
        xs = range(len(mine))
        for row, metric, label in ((0, "gpu_ms", "GPU ms / frame"), (1, "cpu_ms", "CPU ms / frame (render)")):
            ax = axes[row][col]
            med = [(r.get(metric) or {}).get("median", math.nan) for r in mine]
            lo = [m - (r.get(metric) or {}).get("p10", m) for m, r in zip(med, mine)]
            hi = [(r.get(metric) or {}).get("p90", m) - m for m, r in zip(med, mine)]
            bars = ax.bar(xs, med, yerr=[lo, hi], capsize=3, color=[colors[i % len(colors)] for i in xs])
            ax.set_xticks(list(xs))
            ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
            if col == 0:
                ax.set_ylabel(label)
            if row == 0:
                ax.set_title(group, fontsize=10)
                for bar, r in zip(bars, mine):
                    c = r["counts"]
                    text = f"{c['barrier_calls']}b"
                    if c["events"]:
                        text += f"/{c['events']}e"
                    if c.get("semaphore_waits"):
                        text += f"/{c['semaphore_waits']}s"
                    ax.annotate(text, (bar.get_x() + bar.get_width() / 2, 0), xytext=(0, 3),
                                textcoords="offset points", ha="center", fontsize=7, color="white")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
