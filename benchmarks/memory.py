"""Transient memory with aliasing (issue #7): bytes aliased, unaliased and the lower bound for a
realistic deferred + post-processing frame, per placement policy, with the compiler's offline
estimator and with the real memory requirements of a Vulkan device (lavapipe here).

    python benchmarks/memory.py [--width 1920 --height 1080] [--no-device] [--out benchmarks/results/memory.json]
                                [--include OTHER.json]   # add the device rows of a run on another machine

The frame (declared below with the FrameGraph builder, 22 passes at 1920x1080):
    upload (transfer)   lights + camera buffers
    shadow_cascade0..3  a 4-layer 2048^2 D32 shadow map, one cascade (layer) per pass
    gbuffer             albedo RGBA8, normal RGBA16F, material RGBA8, depth D32
    ssao (compute)      depth + normal -> ao (R8)          ssao_blur (compute)  ao -> ao_blurred
    lighting            G-buffer, shadows, AO, lights -> hdr (RGBA16F)
    forward             transparents over hdr, depth-tested against the G-buffer depth
    bloom_prefilter     hdr -> bloom mip 0 (RGBA16F 960x540, 5 mips)
    bloom_down1..4      mip i-1 -> mip i               bloom_up3..0   mip i+1 blended into mip i
    tonemap             hdr + bloom -> ldr (RGBA8)
    fxaa                ldr -> the swapchain image       ui   widgets drawn over it
`samples/deferred.py`'s build_graph(width, height) is measured too (21 passes: the lights, G-buffer, SSAO + blur on
compute, two shadow cascades each projected into a screen-space mask right after it is drawn,
lighting, bloom, tonemap, FXAA), and a what-if variant of the graph above,
`deferred_post_shadow_mask`: each cascade is projected into a screen-space shadow mask right after
it is rendered (four single-layer shadow maps with disjoint lifetimes instead of one 4-layer map
that lighting reads whole), see benchmarks/placement_experiments.py. How much aliasing saves
depends on how big the shadow cascades are next to the screen-sized targets, so the sample is also
swept over resolutions and cascade sizes (estimator sizes, `auto`).

Goals (from the issue): aliased <= 1.05x the lower bound, and >= 40% below unaliased. The lower bound
is the largest sum of live transient sizes at any point of the compiled order: no placement of these
sizes can use less, so when lower_bound itself is above 60% of unaliased the second goal is out of
reach for the graph, whatever the policy; the "floor" column (the largest sum of transients one pass
touches) says whether any pass order could lower the bound. Writes JSON and a Markdown table (same name, .md) and a
memory chart per graph (framegraph/viz/memory.py) under benchmarks/results/.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import framegraph  # noqa: E402
from framegraph import CompileOptions, FrameGraph  # noqa: E402

POLICIES = ("best_fit", "first_fit", "auto")
GOAL_BOUND = 1.05
GOAL_SAVING = 0.40


def build_deferred_post(width: int = 1920, height: int = 1080, *, cascades: int = 4, shadow_size: int = 2048,
                        bloom_mips: int = 5, shadow_mask: bool = False) -> FrameGraph:
    """A realistic deferred + post-processing frame (22 passes with the defaults): cascaded shadows,
    G-buffer, SSAO + blur on the compute queue, lighting, forward, bloom down/up over mips,
    tonemap, FXAA, UI. With `shadow_mask`, each cascade renders its own shadow map and projects it
    into a screen-space mask (R8) right away, so the shadow maps no longer live until lighting."""
    fg = FrameGraph("deferred_post_shadow_mask" if shadow_mask else "deferred_post")
    swap = fg.import_image("swapchain", format="B8G8R8A8_SRGB", extent=(width, height), swapchain=True)
    lights = fg.create_buffer("lights", size=64 * 1024)
    camera = fg.create_buffer("camera", size=4 * 1024)
    if not shadow_mask:
        shadow = fg.create_image("shadow_map", format="D32_SFLOAT", extent=(shadow_size, shadow_size),
                                 layers=cascades)
    albedo = fg.create_image("albedo", format="R8G8B8A8_UNORM", extent=(width, height))
    normal = fg.create_image("normal", format="R16G16B16A16_SFLOAT", extent=(width, height))
    material = fg.create_image("material", format="R8G8B8A8_UNORM", extent=(width, height))
    depth = fg.create_image("depth", format="D32_SFLOAT", extent=(width, height))
    if shadow_mask:
        mask = fg.create_image("shadow_mask", format="R8_UNORM", extent=(width, height))
    ao = fg.create_image("ao", format="R8_UNORM", extent=(width, height))
    ao_blur = fg.create_image("ao_blurred", format="R8_UNORM", extent=(width, height))
    hdr = fg.create_image("hdr", format="R16G16B16A16_SFLOAT", extent=(width, height))
    bloom = fg.create_image("bloom", format="R16G16B16A16_SFLOAT", extent=(width // 2, height // 2), mips=bloom_mips)
    ldr = fg.create_image("ldr", format="R8G8B8A8_UNORM", extent=(width, height))

    with fg.add_pass("upload", queue="transfer") as p:
        lights = p.writes(lights, "transfer_write", discard=True)
        camera = p.writes(camera, "transfer_write", discard=True)
    if not shadow_mask:
        for c in range(cascades):
            with fg.add_pass(f"shadow_cascade{c}") as p:
                p.reads(camera, "vertex_shader_read_uniform")
                shadow = p.writes(shadow, "depth_attachment_write", layers=(c, 1), discard=True)
    with fg.add_pass("gbuffer") as p:
        p.reads(camera, "vertex_shader_read_uniform")
        albedo = p.writes(albedo, "color_attachment_write", discard=True)
        normal = p.writes(normal, "color_attachment_write", discard=True)
        material = p.writes(material, "color_attachment_write", discard=True)
        depth = p.writes(depth, "depth_attachment_write", discard=True)
    if shadow_mask:
        for c in range(cascades):
            cascade = fg.create_image(f"shadow_cascade{c}", format="D32_SFLOAT", extent=(shadow_size, shadow_size))
            with fg.add_pass(f"shadow_cascade{c}") as p:
                p.reads(camera, "vertex_shader_read_uniform")
                cascade = p.writes(cascade, "depth_attachment_write", discard=True)
            with fg.add_pass(f"shadow_project{c}") as p:
                p.reads(cascade, "fragment_shader_read_sampled")
                p.reads(depth, "fragment_shader_read_sampled")
                mask = p.writes(mask, "color_attachment_write", discard=True) if c == 0 else \
                    p.writes(mask, "color_attachment_read_write")
    with fg.add_pass("ssao", queue="compute") as p:
        p.reads(depth, "compute_shader_read_sampled")
        p.reads(normal, "compute_shader_read_sampled")
        p.reads(camera, "compute_shader_read_uniform")
        ao = p.writes(ao, "compute_shader_write_storage", discard=True)
    with fg.add_pass("ssao_blur", queue="compute") as p:
        p.reads(ao, "compute_shader_read_sampled")
        p.reads(depth, "compute_shader_read_sampled")
        ao_blur = p.writes(ao_blur, "compute_shader_write_storage", discard=True)
    with fg.add_pass("lighting") as p:
        for image in (albedo, normal, material, depth, ao_blur, mask if shadow_mask else shadow):
            p.reads(image, "fragment_shader_read_sampled")
        p.reads(lights, "fragment_shader_read_uniform")
        p.reads(camera, "fragment_shader_read_uniform")
        hdr = p.writes(hdr, "color_attachment_write", discard=True)
    with fg.add_pass("forward") as p:
        p.reads(depth, "depth_attachment_read")
        p.reads(lights, "fragment_shader_read_uniform")
        p.reads(camera, "vertex_shader_read_uniform")
        hdr = p.writes(hdr, "color_attachment_read_write")
    with fg.add_pass("bloom_prefilter") as p:
        p.reads(hdr, "fragment_shader_read_sampled")
        bloom = p.writes(bloom, "color_attachment_write", mips=(0, 1), discard=True)
    for m in range(1, bloom_mips):
        with fg.add_pass(f"bloom_down{m}") as p:
            p.reads(bloom, "fragment_shader_read_sampled", mips=(m - 1, 1))
            bloom = p.writes(bloom, "color_attachment_write", mips=(m, 1), discard=True)
    for m in range(bloom_mips - 2, -1, -1):
        with fg.add_pass(f"bloom_up{m}") as p:
            p.reads(bloom, "fragment_shader_read_sampled", mips=(m + 1, 1))
            bloom = p.writes(bloom, "color_attachment_read_write", mips=(m, 1))
    with fg.add_pass("tonemap") as p:
        p.reads(hdr, "fragment_shader_read_sampled")
        p.reads(bloom, "fragment_shader_read_sampled", mips=(0, 1))
        ldr = p.writes(ldr, "color_attachment_write", discard=True)
    with fg.add_pass("fxaa") as p:
        p.reads(ldr, "fragment_shader_read_sampled")
        swap = p.writes(swap, "color_attachment_write", discard=True)
    with fg.add_pass("ui") as p:
        p.reads(camera, "vertex_shader_read_uniform")
        swap = p.writes(swap, "color_attachment_read_write")
    fg.output(swap)
    return fg


def build_deferred_post_shadow_mask(width: int = 1920, height: int = 1080, **kw) -> FrameGraph:
    """deferred_post with per-cascade shadow projection into a screen-space mask (the what-if)."""
    return build_deferred_post(width, height, shadow_mask=True, **kw)


def sample_graphs(width: int, height: int) -> dict:
    """Graphs other engineers' samples expose through build_graph(width, height)."""
    out = {}
    try:
        from samples.deferred import build_graph
    except Exception as error:     # not there yet, or broken mid-edit: say so, measure the rest
        print(f"samples/deferred.py: not measured ({type(error).__name__}: {error})", file=sys.stderr)
        return out
    out["samples.deferred"] = build_graph(width=width, height=height)
    return out


