"""Per-frame host data in mapped buffers (Renderer.create_frame_data, issue 18): each frame reads
exactly the data set before its render() call, with frames in flight, with replay off and on and
the frame declared once; the first read needs no barrier; bad use is a FrameGraphError naming the
resource. The deferred sample declared once (its uniforms and lights in FrameData) renders the same
images as the sample that uploads them every frame."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import FrameData, OffscreenTarget, Renderer
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

from framegraph import FrameGraphError
from framegraph.samples import deferred

N = 64
MODES = (False, True, "all")


ADD = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) buffer Dst { float dst[]; };
void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i < dst.length()) dst[i] += src[i];
}
"""


def _add(fg, src, dst):
    """One compute pass: dst += src (add.comp); returns dst's new version."""
    with fg.add_pass("add", queue="compute") as p:
        p.reads(src, "compute_shader_read_storage")
        dst = p.writes(dst, "compute_shader_write_storage")
        p.execute(lambda ctx: ctx.dispatch_threads(N, pipeline=ctx.compute_pipeline("add.comp"),
                                                   bindings={0: src, 1: dst}))
    return dst


@pytest.mark.parametrize("replay", MODES)
@pytest.mark.parametrize("frames_in_flight", (1, 2, 3))
def test_each_frame_reads_the_data_set_before_it(vk_context, tmp_path, replay, frames_in_flight):
    """dst += src every frame, src set to 2**k before frame k, nothing read in between (frames stay
    in flight): any frame that read another frame's data (stale, or overwritten while in flight)
    changes the sum."""
    support.need_glslc()
    (tmp_path / "add.comp").write_text(ADD)
    plans = []
    with Renderer(vk_context, replay=replay, frames_in_flight=frames_in_flight,
                  on_compile=support.verified(plans)) as renderer:
        renderer.add_shader_path(tmp_path)
        src = renderer.create_frame_data("inputs", size=N * 4)
        assert isinstance(src, FrameData)
        dst = renderer.create_buffer("dst", data=np.zeros(N, np.float32))

        def build(fg, frame):
            return _add(fg, src.use(fg, frame), dst.use(fg))
        frames = 7
        for k in range(frames):
            src.set(np.arange(N, dtype=np.float32) * 2.0 ** k)
            renderer.render(build, redeclare=False)
        got = dst.read(np.float32)
        recorded = renderer.last_recorded
        explained = renderer.last_plan.explain()
    assert len(plans) == 1
    np.testing.assert_array_equal(got, np.arange(N, dtype=np.float32) * (2.0 ** frames - 1))
    if replay == "all":
        assert recorded == 0, "a frame whose data lives in FrameData re-recorded its commands"
    # Host writes before a submission are visible to it: the data's first read has no barrier.
    assert "buffer dst" in explained and "buffer inputs" not in explained, explained


def test_bad_use_names_the_resource(vk_context):
    with Renderer(vk_context) as renderer:
        data = renderer.create_frame_data("lights", size=16)
        with pytest.raises(FrameGraphError, match="lights") as e:
            data.set(np.zeros(5, np.float32))
        assert "20 bytes" in str(e.value)
        with pytest.raises(FrameGraphError, match="FrameInfo"):
            data.use(None, object())
        with pytest.raises(FrameGraphError, match="data= or size="):
            renderer.create_frame_data("empty")
        with pytest.raises(FrameGraphError, match="at least 1 byte"):
            renderer.create_frame_data("zero", size=0)
        # A failed set() leaves the data as it was.
        data.set(b"\1" * 16)
        version = data.version
        with pytest.raises(FrameGraphError):
            data.set(b"\2" * 8, offset=12)
        assert data.version == version


