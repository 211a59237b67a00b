"""Record once, replay (Renderer(replay=...)): the backend tests' key frames render the same images
frame after frame with replay off, on for marked passes (True) and on for every pass ("all"), with
every plan verified and no validation message; steady frames record nothing; what invalidates a
recording (resize, a static key, the swapchain image, invalidate_recordings(), host data) records
again only what it must; object counts and memory stay flat over many frames."""
from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    import vulkan as vk
    from framegraph.backends.vulkan import OffscreenTarget, Renderer
    from framegraph.backends.vulkan.recorder import dynamic, static
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import workloads  # noqa: E402
from samples import async_compute, deferred, multipass, shadow_map  # noqa: E402

MODES = (False, True, "all")


def _animated_async(fg, frame):
    # async_compute pushes its animation time as push constants: recorded per frame, so under
    # replay="all" its passes must say so (dynamic) -- the data-driven samples need nothing.
    frame.time = frame.index * 0.5           # repeatable across renderers
    out = async_compute.build(fg, frame)
    for name, fn in list(fg.callbacks.items()):
        fg.callbacks[name] = dynamic(fn)
    return out


CASES = {
    "multipass": (multipass.build, (48, 32)),
    "deferred (animated: uniforms uploaded per frame)": (
        lambda fg, frame: deferred.build(fg, frame, shadow_size=256, time=frame.index * 0.5), (64, 64)),
    "shadow_map (animated: uniforms uploaded per frame)": (
        lambda fg, frame: shadow_map.build(fg, frame, shadow_size=256, time=frame.index * 0.5), (64, 64)),
    "async_compute (animated, dynamic)": (_animated_async, (32, 32)),
    **{f"workload {name}": (w.builder(**workloads.TINY[name]), (16, 16)) for name, w in workloads.WORKLOADS.items()},
}


def _frames(ctx, build, size, replay, *, frames=6, frames_in_flight=2, **kw):
    plans = []
    target = OffscreenTarget(*size)
    images, recorded = [], []
    with Renderer(ctx, target, replay=replay, frames_in_flight=frames_in_flight,
                  on_compile=support.verified(plans), **kw) as renderer:
        for _ in range(frames):
            frame = renderer.render(build)
            recorded.append(renderer.last_recorded)
            images.append(target.read(frame.index))
        renderer.wait()
    assert plans, "no plan compiled"
    return images, recorded


@pytest.mark.parametrize("case", list(CASES))
def test_key_frames_are_identical_with_replay_on_and_off(vk_context, case):
    build, size = CASES[case]
    expected, _ = _frames(vk_context, build, size, False)
    if case.startswith("deferred") or case.startswith("async"):
        assert any((a != expected[0]).any() for a in expected[1:]), "not animated"
    for mode in (True, "all"):
        images, recorded = _frames(vk_context, build, size, mode)
        for i, (got, want) in enumerate(zip(images, expected)):
            np.testing.assert_array_equal(got, want, err_msg=f"{case}, replay={mode!r}, frame {i}")
        if mode == "all" and "dynamic" not in case:
            # Each slot records once (twice where a pass turned out to upload host data: that pass is
            # then laid out on its own); after that only such passes record again.
            steady = 1 if "uploaded" in case else 0
            assert recorded[-2:] == [steady, steady], recorded


def _counting_begins(monkeypatch):
    from framegraph.backends.vulkan import recorder
    calls = []
    real = recorder.begin_commands

    def begin(cmd, info):
        calls.append(int(info.flags))
        return real(cmd, info)
    monkeypatch.setattr(recorder, "begin_commands", begin)
    return calls


def test_steady_frames_resubmit_without_recording(vk_context, monkeypatch):
    calls = _counting_begins(monkeypatch)
    target = OffscreenTarget(48, 32)
    with Renderer(vk_context, target, replay="all", frames_in_flight=2) as renderer:
        for _ in range(2):
            renderer.render(multipass.build)
        first = list(calls)
        assert first and all(not f & vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT for f in first), \
            "a command buffer that is replayed must not be recorded ONE_TIME_SUBMIT"
        for _ in range(6):
            renderer.render(multipass.build)
        assert calls == first, "steady frames recorded commands"
        # A resize destroys resources: everything is recorded again, once per slot.
        target.resize(40, 24)
        for _ in range(4):
            renderer.render(multipass.build)
        assert len(calls) == 2 * len(first) and renderer.last_recorded == 0
        renderer.invalidate_recordings()
        renderer.render(multipass.build)
        assert renderer.last_recorded == len(renderer.last_plan.submits)   # one run per submit