def device_requirements(graphs: dict) -> tuple[dict | None, dict]:
    """{graph name: memory_requirements} from the Vulkan device (validation on), or None."""
    try:
        from framegraph.backends.vulkan import Allocator, VulkanContext, device_profile
        from framegraph.backends.vulkan.heaps import narrow_memory_types
    except (ImportError, OSError) as error:
        return None, {"error": f"no Vulkan: {error}"}
    try:
        ctx = VulkanContext(app_name="memory-benchmark")
    except Exception as error:
        return None, {"error": f"no Vulkan device: {type(error).__name__}: {error}"}
    try:
        profile = device_profile(ctx)
        allocator = Allocator(ctx)
        def requirements(desc):
            size, alignment, bits = allocator.requirements(desc)
            return size, alignment, narrow_memory_types(ctx.memory_properties, bits, desc.host)

        # The device's numbers for each transient's creation record, kept as {name: (size, alignment,
        # bits)} tables so the benchmark can compile again after the device is gone.
        reqs = {}
        for name, g in graphs.items():
            plan = framegraph.compile(g, device=profile, memory_requirements=requirements)
            reqs[name] = {r.name: requirements(r.create) for r in plan.resources
                          if r.transient and r.create is not None}
        allocator.close()
        limits = ctx.properties.limits
        props = ctx.properties
        info = {"device": ctx.device_name, "driver_version": int(props.driverVersion),
                "api_version": "%d.%d.%d" % (props.apiVersion >> 22, (props.apiVersion >> 12) & 0x3FF,
                                             props.apiVersion & 0xFFF),
                "buffer_image_granularity": int(limits.bufferImageGranularity),
                "validation": ctx.validation, "profile": profile}
    finally:
        ctx.destroy()
        messages = [str(m) for m in ctx.messages.drain()]
    info["validation_messages"] = messages
    return reqs, info


