"""A frame that fails — in the build function, inside a pass's execute callback (mid-recording, inside
dynamic rendering), or at submission — leaves the renderer ready: the next frame renders the same
image as a renderer that never failed, with no validation message. RuntimeError and
KeyboardInterrupt, 1-3 frames in flight, replay off and on, offscreen and in a window (Xvfb)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import OffscreenTarget, Renderer, WindowTarget
    from framegraph.backends.vulkan import recorder as recorder_mod
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

from framegraph import FrameGraphError

HERE = Path(__file__).resolve().parent
helpers = support.load_module("framegraph_test_exec_multipass", HERE / "test_exec_multipass.py")
window = support.load_module("framegraph_test_exec_window_for_failures", HERE / "test_exec_window.py")
xvfb = window.xvfb                      # fixtures, shared with the window tests
window_context = window.window_context

PLACES = ("build", "execute", "submit")


@pytest.fixture(scope="module")
def multipass():
    return helpers.load_sample("multipass")


def failing(build, error, place):
    """`build`, made to raise `error` at `place`: in the build function, in the middle of the
    `raster` pass's callback (after its draw, inside vkCmdBeginRendering), or instead of the frame's
    first vkQueueSubmit2 (an error the driver returns before taking anything)."""
    def broken(fg, frame):
        out = build(fg, frame)
        if place == "build":
            raise error("build failed")
        if place == "execute":
            inner = fg.callbacks["raster"]

            def raster(ctx):
                inner(ctx)
                raise error("execute failed")
            # dynamic: with replay on, a static callback whose recording is still valid is not called.
            fg.callbacks["raster"] = recorder_mod.dynamic(raster)
        return out
    return broken


class _SubmitFails:
    def __init__(self, monkeypatch, error):
        real = recorder_mod.queue_submit
        self.armed = True

        def submit(*args):
            if self.armed:
                self.armed = False
                raise error("submit failed")
            return real(*args)
        monkeypatch.setattr(recorder_mod, "queue_submit", submit)


def _fail_once(renderer, build, error, place, monkeypatch):
    if place == "submit":
        with monkeypatch.context() as m:
            _SubmitFails(m, error)
            with pytest.raises(error, match="submit failed"):
                renderer.render(build)
    else:
        with pytest.raises(error, match=f"{place} failed"):
            renderer.render(failing(build, error, place))


@pytest.fixture(scope="module")
def reference(vk_context, multipass):
    target = OffscreenTarget(48, 32)
    with Renderer(vk_context, target) as renderer:
        renderer.render(multipass.build)
        return target.read()


@pytest.mark.parametrize("replay", (False, "all"))
@pytest.mark.parametrize("frames_in_flight", (1, 2, 3))
@pytest.mark.parametrize("error", (RuntimeError, KeyboardInterrupt))
def test_offscreen_frame_after_a_failure_is_clean(vk_context, multipass, reference, monkeypatch, error,
                                                  frames_in_flight, replay):
    target = OffscreenTarget(48, 32)
    with Renderer(vk_context, target, frames_in_flight=frames_in_flight, replay=replay) as renderer:
        renderer.render(multipass.build)
        # Every slot fails at every place at least once, with good frames in between and around.
        for round_ in range(frames_in_flight):
            for place in PLACES:
                _fail_once(renderer, multipass.build, error, place, monkeypatch)
                frame = renderer.render(multipass.build)
                np.testing.assert_array_equal(target.read(frame.index), reference)
        for _ in range(frames_in_flight + 1):
            renderer.render(multipass.build)
        renderer.wait()
        np.testing.assert_array_equal(target.read(), reference)
        assert renderer.frame == 1 + frames_in_flight * len(PLACES) + frames_in_flight + 1   # failures take none
        if replay:
            assert renderer.last_recorded == 0, "steady frames after failures replay again"


def test_failed_frames_take_no_index_and_leave_nothing_pending(vk_context, multipass, monkeypatch):
    target = OffscreenTarget(48, 32)
    with Renderer(vk_context, target, frames_in_flight=2, replay="all") as renderer:
        renderer.render(multipass.build)
        for place in PLACES:
            _fail_once(renderer, multipass.build, RuntimeError, place, monkeypatch)
        assert renderer.frame == 1
        slot = renderer.slots[1]
        assert slot.frame == -1 and not slot.recorded and slot.timer.used == 0
        renderer.render(multipass.build)
        assert renderer.frame == 2


def test_ctrl_c_while_a_frame_is_handed_to_the_driver_waits_for_the_frame(vk_context, multipass, reference,
                                                                         monkeypatch):
    """SIGINT delivered while the frame is being submitted (here: from inside vkQueueSubmit2's
    call, to the process, which has the driver's threads too) raises KeyboardInterrupt only once the
    frame is submitted and counted; the next frame renders the reference image; the SIGINT handler is
    the one from before."""
    import os
    import signal

    real = recorder_mod.queue_submit
    calls = []

    def submit(queue, count, infos):
        calls.append(count)                 # submits in this vkQueueSubmit2 (a queue's run is batched)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return real(queue, count, infos)
    target = OffscreenTarget(48, 32)
    before = signal.getsignal(signal.SIGINT)
    with Renderer(vk_context, target, frames_in_flight=2) as renderer:
        monkeypatch.setattr(recorder_mod, "queue_submit", submit)
        with pytest.raises(KeyboardInterrupt):
            renderer.render(multipass.build)
        assert renderer.frame == 1 and renderer.slots[0].frame == 0, "the interrupted frame was not completed"
        assert sum(calls) == len(renderer.last_plan.submits), "Ctrl-C cut the frame's submits short"
        frame = renderer.render(multipass.build)
        np.testing.assert_array_equal(target.read(frame.index), reference)
        np.testing.assert_array_equal(target.read(0), reference)
    assert signal.getsignal(signal.SIGINT) is before


def test_frames_render_from_a_thread_other_than_the_main_one(vk_context, multipass, reference):
    """Only the main thread may install signal handlers: from a render thread the Ctrl-C guard steps
    aside (Python delivers SIGINT to the main thread anyway) and frames render as usual."""
    import signal
    import threading

    before = signal.getsignal(signal.SIGINT)
    target = OffscreenTarget(48, 32)
    results, errors = [], []

    def run():
        try:
            with Renderer(vk_context, target, frames_in_flight=2, replay="all") as renderer:
                for _ in range(3):
                    frame = renderer.render(multipass.build)
                renderer.wait()
                results.append(target.read(frame.index))
        except BaseException as error:          # the assertion below names it
            errors.append(error)
    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    assert not errors, errors
    np.testing.assert_array_equal(results[0], reference)
    assert signal.getsignal(signal.SIGINT) is before


def test_numpy_array_as_an_import_names_the_resource(vk_context):
    def build(fg, frame):
        data = fg.import_buffer("user_data", size=64, initial="compute_shader_read_storage",
                                final="compute_shader_read_storage", external=np.zeros(16, np.float32))
        out = frame.output
        with fg.add_pass("fill") as p:
            p.reads(data, "compute_shader_read_storage")
            out = p.writes(out, "transfer_write", discard=True)
        return out

    with Renderer(vk_context, OffscreenTarget(8, 8)) as renderer:
        with pytest.raises(FrameGraphError, match="user_data") as raised:
            renderer.render(build)
        assert "ndarray" in str(raised.value)


@pytest.mark.parametrize("frames_in_flight", (1, 2, 3))
@pytest.mark.parametrize("error", (RuntimeError, KeyboardInterrupt))
def test_window_frame_after_a_failure_is_clean(vk_context, window_context, xvfb, multipass, monkeypatch, error,
                                               frames_in_flight):
    expected = multipass.render_offscreen(vk_context, frames=1, size=(96, 64))[0][0]
    target = WindowTarget(96, 64, title=f"framegraph-failures-{frames_in_flight}")
    with Renderer(window_context, target, frames_in_flight=frames_in_flight, replay="all") as renderer:
        renderer.render(multipass.build)
        for _ in range(frames_in_flight):        # every acquire semaphore comes round
            for place in PLACES:
                _fail_once(renderer, multipass.build, error, place, monkeypatch)
                renderer.render(multipass.build)
        renderer.wait()
        window._wait_for(xvfb, target, expected, f"window.failures.{error.__name__}.{frames_in_flight}")


def test_window_replay_records_only_what_touches_the_swapchain_image(vk_context, window_context, xvfb, multipass):
    """With replay on, the runs that touch the swapchain image keep one recording per image: once
    every (slot, image) pair was seen, window frames record nothing, and the window shows the frame."""
    expected = multipass.render_offscreen(vk_context, frames=1, size=(96, 64))[0][0]
    target = WindowTarget(96, 64, title="framegraph-replay-window")
    with Renderer(window_context, target, replay="all") as renderer:
        recorded = []
        for _ in range(8):
            renderer.render(multipass.build)
            recorded.append(renderer.last_recorded)
        for _ in range(8):
            renderer.render(multipass.build)
            recorded.append(renderer.last_recorded)
        program = next(iter(renderer._plans.values())).programs[0]
        assert any(s.swapchain for s in program.segments)
        assert recorded[-4:] == [0, 0, 0, 0], recorded
        renderer.wait()
        window._wait_for(xvfb, target, expected, "window.replay")
