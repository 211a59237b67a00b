"""Per-frame CPU overhead of declaring a frame graph every frame, with and without the plan cache (#10).

A ~200-pass frame (view modules of GPU culling, shadow cascades, G-buffer, SSAO, volumetric fog, lighting, a bloom mip chain,
particles, SSR, a culled debug view and a transfer readback; then TAA into a ping-ponged history
image and a tonemap into the swapchain) is declared anew each frame with execute callbacks that
capture per-frame data (a camera matrix, a jitter), and the swapchain and history images swap
their external objects frame to frame. Measured per frame (median over --frames, GC on):

    declare         FrameGraph() and every create/import/add_pass/reads/writes/execute/output
    key             fg.structural_key()
    hit             PlanCache.get_or_compile(fg) on a warm cache: key + options/device + lookup
    freeze          fg.graph()
    frozen lookup   fg.graph() + hash/equality of the frozen Graph (the Renderer's cache before #10)
    compile         framegraph.compile(fg.graph()) (what every frame pays with no cache)

Goal (#10): key + lookup <= 0.2x declare. With a Vulkan device (lavapipe is picked when
VK_DRIVER_FILES is unset and its ICD file exists) it also runs the backend's whole frame loop,
`Renderer.render(build)`, with the cache on and off: the multipass sample and this 200-pass frame
(no-op callbacks: barriers, submits and resource binding only), offscreen, validation off.

Run: .venv/bin/python benchmarks/frame_overhead.py [--frames 300] [--passes 200] [--no-vulkan]
Writes benchmarks/results/frame_overhead.json and prints a table.
"""
from __future__ import annotations

import argparse
import gc
import inspect
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import framegraph  # noqa: E402
from framegraph import FrameGraph, PlanCache  # noqa: E402

LAVAPIPE_ICD = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"
MODULE_PASSES = 22
BLOOM_MIPS = 5


class External:
    """Stands for what a backend binds to an imported resource (a VkImage)."""
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


SWAPCHAIN_IMAGES = [External(f"swapchain{i}") for i in range(3)]
HISTORY_IMAGES = [External("history_a"), External("history_b")]


def camera_matrix(frame: int) -> tuple[float, ...]:
    a = frame * 0.01
    c, s = math.cos(a), math.sin(a)
    return (c, 0.0, -s, 0.0, 0.0, 1.0, 0.0, 0.0, s, 0.0, c, 0.0, 0.0, -2.0, -10.0, 1.0)


def _record(ctx, *args):
    """The execute callbacks' body: a real one would bind and draw with its captured data."""
    return None


def modules_for(n_passes: int) -> int:
    return max(1, round((n_passes - 2) / MODULE_PASSES))