def transient_lifetimes(plan) -> dict[str, tuple[int, int]]:
    """First and last compiled position of each transient (as the compiler's lifetimes stage)."""
    transient = {r.name for r in plan.resources if r.transient}
    out: dict[str, tuple[int, int]] = {}
    for pos, p in enumerate(plan.passes):
        for a in p.accesses:
            if a.resource in transient:
                out[a.resource] = (out.get(a.resource, (pos, pos))[0], pos)
    return out


def floors(plan) -> dict:
    """The order-independent floor (max over passes of the transients it touches: they are live
    together in any order), and what is live at the compiled order's peak."""
    size = {r.name: r.size for r in plan.resources if r.transient}
    best, where = 0, None
    for p in plan.passes:
        touched = sum(size[n] for n in {a.resource for a in p.accesses} if n in size)
        if touched > best:
            best, where = touched, p.name
    lts = transient_lifetimes(plan)
    peak_pos, peak = 0, 0
    for pos in range(len(plan.passes)):
        live = sum(size[n] for n, (f, l) in lts.items() if f <= pos <= l)
        if live > peak:
            peak, peak_pos = live, pos
    live_at_peak = sorted(((n, size[n]) for n, (f, l) in lts.items() if f <= peak_pos <= l), key=lambda x: -x[1])
    return {"floor_any_order": best, "floor_pass": where, "peak_pass": plan.passes[peak_pos].name,
            "live_at_peak": [[n, s] for n, s in live_at_peak]}


