"""Declare cost (#18): thread-CPU microseconds to declare one frame through the FrameGraph builder.

On a plan-cache hit the frame is never compiled, so what a frame costs the host before recording is
its declaration plus `structural_key()` (the cache's lookup key). This measures exactly that, with no
Vulkan: each frame is declared into a fresh `FrameGraph("frame")` with the device-less frame of
samples/common.offline_frame (the offscreen output image imported, no external object), the
workload's build called, its result marked as the output, and the structural key taken.

    chain-N    benchmarks/workloads.py chain, N = 10, 100, 1000 passes (elements=256, iterations=2)
    streams    benchmarks/workloads.py streams with its defaults
    deferred   samples/deferred.py build (shadow_size=256, time=1.0); its own numpy work
               (uniforms, lights, the scene) is inside the measured time, as in a real frame

    python benchmarks/declare_cost.py [--frames N] [--out DIR]

Times per frame: `frame` is the whole declaration, the workload's own Python (names, push
constants, closures; deferred's numpy) included; `builder` replays the builder calls that frame made
(recorded once, with their arguments and results) against a fresh FrameGraph: the library's share,
the part this library can make cheaper, plus the replay loop's own cost; `loop` is that loop alone
(the same calls made on methods that do nothing), so `builder - loop` is the library's net cost.

Prints a table and writes DIR/declare_cost.json (default benchmarks/results/): one row per frame
with the medians (and quartiles) of thread-CPU us per frame, and per declared pass.
"""
from __future__ import annotations

import argparse
import functools
import gc
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from framegraph import FrameGraph  # noqa: E402
from framegraph.samples.common import offline_frame  # noqa: E402

SWEEP = (10, 100, 1000)


def frames() -> dict:
    """name -> (build, output extent)."""
    from benchmarks import workloads
    from framegraph.samples import deferred

    out = {}
    for n in SWEEP:
        out[f"chain-{n}"] = (workloads.WORKLOADS["chain"].builder(passes=n, elements=256, iterations=2), (16, 16))
    out["streams"] = (workloads.WORKLOADS["streams"].builder(), (256, 256))
    out["deferred"] = (functools.partial(deferred.build, shadow_size=256, time=1.0), (1920, 1080))
    return out


def declare(build, extent, index: int) -> FrameGraph:
    """One frame, declared as the Renderer declares it (and keyed as its plan cache keys it)."""
    fg = FrameGraph("frame")
    frame = offline_frame(fg, *extent, swapchain=False)      # the offscreen target's frame, no device
    frame.index = index
    fg.output(build(fg, frame))
    fg.structural_key()
    return fg


# -- the builder alone: record a frame's calls once, replay them ----------------------------------

class _Recorder:
    """Stands in for a FrameGraph or PassBuilder during one declaration and logs every method call
    as (object index, method, args, kwargs, index of the builder it returned or None)."""

    def __init__(self, target, log: list, objects: list):
        self._target, self._log, self._objects = target, log, objects
        self._index = len(objects)
        objects.append(self)

    def __getattr__(self, name):
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def call(*args, **kwargs):
            entry = [self._index, name, args, kwargs, None]
            self._log.append(entry)
            result = value(*args, **kwargs)
            if result is self._target:
                entry[4] = self._index
                return self
            if type(result).__name__ == "PassBuilder":
                wrapped = _Recorder(result, self._log, self._objects)
                entry[4] = wrapped._index
                return wrapped
            return result
        return call

    def __enter__(self):
        self._log.append([self._index, "__enter__", (), {}, self._index])
        self._target.__enter__()
        return self

    def __exit__(self, *exc):
        self._log.append([self._index, "__exit__", (None, None, None), {}, None])
        return self._target.__exit__(*exc)


def record(build, extent) -> list:
    log: list = []
    fg = _Recorder(FrameGraph("frame"), log, [])
    frame = offline_frame(fg, *extent, swapchain=False)
    fg.output(build(fg, frame))
    fg.structural_key()
    return [tuple(e) for e in log]


