"""An alias hand-off executed (issue 15): a depth image written only by its render pass's depth
test and store op (never read afterwards, so no barrier through it ever makes its writes
available) dies, and a storage image and then a colour target take over its memory. The hand-off
is a global memory barrier carrying the depth writes plus the new image's transition from
UNDEFINED; the frame must render right under every strategy with synchronization validation on.
(On lavapipe a wrong hand-off cannot corrupt pixels, but validation sees the shared memory; the
same test ran on the lent H200, whose depth images are compressed: benchmarks/results/h200-compiler.log.)"""
from __future__ import annotations

import support  # tests/backend is on sys.path (not a package)

try:
    import test_exec_aliasing as aliasing
    from framegraph.backends.vulkan import OffscreenTarget, Renderer
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

import pytest

import framegraph

RED, BLUE = aliasing.RED, aliasing.BLUE


def build(fg, frame):
    width, height = frame.extent
    depth = fg.create_image("D", format="D32_SFLOAT", extent=(width, height))
    b = fg.create_image("B", format="R8G8B8A8_UNORM", extent=(width, height))
    c = fg.create_image("C", format="R8G8B8A8_UNORM", extent=(width, height))
    with fg.add_pass("depth_and_red") as p:
        out = p.writes(frame.output, "color_attachment_write", discard=True)
        depth = p.writes(depth, "depth_attachment_write", discard=True)

        def red(ctx):
            with ctx.rendering(clear=RED, clear_depth=1.0):
                pass
        p.execute(red)
    with fg.add_pass("fill_b", queue="compute") as p:
        b = p.writes(b, "compute_shader_write_storage", discard=True)
        p.execute(lambda ctx: ctx.dispatch_threads(width, height, pipeline=ctx.compute_pipeline("noise.comp"),
                                                   bindings={0: "B"}, push=[aliasing.CELLS]))
    with fg.add_pass("show_b") as p:
        p.reads(b, "fragment_shader_read_sampled")
        out = p.writes(out, "color_attachment_write")
        p.execute(_show("B", 1, width, height))
    with fg.add_pass("fill_c") as p:
        c = p.writes(c, "color_attachment_write", discard=True)

        def blue(ctx):
            with ctx.rendering(clear=BLUE):
                pass
        p.execute(blue)
    with fg.add_pass("show_c") as p:
        p.reads(c, "fragment_shader_read_sampled")
        out = p.writes(out, "color_attachment_write")
        p.execute(_show("C", 2, width, height))
    return out


def _show(name, band, width, height):
    def record(ctx):
        with ctx.rendering():
            aliasing._band(ctx, band, width, height)
            ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "textured.frag"),
                     bindings={0: (name, "nearest")})
    return record


@pytest.mark.parametrize("strategy", ("naive", "per_resource", "batched", "split"))
@pytest.mark.parametrize("streams", ("one_stream", "three_streams"))
def test_depth_memory_handed_to_storage_and_colour_targets(vk_context, strategy, streams):
    width, height = 48, 16
    indices = (0, 0, 0) if streams == "one_stream" else (0, 1, 2)
    plans = []
    target = OffscreenTarget(width, height)
    with Renderer(vk_context, target, strategy=strategy, device=aliasing._profile(vk_context, indices),
                  options=framegraph.CompileOptions(alias_across_queues=True),
                  on_compile=support.verified(plans)) as renderer:
        for _ in range(4):
            renderer.render(build)
            aliasing._check_image(target.read(), width, height)
    res = {r.name: r for r in plans[0].resources}
    assert aliasing._overlap(res["D"], res["B"]) and aliasing._overlap(res["B"], res["C"])
    if strategy != "naive" and streams == "one_stream":
        # The depth writes reach the storage image through a global memory barrier.
        handoffs = [c for c in plans[0].commands() if any(r.hazard == "alias" for r in getattr(c, "reasons", ()))]
        assert handoffs and any(c.dependency.memory for c in handoffs)


@pytest.mark.parametrize("replay", (True, "all"))
def test_hand_off_across_replay_command_buffers_renders_right(vk_context, replay):
    """With replay on, the barriers between passes recorded every frame sit alone in command buffers
    of their own. Lavapipe skips a barrier that is the first or last command of a command buffer, so
    show_b's sampling of B overlapped fill_c's clear of C (the same memory): band 1 came out blue on
    every frame (timestamps off: nothing else around the barriers). The recorder pads such command
    buffers with a state-only command on lavapipe (recorder.Program.pad_barriers)."""
    width, height = 48, 16
    target = OffscreenTarget(width, height)
    with Renderer(vk_context, target, strategy="batched", device=aliasing._profile(vk_context, (0, 0, 0)),
                  options=framegraph.CompileOptions(alias_across_queues=True), replay=replay,
                  timestamps=False, on_compile=support.verified([])) as renderer:
        for _ in range(4):
            renderer.render(build if replay is True else _every_pass_dynamic)
            aliasing._check_image(target.read(), width, height)


def _every_pass_dynamic(fg, frame):
    from framegraph.backends.vulkan.recorder import dynamic
    out = build(fg, frame)
    for name, fn in list(fg.callbacks.items()):
        fg.callbacks[name] = dynamic(fn)
    return out
