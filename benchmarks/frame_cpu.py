"""Per-frame CPU of the frame graph (#18): process CPU ms per frame (median) and GPU ms per frame for
the chain, streams and deferred frames in three modes, measured frame by frame in rotation:

    record        declare the frame, plan from the cache, record every command, submit (replay off)
    replay        declare the frame, plan from the cache, re-submit what the frame slot recorded
                  before (Renderer(replay="all"); the deferred frame's upload pass records each frame)
    replay_declared_once  replay, and the frame declared once per slot: render(build, redeclare=False)
                  (no build() call, no plan-cache lookup; resources still resolved every frame).
                  Chain and streams carry no per-frame data; deferred's uniforms (its lights move
                  on the GPU, from the time in them) are set every frame into FrameData
                  (deferred.DeclaredOnce: a mapped buffer, no upload pass), inside the measured
                  time; the results page also gives the thread CPU of that data alone ("data")
    record_declared_once  the frame declared once (as above), every command recorded every frame:
                  what hand_written does (its structs built once, its commands recorded every frame)
    record_one_queue  record, with every logical queue on the graphics queue (deferred: its SSAO runs
                  on the async compute queue otherwise), for a GPU-time comparison with hand_written
    hand_written  the same frame recorded every frame by plain code over the same `vulkan` binding and
                  the same pipelines (the graph renderer's), barriers placed by hand, no frame graph:
                  what a Python user would write (benchmarks/hand_written.py): chain and deferred

plus CPU ms per frame against pass count (chain of 10, 100 and 1,000 passes, tiny dispatches), and
`deferred_turns`: the deferred frame declared once in two shapes (its debug view off and on) taking
turns frame by frame in the one frame slot, replayed and recorded (each plan replays its own
recordings: a slot keeps those of its few most recent plans).
CPU time is process CPU (all threads: on lavapipe that includes the driver's own threads) spent in
the frame's call (render() for the graph), the median over frames; GPU ms is the span of the frame's
command buffers from timestamps (barriers included). Validation is off unless --validation on. The
graph's renderers record no debug labels unless --labels on: the hand-written frames record none, so
both record the same commands (labels add two calls a pass).

    python benchmarks/frame_cpu.py [--tiny] [--out DIR] [--frames N] [--validation on]

Writes DIR/frame_cpu.json: a list of rows {"workload", "mode", "passes", "cpu_ms", "gpu_ms"};
DIR/frame_cpu-details.json: the same with spreads, wall times, the device and the run's settings.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from framegraph import bench  # noqa: E402

MODES = ("record", "replay", "replay_declared_once", "record_declared_once", "hand_written")
LAVAPIPE_ICD = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"
SWEEP = (10, 100, 1000)
VEC4 = 16


# -- the frames -------------------------------------------------------------------------------------

def frames(tiny: bool) -> dict:
    """name -> (build, output size, workload parameters, pass count of the declared frame)."""
    from benchmarks import workloads
    from samples import deferred

    out = {}
    for name in ("chain", "streams"):
        w = workloads.WORKLOADS[name]
        params = w.params(**(workloads.TINY[name] if tiny else {}))
        passes = params["passes"] if name == "chain" else params["streams"] * params["steps"]
        out[name] = (w.builder(**params), (16, 16) if tiny else (256, 256), params, passes + 1)
    size = (64, 64) if tiny else (1920, 1080)
    shadow = 256 if tiny else deferred.SHADOW_SIZE
    # A fixed animation time: the frames are the same picture whatever the mode (uniforms still go
    # up every frame through the sample's upload pass).
    out["deferred"] = (functools.partial(deferred.build, shadow_size=shadow, time=1.0), size,
                       {"shadow_size": shadow}, None)
    return out


def sweep_chain(passes: int):
    from benchmarks import workloads
    params = dict(passes=passes, elements=256, iterations=2)
    return workloads.WORKLOADS["chain"].builder(**params), (16, 16), params


# -- hand-written --------------------------------------------------------------------------------

class _DeferredDeclaredOnce:
    """The deferred frame declared once (deferred.DeclaredOnce), as bench.measure_frames drives a
    renderer: each frame sets its uniforms (the same fixed animation time as the other modes) into
    FrameData, then renders the frame declared for its slot. With several
    `debug_views`, frames take turns between those shapes (each its own declaration and plan)."""

    def __init__(self, renderer, shadow_size: int, debug_views: tuple = (False,)):
        from samples import deferred

        self.renderer = renderer
        self.target = renderer.target
        self.shapes = [deferred.DeclaredOnce(renderer, shadow_size=shadow_size, debug_view=d) for d in debug_views]
        self.frame = self.shapes[0]
        self.turn = 0
        self.data_ms: list[float] = []        # thread CPU of each frame's prepare (the sample's own math)

    def render(self, _build, *, redeclare: bool = False):
        self.frame = self.shapes[self.turn % len(self.shapes)]
        self.turn += 1
        return self.renderer.render(self.frame.build, redeclare=False, prepare=self._prepare)

    def wait(self):
        self.renderer.wait()

    def __getattr__(self, name):
        return getattr(self.renderer, name)

    def _prepare(self, frame):
        started = time.thread_time()
        self.frame.prepare(frame, time=1.0)
        self.data_ms.append(1e3 * (time.thread_time() - started))


# -- measuring -----------------------------------------------------------------------------------

def describe(ctx) -> dict:
    """The device and driver, as results pages name them."""
    from framegraph.backends.vulkan.device import driver_version_string, version_string

    p = ctx.physical
    return {"name": p.name, "driver": driver_version_string(p.vendor_id, p.driver_version),
            "api": version_string(p.api_version)}


def one_queue_profile(ctx):
    """This device's profile with every logical queue on the graphics queue."""
    import dataclasses

    from framegraph.backends.vulkan import device_profile

    profile = device_profile(ctx)
    return dataclasses.replace(profile, queues={q: profile.queues["graphics"] for q in profile.queues})