def test_replay_off_records_everything_one_time(vk_context, monkeypatch):
    calls = _counting_begins(monkeypatch)
    with Renderer(vk_context, OffscreenTarget(16, 16), replay=False) as renderer:
        for _ in range(3):
            renderer.render(multipass.build)
        submits = len(renderer.last_plan.submits)
    assert len(calls) == 3 * submits and all(f & vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT for f in calls)


def _marked(key_of_frame):
    """multipass with every pass static; `post` keyed by key_of_frame(frame) and pushing it."""
    def build(fg, frame):
        out = multipass.build(fg, frame)
        for name in ("noise", "sky", "raster"):
            fg.callbacks[name] = static(fg.callbacks[name])
        exposure = key_of_frame(frame)

        def post(ctx):
            with ctx.rendering(clear=(0.0, 0.0, 0.0, 1.0)):
                ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "post.frag"), bindings={0: "scene"},
                         push=[exposure, 0.8])
        fg.callbacks["post"] = static(post, key=exposure)
        return out
    return build


def test_a_static_key_records_its_run_again_when_it_changes(vk_context):
    target = OffscreenTarget(32, 32)
    with Renderer(vk_context, target, replay=True, frames_in_flight=1) as renderer:
        counts, images = [], []
        for exposure in (1.0, 1.0, 1.0, 1.5, 1.5, 1.0):
            renderer.render(_marked(lambda frame, e=exposure: e))
            counts.append(renderer.last_recorded)
            images.append(target.read())
    # Frame 0 records; 1, 2 replay; 3 records (new key); 4 replays; 5 records (key back).
    assert counts[1] == counts[2] == counts[4] == 0 and counts[0] and counts[3] and counts[5]
    assert (images[3] != images[2]).any() and (images[5] == images[0]).all()


def test_declared_once_a_static_key_changed_in_place_records_again(vk_context):
    """render(build, redeclare=False) keeps the frame's callbacks; a Static's key set on that same
    object still decides whether its run replays (the program remembers the callbacks, not the keys)."""
    target = OffscreenTarget(32, 32)
    with Renderer(vk_context, target, replay=True, frames_in_flight=1) as renderer:
        declared = []

        def build(fg, frame):
            out = _marked(lambda frame: 1.0)(fg, frame)
            declared.append(fg.callbacks["post"])
            return out
        counts = []
        for key in (1.0, 1.0, 2.0, 2.0, 1.0):
            if declared:
                declared[0].key = key
            renderer.render(build, redeclare=False)
            counts.append(renderer.last_recorded)
    assert len(declared) == 1, "declared more than once"
    assert counts[1] == 0 and counts[2] > 0 and counts[3] == 0 and counts[4] > 0, counts


def test_unmarked_passes_are_recorded_alone_every_frame(vk_context):
    target = OffscreenTarget(32, 32)
    with Renderer(vk_context, target, replay=True, frames_in_flight=1) as renderer:
        for _ in range(3):
            renderer.render(multipass.build)
        # No pass of multipass is marked: each is its own segment, recorded every frame; the runs of
        # barriers between them (and the target's static readback) replay.
        program = next(iter(renderer._plans.values())).programs[0]
        dynamic_segments = sum(1 for s in program.segments if s.dynamic)
        assert dynamic_segments == 4 and renderer.last_recorded == 4   # multipass's 4 passes
        assert len(program.segments) > dynamic_segments


def test_without_push_descriptors_replay_is_off(vk_context):
    with Renderer(vk_context, OffscreenTarget(16, 16), replay="all", push_descriptors=False) as renderer:
        assert renderer.replay is None and renderer.replay_off_reason
        renderer.render(multipass.build)
        assert renderer.last_recorded == len(renderer.last_plan.submits)


def test_bad_replay_value():
    with pytest.raises(ValueError, match="replay"):
        Renderer(None, replay="sometimes")


@pytest.mark.parametrize("frames", [int(os.environ.get("FRAMEGRAPH_SOAK_FRAMES", "300"))])
def test_replay_soak_keeps_objects_and_memory_flat(vk_context, frames):
    """300 frames in the suite; FRAMEGRAPH_SOAK_FRAMES=10000 for the issue's soak (or
    `benchmarks/frame_cpu.py --tiny --soak 10000`, which writes its numbers)."""
    from benchmarks import frame_cpu

    result = frame_cpu.soak(vk_context, frames)
    assert result["live_objects_flat"], (result["live_objects_start"], result["live_objects_end"])
    assert result["image_stable"] and result["recorded_last_frame"] == 0
    assert result["rss_trimmed_drift_bytes"] < 8 << 20, result["samples"]


