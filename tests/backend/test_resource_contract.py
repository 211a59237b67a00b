"""One resource contract between compiler and backend (issue 20): the plan says how to create every
resource (`PlanResource.create`), the compiler placed transients with the device's requirements for
exactly those records, and the backend binds exactly what the plan placed: same heap, same offset,
an object that fits. There is no fallback path: a placement the device contradicts is an error."""
from __future__ import annotations

from functools import partial

import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    import vulkan as vk

    from framegraph.backends.vulkan import OffscreenTarget, Renderer
    from framegraph.samples import async_compute, deferred, multipass, shadow_map
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

import framegraph

SAMPLES = {
    "deferred": partial(deferred.build, shadow_size=256),
    "shadow_map": partial(shadow_map.build, shadow_size=256),
    "multipass": multipass.build,
}


def _requirements(ctx, obj):
    get = vk.vkGetImageMemoryRequirements if hasattr(obj, "format") else vk.vkGetBufferMemoryRequirements
    r = get(ctx.device, obj.handle)
    return int(r.size), int(r.alignment), int(r.memoryTypeBits)


def _check_agreement(vk_context, renderer, plan):
    """Every placed transient of `plan` is bound where the plan says, in memory that fits it."""
    by_name = {r.name: r for r in plan.resources}
    objects = {}
    for entry in renderer.resources._owned.values():
        objects.setdefault(entry.resource.name.split("#")[0], []).append(entry.resource)
    placed = [r for r in plan.resources if r.transient and r.heap is not None and r.create is not None
              and r.create.usage]
    assert placed, "the frame places nothing: the test would prove nothing"
    for r in placed:
        objs = [o for o in objects.get(r.name, []) if o.heap is not None]
        assert objs, f"{r.name}: the plan placed it, the backend did not"
        for obj in objs:
            size, alignment, bits = _requirements(vk_context, obj)
            assert obj.offset == r.offset and obj.offset % alignment == 0, (r.name, obj.offset, r.offset)
            assert size <= r.size, (r.name, size, r.size)
            assert bits & (1 << obj.heap.type_index)
            assert obj.offset + size <= obj.heap.size
    # The creation record is the object: format, extent and usage as the plan says.
    for name, objs in objects.items():
        desc = by_name[name].create if name in by_name else None
        for obj in objs:
            if desc is not None and desc.kind == "image":
                assert obj.extent[:2] == tuple(desc.extent[:2]) and obj.mips == desc.mips


@pytest.mark.parametrize("sample", sorted(SAMPLES))
@pytest.mark.parametrize("profile", [None, "three_streams"])
def test_plans_and_allocations_agree_for_every_sample(vk_context, sample, profile):
    plans = []
    if profile == "three_streams":
        family = vk_context.queues["graphics"].family
        profile = {"name": "streams", "queues": {q: {"family": family, "index": i}
                                                 for i, q in enumerate(("graphics", "compute", "transfer"))}}
    target = OffscreenTarget(96, 64)
    with Renderer(vk_context, target, device=profile, on_compile=support.verified(plans)) as renderer:
        for _ in range(2):
            renderer.render(SAMPLES[sample])
        renderer.wait()
        assert renderer.compiles == 1            # the plan cache still hits on the re-declared frame
        _check_agreement(vk_context, renderer, plans[0])


def test_plans_and_allocations_agree_for_the_async_compute_sample(vk_context):
    plans = []
    async_compute.render_offscreen(vk_context, frames=2, size=(64, 64), on_compile=support.verified(plans))
    assert plans and all(r.create is not None for r in plans[0].resources)


def test_the_compiler_describes_what_the_backend_adds():
    """Image outputs can be read back (TRANSFER_SRC), images the backend brings to an imported initial
    layout get TRANSFER_DST, host-accessed buffers are marked host: all in the plan, none added later."""
    fg = framegraph.FrameGraph("contract")
    out = fg.import_image("out", format="R8G8B8A8_UNORM", extent=(8, 8), final="transfer_read")
    hist = fg.history_image("hist", format="R8G8B8A8_UNORM", extent=(8, 8), state="fragment_shader_read_sampled")
    up = fg.create_buffer("up", size=64)
    with fg.add_pass("fill") as p:
        up = p.writes(up, "host_write", discard=True)
    with fg.add_pass("draw") as p:
        p.reads(up, "vertex_shader_read_uniform")
        p.reads(hist, "fragment_shader_read_sampled")
        out = p.writes(out, "color_attachment_write", discard=True)
    fg.output(out)
    res = {r.name: r for r in framegraph.compile(fg.graph()).resources}
    assert "VK_IMAGE_USAGE_TRANSFER_SRC_BIT" in res["out"].create.usage
    assert "VK_IMAGE_USAGE_TRANSFER_DST_BIT" in res["hist"].create.usage
    assert res["up"].create.host and not res["out"].create.host


def test_cli_compile_on_the_live_device_places_what_the_renderer_places(vk_context, tmp_path):
    """`python -m framegraph compile --device live` asks the device's memory requirements for the same
    records the Renderer does: every transient's heap, offset and size agree."""
    import json
    import os
    import subprocess
    import sys

    graph = deferred.build_graph(width=96, height=64, shadow_size=256, swapchain=False).graph()
    path = tmp_path / "deferred.json"
    path.write_text(framegraph.dump_graph(graph))
    out = tmp_path / "plan.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VK_INSTANCE_LAYERS")}
    run = subprocess.run([sys.executable, "-m", "framegraph", "compile", str(path), "--device", "live",
                          "-o", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    cli = {r["name"]: r for r in json.loads(out.read_text())["resources"]}
    with Renderer(vk_context) as renderer:
        plan = renderer.compile(graph).plan
    placed = [r for r in plan.resources if r.transient and r.heap is not None]
    assert placed
    for r in placed:
        assert (cli[r.name]["heap"], cli[r.name]["offset"], cli[r.name]["size"]) == (r.heap, r.offset, r.size), r.name


@pytest.mark.parametrize("name", ["chain", "deferred_like"])
def test_plans_and_allocations_agree_for_the_test_graphs(vk_context, name):
    """The compiler tests' own graphs, resolved into objects without recording (their passes have no
    callbacks): every placed transient is bound where the plan says."""
    graphs = support.load_module("framegraph_test_graphs", support.HERE.parent / "graphs.py")

    graph = getattr(graphs, name)().graph()
    with Renderer(vk_context) as renderer:
        plan = renderer.compile(graph).plan
        imports = {}
        for r in plan.resources:
            if r.swapchain:     # a swapchain image comes from a window: stand in with an image of that shape
                imports[r.name] = renderer.allocator.image(
                    name=f"test.{r.name}", format=vk.VK_FORMAT_B8G8R8A8_SRGB, extent=tuple(r.extent),
                    usage=vk.VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT)
        renderer.resources.resolve(plan, imports=imports, slot=0, frame=0)
        _check_agreement(vk_context, renderer, plan)
        for image in imports.values():
            renderer.allocator.free(image)