def measure(ctx, name: str, build, size, *, modes, frames: int, warmup: int, hand_params=None,
            declared_once=None, labels: bool = False) -> list[dict]:
    """Every mode of one frame, measured one frame each in rotation (see strategies.run_interleaved:
    a GPU's clock state otherwise follows the order of the blocks)."""
    from framegraph.backends.vulkan import OffscreenTarget, Renderer

    times = {m: {"process_cpu_ms": [], "thread_cpu_ms": [], "cpu_ms": [], "gpu_ms": []} for m in modes}
    extra = {}
    with contextlib.ExitStack() as stack:
        runners = {}
        record = None
        for mode in modes:
            if mode == "hand_written":
                continue
            profile = one_queue_profile(ctx) if mode == "record_one_queue" else None
            r = stack.enter_context(Renderer(ctx, OffscreenTarget(*size), timestamps="frame", frames_in_flight=1,
                                             replay="all" if mode.startswith("replay") else False,
                                             name=f"{name}-{mode}", device=profile, labels=labels))
            # `declared_once(renderer)`: a stand-in for frames whose declared-once form differs
            # (deferred); the others render `build` with redeclare=False.
            runners[mode] = declared_once(r) if declared_once and mode.endswith("_declared_once") else r
            record = record or r
        if "hand_written" in modes:
            from benchmarks import hand_written
            owner = record or stack.enter_context(Renderer(ctx, OffscreenTarget(*size), timestamps="frame"))
            runners["hand_written"] = stack.enter_context(hand_written.make(name, owner, size=size, **hand_params))
        order = list(runners)
        for i in range(warmup + frames):
            rotation = order[i % len(order):] + order[:i % len(order)]
            for mode in rotation:
                one = bench.measure_frames(runners[mode], build, frames=1, warmup=0,
                                           redeclare=not mode.endswith("_declared_once"))
                if i >= warmup:
                    for key in times[mode]:
                        times[mode][key] += one[key]
        for mode, r in runners.items():
            if mode != "hand_written":
                extra[mode] = {"plan_passes": len(r.last_plan.passes), "compiles": r.compiles,
                               "recorded_last_frame": r.last_recorded}
                if getattr(r, "data_ms", None):
                    extra[mode]["data_cpu_ms"] = bench.summarize(r.data_ms[warmup:])
        images = {m: (r.read() if m == "hand_written" else r.target.read()) for m, r in runners.items()}
    rows = []
    for mode in order:
        t = times[mode]
        rows.append({"workload": name, "mode": mode,
                     "passes": extra.get(mode, extra.get("record", {})).get("plan_passes"),
                     "cpu_ms": bench.summarize(t["process_cpu_ms"])["median"],
                     "gpu_ms": bench.summarize(t["gpu_ms"])["median"] if t["gpu_ms"] else None,
                     "thread_cpu_ms": bench.summarize(t["thread_cpu_ms"])["median"],
                     "data_cpu_ms": extra.get(mode, {}).get("data_cpu_ms", {}).get("median"),
                     "detail": {"process_cpu_ms": bench.summarize(t["process_cpu_ms"]),
                                "wall_ms": bench.summarize(t["cpu_ms"]), "gpu_ms": bench.summarize(t["gpu_ms"]),
                                **extra.get(mode, {})}})
    first = images.get("record", images.get("record_declared_once"))     # what each mode's image must equal
    for row in rows:
        if first is not None and images[row["mode"]].shape == first.shape:
            row["detail"]["image_equals_record"] = bool((images[row["mode"]] == first).all())
    return rows