def measure(graph, *, policy: str, device, requirements: dict | None) -> dict:
    from framegraph.verifier import verify_plan

    plan = framegraph.compile(graph, options=CompileOptions(placement=policy), device=device,
                              memory_requirements=requirements)
    problems = verify_plan(plan.to_dict())
    st = plan.stats
    aliased, unaliased, bound = st["transient_bytes"], st["transient_bytes_unaliased"], st["transient_bytes_lower_bound"]
    kinds = {}
    for h in plan.heaps:
        kinds[h["kind"]] = kinds.get(h["kind"], 0) + h["size"]
    return {"policy": policy, "chosen": st.get("placement"), "passes": len(plan.passes),
            "aliased": aliased, "unaliased": unaliased, "lower_bound": bound,
            "aliased_over_bound": aliased / bound if bound else 1.0,
            "saving_vs_unaliased": 1 - aliased / unaliased if unaliased else 0.0,
            "bound_saving_vs_unaliased": 1 - bound / unaliased if unaliased else 0.0,
            "heaps": [dict(h) for h in plan.heaps], "bytes_by_heap_kind": kinds,
            "goal_bound": aliased <= GOAL_BOUND * bound, "goal_saving": aliased <= (1 - GOAL_SAVING) * unaliased,
            "verifier_problems": [str(p) for p in problems], **floors(plan),
            "resources": {r.name: {"size": r.size, "heap": r.heap, "offset": r.offset}
                          for r in plan.resources if r.transient}}, plan


def _git_state() -> str:
    """HEAD (and whether the tree differs); FRAMEGRAPH_BENCH_COMMIT names it for a copy outside git."""
    if os.environ.get("FRAMEGRAPH_BENCH_COMMIT"):
        return os.environ["FRAMEGRAPH_BENCH_COMMIT"]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return head + (" + uncommitted changes" if dirty else "")
    except OSError:
        return "unknown"


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f}"