def replay(log: list, fg=None) -> FrameGraph:
    """The recorded calls against a fresh FrameGraph: the same handles and callbacks as arguments
    (handles are values, so the recorded ones are the replay's too)."""
    fg = FrameGraph("frame") if fg is None else fg
    objects = {0: fg}
    for index, name, args, kwargs, result in log:
        value = getattr(objects[index], name)(*args, **kwargs)
        if result is not None:
            objects[result] = value
    return fg


def null_target(log: list):
    """An object whose every method the log calls does nothing and returns it: replaying against
    it costs the replay loop and the calls, not the builder."""
    class Null:
        pass

    def nothing(self, *args, **kwargs):
        return self
    for entry in log:
        setattr(Null, entry[1], nothing)
    return Null()


# -- measuring ------------------------------------------------------------------------------------

def _times(fn, arg, *, frames: int, warmup: int) -> list[float]:
    for i in range(warmup):
        fn(*arg(i))
    gc.collect()
    times = []
    for i in range(frames):
        args = arg(i)
        t0 = time.thread_time_ns()
        fn(*args)
        times.append((time.thread_time_ns() - t0) / 1000)
    return times


def _summary(times: list[float], passes: int, prefix: str) -> dict:
    q1, _, q3 = statistics.quantiles(times, n=4)
    med = statistics.median(times)
    return {f"{prefix}_us": round(med, 2), f"{prefix}_us_q1": round(q1, 2), f"{prefix}_us_q3": round(q3, 2),
            f"{prefix}_us_per_pass": round(med / passes, 3)}


def measure(build, extent, *, frames: int, warmup: int) -> dict:
    fg = declare(build, extent, 0)
    passes = len(fg.structural_key()[2])
    log = record(build, extent)
    if replay(log).structural_key() != fg.structural_key():
        raise RuntimeError("the replayed calls declare a different frame")
    whole = _times(declare, lambda i: (build, extent, i), frames=frames, warmup=warmup)
    builder = _times(replay, lambda i: (log,), frames=frames, warmup=warmup)
    null = null_target(log)
    loop = _times(replay, lambda i: (log, null), frames=frames, warmup=warmup)
    row = {"passes": passes, "calls": len(log), "frames": frames, **_summary(whole, passes, "frame"),
           **_summary(builder, passes, "builder"), **_summary(loop, passes, "loop")}
    net = row["builder_us"] - row["loop_us"]
    return {**row, "builder_net_us": round(net, 2), "builder_net_us_per_pass": round(net / passes, 3)}


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200, help="measured frames per workload (default: %(default)s; "
                    "chain-1000 and deferred take a quarter of it)")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results",
                    help="directory for declare_cost.json (default: %(default)s)")
    args = ap.parse_args(argv)

    rows = []
    print(f"{'frame':<12}{'passes':>7}{'frame us':>11}{'[q1':>9}{'q3]':>9}{'us/pass':>9}"
          f"{'builder us':>12}{'[q1':>9}{'q3]':>9}{'us/pass':>9}{'loop us':>9}{'net us':>9}{'us/pass':>9}")
    for name, (build, extent) in frames().items():
        n = max(5, args.frames // 4) if name in ("chain-1000", "deferred") else args.frames
        row = {"frame": name, **measure(build, extent, frames=n, warmup=args.warmup)}
        rows.append(row)
        print(f"{name:<12}{row['passes']:>7}" + "".join(
            f"{row[f'{p}_us']:>{w}.1f}{row[f'{p}_us_q1']:>9.1f}{row[f'{p}_us_q3']:>9.1f}{row[f'{p}_us_per_pass']:>9.2f}"
            for p, w in (("frame", 11), ("builder", 12)))
            + f"{row['loop_us']:>9.1f}{row['builder_net_us']:>9.1f}{row['builder_net_us_per_pass']:>9.2f}", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "declare_cost.json"
    path.write_text(json.dumps({"rows": rows, "python": platform.python_version(), "machine": platform.machine(),
                                "commit": _git_commit(), "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                                "clock": "time.thread_time_ns, median over frames",
                                "builder": "replay of the frame's recorded builder calls"}, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