@pytest.mark.parametrize("replay", (False, "all"))
def test_destroyed_data_in_a_frame_declared_once_is_refused(vk_context, tmp_path, replay):
    """A frame declared once brings the same plan resources every frame, and persistent imports
    check them once; destroy() must still be caught at the next frame (naming the resource), and the
    renderer render the next frame that does not use it."""
    support.need_glslc()
    (tmp_path / "add.comp").write_text(ADD)
    with Renderer(vk_context, replay=replay) as renderer:
        renderer.add_shader_path(tmp_path)
        src = renderer.create_frame_data("inputs", data=np.ones(N, np.float32))
        dst = renderer.create_buffer("dst", data=np.zeros(N, np.float32))
        other = renderer.create_buffer("other", data=np.ones(N, np.float32))

        def declare(fg, source):
            return _add(fg, source, dst.use(fg))

        def with_data(fg, frame):
            return declare(fg, src.use(fg, frame))

        def with_buffer(fg, frame):
            return declare(fg, other.use(fg))

        for build in (with_data, with_buffer):
            for _ in range(3):
                renderer.render(build, redeclare=False)
        for gone, build in ((src, with_data), (other, with_buffer)):
            gone.destroy()
            with pytest.raises(FrameGraphError, match="used after destroy") as e:
                renderer.render(build, redeclare=False)
            assert e.value.resource.startswith(gone.name), e.value.resource
        fresh = renderer.create_buffer("fresh", data=np.ones(N, np.float32))
        renderer.render(lambda fg, frame: declare(fg, fresh.use(fg)))
        got = dst.read(np.float32)
    np.testing.assert_array_equal(got, np.full(N, 7.0, np.float32))    # 3 + 3 frames, then the fresh one


@pytest.mark.parametrize("streams", (1, 2))
@pytest.mark.parametrize("replay", (False, "all"))
def test_deferred_declared_once_matches_the_uploading_sample(vk_context, replay, streams):
    """streams=1: every logical queue on the graphics queue (one submit, on any device); streams=2:
    SSAO on a compute stream of its own (its own submits, timeline semaphores between the streams),
    both on this device's graphics queue family."""
    family = vk_context.queues["graphics"].family
    device = {"name": "one-queue" if streams == 1 else "separate-compute", "queues": {
        "graphics": {"family": family, "index": 0}, "compute": {"family": family, "index": streams - 1},
        "transfer": {"family": family, "index": 0}}}
    size, times = (64, 64), (0.5, 1.0, 1.0, 2.0)
    expected = []
    with Renderer(vk_context, OffscreenTarget(*size)) as renderer:
        for t in times:
            frame = renderer.render(functools.partial(deferred.build, shadow_size=256, time=t))
            expected.append(renderer.target.read(frame.index))
    assert (expected[0] != expected[1]).any(), "not animated"
    plans = []
    with Renderer(vk_context, OffscreenTarget(*size), replay=replay, frames_in_flight=2, device=device,
                  on_compile=support.verified(plans)) as renderer:
        once = deferred.DeclaredOnce(renderer, shadow_size=256)
        for t, want in zip(times, expected):
            frame = renderer.render(once.build, redeclare=False, prepare=lambda f, t=t: once.prepare(f, t))
            np.testing.assert_array_equal(renderer.target.read(frame.index), want, err_msg=f"t={t}")
        assert "upload" not in {p.name for p in renderer.last_plan.passes}
        if replay == "all":
            assert renderer.last_recorded == 0
        submits = len(renderer.last_plan.submits)
    assert len(plans) == 1, "declared once, compiled once"
    assert submits > 1 if streams == 2 else submits == 1


def test_prepare_sees_the_frames_extent_and_a_failure_leaves_the_renderer_ready(vk_context):
    """render(prepare=fn): fn(frame) runs once per frame, after the target began it (frame.extent is
    the new size right after a resize) and before build; if it raises, nothing of the frame is
    submitted and the next frame renders."""
    seen, built = [], []

    def build(fg, frame):
        built.append(frame.index)
        with fg.add_pass("clear") as p:
            out = p.writes(frame.output, "color_attachment_write", discard=True)

            def clear(ctx):
                with ctx.rendering(clear=(0.25, 0.5, 0.75, 1.0)):
                    pass
            p.execute(clear)
        return out
    target = OffscreenTarget(8, 8)
    with Renderer(vk_context, target, replay="all") as renderer:
        renderer.render(build, prepare=lambda frame: seen.append((frame.index, frame.extent, len(built))))
        target.resize(6, 4)
        renderer.render(build, redeclare=False, prepare=lambda frame: seen.append((frame.index, frame.extent,
                                                                                   len(built))))

        def broken(frame):
            raise RuntimeError("prepare failed")
        with pytest.raises(RuntimeError, match="prepare failed"):
            renderer.render(build, prepare=broken)
        frame = renderer.render(build, redeclare=False)
        image = target.read(frame.index)
    assert seen == [(0, (8, 8), 0), (1, (6, 4), 1)]          # before build, with this frame's size
    # 0.25, 0.5, 0.75 in UNORM: a driver may round 0.5 * 255 either way (NVIDIA: 127, lavapipe: 128).
    assert image.shape == (4, 6, 4) and np.abs(image[0, 0].astype(int) - (64, 128, 191, 255)).max() <= 1
    assert renderer.frame == 3