def markdown(result: dict) -> str:
    lines = [f"# Transient memory with aliasing ({result['date']})", "",
             f"Generated by `benchmarks/memory.py` at commit `{result['commit']}`; raw numbers in `memory.json`.",
             f"Resolution {result['width']}x{result['height']}. Sizes in MiB (2^20 bytes). "
             f"Goals: aliased <= {GOAL_BOUND}x lower bound; aliased >= {GOAL_SAVING:.0%} below unaliased.", ""]
    dev = result.get("device_info", {})
    if "device" in dev:
        lines.append(f"Real requirements: {dev['device']} (Vulkan {dev['api_version']}, driver {dev['driver_version']}, "
                     f"bufferImageGranularity {dev['buffer_image_granularity']}), queried with "
                     f"vkGetDeviceImageMemoryRequirements / vkGetDeviceBufferMemoryRequirements; validation "
                     f"{'on' if dev.get('validation') else 'off'}, {len(dev.get('validation_messages', []))} messages.")
    elif dev:
        lines.append(f"Real requirements: not measured ({dev.get('error')}).")
    for other in result.get("other_devices", []):
        lines.append(f"Also: {other['device']} (Vulkan {other['api_version']}, driver {other['driver_version']}, "
                     f"bufferImageGranularity {other['buffer_image_granularity']}; from `{other['from']}`; validation "
                     f"{'on' if other.get('validation') else 'off'}, {len(other.get('validation_messages', []))} messages).")
    lines.append("")
    for gname, per_source in result["graphs"].items():
        lines += [f"## {gname}", "",
                  "| sizes from | policy (chosen) | passes | aliased | unaliased | lower bound | floor, any order "
                  "| aliased / bound | saved vs unaliased | bound's saving | goal <= 1.05x | goal >= 40% | verifier |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for source, rows in per_source.items():
            for r in rows:
                lines.append(
                    f"| {source} | {r['policy']} ({r['chosen']}) | {r['passes']} | {_mib(r['aliased'])} | "
                    f"{_mib(r['unaliased'])} | {_mib(r['lower_bound'])} | {_mib(r['floor_any_order'])} "
                    f"({r['floor_pass']}) | {r['aliased_over_bound']:.3f} | "
                    f"{r['saving_vs_unaliased']:.1%} | {r['bound_saving_vs_unaliased']:.1%} | "
                    f"{'met' if r['goal_bound'] else 'MISSED'} | {'met' if r['goal_saving'] else 'MISSED'} | "
                    f"{'clean' if not r['verifier_problems'] else len(r['verifier_problems'])} |")
        first = next(iter(per_source.values()))[0]
        lines += ["", f"Live at the peak (`{first['peak_pass']}`, {next(iter(per_source))} sizes, MiB): "
                  + ", ".join(f"{n} {s / (1 << 20):.1f}" for n, s in first["live_at_peak"]), ""]
    lines += sweep_markdown(result.get("sweep", []))
    notes = result.get("notes")
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    charts = result.get("charts")
    if charts:
        lines += ["Charts (offset x time per heap, `framegraph.viz.memory.memory_figure`): "
                  + ", ".join(f"`{Path(c).name}`" for c in charts), ""]
    return "\n".join(lines)


def run(width: int, height: int, *, use_device: bool, charts: bool, out: Path) -> dict:
    graphs = {"deferred_post": build_deferred_post(width, height).graph(),
              "deferred_post_shadow_mask (what-if)": build_deferred_post_shadow_mask(width, height).graph()}
    graphs.update({k: (g.graph() if hasattr(g, "graph") else g) for k, g in sample_graphs(width, height).items()})
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "commit": _git_state(), "python": platform.python_version(), "width": width, "height": height,
              "goals": {"aliased_over_bound_max": GOAL_BOUND, "saving_min": GOAL_SAVING}, "graphs": {}}
    sources = {"estimator": ("lavapipe", None)}
    if use_device:
        reqs, info = device_requirements(graphs)
        result["device_info"] = {k: v for k, v in info.items() if k != "profile"}
        if reqs is not None:
            sources[info["device"].split(" (")[0]] = (info["profile"], reqs)
    chart_paths = []
    for gname, graph in graphs.items():
        per_source = result["graphs"][gname] = {}
        for source, (device, reqs) in sources.items():
            rows = per_source[source] = []
            for policy in POLICIES:
                row, plan = measure(graph, policy=policy, device=device,
                                    requirements=reqs[gname] if reqs is not None else None)
                rows.append(row)
                # One chart per graph: with the device's sizes where there is a device.
                if charts and policy == "auto" and (source != "estimator" or len(sources) == 1):
                    slug = re.sub(r"[^A-Za-z0-9]+", "_", f"{gname}_{source.split()[0]}").strip("_").lower()
                    path = _chart(plan, out.parent / f"memory_{slug}.png")
                    if path:
                        chart_paths.append(str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path))
    result["charts"] = chart_paths
    return result


SWEEP_RESOLUTIONS = ((1280, 720), (1920, 1080), (2560, 1440), (3840, 2160))
SWEEP_SHADOW_SIZES = (1024, 2048, 4096)


