"""Transient aliasing executed (issue #7): transients the compiler places on the same bytes of one heap
are bound to the same VkDeviceMemory at the plan's offsets, written and read in turn, and every frame
still comes out right; heaps are kept across frames and grow only when a plan needs more.

The frame: A (RGBA16F, cleared red) is sampled into the output's left third; then B (RGBA8, the noise
pattern from a compute pass) into the middle third; then C (RGBA8, cleared blue) into the right third.
Their lifetimes are disjoint, so all three start at offset 0 of one heap: if B's write were not
ordered after A's read (or C's after B's), the earlier band would show the later image's bytes.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    import vulkan as vk
    from vulkan import lib

    from framegraph.backends.vulkan import OffscreenTarget, Renderer, frames as frames_mod
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

import framegraph
from framegraph.plan import BarrierCmd
from framegraph.vk import Access, Stage

RED = (1.0, 0.0, 0.0, 1.0)
BLUE = (0.0, 0.0, 1.0, 1.0)
CELLS = 4.0


def _expected_noise(width, height):
    ys, xs = np.mgrid[0:height, 0:width]
    u, v = (xs + 0.5) / width, (ys + 0.5) / height
    checker = ((u * CELLS).astype(int) + (v * CELLS).astype(int)) & 1
    rgba = np.stack([u, 1.0 - v, checker, np.ones_like(u)], axis=-1)
    return np.round(rgba * 255).astype(np.int16)


def expected_image(width, height):
    third = width // 3
    out = np.zeros((height, width, 4), np.int16)
    out[..., 3] = 255
    out[:, :third] = (255, 0, 0, 255)
    out[:, third:2 * third] = _expected_noise(width, height)[:, third:2 * third]
    out[:, 2 * third:] = (0, 0, 255, 255)
    return out


def _band(ctx, band: int, width: int, height: int) -> None:
    """Restrict drawing to one third of the output (after rendering() set the full scissor)."""
    third = width // 3
    x0 = band * third
    x1 = width if band == 2 else x0 + third
    scissor = vk.ffi.new("VkRect2D*", {"offset": {"x": x0, "y": 0}, "extent": {"width": x1 - x0, "height": height}})
    lib.vkCmdSetScissor(ctx.cmd, 0, 1, scissor)


def make_build(*, b_queue: str = "compute", seen: list | None = None, scale: int = 1):
    """The aliasing frame; `scale` multiplies the extent of A and C (a bigger graph whose bands are
    uniform colours, so sampling them stays exact; B keeps the output's size). `seen` collects
    (frame, name, memory handle value, offset, VkMemoryRequirements) from inside the passes."""

    def note(ctx, name):
        if seen is None:
            return
        image = ctx.image(name)
        req = vk.vkGetImageMemoryRequirements(ctx.vulkan.device, image.handle)
        memory = image.heap.handle if image.heap is not None else image.memory
        seen.append((ctx.frame.index, name, int(vk.ffi.cast("uint64_t", memory)), image.offset,
                     (req.size, req.alignment, req.memoryTypeBits)))

    def build(fg, frame):
        width, height = frame.extent
        tw, th = width * scale, height * scale
        a = fg.create_image("A", format="R16G16B16A16_SFLOAT", extent=(tw, th))
        b = fg.create_image("B", format="R8G8B8A8_UNORM", extent=(width, height))
        c = fg.create_image("C", format="R8G8B8A8_UNORM", extent=(tw, th))

        def show(name, band, clear=None):
            def record(ctx):
                note(ctx, name)
                with ctx.rendering(clear=clear):
                    _band(ctx, band, width, height)
                    ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "textured.frag"),
                             bindings={0: (name, "nearest")})
            return record

        def clear_pass(name, colour):
            def record(ctx):
                note(ctx, name)
                with ctx.rendering(clear=colour):
                    pass
            return record

        with fg.add_pass("fill_a") as p:
            a = p.writes(a, "color_attachment_write", discard=True)
            p.execute(clear_pass("A", RED))
        with fg.add_pass("show_a") as p:
            p.reads(a, "fragment_shader_read_sampled")
            out = p.writes(frame.output, "color_attachment_write", discard=True)
            p.execute(show("A", 0, clear=(0.0, 0.0, 0.0, 1.0)))
        with fg.add_pass("fill_b", queue=b_queue) as p:
            b = p.writes(b, "compute_shader_write_storage", discard=True)

            def fill_b(ctx):
                note(ctx, "B")
                ctx.dispatch_threads(width, height, pipeline=ctx.compute_pipeline("noise.comp"), bindings={0: "B"},
                                     push=[CELLS])
            p.execute(fill_b)
        with fg.add_pass("show_b") as p:
            p.reads(b, "fragment_shader_read_sampled")
            out = p.writes(out, "color_attachment_write")
            p.execute(show("B", 1))
        with fg.add_pass("fill_c") as p:
            c = p.writes(c, "color_attachment_write", discard=True)
            p.execute(clear_pass("C", BLUE))
        with fg.add_pass("show_c") as p:
            p.reads(c, "fragment_shader_read_sampled")
            out = p.writes(out, "color_attachment_write")
            p.execute(show("C", 2))
        return out

    return build


def _profile(ctx, indices):
    family = ctx.queues["graphics"].family
    return {"name": f"graphics-family-{indices}", "queues": {
        q: {"family": family, "index": i} for q, i in zip(("graphics", "compute", "transfer"), indices)}}


def _overlap(x, y) -> bool:
    return x.heap == y.heap and x.offset < y.offset + y.size and y.offset < x.offset + x.size


def _check_image(actual, width, height):
    expected = expected_image(width, height)
    diff = np.abs(actual.astype(np.int16) - expected).max(axis=2)
    bad = np.argwhere(diff > 1)
    assert bad.size == 0, (f"{len(bad)} pixels wrong, first at (y, x) = {tuple(bad[0])}: "
                           f"{actual[tuple(bad[0])]} vs {expected[tuple(bad[0])]}")


@pytest.mark.parametrize("strategy", ("naive", "per_resource", "batched", "split"))
@pytest.mark.parametrize("streams", ("one_stream", "three_streams"))
def test_aliased_transients_render_correctly(vk_context, strategy, streams):
    width, height = 48, 16
    indices = (0, 0, 0) if streams == "one_stream" else (0, 1, 2)
    plans, seen = [], []
    before = vk_context.live_objects()
    target = OffscreenTarget(width, height)
    # Across streams, memory is shared only where semaphores already order the uses, unless asked
    # for: this test asks, so the aliasing itself is what adds the cross-queue waits.
    options = framegraph.CompileOptions(alias_across_queues=True)
    with Renderer(vk_context, target, strategy=strategy, device=_profile(vk_context, indices),
                  options=options, on_compile=support.verified(plans)) as renderer:
        for _ in range(6):
            renderer.render(make_build(seen=seen))
            _check_image(target.read(), width, height)
        assert renderer.compiles == 1
    assert vk_context.live_objects() == before, "renderer.close() must free every heap and placed resource"

    plan = plans[0]
    res = {r.name: r for r in plan.resources}
    a, b, c = res["A"], res["B"], res["C"]
    assert a.heap is not None and a.heap == b.heap == c.heap
    assert _overlap(a, b) and _overlap(b, c) and _overlap(a, c), [(r.name, r.heap, r.offset, r.size) for r in (a, b, c)]
    st = plan.stats
    assert st["transient_bytes"] < st["transient_bytes_unaliased"]
    assert st["transient_bytes"] == st["transient_bytes_lower_bound"] == max(a.size, b.size, c.size)
    assert a.size >= width * height * 8 and b.size >= width * height * 4    # the device's sizes (lavapipe: equal)
    if streams == "three_streams":
        assert len(plan.queues) == 2 and any(w.queue for s in plan.submits for w in s.waits)

    # The plan's sizes are the device's (lavapipe: exact texel bytes, 16-byte alignment), and the three
    # images were really bound to one VkDeviceMemory at the plan's offsets, in every frame.
    by_frame: dict[int, dict] = {}
    for frame, name, memory, offset, (size, alignment, bits) in seen:
        assert size <= res[name].size and offset == res[name].offset and offset % alignment == 0
        assert bits & int(plan.heaps[res[name].heap]["memory_type_bits"])
        by_frame.setdefault(frame, {})[name] = memory
    # Every frame recorded its callbacks, unless the renderer replays (FRAMEGRAPH_TEST_REPLAY=all):
    # then each slot recorded them at least once.
    assert len(by_frame) == 6 if renderer.replay != "all" else len(by_frame) >= renderer.frames_in_flight
    for frame, memories in by_frame.items():
        assert len(set(memories.values())) == 1, f"frame {frame}: A, B and C in different memory: {memories}"
    assert len({m["A"] for m in by_frame.values()}) == renderer.frames_in_flight, "one heap per frame slot"


def test_missing_alias_dependency_is_a_hazard(vk_context, monkeypatch):
    """Strip the source scope from the barriers that order a new occupant after the old one: the
    memory is really shared, so synchronization validation must see the hazard."""
    real_compile = framegraph.compile

    def without_alias_order(graph, **kw):
        plan = real_compile(graph, **kw)
        submits = []
        stripped = 0
        for s in plan.submits:
            cmds = []
            for cmd in s.commands:
                if isinstance(cmd, BarrierCmd) and any(r.hazard == "alias" for r in cmd.reasons):
                    aliased = {r.resource for r in cmd.reasons if r.hazard == "alias"}
                    images = tuple(dataclasses.replace(i, src_stages=Stage.NONE, src_access=Access.NONE)
                                   if i.resource in aliased else i for i in cmd.dependency.images)
                    stripped += sum(i.resource in aliased for i in cmd.dependency.images)
                    cmd = dataclasses.replace(cmd, dependency=dataclasses.replace(cmd.dependency, images=images))
                cmds.append(cmd)
            submits.append(dataclasses.replace(s, commands=tuple(cmds)))
        assert stripped, "the plan has no aliasing barrier to strip"
        return dataclasses.replace(plan, submits=tuple(submits))

    monkeypatch.setattr(frames_mod.framegraph, "compile", without_alias_order)
    log = vk_context.messages
    # replay=False: one command buffer. The validation layer here (1.3.239) checks hazards within a
    # command buffer; its check across the command buffers of a submit is opt-in and alpha.
    with Renderer(vk_context, OffscreenTarget(48, 16), strategy="per_resource",
                  device=_profile(vk_context, (0, 0, 0)), replay=False) as renderer:
        renderer.render(make_build(b_queue="graphics"))
        renderer.wait()
    found = log.drain()
    assert any("SYNC-HAZARD" in m.message_id_name for m in found), [str(m) for m in found]


def test_heaps_are_reused_across_frames_and_grow_for_a_bigger_graph(vk_context):
    width, height = 48, 16
    small, big = make_build(b_queue="graphics"), make_build(b_queue="graphics", scale=2)
    before = vk_context.live_objects()
    target = OffscreenTarget(width, height)
    plans = []
    with Renderer(vk_context, target, on_compile=support.verified(plans)) as renderer:
        heaps = renderer.resources.heaps
        fif = renderer.frames_in_flight
        for _ in range(fif):
            renderer.render(small)
        memories = vk_context.live_count("VkDeviceMemory")
        first = heaps.allocations
        assert first == len(plans[0].heaps) * fif           # one VkDeviceMemory per plan heap and frame slot
        sizes = sorted(h.size for h in heaps.heaps())
        for _ in range(3 * fif):
            renderer.render(small)
            _check_image(target.read(), width, height)
        assert heaps.allocations == first, "an unchanged graph allocated heap memory again"
        assert vk_context.live_count("VkDeviceMemory") == memories
        assert renderer.resources.allocations == 3 * fif + fif   # A, B, C per slot, the outputs per slot

        for _ in range(2 * fif):                            # a bigger graph: every slot's heap grows once
            renderer.render(big)
            _check_image(target.read(), width, height)
        assert heaps.grown == fif and heaps.allocations == first + fif
        grown = sorted(h.size for h in heaps.heaps())
        assert grown == sorted([h["size"] for h in plans[-1].heaps] * fif) and min(grown) > max(sizes)
        assert vk_context.live_count("VkDeviceMemory") == memories, "the outgrown heaps were not freed"

        for _ in range(2 * fif):                            # smaller again: the big heaps serve it
            renderer.render(small)
            _check_image(target.read(), width, height)
        assert heaps.allocations == first + fif and heaps.grown == fif
        assert renderer.compiles == 2
    assert vk_context.live_objects() == before


def test_unused_heaps_are_freed_and_counts_stay_flat(vk_context):
    """Alternating graphs share heaps; after a change, what no plan uses any more is freed once no
    frame in flight can need it, so live objects do not grow over many frames."""
    width, height = 48, 16
    graphs = [make_build(b_queue="graphics"), make_build(b_queue="graphics", scale=2)]
    target = OffscreenTarget(width, height)
    with Renderer(vk_context, target) as renderer:
        counts = []
        for i in range(40):
            renderer.render(graphs[(i // 3) % 2])
            _check_image(target.read(), width, height)
            if i >= 12:
                counts.append(vk_context.live_count())
        assert max(counts) == min(counts), counts

        def buffers(fg, frame):
            # A different graph whose transient is a buffer: the image heaps go once unused.
            data = fg.create_buffer("data", size=256)
            with fg.add_pass("fill") as p:
                data = p.writes(data, "transfer_write", discard=True)
                p.execute(lambda ctx: ctx.update_buffer("data", np.arange(64, dtype=np.uint32)))
            with fg.add_pass("use") as p:
                p.reads(data, "transfer_read")
                out = p.writes(frame.output, "transfer_write", discard=True)
                p.execute(lambda ctx: vk.vkCmdClearColorImage(
                    ctx.cmd, ctx.image(frame.output.name).handle, vk.VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                    vk.VkClearColorValue(float32=[0.0, 1.0, 0.0, 1.0]), 1,
                    [ctx.image(frame.output.name).subresource_range()]))
            return out

        for _ in range((renderer.resources.keep_frames + 2) * renderer.frames_in_flight + 1):
            renderer.render(buffers)
        kinds = {h.key[1] for h in renderer.resources.heaps.heaps()}
        assert kinds == {"buffer"}, kinds
        assert len(renderer.resources.heaps) == renderer.frames_in_flight


def test_a_placement_the_device_contradicts_is_an_error_not_a_fallback(vk_context):
    """Requirements that understate the device's (here: halved sizes) give placements the objects do
    not fit. The plan's aliasing would no longer describe what runs, so the frame fails with the
    resource named instead of quietly giving it memory of its own; the next frame, compiled with the
    device's own requirements (the requirements function is part of the plan cache's key), renders."""
    width, height = 48, 16
    target = OffscreenTarget(width, height)
    with Renderer(vk_context, target, on_compile=support.verified([])) as renderer:
        real = renderer.resources.requirements

        def understated(desc):
            size, alignment, bits = real(desc)
            return size // 2, alignment, bits
        renderer.resources.requirements = understated
        with pytest.raises(framegraph.FrameGraphError, match="placement does not fit this device"):
            renderer.render(make_build(b_queue="graphics"))
        renderer.resources.requirements = real
        renderer.render(make_build(b_queue="graphics"))          # the same structure: compiled again
        assert (renderer.plan_cache.misses, renderer.compiles) == (2, 2)
        _check_image(target.read(), width, height)


@pytest.mark.parametrize("host_first", (False, True))
def test_host_written_transient_buffers(vk_context, host_first):
    """A transient buffer the host writes while the frame is recorded: placed (in mapped memory) when it
    is its memory's first occupant, given its own memory when an earlier pass's buffer shares its
    bytes (that pass runs on the GPU after the host wrote)."""
    width, height = 8, 4
    target = OffscreenTarget(width, height)
    with Renderer(vk_context, target) as renderer:
        echo_gpu = renderer.allocator.staging(name="test.echo_gpu", size=256, readback=True)
        echo_host = renderer.allocator.staging(name="test.echo_host", size=256, readback=True)
        placed = {}

        def build(fg, frame):
            gpu_words = np.arange(64, dtype=np.uint32) + 1000 * frame.index
            host_words = np.arange(64, dtype=np.uint32)[::-1] + 7 * frame.index
            seen_gpu = fg.import_buffer("echo_gpu", size=256, external=echo_gpu, final="host_read")
            seen_host = fg.import_buffer("echo_host", size=256, external=echo_host, final="host_read")
            out = frame.output

            def gpu_part():
                nonlocal seen_gpu
                data = fg.create_buffer("gpu_data", size=256)
                with fg.add_pass("gpu_fill") as p:
                    data = p.writes(data, "transfer_write", discard=True)
                    p.execute(lambda ctx: ctx.update_buffer("gpu_data", gpu_words))
                with fg.add_pass("gpu_use") as p:
                    p.reads(data, "transfer_read")
                    seen_gpu = p.writes(seen_gpu, "transfer_write", discard=True)
                    p.execute(lambda ctx: ctx.copy_buffer("gpu_data", "echo_gpu"))

            def host_part():
                nonlocal seen_host
                data = fg.create_buffer("host_data", size=256)
                with fg.add_pass("host_fill") as p:
                    data = p.writes(data, "host_write", discard=True)

                    def fill(ctx):
                        buffer = ctx.buffer("host_data")
                        placed[frame.index] = buffer.heap is not None
                        buffer.write(host_words)
                    p.execute(fill)
                with fg.add_pass("host_use") as p:
                    p.reads(data, "transfer_read")
                    seen_host = p.writes(seen_host, "transfer_write", discard=True)
                    p.execute(lambda ctx: ctx.copy_buffer("host_data", "echo_host"))

            for part in ((host_part, gpu_part) if host_first else (gpu_part, host_part)):
                part()
            with fg.add_pass("clear") as p:
                p.reads(seen_gpu, "transfer_read")      # keeps both chains (imports are never culled anyway)
                out = p.writes(out, "transfer_write", discard=True)
                p.execute(lambda ctx: vk.vkCmdClearColorImage(
                    ctx.cmd, ctx.image(frame.output.name).handle, vk.VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                    vk.VkClearColorValue(float32=[0.0, 0.0, 0.0, 1.0]), 1,
                    [ctx.image(frame.output.name).subresource_range()]))
            return out

        for i in range(4):
            renderer.render(build)
            renderer.wait()
            assert np.array_equal(echo_gpu.read("uint32"), np.arange(64, dtype=np.uint32) + 1000 * i)
            assert np.array_equal(echo_host.read("uint32"), np.arange(64, dtype=np.uint32)[::-1] + 7 * i)
        plan = renderer.last_plan
        res = {r.name: r for r in plan.resources}
        # The compiler lets a host-written transient be only the first occupant of its memory (the host
        # writes it before any GPU work of the frame runs); the backend binds it where the plan says.
        assert set(placed.values()) == {True}
        assert not _overlap(res["gpu_data"], res["host_data"]) or host_first