def declare_frame(fg: FrameGraph, frame: int, *, modules: int, extent=(320, 180), output=None, externals=True):
    """Declare one frame into `fg`. `output`: the handle to tonemap into (a Renderer's target);
    without it a swapchain image is imported. `externals=False` imports the history images without
    external objects (a Renderer then keeps them). Returns the final handle of the output."""
    W, H = extent
    cam = camera_matrix(frame)
    jitter = ((frame % 8) / 8.0 - 0.5, ((frame * 3) % 8) / 8.0 - 0.5)
    if output is None:
        output = fg.import_image("swapchain", format="B8G8R8A8_SRGB", extent=extent, swapchain=True,
                                 external=SWAPCHAIN_IMAGES[frame % 3])
    prev = fg.history_image("history_prev", format="R16G16B16A16_SFLOAT", extent=extent,
                            state="fragment_shader_read_sampled",
                            external=HISTORY_IMAGES[frame % 2] if externals else None)
    nxt = fg.history_image("history_next", format="R16G16B16A16_SFLOAT", extent=extent,
                           state="fragment_shader_read_sampled",
                           external=HISTORY_IMAGES[(frame + 1) % 2] if externals else None)
    consts = fg.import_buffer("frame_consts", size=256 * (modules + 1), initial="host_write")
    vertices = fg.import_buffer("vertices", size=1 << 20, initial="vertex_buffer", final="vertex_buffer")
    indices = fg.import_buffer("indices", size=1 << 18, initial="index_buffer", final="index_buffer")
    instances = fg.import_buffer("instances", size=1 << 16, initial="compute_shader_read_storage",
                                 final="compute_shader_read_storage")
    readback = fg.import_buffer("readback", size=W * H * modules, final="host_read")
    scene = fg.create_image("scene_color", format="R16G16B16A16_SFLOAT", extent=extent)
    scene_written = False

    for v in range(modules):
        cr = (256 * (v + 1), 256)          # this view's constants
        depth = fg.create_image(f"depth{v}", format="D32_SFLOAT", extent=extent)
        albedo = fg.create_image(f"albedo{v}", format="R8G8B8A8_UNORM", extent=extent)
        normal = fg.create_image(f"normal{v}", format="R16G16B16A16_SFLOAT", extent=extent)
        ao = fg.create_image(f"ao{v}", format="R8_UNORM", extent=extent)
        hdr = fg.create_image(f"hdr{v}", format="R16G16B16A16_SFLOAT", extent=extent, mips=BLOOM_MIPS)
        shadow = fg.create_image(f"shadow{v}", format="D32_SFLOAT", extent=(256, 256), layers=3)
        fog = fg.create_image(f"fog{v}", format="R16G16B16A16_SFLOAT", extent=(W // 4, H // 4))
        ssr = fg.create_image(f"ssr{v}", format="R16G16B16A16_SFLOAT", extent=(W // 2, H // 2))
        debug = fg.create_image(f"debug{v}", format="R8G8B8A8_UNORM", extent=extent)
        indirect = fg.create_buffer(f"indirect{v}", size=4096)
        particles = fg.create_buffer(f"particles{v}", size=1 << 16)

        with fg.add_pass(f"cull{v}", queue="compute") as p:
            p.reads(consts, "compute_shader_read_uniform", range=cr)
            p.reads(instances, "compute_shader_read_storage")
            indirect = p.writes(indirect, "compute_shader_write_storage", discard=True)
            p.execute(lambda ctx, cam=cam, v=v: _record(ctx, cam, v))
        for c in range(3):
            with fg.add_pass(f"shadow{v}_{c}") as p:
                p.reads(indirect, "indirect_buffer")
                p.reads(vertices, "vertex_buffer")
                p.reads(consts, "vertex_shader_read_uniform", range=cr)
                shadow = p.writes(shadow, "depth_attachment_write", layers=(c, 1), discard=True)
                p.execute(lambda ctx, cam=cam, c=c: _record(ctx, cam, c))
        with fg.add_pass(f"gbuffer{v}") as p:
            p.reads(indirect, "indirect_buffer")
            p.reads(indices, "index_buffer")
            depth = p.writes(depth, "depth_attachment_write", discard=True)
            albedo = p.writes(albedo, "color_attachment_write", discard=True)
            normal = p.writes(normal, "color_attachment_write", discard=True)
            p.execute(lambda ctx, cam=cam, jitter=jitter: _record(ctx, cam, jitter))
        with fg.add_pass(f"ssao{v}", queue="compute") as p:
            p.reads(depth, "compute_shader_read_sampled")
            p.reads(normal, "compute_shader_read_sampled")
            p.reads(consts, "compute_shader_read_uniform", range=cr)
            ao = p.writes(ao, "compute_shader_write_storage", discard=True)
            p.execute(lambda ctx, cam=cam: _record(ctx, cam))
        with fg.add_pass(f"fog{v}", queue="compute") as p:
            p.reads(depth, "compute_shader_read_sampled")
            p.reads(shadow, "compute_shader_read_sampled")
            p.reads(consts, "compute_shader_read_uniform", range=cr)
            fog = p.writes(fog, "compute_shader_write_storage", discard=True)
            p.execute(lambda ctx, cam=cam, t=frame / 60.0: _record(ctx, cam, t))
        with fg.add_pass(f"lighting{v}") as p:
            p.reads(albedo, "fragment_shader_read_sampled")
            p.reads(normal, "fragment_shader_read_sampled")
            p.reads(shadow, "fragment_shader_read_sampled")
            p.reads(ao, "fragment_shader_read_sampled")
            hdr = p.writes(hdr, "color_attachment_write", mips=(0, 1), discard=True)
            p.execute(lambda ctx, cam=cam: _record(ctx, cam))
        for m in range(1, BLOOM_MIPS):
            with fg.add_pass(f"bloom_down{v}_{m}") as p:
                p.reads(hdr, "fragment_shader_read_sampled", mips=(m - 1, 1))
                hdr = p.writes(hdr, "color_attachment_write", mips=(m, 1), discard=True)
                p.execute(lambda ctx, m=m: _record(ctx, m))
        for m in range(BLOOM_MIPS - 2, -1, -1):
            with fg.add_pass(f"bloom_up{v}_{m}") as p:
                p.reads(hdr, "fragment_shader_read_sampled", mips=(m + 1, 1))
                hdr = p.writes(hdr, "color_attachment_read_write", mips=(m, 1))
                p.execute(lambda ctx, m=m: _record(ctx, m))
        with fg.add_pass(f"particles_sim{v}", queue="compute") as p:
            p.reads(consts, "compute_shader_read_uniform", range=cr)
            particles = p.writes(particles, "compute_shader_write_storage", range=(0, 1 << 15), discard=True)
            p.execute(lambda ctx, t=frame / 60.0: _record(ctx, t))
        with fg.add_pass(f"particles_draw{v}") as p:
            p.reads(particles, "vertex_buffer", range=(0, 1 << 15))
            p.reads(depth, "depth_attachment_read")
            hdr = p.writes(hdr, "color_attachment_read_write", mips=(0, 1))
            p.execute(lambda ctx, cam=cam: _record(ctx, cam))
        with fg.add_pass(f"ssr{v}") as p:
            p.reads(depth, "fragment_shader_read_sampled")
            p.reads(normal, "fragment_shader_read_sampled")
            p.reads(hdr, "fragment_shader_read_sampled", mips=(0, 1))
            ssr = p.writes(ssr, "color_attachment_write", discard=True)
            p.execute(lambda ctx, cam=cam: _record(ctx, cam))
        with fg.add_pass(f"debug_view{v}") as p:     # nobody reads it: culled
            p.reads(depth, "fragment_shader_read_sampled")
            debug = p.writes(debug, "color_attachment_write", discard=True)
            p.execute(lambda ctx: _record(ctx))
        with fg.add_pass(f"composite{v}") as p:
            p.reads(hdr, "fragment_shader_read_sampled", mips=(0, 1))
            p.reads(ssr, "fragment_shader_read_sampled")
            p.reads(fog, "fragment_shader_read_sampled")
            if scene_written:
                scene = p.writes(scene, "color_attachment_read_write")
            else:
                scene = p.writes(scene, "color_attachment_write", discard=True)
                scene_written = True
            p.execute(lambda ctx, v=v: _record(ctx, v))
        with fg.add_pass(f"readback{v}", queue="transfer") as p:
            p.reads(ao, "transfer_read")
            readback = p.writes(readback, "transfer_write", range=(W * H * v, W * H))
            p.execute(lambda ctx, v=v: _record(ctx, v))

    with fg.add_pass("taa") as p:
        p.reads(scene, "fragment_shader_read_sampled")
        p.reads(prev, "fragment_shader_read_sampled")
        nxt = p.writes(nxt, "color_attachment_write", discard=True)
        p.execute(lambda ctx, jitter=jitter: _record(ctx, jitter))
    with fg.add_pass("tonemap") as p:
        p.reads(nxt, "fragment_shader_read_sampled")
        output = p.writes(output, "color_attachment_write", discard=True)
        p.execute(lambda ctx, cam=cam: _record(ctx, cam))
    fg.output(output)
    return output


# -- the builder as it was before #10, for the declare-time comparison ---------------------------

def builder_before() -> tuple[type | None, str]:
    """FrameGraph from framegraph/graph.py as of the commit before structural keys came in."""
    try:
        intro = subprocess.run(["git", "log", "--format=%H", "-S", "def structural_key", "--",
                                "framegraph/graph.py"], cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout.split()
        ref = subprocess.run(["git", "rev-parse", "--short", f"{intro[-1]}^" if intro else "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        source = subprocess.run(["git", "show", f"{ref}:framegraph/graph.py"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        return None, f"git unavailable: {e}"
    if "structural_key" in source:
        return None, f"{ref} already has structural keys"
    module = types.ModuleType("framegraph._graph_before")
    module.__package__ = "framegraph"
    sys.modules[module.__name__] = module
    exec(compile(source, f"{ref}:framegraph/graph.py", "exec"), module.__dict__)
    return module.FrameGraph, ref


# -- measuring ----------------------------------------------------------------------------------

def timed(fn):
    """(wall seconds, this thread's CPU seconds, result): on a busy machine the CPU time is the
    fairer number, the wall time is what a frame would see."""
    cpu, wall = time.thread_time(), time.perf_counter()
    result = fn()
    return time.perf_counter() - wall, time.thread_time() - cpu, result


class Samples:
    def __init__(self):
        self.wall, self.cpu = [], []

    def add(self, fn):
        wall, cpu, result = timed(fn)
        self.wall.append(wall)
        self.cpu.append(cpu)
        return result

    def summary(self) -> dict:
        return {"median_ms": statistics.median(self.wall) * 1e3, "mean_ms": statistics.fmean(self.wall) * 1e3,
                "min_ms": min(self.wall) * 1e3, "cpu_median_ms": statistics.median(self.cpu) * 1e3,
                "n": len(self.wall)}


def summary(walls: list[float]) -> dict:
    return {"median_ms": statistics.median(walls) * 1e3, "mean_ms": statistics.fmean(walls) * 1e3,
            "min_ms": min(walls) * 1e3, "n": len(walls)}


def pure(args) -> dict:
    modules = modules_for(args.passes)
    strategy, device = args.strategy, args.device
    FrameGraphBefore, before_ref = builder_before()

    def declare(frame, cls=FrameGraph):
        fg = cls("frame")
        declare_frame(fg, frame, modules=modules)
        return fg

    fg0 = declare(0)
    graph0 = fg0.graph()
    cache = PlanCache()
    t_first, _, plan = timed(lambda: cache.get_or_compile(fg0, strategy=strategy, device=device))
    old_cache = {(graph0, strategy): plan}          # the Renderer's frozen-Graph cache before #10
    samples = {k: Samples() for k in ("declare", "declare_before", "key", "hit", "freeze", "frozen_lookup",
                                      "compile")}
    for frame in range(1, args.frames + 1):
        fg = samples["declare"].add(lambda: declare(frame))
        if FrameGraphBefore is not None:
            samples["declare_before"].add(lambda: declare(frame, FrameGraphBefore))
        samples["key"].add(fg.structural_key)
        hit = samples["hit"].add(lambda: cache.get_or_compile(fg, strategy=strategy, device=device))
        assert hit is plan, "a re-declared frame must hit"
        samples["freeze"].add(fg.graph)
        assert samples["frozen_lookup"].add(lambda: old_cache.get((fg.graph(), strategy))) is plan
    for frame in range(args.compile_frames):
        fg = declare(frame)
        samples["compile"].add(lambda: framegraph.compile(fg.graph(), strategy=strategy, device=device))
    assert cache.hits == args.frames and cache.misses == 1
    fresh = framegraph.compile(declare(7).graph(), strategy=strategy, device=device)
    assert fresh.to_dict() == plan.to_dict(), "a cached plan must equal a fresh compile"

    out = {k: v.summary() for k, v in samples.items() if v.wall}
    out["first_frame_miss"] = {"ms": t_first * 1e3}
    for unit in ("median_ms", "cpu_median_ms"):
        d, k, h = (out[x][unit] for x in ("declare", "key", "hit"))
        out["per_frame_cache_on_" + unit] = d + h
        out["per_frame_cache_off_" + unit] = d + out["freeze"][unit] + out["compile"][unit]
        out["ratio_hit_over_declare_" + unit] = h / d
        out["ratio_key_over_declare_" + unit] = k / d
    out["goal_met"] = max(out["ratio_hit_over_declare_median_ms"], out["ratio_hit_over_declare_cpu_median_ms"]) <= 0.2
    out["graph"] = {"passes": len(graph0.passes), "kept": len(plan.passes), "culled": len(plan.culled),
                    "resources": len(graph0.resources),
                    "accesses": sum(len(p.accesses) for p in graph0.passes),
                    "images_with_mips": sum(1 for r in graph0.resources
                                            if r.kind == "image" and r.desc.mips > 1)}
    out["builder_before"] = before_ref
    out["cache_counters"] = {"hits": cache.hits, "misses": cache.misses,
                             "compile_seconds": cache.compile_seconds, "key_seconds": cache.key_seconds}
    return out


# -- the Vulkan frame loop ----------------------------------------------------------------------

def vulkan(args) -> dict:
    if LAVAPIPE_ICD and "VK_DRIVER_FILES" not in os.environ and "VK_ICD_FILENAMES" not in os.environ \
            and os.path.exists(LAVAPIPE_ICD):
        os.environ["VK_DRIVER_FILES"] = LAVAPIPE_ICD
    try:
        from framegraph.backends.vulkan import OffscreenTarget, Renderer, VulkanContext
    except Exception as e:                       # no `vulkan` package or no libvulkan
        return {"skipped": f"Vulkan backend not importable: {e!r}"}
    params = inspect.signature(Renderer).parameters
    if "plan_cache" in params:
        off, how = {"plan_cache": False}, "Renderer(plan_cache=False)"
    else:
        off, how = {"plan_cache_size": 0}, "Renderer(plan_cache_size=0) (no plan_cache parameter yet)"
    sys.path.insert(0, str(ROOT / "samples"))
    try:
        import multipass
    except Exception as e:
        multipass = None
        multipass_error = repr(e)
    modules = modules_for(args.passes)

    def big(fg, frame):
        return declare_frame(fg, frame.index, modules=modules, extent=frame.extent, output=frame.output,
                             externals=False)

    workloads = {}
    if multipass is not None:
        workloads["multipass sample (4 passes, 64x64)"] = (multipass.build, (64, 64))
    workloads[f"this frame ({args.passes} passes, no-op callbacks, 64x64)"] = (big, (64, 64))
    out = {"cache_off_means": how, "workloads": {}}
    if multipass is None:
        out["multipass_error"] = multipass_error
    try:
        ctx = VulkanContext(validation=False, app_name="frame_overhead")
    except Exception as e:
        return {"skipped": f"no Vulkan device: {e!r}"}
    try:
        out["device"] = ctx.device_name
        for label, (build, size) in workloads.items():
            row = {}
            for mode, kwargs in (("cache_on", {}), ("cache_off", off)):
                target = OffscreenTarget(*size)
                try:
                    with Renderer(ctx, target, timestamps=False, **kwargs) as renderer:
                        for _ in range(args.vk_warmup):
                            renderer.render(build)
                        renderer.wait()
                        walls = []
                        cpu0 = time.process_time()
                        wall0 = time.perf_counter()
                        for _ in range(args.vk_frames):
                            walls.append(timed(lambda: renderer.render(build))[0])
                        renderer.wait()
                        total = time.perf_counter() - wall0
                        cpu = time.process_time() - cpu0
                        row[mode] = {**summary(walls), "process_cpu_ms_per_frame": cpu / args.vk_frames * 1e3,
                                     "wall_ms_per_frame": total / args.vk_frames * 1e3,
                                     "compiles": renderer.compiles}
                except Exception as e:
                    row[mode] = {"error": repr(e)}
            out["workloads"][label] = row
        messages = ctx.messages.drain() if hasattr(ctx, "messages") else []
        out["validation_messages"] = [str(m) for m in messages][:10]
    finally:
        ctx.destroy()
    return out


# -- report -------------------------------------------------------------------------------------

def table(results: dict) -> str:
    p = results["pure"]
    g = p["graph"]
    d, dc = p["declare"]["median_ms"], p["declare"]["cpu_median_ms"]
    lines = [f"Frame of {g['passes']} passes ({g['kept']} kept, {g['culled']} culled), {g['resources']} resources "
             f"({g['images_with_mips']} images with mips), {g['accesses']} accesses; strategy "
             f"{results['meta']['strategy']}, device {results['meta']['device']}; medians of "
             f"{results['meta']['frames']} frames (compile: {p['compile']['n']}), wall and this thread's CPU time.", "",
             "| per frame | wall ms | CPU ms | x declare (CPU) |", "|---|---:|---:|---:|"]

    def row(label, wall, cpu):
        lines.append(f"| {label} | {wall:.3f} | {cpu:.3f} | {cpu / dc:.3f} |")

    def stage(label, key):
        row(label, p[key]["median_ms"], p[key]["cpu_median_ms"])

    stage("declare (FrameGraph + all calls)", "declare")
    if "declare_before" in p:
        stage(f"declare, builder before #10 ({p['builder_before'][:12]})", "declare_before")
    stage("structural key (fg.structural_key())", "key")
    stage("**cache hit: key + lookup (get_or_compile)**", "hit")
    stage("freeze (fg.graph())", "freeze")
    stage("frozen-Graph key + lookup (Renderer before #10)", "frozen_lookup")
    stage("compile (cache off)", "compile")
    row("**frame, cache on: declare + hit**", p["per_frame_cache_on_median_ms"], p["per_frame_cache_on_cpu_median_ms"])
    row("**frame, cache off: declare + freeze + compile**", p["per_frame_cache_off_median_ms"],
        p["per_frame_cache_off_cpu_median_ms"])
    lines += ["", f"Goal key + lookup <= 0.2x declare: {p['ratio_hit_over_declare_cpu_median_ms']:.3f}x (CPU), "
              f"{p['ratio_hit_over_declare_median_ms']:.3f}x (wall) -> {'MET' if p['goal_met'] else 'MISSED'}; "
              f"per frame the cache saves "
              f"{p['per_frame_cache_off_cpu_median_ms'] / p['per_frame_cache_on_cpu_median_ms']:.1f}x CPU."]
    v = results["vulkan"]
    lines.append("")
    if "skipped" in v:
        lines.append(f"Vulkan frame loop: not measured ({v['skipped']}).")
    else:
        lines += [f"Vulkan frame loop, Renderer.render(build) on {v['device']}, offscreen, validation off, "
                  f"cache off = {v['cache_off_means']}; median wall ms per render() call "
                  f"(includes waiting for frame N-2 on the GPU) and process CPU ms per frame (all threads, "
                  f"lavapipe's included):", "",
                  "| workload | cache on: wall / CPU | cache off: wall / CPU | compiles on / off |",
                  "|---|---:|---:|---:|"]
        for label, row_ in v["workloads"].items():
            cells = []
            for mode in ("cache_on", "cache_off"):
                r = row_.get(mode, {})
                cells.append(r["error"][:60] if "error" in r else
                             f"{r['median_ms']:.2f} / {r['process_cpu_ms_per_frame']:.2f}")
            comp = " / ".join(str(row_.get(m, {}).get("compiles", "-")) for m in ("cache_on", "cache_off"))
            lines.append(f"| {label} | {cells[0]} | {cells[1]} | {comp} |")
        if v.get("validation_messages"):
            lines.append(f"validation messages: {v['validation_messages']}")
    return "\n".join(lines)


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "framegraph", "backends"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" (+uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=200)
    parser.add_argument("--frames", type=int, default=300, help="frames for declare/key/hit medians")
    parser.add_argument("--compile-frames", type=int, default=15, help="fresh compiles timed (cache off)")
    parser.add_argument("--strategy", default="batched")
    parser.add_argument("--device", default="lavapipe", help="compiler device profile for the pure part")
    parser.add_argument("--vk-frames", type=int, default=100)
    parser.add_argument("--vk-warmup", type=int, default=5)
    parser.add_argument("--no-vulkan", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "frame_overhead.json"))
    args = parser.parse_args(argv)
    gc.collect()
    results = {"meta": {"python": sys.version.split()[0], "machine": platform.machine(),
                        "platform": platform.platform(), "cpus": os.cpu_count(), "git_commit": git_commit(),
                        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
                        "loadavg_at_start": list(os.getloadavg()), "strategy": args.strategy,
                        "device": args.device, "frames": args.frames, "passes": args.passes}}
    results["pure"] = pure(args)
    results["vulkan"] = {"skipped": "--no-vulkan"} if args.no_vulkan else vulkan(args)
    results["meta"]["loadavg_at_end"] = list(os.getloadavg())
    text = table(results)
    results["table"] = text
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