def sample_sweep() -> list[dict]:
    """samples.deferred over resolutions x cascade sizes: estimator sizes, the default policy."""
    try:
        from samples.deferred import build_graph
    except Exception as error:
        print(f"samples/deferred.py: no sweep ({type(error).__name__}: {error})", file=sys.stderr)
        return []
    rows = []
    for width, height in SWEEP_RESOLUTIONS:
        for shadow in SWEEP_SHADOW_SIZES:
            graph = build_graph(width=width, height=height, shadow_size=shadow).graph()
            row, _ = measure(graph, policy="auto", device="lavapipe", requirements=None)
            rows.append({"width": width, "height": height, "shadow_size": shadow,
                         **{k: row[k] for k in ("aliased", "unaliased", "lower_bound", "aliased_over_bound",
                                                "saving_vs_unaliased", "goal_bound", "goal_saving", "peak_pass")},
                         "verifier_problems": len(row["verifier_problems"])})
    return rows


def sweep_markdown(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    lines = ["## samples.deferred: resolution x cascade size (estimator sizes, auto)", "",
             "The sample's default cascade is 2048^2 (two cascades). Saving = 1 - aliased / unaliased.", "",
             "| output | cascade | aliased | unaliased | lower bound | aliased / bound | saved | peak at | verifier |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['width']}x{r['height']} | {r['shadow_size']}^2 | {_mib(r['aliased'])} | "
                     f"{_mib(r['unaliased'])} | {_mib(r['lower_bound'])} | {r['aliased_over_bound']:.3f} | "
                     f"{r['saving_vs_unaliased']:.1%}{'' if r['goal_saving'] else ' (< 40%)'} | {r['peak_pass']} | "
                     f"{'clean' if not r['verifier_problems'] else r['verifier_problems']} |")
    return lines + [""]


def notes(result: dict) -> list[str]:
    """Where each graph's gap to the goals is, in words (from the numbers above)."""
    out = []
    for gname, per_source in result["graphs"].items():
        for source, rows in per_source.items():
            auto = next(r for r in rows if r["policy"] == "auto")
            bound_saving = auto["bound_saving_vs_unaliased"]
            where = (f"{gname} ({source} sizes): auto is {auto['aliased_over_bound']:.3f}x the lower bound and saves "
                     f"{auto['saving_vs_unaliased']:.1%}")
            if auto["goal_saving"]:
                out.append(where + ": both goals met.")
            elif bound_saving < GOAL_SAVING:
                top = ", ".join(f"{n} {s / (1 << 20):.1f}" for n, s in auto["live_at_peak"][:3])
                out.append(where + f"; the lower bound itself is only {bound_saving:.1%} below unaliased, and the "
                           f"floor for any pass order equals it ({auto['floor_pass']} touches "
                           f"{auto['floor_any_order'] / (1 << 20):.1f} MiB itself: {top}, ...). No placement and no "
                           "reordering can reach the 40% goal; only the graph can (see the what-if).")
            else:
                out.append(where + f"; the bound would allow {bound_saving:.1%}: the placement is the gap.")
            break     # one source per graph says it
    return out


def include(result: dict, other: dict, label: str) -> None:
    """Add another run's device rows (not its estimator rows: those are this machine's too)."""
    info = other.get("device_info", {})
    if "device" in info:
        result.setdefault("other_devices", []).append({**info, "from": label})
    for gname, per_source in other.get("graphs", {}).items():
        for source, rows in per_source.items():
            if source != "estimator" and gname in result["graphs"]:
                result["graphs"][gname][source] = rows


def _chart(plan, path: Path) -> Path | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        from framegraph.viz.memory import memory_figure
    except ImportError as error:
        print(f"no chart: {error}", file=sys.stderr)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    memory_figure(plan).savefig(path)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--no-device", action="store_true", help="estimator only (no Vulkan)")
    parser.add_argument("--no-charts", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "memory.json"))
    parser.add_argument("--include", action="append", default=[],
                        help="a memory.json from another machine: its device rows join the tables")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    out = Path(args.out)
    result = run(args.width, args.height, use_device=not args.no_device, charts=not args.no_charts, out=out)
    for other in args.include:
        include(result, json.loads(Path(other).read_text()), Path(other).name)
    result["sweep"] = sample_sweep()
    result["notes"] = notes(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    md = out.with_suffix(".md")
    md.write_text(markdown(result))
    print(md.read_text())
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
