"""Barrier strategies compared on a GPU (issue #6): each workload (benchmarks/workloads.py) or
sample runs N frames under naive, per_resource, batched and split; per strategy it reports GPU ms per
frame (median, p10/p90; timestamps at the very start and end of every command buffer, so barriers
count), CPU ms to declare+record+submit, wall ms from submit to the host wait, and the plan's
barrier calls / image, buffer, memory barriers / events / semaphore waits per frame. Writes
strategies-TAG.json and strategies-TAG.png under --out and prints a table.

    python benchmarks/strategies.py [--workload chain ...] [--sample deferred] [--frames 300] [--warmup 20]
                                    [--size 256x256] [--param chain.passes=32] [--tiny] [--out DIR]
    python -m framegraph bench ...        (the same)

Timing on lavapipe (a CPU device) says nothing about GPU barrier cost: there only the counts mean
something. Every compiled plan is run through the verifier; validation messages are counted.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

if __package__ in (None, ""):        # run as a script: the repository root, not benchmarks/, on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import framegraph
from framegraph import bench
from benchmarks.workloads import TINY, WORKLOADS, parse_params

FORMAT = "R8G8B8A8_UNORM"


def describe_device(ctx) -> dict:
    from framegraph.backends.vulkan.device import driver_version_string, version_string
    physical = ctx.physical
    return {"name": physical.name, "type": physical.type_name, "api": version_string(physical.api_version),
            "driver": driver_version_string(physical.vendor_id, physical.driver_version),
            "timestamp_period_ns": ctx.timestamp_period_ns,
            "queues": {name: {"family": q.family, "index": q.index} for name, q in ctx.queues.items()},
            "validation": bool(ctx.validation), "sync_validation": bool(ctx.sync_validation)}


def workload_params(args) -> dict[str, dict]:
    """{workload: params} from --tiny and --param WORKLOAD.KEY=VALUE."""
    overrides: dict[str, dict] = {}
    for key, value in parse_params(args.params).items():
        name, dot, field = key.partition(".")
        if not dot or name not in WORKLOADS:
            raise framegraph.FrameGraphError(f"--param {key}={value}: expected WORKLOAD.KEY=VALUE with WORKLOAD one "
                                             f"of {', '.join(WORKLOADS)}")
        overrides.setdefault(name, {})[field] = value
    out = {}
    for name, workload in WORKLOADS.items():
        try:
            out[name] = workload.params(**{**(TINY[name] if args.tiny else {}), **overrides.get(name, {})})
        except ValueError as error:
            raise framegraph.FrameGraphError(str(error)) from None
    return out


def selected(args) -> list[tuple[str, str]]:
    """[(kind, name)] in order: workloads, then samples."""
    names = args.workloads if args.workloads is not None else ([] if args.samples else ["all"])
    out = []
    for name in names:
        for n in (WORKLOADS if name == "all" else [name]):
            if n not in WORKLOADS:
                raise framegraph.FrameGraphError(f"unknown workload {n!r} (one of {', '.join(WORKLOADS)}, all)")
            if ("workload", n) not in out:
                out.append(("workload", n))
    out += [("sample", name) for name in args.samples]
    return out


def load_sample(name: str):
    """(build, format, None) for samples.NAME, or (None, None, reason) when there is nothing to bench."""
    module_name = f"samples.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name in (module_name, "samples"):
            return None, None, f"no module {module_name}"
        raise
    build = getattr(module, "build", None)
    if not callable(build):
        return None, None, f"{module_name} has no build(fg, frame)"
    return build, getattr(module, "FORMAT", FORMAT), None


def run_interleaved(ctx, *, name: str, build, strategies, args, fmt: str = FORMAT,
                    declare_once: bool = False) -> list[dict]:
    """All strategies of one workload, measured frame by frame in rotation (one renderer each).

    Measured in sequential blocks, a short workload's numbers followed the GPU's clock and power
    state more than the strategy (seen on the H100: the same plan 4.6x slower in a later block);
    interleaving exposes every strategy to the same conditions."""
    import contextlib

    from framegraph.backends.vulkan import OffscreenTarget, Renderer

    options = framegraph.CompileOptions(alias_transients=not args.no_alias)
    ctx.messages.drain()
    plans = {s: [] for s in strategies}
    times = {s: {"gpu_ms": [], "cpu_ms": [], "wall_ms": []} for s in strategies}
    with contextlib.ExitStack() as stack:
        renderers = {}
        for s in strategies:
            target = OffscreenTarget(*args.size, format=fmt, readback=False)
            renderers[s] = stack.enter_context(Renderer(
                ctx, target, strategy=s, options=options, timestamps="frame",
                frames_in_flight=args.frames_in_flight, on_compile=plans[s].append, name=f"{name}-{s}",
                replay="all" if getattr(args, "replay", False) else False))
        for i in range(args.warmup + args.frames):
            rotation = strategies[i % len(strategies):] + strategies[:i % len(strategies)]
            for s in rotation:
                one = bench.measure_frames(renderers[s], build, frames=1, warmup=0, redeclare=not declare_once)
                if i >= args.warmup:
                    for key in times[s]:
                        times[s][key] += one[key]
    messages = ctx.messages.drain()
    for m in messages[:5]:
        print(f"  validation: {m}", file=sys.stderr)
    results = []
    for s in strategies:
        plan = plans[s][-1]
        problems = bench.verify(plan)
        for p in problems[:5]:
            print(f"  verifier: {p}", file=sys.stderr)
        results.append({"strategy": s, "frames": args.frames, "warmup": args.warmup, "compiles": len(plans[s]),
                        "gpu_ms": bench.summarize(times[s]["gpu_ms"]), "cpu_ms": bench.summarize(times[s]["cpu_ms"]),
                        "wall_ms": bench.summarize(times[s]["wall_ms"]), "counts": bench.plan_counts(plan),
                        "verifier_problems": len(problems),
                        "validation_messages": len(messages) if ctx.validation else None})
    return results


def run(args) -> int:
    from framegraph.backends.vulkan import VulkanContext

    validation = {"on": True, "off": False, "env": None}[args.validation]
    jobs = selected(args)
    params = workload_params(args)
    results: list[dict] = []
    failed = False
    started = time.perf_counter()
    with VulkanContext(app_name="framegraph-bench", validation=validation) as ctx:
        device = describe_device(ctx)
        print(f"device: {device['name']} (driver {device['driver']}, Vulkan {device['api']}), validation "
              f"{'on' if ctx.validation else 'off'}; {args.frames} frames after {args.warmup} warm-up, "
              f"output {args.size[0]}x{args.size[1]}", file=sys.stderr)
        for kind, name in jobs:
            entry = {"workload": name, "kind": kind}
            if kind == "workload":
                build, fmt = WORKLOADS[name].builder(**params[name]), FORMAT
                entry["params"] = params[name]
                entry["summary"] = WORKLOADS[name].summary
            else:
                build, fmt, reason = load_sample(name)
                if build is None:
                    print(f"sample {name!r} skipped: {reason}", file=sys.stderr)
                    results.append({**entry, "skipped": reason})
                    continue
            t = time.perf_counter()
            # Declared once only where nothing per frame lives in the declaration: the synthetic
            # workloads (a sample uploads its animated uniforms from its build function).
            once = bool(getattr(args, "replay", False)) and kind == "workload"
            for one in run_interleaved(ctx, name=name, build=build, strategies=list(args.strategies), args=args,
                                       fmt=fmt, declare_once=once):
                result = {**entry, **one}
                failed |= bool(result["verifier_problems"] or result["validation_messages"])
                results.append(result)
                g = result["gpu_ms"]
                print(f"  {name:<10} {one['strategy']:<13} gpu {bench._fmt(g and g['median'])} ms, "
                      f"{result['counts']['barrier_calls']} barrier calls", file=sys.stderr)
            print(f"  {name}: {time.perf_counter() - t:.1f} s", file=sys.stderr)
    data = {"format": "framegraph-bench-strategies/1", "environment": bench.environment(device),
            "settings": {"frames": args.frames, "warmup": args.warmup, "size": list(args.size),
                         "frames_in_flight": args.frames_in_flight, "alias_transients": not args.no_alias,
                         "strategies": args.strategies, "tiny": args.tiny, "replay": bool(args.replay),
                         "timing": "strategies interleaved frame by frame (rotating order); GPU: timestamps at the start and end of every command buffer, max(end) - "
                                   "min(start); CPU: Renderer.render (declare, record, submit); wall: submit to "
                                   "host wait on the timeline semaphores"},
            "elapsed_s": round(time.perf_counter() - started, 2), "results": results}
    tag = args.tag or bench.device_tag(device["name"])
    out = Path(args.out)
    table = bench.format_table(results)
    print(table)
    path = bench.write_json(out / f"strategies-{tag}.json", data)
    print(f"wrote {path}")
    if not args.no_plot and any(not r.get("skipped") for r in results):
        png = bench.plot(results, out / f"strategies-{tag}.png",
                         title=f"barrier strategies on {device['name']} (driver {device['driver']}): "
                               f"{args.frames} frames, median and p10-p90")
        print(f"wrote {png}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except framegraph.FrameGraphError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