def test_a_new_import_behind_the_same_name_is_bound(vk_context):
    """A pass reads an imported buffer that needs no barrier (its state never changes); each frame
    imports a different buffer under the same name. Descriptor writes memoized by binding name must
    follow the handle, with replay off and on."""
    from framegraph.backends.vulkan.memory import HOST_UPLOAD

    for replay in (False, "all"):
        with Renderer(vk_context, OffscreenTarget(4, 4), replay=replay, frames_in_flight=1) as renderer:
            usage = vk.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT
            sources = []
            for value in (0.25, 0.75):
                buf = renderer.allocator.buffer(name=f"src{value}", size=16 * 4, usage=usage, memory=HOST_UPLOAD)
                buf.mapped[:] = np.full(16, value, np.float32).tobytes()
                sources.append(buf)
            seen = []
            for frame_index in range(4):
                source = sources[frame_index % 2]

                def build(fg, frame, source=source):
                    src = fg.import_buffer("src", size=64, initial="compute_shader_read_storage",
                                           final="compute_shader_read_storage", external=source)
                    with fg.add_pass("show") as p:
                        p.reads(src, "compute_shader_read_storage")
                        out = p.writes(frame.output, "compute_shader_write_storage", discard=True)
                        p.execute(lambda ctx: ctx.dispatch_threads(
                            4, 4, pipeline=ctx.compute_pipeline("bench_resolve_buffer.comp"),
                            bindings={0: "src", 1: frame.output.name}, push=struct.pack("I", 4)))
                    return out
                renderer.render(build)
                seen.append(int(renderer.target.read()[0, 0, 0]))
            assert seen[0] != seen[1] and seen[0] == seen[2] and seen[1] == seen[3], (replay, seen)
            # The resource cache keeps what each import resolved to: frames 2 and 3 find it again.
            assert renderer.resources.resolve_hits == 2
            renderer.wait()
            for buf in sources:
                renderer.allocator.free(buf)


def test_callbacks_and_imports_whose_eq_is_odd_still_replay(vk_context):
    """The per-frame memos compare last frame's callbacks and imports with this frame's: a callable
    whose __eq__ answers an array (or raises) counts as changed, and the frame still renders."""
    class Odd:
        def __init__(self, fn):
            self.fn = fn

        def __call__(self, ctx):
            return self.fn(ctx)

        def __eq__(self, other):
            return np.array([True, False])

        __hash__ = object.__hash__

    def build(fg, frame):
        out = multipass.build(fg, frame)
        fg.callbacks["post"] = Odd(fg.callbacks["post"])
        return out
    target = OffscreenTarget(32, 32)
    with Renderer(vk_context, OffscreenTarget(32, 32)) as plain:
        plain.render(multipass.build)
        expected = plain.target.read()
    with Renderer(vk_context, target, replay="all", frames_in_flight=1) as renderer:
        for _ in range(3):
            renderer.render(build)
            np.testing.assert_array_equal(target.read(), expected)
        assert renderer.last_recorded == 0


def test_two_frames_declared_once_alternating_in_one_slot_each_submit_their_own(vk_context):
    """Two plans take turns in one frame slot, each declared once: each keeps its own recordings in
    the slot (a replay set each), so after each has recorded once both replay, and a frame never
    submits the other plan's recording."""
    builds = {name: workloads.WORKLOADS[name].builder(**workloads.TINY[name]) for name in ("chain", "streams")}
    expected = {}
    for name, build in builds.items():
        with Renderer(vk_context, OffscreenTarget(16, 16)) as plain:
            plain.render(build)
            expected[name] = plain.target.read()
    assert (expected["chain"] != expected["streams"]).any()
    target = OffscreenTarget(16, 16)
    with Renderer(vk_context, target, replay="all", frames_in_flight=1) as renderer:
        recorded = []
        for i in range(6):
            name = ("chain", "streams")[i % 2]
            frame = renderer.render(builds[name], redeclare=False)
            recorded.append(renderer.last_recorded)
            np.testing.assert_array_equal(target.read(frame.index), expected[name], err_msg=f"frame {i} ({name})")
        assert all(recorded[:2]) and recorded[2:] == [0, 0, 0, 0], recorded
        for _ in range(3):                                  # one plan again: steady, nothing recorded
            renderer.render(builds["chain"], redeclare=False)
        assert renderer.last_recorded == 0
        np.testing.assert_array_equal(target.read(), expected["chain"])


