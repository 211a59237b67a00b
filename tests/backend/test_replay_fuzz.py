"""Replay against re-recording, on random frame sequences (hypothesis): two renderers get the same
events -- frames of different shapes taking turns in one slot, resizes, frames declared once or
every frame, FrameData set or not, an imported buffer swapped, a Static key changed -- one recording
every command of every frame and compiling every frame it declares, the other with its plan cache
re-submitting what it can, both with the same 1-3 frames in flight (so a frame declared once is the
same stale or fresh declaration on both), under one barrier strategy (split's VkEvents included).
Every frame's image must be the same. The memos that make
a replayed frame cheap (the resource cache's per plan and imports, the replay keys, the
steady-frame shortcut, the pipeline left bound) all sit on this path: a stale one shows as a
different image."""
from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import support  # tests/backend is on sys.path (not a package)

try:
    import vulkan as vk
    from framegraph.backends.vulkan import OffscreenTarget, Renderer, static
    from framegraph.backends.vulkan.memory import HOST_UPLOAD
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

from benchmarks import workloads

N = 16                                      # floats the resolve shader reads (4 vec4s)
SIZES = ((16, 16), (12, 8))
EVENTS = ("frame_data", "chain", "marked", "import", "split")


class Side:
    """One renderer and the objects its frames use (each renderer has its own)."""

    def __init__(self, ctx, replay, frames_in_flight: int, strategy: str = "batched") -> None:
        self.target = OffscreenTarget(*SIZES[0])
        # The recording side compiles every frame it declares (no plan cache): a new plan each time,
        # so none of the per-plan memos (resources, recordings) serve it; only frames declared once
        # reuse their plan.
        self.renderer = Renderer(ctx, self.target, replay=replay, frames_in_flight=frames_in_flight,
                                 plan_cache=bool(replay), strategy=strategy)
        self.data = self.renderer.create_frame_data("values", size=N * 4)
        self.key = [1]                        # the Static key and the value the marked pass pushes
        self.sources = []
        for value in (0.25, 0.75):
            buf = self.renderer.allocator.buffer(name=f"src{value}", size=N * 4,
                                                 usage=vk.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, memory=HOST_UPLOAD)
            buf.mapped[:] = np.full(N, value, np.float32).tobytes()
            self.sources.append(buf)
        self.source = 0
        chain = workloads.WORKLOADS["chain"].builder(**workloads.TINY["chain"])
        split = workloads.WORKLOADS["split"].builder(**workloads.TINY["split"])      # events under "split"
        self.builds = {"frame_data": self._frame_data, "chain": chain, "marked": self._marked,
                       "import": self._import, "split": split}

    def _resolve(self, fg, frame, handle):
        with fg.add_pass("show", queue="compute") as p:
            p.reads(handle, "compute_shader_read_storage")
            out = p.writes(frame.output, "compute_shader_write_storage", discard=True)
            p.execute(lambda ctx: ctx.dispatch_threads(
                *frame.extent, pipeline=ctx.compute_pipeline("bench_resolve_buffer.comp"),
                bindings={0: handle, 1: frame.output.name}, push=struct.pack("I", N // 4)))
        return out

    def _frame_data(self, fg, frame):
        return self._resolve(fg, frame, self.data.use(fg, frame))

    def _import(self, fg, frame):
        src = fg.import_buffer("src", size=N * 4, initial="compute_shader_read_storage",
                               final="compute_shader_read_storage", external=self.sources[self.source])
        return self._resolve(fg, frame, src)

    def _marked(self, fg, frame):
        # A buffer filled with the key by a static pass (its push constant is the key), then shown.
        buf = fg.create_buffer("filled", size=N * 4)
        key = self.key[0]
        with fg.add_pass("fill", queue="compute") as p:
            buf = p.writes(buf, "compute_shader_write_storage", discard=True)
            p.execute(static(lambda ctx: ctx.dispatch_threads(
                N // 4, pipeline=ctx.compute_pipeline("bench_fill_buffer.comp"), bindings={0: "filled"},
                push=struct.pack("IIf", N // 4, 1, key / 7.0)), key=key))
        return self._resolve(fg, frame, buf)

    def render(self, build: str, once: bool):
        frame = self.renderer.render(self.builds[build], redeclare=not once)
        return frame.index

    def close(self) -> None:
        self.renderer.wait()
        for buf in self.sources:
            self.renderer.allocator.free(buf)
        self.renderer.close()


event = st.one_of(
    st.tuples(st.just("frame"), st.sampled_from(EVENTS), st.booleans()),       # build, declared once
    st.tuples(st.just("set"), st.integers(0, 3), st.just(False)),             # FrameData contents
    st.tuples(st.just("resize"), st.integers(0, len(SIZES) - 1), st.just(False)),
    st.tuples(st.just("swap"), st.integers(0, 1), st.just(False)),            # which buffer is imported
    st.tuples(st.just("key"), st.integers(1, 3), st.just(False)),             # the marked pass's key
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(events=st.lists(event, min_size=3, max_size=14), frames_in_flight=st.integers(1, 3),
       strategy=st.sampled_from(("batched", "naive", "per_resource", "split")))
# Always tried: an import swapped between two frames of one plan; two plans declared once taking
# turns in one slot; a Static key changed between frames declared every frame; FrameData set
# between frames declared once.
@example(events=[("frame", "import", False), ("swap", 1, False), ("frame", "import", False)], frames_in_flight=1,
         strategy="batched")
@example(events=[("frame", "chain", True), ("frame", "marked", True)] * 3, frames_in_flight=1, strategy="batched")
@example(events=[("frame", "marked", False), ("key", 2, False), ("frame", "marked", False)], frames_in_flight=1,
         strategy="batched")
@example(events=[("frame", "split", True), ("frame", "chain", True)] * 3, frames_in_flight=1, strategy="split")
@example(events=[("frame", "frame_data", True), ("set", 2, False), ("frame", "frame_data", True)] * 2,
         frames_in_flight=2, strategy="split")
def test_replayed_frames_match_recorded_frames(vk_context, events, frames_in_flight, strategy):
    sides = [Side(vk_context, False, frames_in_flight, strategy), Side(vk_context, "all", frames_in_flight, strategy)]
    try:
        done = []
        for kind, value, once in events:
            done.append((kind, value, once))
            for side in sides:
                if kind == "frame":
                    side.render(value, once)
                elif kind == "set":
                    side.data.set(np.arange(N, dtype=np.float32) * (value + 1) / (4.0 * N))
                elif kind == "resize":
                    side.target.resize(*SIZES[value])
                elif kind == "swap":
                    side.source = value
                else:
                    side.key[0] = value
            if kind == "frame":
                recorded, replayed = (side.target.read(side.renderer.frame - 1) for side in sides)
                np.testing.assert_array_equal(replayed, recorded, err_msg=f"after {done}")
    finally:
        for side in sides:
            side.close()
