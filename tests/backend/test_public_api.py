"""The public resource API on the device: persistent buffers and images created with data (usage
from the graph), readback futures that wait for their own frame and never return zeros, per-frame
uploads, unused transients that are never created or queried, the all-culled warning, and
verify_plan taking a Plan. The guide's examples (tests/backend/test_guide.py) cover the basics."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import Renderer
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

import framegraph as fgr
from framegraph.verifier import verify_plan

STRATEGIES = ("naive", "per_resource", "batched", "split")


def _copy_frame(renderer, src, results, *, fail=False):
    def build(fg, frame):
        s = src.use(fg)
        results.append(renderer.readback(fg, s, dtype=np.uint32))
        if fail:
            raise RuntimeError("the build function failed")
        return s
    return build


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_persistent_buffer_and_readback_future(vk_context, strategy):
    plans = []
    data = np.arange(300, dtype=np.uint32)
    with Renderer(vk_context, strategy=strategy, on_compile=support.verified(plans)) as renderer:
        src = renderer.create_buffer("src", data=data)
        results = []
        build = _copy_frame(renderer, src, results)
        for _ in range(3):
            renderer.render(build)
        assert all(np.array_equal(r.result(), data) for r in results)
        assert renderer.compiles == 1                       # the readback's names repeat: cache hits
        usage = next(r for r in plans[0].resources if r.name == "src").usage
        assert "VK_BUFFER_USAGE_TRANSFER_SRC_BIT" in usage
        assert np.array_equal(src.read(np.uint32), data)


def test_readback_of_a_frame_that_was_never_submitted_raises(vk_context):
    with Renderer(vk_context) as renderer:
        src = renderer.create_buffer("src", data=np.ones(16, np.uint32))
        results = []
        with pytest.raises(RuntimeError, match="build function failed"):
            renderer.render(_copy_frame(renderer, src, results, fail=True))
        with pytest.raises(RuntimeError, match="never submitted"):
            results[0].result()
        renderer.render(_copy_frame(renderer, src, results))    # the same frame index, submitted now
        with pytest.raises(RuntimeError, match="never submitted"):
            results[0].result()                                  # still not that future's frame
        assert np.array_equal(results[1].result(), np.ones(16, np.uint32))


def test_persistent_image_with_data_and_image_readback(vk_context):
    rgba = (np.arange(16 * 8 * 4) % 251).astype(np.uint8).reshape(8, 16, 4)
    with Renderer(vk_context) as renderer:
        image = renderer.create_image("texture", format="R8G8B8A8_UNORM", extent=(16, 8), data=rgba)
        futures = []

        def build(fg, frame):
            t = image.use(fg)
            futures.append(renderer.readback(fg, t))
            return t

        renderer.render(build)
        assert np.array_equal(futures[0].result(), rgba)
        assert np.array_equal(image.read(), rgba)


def _index_frame(renderer, futures: list, name: str, values):
    """A frame that uploads `values(frame.index)` into `name` and reads it back into `futures`."""
    def build(fg, frame):
        h = renderer.upload(fg, name, values(frame.index))
        futures.append(renderer.readback(fg, h, dtype=values(0).dtype))
        return h
    return build


def test_upload_per_frame_data(vk_context):
    with Renderer(vk_context) as renderer:
        futures = []
        build = _index_frame(renderer, futures, "params", lambda i: np.full(8, i, np.float32))
        for _ in range(3):
            renderer.render(build)
        assert [float(f.result()[0]) for f in futures] == [0.0, 1.0, 2.0]


def test_unused_transients_are_not_created_or_queried(vk_context):
    with Renderer(vk_context) as renderer:
        def build(fg, frame):
            fg.create_buffer("unused_buffer", size=256)
            fg.create_image("unused_image", format="R8G8B8A8_UNORM", extent=(8, 8))
            used = renderer.upload(fg, "used", [1.0, 2.0])
            fg.output(used)
            return used

        before = renderer.resources.allocations
        graph_calls = []
        real = renderer.allocator.requirements
        renderer.allocator.requirements = lambda desc: graph_calls.append(desc) or real(desc)
        renderer.render(build)
        renderer.wait()
        assert renderer.resources.allocations - before == 1          # "used" only
        assert [d for d in graph_calls if not d.usage] == []            # no usage-0 query
        assert {d.kind for d in graph_calls} == {"buffer"}                # the unused image never asked


def test_a_frame_with_every_pass_culled_warns_once(vk_context):
    with Renderer(vk_context) as renderer:
        def build(fg, frame):
            scratch = fg.create_buffer("scratch", size=64)
            with fg.add_pass("forgotten_output") as p:
                p.writes(scratch, "transfer_write", discard=True)
                p.execute(lambda ctx: None)
            return scratch

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            renderer.render(build)
            renderer.render(build)
        culled = [w for w in caught if "every pass was culled" in str(w.message)]
        assert len(culled) == 1 and "fg.output" in str(culled[0].message)


def test_verify_plan_takes_a_plan():
    fg = fgr.FrameGraph("x")
    a = fg.create_image("a", format="R8G8B8A8_UNORM", extent=(4, 4))
    with fg.add_pass("p") as p:
        a = p.writes(a, "color_attachment_write", discard=True)
    fg.output(a)
    plan = fgr.compile(fg.graph(), strategy="batched", device="lavapipe")
    assert verify_plan(plan) == [] and verify_plan(plan.to_json()) == []


def test_readback_under_replay(vk_context):
    with Renderer(vk_context, replay="all") as renderer:
        if getattr(renderer, "replay_off_reason", None):
            support.unavailable(f"replay is off here: {renderer.replay_off_reason}")   # a failure in CI
        src = renderer.create_buffer("src", data=np.arange(64, dtype=np.uint32))
        results = []
        build = _copy_frame(renderer, src, results)
        for i in range(4):
            renderer.render(build)
            if i % 2:
                results[-1].result()
        assert all(np.array_equal(r.result(), np.arange(64)) for r in results)


def _readback_buffers_made(renderer) -> list:
    """The names of the readback buffers the renderer's allocator makes from now on (appended)."""
    made, staging = [], renderer.allocator.staging

    def counted(**kw):
        if kw.get("readback"):
            made.append(kw["name"])
        return staging(**kw)
    renderer.allocator.staging = counted
    return made