def test_a_readback_every_frame_reuses_its_buffer_and_the_rest_replays(vk_context):
    """Each frame reads its output back and takes the result, while something unrelated is freed
    (a buffer made and destroyed each frame): the readback gets back the buffer result() returned,
    so after the first frames no buffer is made and only the readback's copy records again (the
    barrier run after it names the same buffer; freeing other objects leaves recordings alone); each
    result is that frame's."""
    build = workloads.WORKLOADS["chain"].builder(**workloads.TINY["chain"])
    with Renderer(vk_context, OffscreenTarget(16, 16)) as plain:
        plain.render(build)
        expected = plain.target.read()
    target = OffscreenTarget(16, 16, readback=False)        # the frame reads its output back itself
    with Renderer(vk_context, target, replay="all", frames_in_flight=1) as renderer:
        recorded, live = [], []
        for _ in range(5):
            futures = []

            def with_readback(fg, frame):
                out = build(fg, frame)
                futures.append(renderer.readback(fg, out))
                return out
            renderer.render(with_readback)
            recorded.append(renderer.last_recorded)
            np.testing.assert_array_equal(futures[0].result(), expected)
            renderer.allocator.free(renderer.allocator.staging(name="unrelated", size=64))
            live.append(len(renderer.allocator.live))
        # Three runs: the chain, the copy (recorded every frame) and the barrier after it.
        assert recorded[0] == 3 and recorded[2:] == [1, 1, 1], recorded
        assert live[1:] == [live[1]] * 4, live


@pytest.mark.parametrize("frames_in_flight", (1, 2, 3))
def test_frames_of_three_shapes_taking_turns_keep_their_objects_and_recordings(vk_context, frames_in_flight):
    """Three frames declared once take turns (a cascade updated every third frame is such a frame):
    whatever the frames in flight, once each shape has run in each slot twice (the first turn may
    grow a transient heap the plans share, which makes the objects in it again) no object is made
    again and nothing is recorded again (each slot keeps each plan's recordings and objects), and
    every frame shows its own shape's image."""
    names = ("chain", "streams", "split")
    builds = {name: workloads.WORKLOADS[name].builder(**workloads.TINY[name]) for name in names}
    expected = {}
    for name, build in builds.items():
        with Renderer(vk_context, OffscreenTarget(16, 16)) as plain:
            plain.render(build)
            expected[name] = plain.target.read()
    target = OffscreenTarget(16, 16)
    warm = 2 * 3 * frames_in_flight
    with Renderer(vk_context, target, replay="all", frames_in_flight=frames_in_flight,
                  on_compile=support.verified([])) as renderer:
        for i in range(warm + 12):
            if i == warm:
                allocations = renderer.resources.allocations
            name = names[i % 3]
            frame = renderer.render(builds[name], redeclare=False)
            np.testing.assert_array_equal(target.read(frame.index), expected[name], err_msg=f"frame {i} ({name})")
            if i >= warm:
                assert renderer.last_recorded == 0, (i, name)
        assert renderer.resources.allocations == allocations


def test_a_regrown_timestamp_pool_records_again(vk_context):
    """Per-pass timestamps: a bigger frame grows the slot's query pool (a new pool); the small frame
    declared once then records again, writing its queries into the new pool (the validation layer
    fails a replayed recording that names the destroyed one), and times its passes."""
    small = workloads.WORKLOADS["chain"].builder(**workloads.TINY["chain"])
    big = workloads.WORKLOADS["chain"].builder(passes=60, elements=64, iterations=1)
    with Renderer(vk_context, OffscreenTarget(16, 16), replay="all", frames_in_flight=1,
                  timestamps=True) as renderer:
        for _ in range(2):
            renderer.render(small, redeclare=False)
        assert renderer.last_recorded == 0
        made = renderer.slots[0].timer.pools_made
        renderer.render(big, redeclare=False)
        assert renderer.slots[0].timer.pools_made == made + 1, "the big frame did not need a bigger pool"
        renderer.render(small, redeclare=False)
        assert renderer.last_recorded > 0
        renderer.wait()
        assert renderer.last_gpu_times_ms and all(t >= 0 for t in renderer.last_gpu_times_ms.values())


@pytest.mark.parametrize("mode", ("true", "all"))
def test_every_backend_test_passes_with_replay_on(mode):
    """The backend suite again, with every Renderer that does not say `replay=` replaying
    (FRAMEGRAPH_TEST_REPLAY, see conftest): replay=True puts each pass in a command buffer of its own
    and replays the barriers between them; "all" replays the passes' recordings too. The suite's
    own run is the "off" half. Validation and synchronization validation are on, as in the parent."""
    import subprocess

    env = dict(os.environ, FRAMEGRAPH_TEST_REPLAY=mode)
    this = f"{Path(__file__).relative_to(ROOT).as_posix()}::test_every_backend_test_passes_with_replay_on"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short",
                          "-m", "not slow_fuzz and not wheel", "--deselect", this, str(HERE)],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0 and " passed" in summary and "failed" not in summary, (
        f"FRAMEGRAPH_TEST_REPLAY={mode}: {summary}\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}")
