"""Async compute measured (issue #5): samples/async_compute.py with its compute passes declared on the
graphics queue, on the compute queue (the device's own profile: family 2 on the H100, so ownership
transfers), on the compute queue with CONCURRENT sharing, and on the compute queue declared before
`shade` (transient aliasing then makes `shade` wait for the compute queue).

Per variant: GPU frame time over isolated frames (frames in flight = 1) as max(end) - min(start) of
the timestamps written at the very start and end of each of the frame's command buffers (one time
base across queues on NVIDIA), its spread, the wall time from submit to the host wait on the timeline
semaphores (a cross-check that needs no shared time base), the steady-state wall time per frame with
2 frames in flight, each submit's span relative to the frame start (the overlap, visible), and GPU ms
per pass from a separate short run with per-pass timestamps (which serialise, so not summed).

    python benchmarks/async_compute.py [--frames 200] [--warmup 20] [--size 3840x2160] [--out DIR]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):        # run as a script: the repository root, not benchmarks/, on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import framegraph
from framegraph import bench
from benchmarks.strategies import describe_device
from samples import async_compute as sample

VARIANTS = {
    "graphics": dict(compute_queue="graphics", concurrent=False, compute_first=False),
    "compute": dict(compute_queue="compute", concurrent=False, compute_first=False),
    "compute+concurrent": dict(compute_queue="compute", concurrent=True, compute_first=False),
    "compute,declared-first": dict(compute_queue="compute", concurrent=False, compute_first=True),
}


def _median(values):
    return bench.percentile(values, 50) if values else None


def run_variant(ctx, name: str, variant: dict, args, profile) -> dict:
    from framegraph.backends.vulkan import OffscreenTarget, Renderer

    knobs = dict(field_iterations=args.field_iterations, blur_radius=args.blur_radius, shade_steps=args.shade_steps)
    build = sample.make_build(compute_queue=variant["compute_queue"], compute_first=variant["compute_first"], **knobs)
    options = framegraph.CompileOptions(strategy=args.strategy, concurrent_sharing=variant["concurrent"])
    plans: list = []
    spans: list[list[tuple[float, float]]] = []
    ctx.messages.drain()

    def renderer(frames_in_flight: int, timestamps):
        return Renderer(ctx, OffscreenTarget(*args.size, format=sample.FORMAT, readback=False),
                        strategy=args.strategy, options=options, device=profile, timestamps=timestamps,
                        frames_in_flight=frames_in_flight, on_compile=plans.append, name="async_compute")

    with renderer(1, "frame") as r:
        def keep_spans(i):
            if i >= args.warmup and r.last_gpu_spans_ns:
                t0 = min(s for s, _ in r.last_gpu_spans_ns)
                spans.append([((s - t0) / 1e6, (e - t0) / 1e6) for s, e in r.last_gpu_spans_ns])
        times = bench.measure_frames(r, build, frames=args.frames, warmup=args.warmup, each_frame=keep_spans)

    throughput = None
    if args.throughput_frames:
        with renderer(2, False) as r:
            for _ in range(args.warmup):
                r.render(build)
            r.wait()
            t = time.perf_counter()
            for _ in range(args.throughput_frames):
                r.render(build)
            r.wait()
            throughput = (time.perf_counter() - t) * 1e3 / args.throughput_frames

    per_pass: dict[str, list] = {}
    if args.pass_frames:
        with renderer(1, True) as r:
            for i in range(args.warmup + args.pass_frames):
                r.render(build)
                r.wait()
                if i >= args.warmup:
                    for k, v in r.last_gpu_times_ms.items():
                        per_pass.setdefault(k, []).append(v)

    messages = ctx.messages.drain()
    for m in messages[:5]:
        print(f"  validation: {m}", file=sys.stderr)
    plan = plans[-1]
    problems = bench.verify(plan)
    for p in problems[:5]:
        print(f"  verifier: {p}", file=sys.stderr)
    submits = [{"queue": s.queue, "family": plan.queues[s.queue]["family"],
                "passes": [c.pass_name for c in s.commands if hasattr(c, "pass_name")],
                "start_ms": _median([f[i][0] for f in spans if i < len(f)]),
                "end_ms": _median([f[i][1] for f in spans if i < len(f)])}
               for i, s in enumerate(plan.submits)]
    return {"variant": name, **variant, "strategy": args.strategy, "frames": args.frames, "warmup": args.warmup,
            "gpu_ms": bench.summarize(times["gpu_ms"]), "cpu_ms": bench.summarize(times["cpu_ms"]),
            "wall_ms": bench.summarize(times["wall_ms"]), "throughput_ms_per_frame": throughput,
            "submits": submits, "pass_gpu_ms": {k: _median(v) for k, v in per_pass.items()},
            "counts": bench.plan_counts(plan), "queues": dict(plan.queues),
            "verifier_problems": len(problems), "validation_messages": len(messages) if ctx.validation else None}


def format_table(results: list[dict]) -> str:
    table = bench.format_table([{**r, "workload": "async_compute"} for r in results], variant="variant")
    lines = [table, "", "per variant: steady-state ms/frame (2 in flight); submit spans from frame start "
                        "(median ms); GPU ms per pass (separate run, per-pass timestamps)"]
    for r in results:
        spans = ", ".join(f"{s['queue']}(f{s['family']}) {'+'.join(s['passes']) or 'release'} "
                          f"{bench._fmt(s['start_ms'], 2)}..{bench._fmt(s['end_ms'], 2)}" for s in r["submits"])
        passes = ", ".join(f"{k}={bench._fmt(v, 2)}" for k, v in r["pass_gpu_ms"].items())
        lines.append(f"  {r['variant']:<24} {bench._fmt(r['throughput_ms_per_frame'])} ms/frame | {spans} | {passes}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from framegraph.backends.vulkan import VulkanContext

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="V")
    parser.add_argument("--frames", type=int, default=200, help="isolated timed frames per variant (default 200)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--throughput-frames", type=int, default=200, help="frames of the 2-in-flight run (0: skip)")
    parser.add_argument("--pass-frames", type=int, default=20, help="frames of the per-pass timing run (0: skip)")
    parser.add_argument("--size", type=bench.parse_size, default=(3840, 2160), metavar="WxH")
    parser.add_argument("--field-iterations", type=int, default=1024)
    parser.add_argument("--blur-radius", type=int, default=4)
    parser.add_argument("--shade-steps", type=int, default=128)
    parser.add_argument("--strategy", default="batched", choices=bench.STRATEGIES)
    parser.add_argument("--streams", action="store_true",
                        help="separate streams on the graphics family instead of the device's profile "
                             "(exercises semaphores on a one-queue device)")
    parser.add_argument("--validation", choices=("on", "off", "env"), default="env")
    parser.add_argument("--out", default=str(bench.ROOT / "benchmarks" / "results"), metavar="DIR")
    parser.add_argument("--tag", help="file name tag (default: from the device name)")
    args = parser.parse_args(argv)

    validation = {"on": True, "off": False, "env": None}[args.validation]
    results = []
    started = time.perf_counter()
    with VulkanContext(app_name="framegraph-async-bench", validation=validation) as ctx:
        device = describe_device(ctx)
        profile = sample.separate_streams(ctx) if args.streams else None
        print(f"device: {device['name']} (driver {device['driver']}), queues "
              f"{ {k: v['family'] for k, v in device['queues'].items()} }, validation {'on' if ctx.validation else 'off'}; "
              f"{args.size[0]}x{args.size[1]}, {args.frames} frames per variant", file=sys.stderr)
        for name in args.variants:
            t = time.perf_counter()
            results.append(run_variant(ctx, name, VARIANTS[name], args, profile))
            g = results[-1]["gpu_ms"]
            print(f"  {name:<24} gpu {bench._fmt(g and g['median'])} ms ({time.perf_counter() - t:.1f} s)",
                  file=sys.stderr)
    data = {"format": "framegraph-bench-async/1", "environment": bench.environment(device),
            "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items()},
            "timing": "GPU: max(end) - min(start) of timestamps at the start and end of each command buffer of the "
                      "frame (isolated frames); wall: submit to host wait on the timeline semaphores; throughput: "
                      "wall time per frame with 2 frames in flight",
            "elapsed_s": round(time.perf_counter() - started, 2), "results": results}
    print(format_table(results))
    path = bench.write_json(Path(args.out) / f"async_compute-{args.tag or bench.device_tag(device['name'])}.json", data)
    print(f"wrote {path}")
    failed = any(r["verifier_problems"] or r["validation_messages"] for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