def test_readback_buffers_are_reused_and_never_show_another_frames_data(vk_context):
    """result() gives the host buffer back for the next readback of the same resource: with two
    frames in flight and each result taken a frame late, two buffers take turns and no buffer is made
    after that; every result is its own frame's data."""
    with Renderer(vk_context, frames_in_flight=2) as renderer:
        futures, made = [], _readback_buffers_made(renderer)
        build = _index_frame(renderer, futures, "values", lambda i: np.full(64, i, np.uint32))
        for i in range(8):
            renderer.render(build)
            if i >= 1:
                assert np.array_equal(futures[i - 1].result(), np.full(64, i - 1)), i
        assert np.array_equal(futures[-1].result(), np.full(64, 7))
        assert made == ["values.readback"] * 2, made


def test_readback_buffers_kept_for_reuse_are_bounded(vk_context):
    """Readbacks of many resources in one frame: once read, the READBACKS_KEPT most recently given
    back are kept for reuse and the older ones freed; the next such frame makes buffers only for
    the resources whose buffers went."""
    from framegraph.backends.vulkan.resources import READBACKS_KEPT

    count = READBACKS_KEPT + 4
    with Renderer(vk_context) as renderer:
        futures, made = [], _readback_buffers_made(renderer)

        def build(fg, frame):
            for k in range(count):
                values = renderer.upload(fg, f"values{k}", np.full(16, k + frame.index, np.uint32))
                futures.append(renderer.readback(fg, values, dtype=np.uint32))
        for index in range(2):
            made.clear()
            renderer.render(build)
            renderer.wait()
            before = len(renderer.allocator.live)
            assert [int(f.result()[0]) for f in futures[-count:]] == [k + index for k in range(count)]
            assert before - len(renderer.allocator.live) == count - READBACKS_KEPT
            # Frame 0 makes one per resource; frame 1 only for the first four (their buffers went).
            assert made == [f"values{k}.readback" for k in range(count if index == 0 else count - READBACKS_KEPT)]


def test_renderer_takes_device_and_profile_is_deprecated(vk_context):
    """One name for the device profile, as compile() and PlanCache take it; `profile=` still works."""
    family = vk_context.queues["graphics"].family
    single = {"name": "one-queue", "queues": {q: {"family": family, "index": 0}
                                              for q in ("graphics", "compute", "transfer")}}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        with Renderer(vk_context, device=single) as renderer:
            assert renderer.profile.name == "one-queue"
    with pytest.deprecated_call(match="device="):
        with Renderer(vk_context, profile=single) as renderer:
            assert renderer.profile.name == "one-queue"
    with pytest.raises(TypeError, match="device= only"):
        Renderer(vk_context, device=single, profile=single)


def test_the_devices_requirements_are_part_of_the_plan_key(vk_context):
    """The renderer hands compile the device's requirements function and the plan cache keys on it:
    another function recompiles the same structure; renderers on one device share plans."""
    def build(fg, frame):
        scratch = fg.create_buffer("scratch", size=256)
        with fg.add_pass("fill") as p:
            scratch = p.writes(scratch, "transfer_write", discard=True)
            p.execute(lambda ctx: None)
        fg.output(scratch)
        return scratch

    cache = fgr.PlanCache()
    with Renderer(vk_context, plan_cache=cache) as renderer:
        real = renderer.resources.requirements
        calls = []
        renderer.render(build)
        renderer.resources.requirements = lambda desc: calls.append(desc.kind) or real(desc)
        renderer.render(build)
        assert (cache.misses, cache.hits, calls) == (2, 0, ["buffer"])
        renderer.resources.requirements = real
        renderer.render(build)
        assert (cache.misses, cache.hits) == (2, 1)
        with pytest.deprecated_call():
            assert renderer.memory_requirements() == renderer.resources.requirements
    with Renderer(vk_context, plan_cache=cache) as other:
        other.render(build)
        assert (cache.misses, cache.hits) == (2, 2)
