"""Re-recording a frame cheaply (issue 18): the recorder keeps one PassContext per pass, matches a
pass's binds against its last ones, pushes bytes without copying them and memoizes pipelines. Each
frame must still record what it asks for -- changed bindings (a new dict or the same one mutated),
push constants, clear values, reloaded shaders -- and a mistake must raise, naming the pass, on
every frame, not only on the first. The frames here keep their resources (no readback buffers of
their own: the target's are kept), so the shortcuts are what records them after the first frame.
The tests of what each frame records say replay=False: under FRAMEGRAPH_TEST_REPLAY (conftest) their
renderers would replay, and each pass of a replay=True frame is its own command buffer."""
from __future__ import annotations

import os
import shutil
import struct
import time

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import OffscreenTarget, Renderer
    from framegraph.backends.vulkan import recorder as recorder_mod
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

from framegraph.errors import FrameGraphError

W, H = 16, 8

FILL = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) writeonly buffer Dst { uint dst[]; };
layout(push_constant) uniform Push { uint value; } pc;
void main() { dst[gl_GlobalInvocationID.x] = pc.value * %du; }
"""

SHOW = """#version 450
layout(local_size_x = 8, local_size_y = 8) in;
layout(std430, binding = 0) readonly buffer Src { uint src[]; };
layout(binding = 1, rgba8) uniform writeonly image2D dst;
layout(push_constant) uniform Push { uint green; } pc;
void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    if (p.x >= imageSize(dst).x || p.y >= imageSize(dst).y) return;
    imageStore(dst, p, vec4(float(src[0]) / 255.0, float(pc.green) / 255.0, 0.0, 1.0));
}
"""

TRIANGLE = """#version 450
void main() {
    vec2 p = vec2((gl_VertexIndex << 1) & 2, gl_VertexIndex & 2);
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
"""

PAINT = """#version 450
layout(push_constant) uniform Push { vec4 color; } pc;
layout(location = 0) out vec4 color;
void main() { color = pc.color%s; }
"""


@pytest.fixture
def shaders(tmp_path, monkeypatch):
    if shutil.which("glslc") is None:
        support.unavailable("glslc is not installed (apt-get install glslc)")
    monkeypatch.setenv("FRAMEGRAPH_SHADER_CACHE", str(tmp_path / "cache"))
    (tmp_path / "fill.comp").write_text(FILL % 1)
    (tmp_path / "show.comp").write_text(SHOW)
    (tmp_path / "triangle.vert").write_text(TRIANGLE)
    (tmp_path / "paint.frag").write_text(PAINT % "")
    return tmp_path


def _edit(path, text: str, step: int) -> None:
    path.write_text(text)
    stamp = time.time() + 10 * step           # a distinct mtime even on a coarse clock
    os.utime(path, (stamp, stamp))


def _compute_frame(state: dict):
    """fill_a and fill_b write state["a"], state["b"] (times the shader's factor) into two buffers;
    show puts src[0] of the buffer state["bindings"]() names into red and its push constant into
    green of every output pixel."""
    def build(fg, frame):
        buffers = {}
        for name in ("a", "b"):
            buf = fg.create_buffer(name, size=64 * 4)
            with fg.add_pass(f"fill_{name}") as p:
                buffers[name] = p.writes(buf, "compute_shader_write_storage", discard=True)
                p.execute(lambda ctx, name=name: ctx.dispatch_threads(
                    64, pipeline=ctx.compute_pipeline("fill.comp"), bindings={0: name},
                    push=struct.pack("I", state[name])))
        with fg.add_pass("show") as p:
            for handle in buffers.values():
                p.reads(handle, "compute_shader_read_storage")
            out = p.writes(frame.output, "compute_shader_write_storage", discard=True)

            def show(ctx):
                kw = {} if state.get("unbound") else {"pipeline": ctx.compute_pipeline("show.comp")}
                ctx.dispatch_threads(W, H, bindings=state["bindings"](out), push=state["push"], **kw)
            p.execute(show)
        return out
    return build


def _expect(image: np.ndarray, red: int, green: int) -> None:
    assert image.shape[:2] == (H, W)
    assert (image[..., 0] == red).all() and (image[..., 1] == green).all(), image[0, 0]


def _counting(monkeypatch, cls, name: str) -> list:
    calls = []
    real = getattr(cls, name)

    def counted(*args, **kw):
        calls.append(args[1] if len(args) > 1 else None)
        return real(*args, **kw)
    monkeypatch.setattr(cls, name, counted)
    return calls


def test_changed_bindings_and_push_constants_are_recorded(vk_context, shaders, monkeypatch):
    state = {"a": 10, "b": 20}
    target = OffscreenTarget(W, H)
    # One frame slot: each slot's Program has its own memo, so two frames see every binding.
    with Renderer(vk_context, target, frames_in_flight=1, replay=False) as renderer:
        renderer.add_shader_path(shaders)
        descriptors = _counting(monkeypatch, recorder_mod.PassContext, "_descriptor")
        lookups = _counting(monkeypatch, type(renderer.pipelines), "compute")
        build = _compute_frame(state)
        green = struct.pack("I", 5)             # one bytes object, pushed again and again
        frames = [("a", green), ("b", green), ("b", struct.pack("I", 7)), ("a", [9]), ("a", green),
                  ("b", np.array([11], dtype=np.uint32)), ("a", green)]
        for k, (src, push) in enumerate(frames):
            if k == 2:                          # every binding has been seen: from here on, shortcuts
                descriptors.clear()
                lookups.clear()
            state["bindings"] = lambda out, src=src: {0: src, 1: out}       # a new dict every frame
            state["push"] = push
            state["a"] += 1
            renderer.render(build, redeclare=False)
            expected_green = struct.unpack("I", push)[0] if isinstance(push, bytes) else int(push[0])
            _expect(target.read(), state[src], expected_green)
        assert descriptors == [] and lookups == [], "steady frames matched bindings or looked pipelines up again"


def test_a_bindings_dict_mutated_between_frames_is_recorded(vk_context, shaders):
    state = {"a": 30, "b": 40, "push": struct.pack("I", 1)}
    shared = {0: "a"}                           # the same dict every frame, changed in place

    def bindings(out):
        shared[1] = out
        return shared
    state["bindings"] = bindings
    target = OffscreenTarget(W, H)
    with Renderer(vk_context, target, replay=False) as renderer:
        renderer.add_shader_path(shaders)
        build = _compute_frame(state)
        for src in ("a", "a", "b", "b", "a"):
            shared[0] = src
            renderer.render(build, redeclare=False)
            _expect(target.read(), state[src], 1)


def test_clear_values_and_graphics_push_constants_are_recorded(vk_context, shaders):
    state = {}

    def build(fg, frame):
        with fg.add_pass("paint") as p:
            out = p.writes(frame.output, "color_attachment_write", discard=True)

            def paint(ctx):
                with ctx.rendering(clear=state["clear"]):
                    if state["color"] is not None:
                        ctx.draw(3, pipeline=ctx.graphics_pipeline("triangle.vert", "paint.frag"),
                                 push=state["color"])
            p.execute(paint)
        return out

    target = OffscreenTarget(W, H)
    with Renderer(vk_context, target, replay=False) as renderer:
        renderer.add_shader_path(shaders)
        frames = [((1, 0, 0, 1), None, (255, 0, 0)), ((0, 0, 1, 1), None, (0, 0, 255)),
                  (None, [0.0, 1.0, 0.0, 1.0], (0, 255, 0)), (None, [1.0, 0.0, 1.0, 1.0], (255, 0, 255)),
                  ((0, 0, 1, 1), None, (0, 0, 255)), ((0, 1, 0, 1), [1.0, 0.0, 0.0, 1.0], (255, 0, 0)),
                  (None, np.array([0.0, 0.0, 1.0, 1.0], dtype=np.float32), (0, 0, 255))]
        for clear, color, rgb in frames:
            state["clear"], state["color"] = clear, color
            renderer.render(build, redeclare=False)
            image = target.read()
            assert (image[..., :3] == rgb).all(), (clear, color, image[0, 0])


def test_reloaded_shaders_are_used(vk_context, shaders):
    state = {"a": 3, "b": 4, "push": struct.pack("I", 0), "bindings": lambda out: {0: "a", 1: out}}
    target = OffscreenTarget(W, H)
    with Renderer(vk_context, target) as renderer:
        renderer.add_shader_path(shaders)
        build = _compute_frame(state)
        for _ in range(2):
            renderer.render(build, redeclare=False)
            _expect(target.read(), 3, 0)
        _edit(shaders / "fill.comp", FILL % 2, 1)
        assert renderer.reload_shaders() == ["fill.comp"]          # invalidate_recordings too
        for _ in range(2):
            renderer.render(build, redeclare=False)
            _expect(target.read(), 6, 0)
        # Pipelines.reload alone (no invalidate_recordings): the declared frame, its callbacks and
        # the recorder's memo are kept, and the new pipeline is still the one recorded.
        _edit(shaders / "fill.comp", FILL % 5, 2)
        assert renderer.pipelines.reload() == ["fill.comp"]
        renderer.render(build, redeclare=False)
        _expect(target.read(), 15, 0)
        renderer.watch_shaders()
        _edit(shaders / "fill.comp", FILL % 7, 3)
        renderer.render(build, redeclare=False)
        _expect(target.read(), 21, 0)


def test_a_reloaded_graphics_pipeline_is_used(vk_context, shaders):
    def build(fg, frame):
        with fg.add_pass("paint") as p:
            out = p.writes(frame.output, "color_attachment_write", discard=True)

            def paint(ctx):
                with ctx.rendering():
                    ctx.draw(3, pipeline=ctx.graphics_pipeline("triangle.vert", "paint.frag"),
                             push=[1.0, 0.0, 0.0, 1.0])
            p.execute(paint)
        return out

    target = OffscreenTarget(W, H)
    with Renderer(vk_context, target) as renderer:
        renderer.add_shader_path(shaders)
        for _ in range(2):
            renderer.render(build, redeclare=False)
            assert (target.read()[..., :3] == (255, 0, 0)).all()
        _edit(shaders / "paint.frag", PAINT % ".bgra", 1)
        assert renderer.reload_shaders() == ["paint.frag"]
        for _ in range(2):
            renderer.render(build, redeclare=False)
            assert (target.read()[..., :3] == (0, 0, 255)).all()


def test_moved_resources_are_bound_again(vk_context, shaders):
    """The same plan with another buffer imported each frame: the handles move, the memo and the
    passes' shortcuts go with them, and the new buffer is the one bound."""
    target = OffscreenTarget(W, H)
    with Renderer(vk_context, target, frames_in_flight=1) as renderer:
        renderer.add_shader_path(shaders)
        sources = {70: renderer.create_buffer("p", data=np.full(64, 70, dtype=np.uint32)),
                   80: renderer.create_buffer("q", data=np.full(64, 80, dtype=np.uint32))}

        def build(fg, frame):
            src = fg.import_buffer("src", size=64 * 4, initial="general", final="general",
                                   external=sources[build.value])
            with fg.add_pass("show") as p:
                p.reads(src, "compute_shader_read_storage")
                out = p.writes(frame.output, "compute_shader_write_storage", discard=True)
                p.execute(lambda ctx: ctx.dispatch_threads(W, H, pipeline=ctx.compute_pipeline("show.comp"),
                                                           bindings={0: "src", 1: out}, push=struct.pack("I", 3)))
            return out

        for value in (70, 70, 80, 80, 70):
            build.value = value
            renderer.render(build)
            _expect(target.read(), value, 3)
        assert renderer.compiles == 1


@pytest.mark.parametrize("mistake, match", [
    ("undeclared", r"pass 'show', resource 'nowhere'.*did not declare"),
    ("push", r"pass 'show'.*8 bytes of push constants; pipeline 'show.comp' takes 4"),
    ("unbound", r"pass 'show'.*no pipeline bound"),
])
def test_errors_raise_on_every_frame(vk_context, shaders, mistake, match):
    state = {"a": 50, "b": 60}

    def good():
        state["bindings"] = lambda out: {0: "b", 1: out}
        state["push"] = struct.pack("I", 2)
        state["unbound"] = False

    target = OffscreenTarget(W, H)
    with Renderer(vk_context, target, replay=False) as renderer:
        renderer.add_shader_path(shaders)
        build = _compute_frame(state)
        good()
        for _ in range(2):                      # warm: every shortcut holds this pass's last frame
            renderer.render(build, redeclare=False)
        for _ in range(3):
            if mistake == "undeclared":
                state["bindings"] = lambda out: {0: "nowhere", 1: out}
            elif mistake == "push":
                state["push"] = struct.pack("II", 2, 3)
            else:
                state["unbound"] = True
            with pytest.raises(FrameGraphError, match=match) as caught:
                renderer.render(build, redeclare=False)
            assert caught.value.pass_name == "show"
        good()
        renderer.render(build, redeclare=False)
        _expect(target.read(), 60, 2)


class _CountingLib:
    """recorder.lib with vkCmdBindPipeline counted (cffi's lib object takes no attributes)."""

    def __init__(self, real):
        self._real = real
        self.binds = 0

    def vkCmdBindPipeline(self, *args):
        self.binds += 1
        return self._real.vkCmdBindPipeline(*args)

    def __getattr__(self, name):
        return getattr(self._real, name)


def _chain_build(shader_dir, raw_in=None, unbound=None):
    """Three compute passes on one pipeline in one command buffer; `raw_in` takes ctx.cmd;
    `unbound` dispatches without naming a pipeline."""
    def build(fg, frame):
        buf = fg.create_buffer("chain", size=64 * 4)
        for k in range(3):
            with fg.add_pass(f"fill{k}") as p:
                buf = p.writes(buf, "compute_shader_write_storage", discard=(k == 0))

                def record(ctx, k=k):
                    if k == raw_in:
                        assert ctx.cmd is not None
                    pipeline = None if k == unbound else ctx.compute_pipeline("fill.comp")
                    ctx.dispatch_threads(64, pipeline=pipeline, bindings={0: "chain"}, push=struct.pack("I", k + 1))
                p.execute(record)
        fg.output(buf)
        return buf
    return build


@pytest.mark.parametrize("raw_in", (None, 1))
def test_a_pipeline_bound_by_the_previous_pass_is_not_bound_again(vk_context, tmp_path, monkeypatch, raw_in):
    """Vulkan keeps a pipeline binding for the rest of the command buffer: consecutive passes on one
    pipeline bind it once. A pass that takes the raw command buffer (`ctx.cmd`) may have bound
    anything: the pass after it binds again."""
    support.need_glslc()
    (tmp_path / "fill.comp").write_text(FILL % 1)
    counting = _CountingLib(recorder_mod.lib)
    monkeypatch.setattr(recorder_mod, "lib", counting)
    with Renderer(vk_context, frames_in_flight=1, replay=False) as renderer:
        renderer.add_shader_path(tmp_path)
        renderer.render(_chain_build(tmp_path, raw_in=raw_in))
        renderer.wait()
        first = counting.binds
        renderer.render(_chain_build(tmp_path, raw_in=raw_in))
        assert counting.binds - first == (1 if raw_in is None else 2)
        assert len(renderer.last_plan.submits) == 1


def test_a_pass_without_a_pipeline_still_raises_after_one_that_bound(vk_context, tmp_path):
    """The binding carried over is the command buffer's, not the pass's: a dispatch that names no
    pipeline in a pass that bound none is an error, whatever the pass before bound."""
    support.need_glslc()
    (tmp_path / "fill.comp").write_text(FILL % 1)
    with Renderer(vk_context, frames_in_flight=1) as renderer:
        renderer.add_shader_path(tmp_path)
        with pytest.raises(FrameGraphError, match="no pipeline bound") as e:
            renderer.render(_chain_build(tmp_path, unbound=2))
        assert e.value.pass_name == "fill2"


@pytest.mark.parametrize("labels", (True, False))
def test_pass_labels_can_be_turned_off(vk_context, tmp_path, monkeypatch, labels):
    """Renderer(labels=False) records no debug label around the passes (two calls fewer a pass);
    by default each pass is labelled."""
    support.need_glslc()
    (tmp_path / "fill.comp").write_text(FILL % 1)
    calls = []
    real = vk_context.instance_function

    def counting(name, ctype):
        fn = real(name, ctype)
        if fn is None or "Label" not in name:
            return fn

        def call(*args):
            calls.append(name)
            return fn(*args)
        return call
    monkeypatch.setattr(vk_context, "instance_function", counting)
    if not getattr(vk_context.debug, "enabled", False):
        support.unavailable("no debug utils: no labels either way")
    with Renderer(vk_context, frames_in_flight=1, labels=labels) as renderer:
        renderer.add_shader_path(tmp_path)
        renderer.render(_chain_build(tmp_path))
    begins = calls.count("vkCmdBeginDebugUtilsLabelEXT")
    assert begins == (3 if labels else 0) and calls.count("vkCmdEndDebugUtilsLabelEXT") == begins