def soak(ctx, frames: int, *, samples: int = 20) -> dict:
    """#18's soak: `frames` frames of the tiny chain with replay on (multipass's three queues' worth
    of submits would do as well; the chain is the cheapest), after a warm-up; process RSS (raw and
    after malloc_trim, see benchmarks/soak.py) and the registry's live Vulkan objects along the
    way. Flat: the same objects at the end as after the warm-up, and the lowest trimmed RSS of the
    second half within 1 MiB of the first half's."""
    import gc

    from benchmarks.soak import rss_bytes, trimmed_rss_bytes
    from framegraph.backends.vulkan import OffscreenTarget, Renderer

    build, size, _ = sweep_chain(8)
    target = OffscreenTarget(*size)
    with Renderer(ctx, target, replay="all", timestamps="frame") as renderer:
        for _ in range(50):
            renderer.render(build)
        renderer.wait()
        gc.collect()
        first, objects0, rss0 = target.read(), ctx.live_objects(), trimmed_rss_bytes()
        every, rows = max(1, frames // samples), []
        started = time.perf_counter()
        for i in range(frames):
            renderer.render(build)
            if (i + 1) % every == 0:
                rows.append([renderer.frame, rss_bytes(), trimmed_rss_bytes(), ctx.live_count()])
        elapsed = time.perf_counter() - started
        renderer.wait()
        gc.collect()
        last, objects1, rss1 = target.read(), ctx.live_objects(), trimmed_rss_bytes()
        recorded = renderer.last_recorded
    half = len(rows) // 2
    drift = min(r[2] for r in rows[half:]) - min(r[2] for r in rows[:half]) if half else 0
    return {"frames": frames, "elapsed_s": round(elapsed, 2), "ms_per_frame": round(1e3 * elapsed / frames, 4),
            "live_objects_start": objects0, "live_objects_end": objects1, "live_objects_flat": objects0 == objects1,
            "rss_trimmed_start": rss0, "rss_trimmed_end": rss1, "rss_trimmed_drift_bytes": drift,
            "rss_flat": drift < 1 << 20, "samples_columns": ["frame", "rss", "rss_trimmed", "live_objects"],
            "samples": rows, "image_stable": bool((first == last).all()), "recorded_last_frame": recorded}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="lavapipe-sized frames: runs in seconds")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), metavar="DIR")
    parser.add_argument("--frames", type=int, help="timed frames per mode (default 200, --tiny 40)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--sweep", type=int, nargs="*", default=list(SWEEP), metavar="N",
                        help="chain pass counts for CPU ms vs passes (default 10 100 1000)")
    parser.add_argument("--workloads", nargs="*", default=["chain", "streams", "deferred", "deferred_turns"])
    parser.add_argument("--validation", choices=("on", "off"), default="off")
    parser.add_argument("--labels", choices=("on", "off"), default="off",
                        help="debug labels around the graph's passes (the hand-written frames have none)")
    parser.add_argument("--tag", help="file name tag: frame_cpu-TAG.json (default: frame_cpu.json)")
    parser.add_argument("--what-if-host-memo", action="store_true",
                        help="measure as if ResourceCache.resolve looked up each buffer's host access once per "
                             "plan (patches resources._host_accessed in this process only; rows are what-ifs)")
    parser.add_argument("--markdown", metavar="DETAILS_JSON",
                        help="only print the results page for a frame_cpu-*-details.json")
    parser.add_argument("--soak", type=int, metavar="FRAMES",
                        help="only the soak: FRAMES frames with replay on; writes DIR/frame_cpu-soak[-TAG].json")
    args = parser.parse_args(argv)
    if args.markdown:
        import json
        details = json.loads(Path(args.markdown).read_text())
        print(markdown(details, f"frame_cpu: {Path(args.markdown).name}"), end="")
        return 0
    if args.tiny and "VK_DRIVER_FILES" not in os.environ and os.path.exists(LAVAPIPE_ICD):
        os.environ["VK_DRIVER_FILES"] = LAVAPIPE_ICD
    frames_n = args.frames or (40 if args.tiny else 200)
    if args.what_if_host_memo:
        # The what-if became the code: the plan now says which resources the host accesses
        # (PlanResource.create.host), so resolve no longer scans the passes every frame.
        print("--what-if-host-memo: nothing to patch any more (host access is in the plan)", file=sys.stderr)

    from framegraph.backends.vulkan import VulkanContext

    if args.soak:
        with VulkanContext(app_name="frame_cpu-soak", validation=args.validation == "on") as ctx:
            result = {"environment": bench.environment(describe(ctx)), "validation": args.validation,
                      **soak(ctx, args.soak)}
            result["validation_messages"] = [str(m) for m in ctx.messages.drain()][:20]
        path = bench.write_json(Path(args.out) / f"frame_cpu-soak{'-' + args.tag if args.tag else ''}.json", result)
        print({k: result[k] for k in ("frames", "ms_per_frame", "live_objects_flat", "rss_flat",
                                      "rss_trimmed_drift_bytes", "image_stable", "recorded_last_frame")}, path)
        ok = result["live_objects_flat"] and result["rss_flat"] and result["image_stable"]
        return 0 if ok and not result["validation_messages"] else 1

    rows = []
    started = time.perf_counter()
    with VulkanContext(app_name="frame_cpu", validation=args.validation == "on") as ctx:
        device = describe(ctx)
        for name, (build, size, params, _) in frames(args.tiny).items():
            if name not in args.workloads:
                continue
            # Streams has no hand-written peer; deferred declared once keeps its per-frame data in
            # FrameData (deferred.DeclaredOnce).
            modes = {"chain": MODES, "streams": MODES[:4],
                     "deferred": MODES[:4] + ("record_one_queue", "hand_written")}[name]
            hand = ({k: params[k] for k in ("passes", "elements", "iterations")} if name == "chain" else params)
            once = (functools.partial(_DeferredDeclaredOnce, shadow_size=params["shadow_size"]) if name == "deferred"
                    else None)
            rows += measure(ctx, name, build, size, modes=modes, frames=frames_n, warmup=args.warmup, hand_params=hand,
                            declared_once=once, labels=args.labels == "on")
            print(f"{name}: done ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        if "deferred_turns" in args.workloads:
            build, size, params, _ = frames(args.tiny)["deferred"]
            once = functools.partial(_DeferredDeclaredOnce, shadow_size=params["shadow_size"], debug_views=(False, True))
            rows += measure(ctx, "deferred_turns", build, size, modes=("replay_declared_once", "record_declared_once"),
                            frames=frames_n, warmup=args.warmup, declared_once=once, labels=args.labels == "on")
            print(f"deferred_turns: done ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        for n in args.sweep:
            build, size, params = sweep_chain(n)
            few = max(5, frames_n // (1 if n <= 100 else 4))
            rows += measure(ctx, f"chain_{n}", build, size, modes=MODES, frames=few, warmup=2, hand_params=params,
                            labels=args.labels == "on")
            print(f"chain {n}: done ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        messages = [str(m) for m in ctx.messages.drain()]
    out = Path(args.out)
    stem = f"frame_cpu-{args.tag}" if args.tag else "frame_cpu"
    bench.write_json(out / f"{stem}.json", [{k: r[k] for k in ("workload", "mode", "passes", "cpu_ms", "gpu_ms")}
                                            for r in rows])
    environment = bench.environment(device)
    environment["git_commit"] = os.environ.get("FRAMEGRAPH_COMMIT") or environment["git_commit"]
    details = {"environment": environment, "tiny": args.tiny, "frames": frames_n, "labels": args.labels,
               "what_if": "resources._host_accessed memoized per plan" if args.what_if_host_memo else None,
               "validation": args.validation, "validation_messages": messages[:20], "rows": rows,
               "seconds": time.perf_counter() - started}
    bench.write_json(out / f"{stem}-details.json", details)
    print(table(rows))
    print(f"wrote {out / (stem + '.json')}")
    return 1 if messages else 0


def markdown(details: dict, title: str) -> str:
    """A results page: device, driver, settings, the table, and the ratios the issue's goals name."""
    env, rows = details["environment"], details["rows"]
    by = {(r["workload"], r["mode"]): r for r in rows}
    device = env.get("device") or {}
    lines = [f"# {title}", "",
             f"Device: {device.get('name')}; driver: {device.get('driver') or details.get('driver', '?')}; "
             f"commit {env.get('git_commit')}; Python {env.get('python')}; validation {details['validation']}; "
             f"pass labels {details.get('labels', 'on')}; "
             f"{details['frames']} timed frames per mode (the 1,000-pass sweep a quarter), modes in rotation frame "
             f"by frame, one frame in flight; CPU = process CPU ms spent in the frame's call (median), GPU = span "
             f"of the frame's command buffers from timestamps (median); thread CPU = the calling thread only "
             f"(no driver threads); data = the thread CPU of the deferred sample's per-frame uniforms "
             f"where they are made in render(prepare=) (declared once), part of the frame's CPU; "
             f"deferred_turns: two shapes of the deferred frame declared once, taking turns frame by frame "
             f"in the one slot (its x column is against record_declared_once)."
             + (f" What-if: {details['what_if']}." if details.get("what_if") else ""), "", table(rows), ""]

    def ratio(w, a, b, key="cpu_ms"):
        x, y = by.get((w, a)), by.get((w, b))
        return None if not x or not y or not y[key] else x[key] / y[key]
    goals = []
    for w in ("chain", "streams", "deferred"):
        for mode in ("replay", "replay_declared_once"):
            r = ratio(w, mode, "record")
            if r is not None:
                goals.append(f"- {w}: {mode} / record CPU = {r:.2f}x (goal <= 0.2x on lavapipe --tiny)")
    once, record = by.get(("deferred", "replay_declared_once")), by.get(("deferred", "record"))
    if once and record and once.get("data_cpu_ms"):
        # The sample's own uniforms are in both frames (record makes them in build()).
        data = once["data_cpu_ms"]
        goals.append(f"- deferred: without the sample's per-frame data ({data:.3f} ms thread CPU in prepare, "
                     f"made in build() when recording), replay_declared_once / record CPU = "
                     f"{(once['cpu_ms'] - data) / (record['cpu_ms'] - data):.2f}x (an estimate: the same data "
                     f"time taken from both)")
    r = ratio("deferred_turns", "replay_declared_once", "record_declared_once")
    if r is not None:
        goals.append(f"- deferred_turns (two shapes taking turns in one slot): replay_declared_once / "
                     f"record_declared_once CPU = {r:.2f}x (deferred, one shape: "
                     f"{ratio('deferred', 'replay_declared_once', 'record_declared_once') or float('nan'):.2f}x)")
    for mode in ("record", "record_declared_once"):
        r = ratio("chain", mode, "hand_written")
        if r is not None:
            goals.append(f"- chain: {mode} / hand_written CPU = {r:.2f}x (goal <= 1.5x)")
    for w in ("chain", "streams", "deferred"):
        for mode in ("replay", "replay_declared_once"):
            x = by.get((w, mode))
            if x and x["gpu_ms"]:
                goals.append(f"- {w}: {mode} CPU {x['cpu_ms']:.3f} ms vs GPU {x['gpu_ms']:.3f} ms "
                             f"({'below' if x['cpu_ms'] < x['gpu_ms'] else 'ABOVE'}; goal on the H200: below)")
    for w, mode in (("chain", "record"), ("deferred", "record_one_queue"), ("deferred", "record")):
        r = ratio(w, mode, "hand_written", "gpu_ms")
        if r is not None:
            goals.append(f"- {w}: GPU {mode} / hand_written = {r:.3f}x (goal <= 1.00x)")
    if "llvmpipe" in str(device.get("name", "")):
        goals.append("- (lavapipe runs the GPU work on this machine's CPU: its GPU times say nothing about barrier "
                     "cost, and its CPU times share 2 cores with other work; the H200 page has the GPU goals)")
    return "\n".join(lines + ["Against the goals of issue 18:", ""] + goals) + "\n"


def table(rows) -> str:
    lines = ["| workload | mode | passes | CPU ms/frame | thread CPU ms | of which data ms | GPU ms/frame | "
             "x record (CPU) |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    # x record; a workload measured only declared once (deferred_turns): x record_declared_once.
    record = {r["workload"]: r["cpu_ms"] for r in rows if r["mode"] == "record_declared_once"}
    record.update({r["workload"]: r["cpu_ms"] for r in rows if r["mode"] == "record"})
    for r in rows:
        gpu = "-" if r["gpu_ms"] is None else f"{r['gpu_ms']:.3f}"
        thread = r.get("thread_cpu_ms")
        thread = "-" if thread is None else f"{thread:.3f}"
        ratio = r["cpu_ms"] / record[r["workload"]] if record.get(r["workload"]) else float("nan")
        data = "-" if r.get("data_cpu_ms") is None else f"{r['data_cpu_ms']:.3f}"
        lines.append(f"| {r['workload']} | {r['mode']} | {r['passes']} | {r['cpu_ms']:.3f} | {thread} | {data} | "
                     f"{gpu} | {ratio:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
