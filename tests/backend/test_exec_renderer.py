"""The frame loop's contracts: resources cached across frames and freed after a resize, history and
imported images, descriptors with and without push descriptors, plans over several streams,
binding checks against the declared accesses, and that the recorded barriers are the plan's."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    import vulkan as vk
    from framegraph.backends.vulkan import OffscreenTarget, Renderer, frames as frames_mod
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

import framegraph
from framegraph import FrameGraphError
from framegraph.plan import BarrierCmd

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference" / "multipass.png"



helpers = support.load_module("framegraph_test_exec_multipass", HERE / "test_exec_multipass.py")


@pytest.fixture(scope="module")
def multipass():
    return helpers.load_sample("multipass")


def _reference():
    from PIL import Image
    return np.asarray(Image.open(REFERENCE).convert("RGBA"))


def test_identical_graph_reuses_resources(vk_context, multipass):
    target = OffscreenTarget(64, 64)
    with Renderer(vk_context, target) as renderer:
        renderer.render(multipass.build)
        renderer.render(multipass.build)
        first = renderer.resources.allocations
        for _ in range(6):
            renderer.render(multipass.build)
        assert renderer.compiles == 1
        # noise, scene and the output image, once per frame slot; nothing after the first two frames.
        assert first == 3 * renderer.frames_in_flight
        assert renderer.resources.allocations == first
        assert len(renderer.resources) == first


def test_resize_allocates_anew_and_frees_the_old(vk_context, multipass):
    target = OffscreenTarget(64, 64)
    with Renderer(vk_context, target) as renderer:
        for _ in range(3):
            renderer.render(multipass.build)
        target.resize(40, 24)
        for _ in range(3):
            renderer.render(multipass.build)
        assert target.read().shape == (24, 40, 4)
        assert renderer.compiles == 2
        for _ in range((renderer.resources.keep_frames + 1) * renderer.frames_in_flight + 1):
            renderer.render(multipass.build)
        assert len(renderer.resources) == 3 * renderer.frames_in_flight, "the 64x64 resources were not freed"


@pytest.mark.parametrize("frames_in_flight", (1, 2))
def test_unused_resources_go_exactly_keep_frames_after_their_last_use(vk_context, multipass, frames_in_flight):
    """collect() frees an entry once every frame up to its last use plus `keep_frames` frames of
    its slot has finished, no sooner and no later (it skips its scan only while nothing can be that
    old)."""
    target = OffscreenTarget(64, 64)
    with Renderer(vk_context, target, frames_in_flight=frames_in_flight) as renderer:
        for _ in range(3):
            renderer.render(multipass.build)
        last_big = renderer.frame - 1                      # the 64x64 resources' last frame
        target.resize(40, 24)
        counts = []
        for _ in range((renderer.resources.keep_frames + 2) * frames_in_flight + 2):
            frame = renderer.render(multipass.build)
            counts.append((frame.index, len(renderer.resources)))
    keep, fif = renderer.resources.keep_frames, frames_in_flight
    # Three resources per frame slot and size (noise, scene, output); slot s last used the big ones
    # in the last big frame of that slot, and made the small ones at its first small frame.
    big_last = {s: max(f for f in range(last_big + 1) if f % fif == s) for s in range(fif)}
    for index, count in counts:
        # render(index) collects with every frame up to index - fif finished.
        big = sum(1 for s in range(fif) if not index - fif - keep * fif >= big_last[s])
        small = sum(1 for s in range(fif) if any(f % fif == s for f in range(last_big + 1, index + 1)))
        assert count == 3 * (big + small), (index, count, counts)


def _history_graph(fg, frame):
    # One queue on purpose: a plan orders one frame, so a resource shared by consecutive frames may
    # only move between queues with a cross-frame dependency that plans cannot express yet.
    w, h = frame.extent
    hist = fg.history_image("hist", format="R8G8B8A8_UNORM", extent=(w, h), state="transfer_read")
    with fg.add_pass("accumulate") as p:
        hist = p.writes(hist, "compute_shader_write_storage")
        p.reads(hist, "compute_shader_read_storage")
        p.execute(lambda ctx: ctx.dispatch_threads(w, h, pipeline=ctx.compute_pipeline("accumulate.comp"),
                                                   bindings={0: "hist"}))
    with fg.add_pass("show") as p:
        p.reads(hist, "transfer_read")
        out = p.writes(frame.output, "transfer_write", discard=True)
        p.execute(lambda ctx: ctx.copy_image("hist", frame.output.name))
    return out


def test_history_image_persists_across_frames(vk_context):
    plans = []
    target = OffscreenTarget(16, 8)
    with Renderer(vk_context, target, on_compile=support.verified(plans)) as renderer:
        seen = []
        for _ in range(5):
            renderer.render(_history_graph)
            seen.append(int(target.read()[3, 5, 0]))
        assert seen == [1, 2, 3, 4, 5], "the history image starts cleared and keeps its contents"
        assert renderer.resources.allocations == 1 + renderer.frames_in_flight   # one history, outputs per slot


def _expected_noise(width, height, cells):
    ys, xs = np.mgrid[0:height, 0:width]
    u, v = (xs + 0.5) / width, (ys + 0.5) / height
    checker = ((u * cells).astype(int) + (v * cells).astype(int)) & 1
    rgba = np.stack([u, 1.0 - v, checker, np.ones_like(u)], axis=-1)
    return np.round(rgba * 255).astype(np.int16)


def test_imported_image_is_used_as_given(vk_context, multipass):
    width, height = 24, 16
    target = OffscreenTarget(width, height)
    with Renderer(vk_context, target) as renderer:
        usage = vk.VK_IMAGE_USAGE_STORAGE_BIT | vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT
        mine = renderer.allocator.image(name="user.texture", format=vk.VK_FORMAT_R8G8B8A8_UNORM,
                                        extent=(width, height, 1), usage=usage)

        def build(fg, frame):
            tex = fg.import_image("tex", format="R8G8B8A8_UNORM", extent=(width, height), external=mine,
                                  initial="undefined", final="transfer_read")
            with fg.add_pass("noise") as p:     # graphics queue: `tex` is shared by consecutive frames
                tex = p.writes(tex, "compute_shader_write_storage", discard=True)
                p.execute(lambda ctx: ctx.dispatch_threads(width, height, pipeline=ctx.compute_pipeline("noise.comp"),
                                                           bindings={0: "tex"}, push=[4.0]))
            with fg.add_pass("copy") as p:
                p.reads(tex, "transfer_read")
                out = p.writes(frame.output, "transfer_write", discard=True)
                p.execute(lambda ctx: ctx.copy_image("tex", frame.output.name))
            return out

        for _ in range(3):
            renderer.render(build)
        pixels = target.read().astype(np.int16)
        assert np.abs(pixels - _expected_noise(width, height, 4.0)).max() <= 1
        assert renderer.resources.allocations == renderer.frames_in_flight   # only the outputs: tex is ours


def test_descriptor_pools_without_push_descriptors(vk_context, multipass):
    target = OffscreenTarget(64, 64)
    with Renderer(vk_context, target, push_descriptors=False) as renderer:
        assert not renderer.pipelines.push_descriptors
        for _ in range(4):
            renderer.render(multipass.build)
        helpers.compare_with_reference(target.read(), REFERENCE, "multipass.descriptor_pools")


def _profile(ctx, indices):
    """Every logical queue on the graphics family, at the given queue indices: distinct indices make
    separate streams (timeline waits between them) that share the context's one VkQueue of the family;
    equal ones make one stream, so sync validation sees a whole frame in one command buffer."""
    family = ctx.queues["graphics"].family
    return {"name": f"graphics-family-{indices}", "queues": {
        q: {"family": family, "index": i} for q, i in zip(("graphics", "compute", "transfer"), indices)}}


@pytest.mark.parametrize("strategy", ("batched", "split"))
def test_plans_over_several_streams(vk_context, multipass, strategy):
    plans = []
    target = OffscreenTarget(64, 64)
    with Renderer(vk_context, target, strategy=strategy, device=_profile(vk_context, (0, 1, 2)),
                  on_compile=support.verified(plans)) as renderer:
        for i in range(4):
            renderer.render(multipass.build)
            helpers.compare_with_reference(target.read(), REFERENCE, f"multipass.streams.{strategy}.{i}")
        assert renderer.compiles == 1
    plan = plans[0]
    assert len(plan.queues) == 2 and len(plan.submits) >= 3
    assert any(w.queue is not None for s in plan.submits for w in s.waits), "no semaphore wait exercised"


def test_bindings_are_checked_against_declared_accesses(vk_context):
    target = OffscreenTarget(8, 8)

    def build(fg, frame, bad):
        tex = fg.create_image("tex", format="R8G8B8A8_UNORM", extent=(8, 8))
        other = fg.create_image("other", format="R8G8B8A8_UNORM", extent=(8, 8))
        with fg.add_pass("fill", queue="compute") as p:
            tex = p.writes(tex, "compute_shader_write_storage", discard=True)
            other = p.writes(other, "compute_shader_write_storage", discard=True)
            p.execute(lambda ctx: ctx.dispatch_threads(8, 8, pipeline=ctx.compute_pipeline("noise.comp"),
                                                       bindings={0: "tex"}, push=[2.0]))
        with fg.add_pass("post") as p:
            p.reads(tex, "fragment_shader_read_sampled")
            p.reads(other, "fragment_shader_read_sampled")
            out = p.writes(frame.output, "color_attachment_write", discard=True)

            def post(ctx):
                with ctx.rendering(clear=(0, 0, 0, 1)):
                    pipe = ctx.graphics_pipeline("fullscreen.vert", "post.frag")
                    ctx.draw(3, pipeline=pipe, bindings={0: bad}, push=[1.0, 0.0])
            p.execute(post)
        return out

    with Renderer(vk_context, target) as renderer:
        renderer.render(lambda fg, frame: build(fg, frame, "tex"))
        with pytest.raises(FrameGraphError, match=r"pass 'post', resource 'missing'.*did not declare"):
            renderer.render(lambda fg, frame: build(fg, frame, "missing"))
    with Renderer(vk_context, OffscreenTarget(8, 8)) as renderer:
        def storage_bound_as_sampled(fg, frame):
            tex = fg.create_image("tex", format="R8G8B8A8_UNORM", extent=(8, 8))
            with fg.add_pass("fill", queue="compute") as p:
                tex = p.writes(tex, "compute_shader_write_storage", discard=True)
                p.execute(lambda ctx: None)         # no body: only the post pass's binding matters here
            with fg.add_pass("post") as p:
                p.reads(tex, "fragment_shader_read_storage")      # declared storage, bound as a sampler
                out = p.writes(frame.output, "color_attachment_write", discard=True)

                def post(ctx):
                    with ctx.rendering(clear=(0, 0, 0, 1)):
                        ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "post.frag"),
                                 bindings={0: "tex"}, push=[1.0, 0.0])
                p.execute(post)
            return out
        with pytest.raises(FrameGraphError, match=r"resource 'tex'.*as a sampled image"):
            renderer.render(storage_bound_as_sampled)


def test_recorded_barriers_are_exactly_the_plans(vk_context, multipass, monkeypatch):
    """Drop the plan's barrier before `raster` (noise: storage write -> sampled read): synchronization
    validation must then see the hazard. The backend adds nothing that would hide it."""
    real_compile = framegraph.compile

    def without_barrier_before_raster(graph, **kw):
        plan = real_compile(graph, **kw)
        submits = []
        for s in plan.submits:
            cmds = list(s.commands)
            for i, c in enumerate(cmds):
                if getattr(c, "pass_name", None) == "raster":
                    while i and isinstance(cmds[i - 1], BarrierCmd):
                        del cmds[i - 1]
                        i -= 1
                    break
            submits.append(dataclasses.replace(s, commands=tuple(cmds)))
        return dataclasses.replace(plan, submits=tuple(submits))

    monkeypatch.setattr(frames_mod.framegraph, "compile", without_barrier_before_raster)
    log = vk_context.messages
    # replay=False: one command buffer, where this layer (1.3.239) checks hazards by default (see
    # test_exec_aliasing.test_missing_alias_dependency_is_a_hazard).
    with Renderer(vk_context, OffscreenTarget(64, 64), strategy="per_resource",
                  device=_profile(vk_context, (0, 0, 0)), replay=False) as renderer:
        renderer.render(multipass.build)
        renderer.wait()
    found = log.drain()
    assert any("SYNC-HAZARD" in m.message_id_name for m in found), [str(m) for m in found]


def test_uploads_through_per_frame_staging(vk_context):
    width, height = 8, 4
    target = OffscreenTarget(width, height)
    with Renderer(vk_context, target) as renderer:
        echo = renderer.allocator.staging(name="test.echo", size=64, readback=True)
        texels = [np.random.default_rng(i).integers(0, 256, (height, width, 4), dtype=np.uint8) for i in range(4)]
        words = [np.arange(16, dtype=np.uint32) * (i + 1) for i in range(4)]

        def build(fg, frame):
            i = frame.index
            pic = fg.create_image("pic", format="R8G8B8A8_UNORM", extent=(width, height))
            data = fg.create_buffer("data", size=64)
            seen = fg.import_buffer("echo", size=64, external=echo, final="host_read")
            with fg.add_pass("upload", queue="transfer") as p:
                pic = p.writes(pic, "transfer_write", discard=True)
                data = p.writes(data, "transfer_write", discard=True)

                def upload(ctx):
                    ctx.upload("pic", texels[i])
                    ctx.upload("data", words[i])
                p.execute(upload)
            with fg.add_pass("show") as p:
                p.reads(pic, "transfer_read")
                p.reads(data, "transfer_read")
                p.writes(seen, "transfer_write", discard=True)
                out = p.writes(frame.output, "transfer_write", discard=True)

                def show(ctx):
                    ctx.copy_image("pic", frame.output.name)
                    ctx.copy_buffer("data", "echo")
                p.execute(show)
            return out

        for i in range(4):
            renderer.render(build)
            assert np.array_equal(target.read(), texels[i])
            assert np.array_equal(echo.read("uint32"), words[i])


def test_offscreen_forced_by_environment(monkeypatch):
    from framegraph.backends.vulkan import WindowTarget, make_target

    monkeypatch.setenv("DISPLAY", ":12345")
    monkeypatch.setenv("FRAMEGRAPH_OFFSCREEN", "1")
    assert isinstance(make_target(32, 32), OffscreenTarget)
    monkeypatch.setenv("FRAMEGRAPH_OFFSCREEN", "0")
    assert isinstance(make_target(32, 32), WindowTarget)     # not attached: no window is opened
    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert isinstance(make_target(32, 32), OffscreenTarget)


def test_a_failing_frame_leaves_the_renderer_usable(vk_context, multipass):
    target = OffscreenTarget(64, 64)

    def broken(fg, frame):
        multipass.build(fg, frame)
        raise RuntimeError("build failed")

    with Renderer(vk_context, target) as renderer:
        renderer.render(multipass.build)
        with pytest.raises(RuntimeError, match="build failed"):
            renderer.render(broken)
        with pytest.raises(FrameGraphError, match="final handle"):
            renderer.render(lambda fg, frame: None)
        for _ in range(3):
            renderer.render(multipass.build)
        helpers.compare_with_reference(target.read(), REFERENCE, "multipass.after_failure")
