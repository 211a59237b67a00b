"""The pass context's API (issue 17): handles wherever a resource name is taken, declared accesses
checked against the shader at bind, shader errors naming the pass, the no-execute warning, the
public Pipelines.poll and the replay markers exported from the package, and one as_bytes."""
from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends import vulkan as fvk
    from framegraph.backends.vulkan import Renderer, ShaderNotFound
    from framegraph.backends.vulkan import data as data_mod
    from framegraph.backends.vulkan import recorder as recorder_mod
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

from framegraph.errors import FrameGraphError

SCALE = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Src { float src[]; };
layout(std430, binding = 1) writeonly buffer Dst { float dst[]; };
void main() { uint i = gl_GlobalInvocationID.x; if (i < src.length()) dst[i] = src[i] * 2.0; }
"""


@pytest.fixture
def shaders(tmp_path, monkeypatch):
    if shutil.which("glslc") is None:
        support.unavailable("glslc is not installed (apt-get install glslc)")
    monkeypatch.setenv("FRAMEGRAPH_SHADER_CACHE", str(tmp_path / "cache"))
    (tmp_path / "scale.comp").write_text(SCALE)
    return tmp_path


def test_handles_are_taken_wherever_names_are(vk_context, shaders):
    data = np.arange(128, dtype=np.float32)
    seen = {}
    with Renderer(vk_context) as renderer:
        renderer.add_shader_path(shaders)
        src = renderer.create_buffer("src", data=data)

        def build(fg, frame):
            s = src.use(fg)
            out = fg.create_buffer("out", size=data.nbytes)
            with fg.add_pass("scale", queue="compute") as p:
                p.reads(s, "compute_shader_read_storage")
                out = p.writes(out, "compute_shader_write_storage", discard=True)

                def scale(ctx):
                    seen["buffer"] = ctx.buffer(s) is ctx.buffer("src")
                    ctx.dispatch_threads(len(data), pipeline=ctx.compute_pipeline("scale.comp"),
                                         bindings={0: s, 1: out})        # handles, not names
                p.execute(scale)
            copy = fg.create_buffer("copy", size=data.nbytes)
            with fg.add_pass("copy", queue="compute") as p:
                p.reads(out, "transfer_read")
                copy = p.writes(copy, "transfer_write", discard=True)
                p.execute(lambda ctx: ctx.copy_buffer(out, copy))
            build.result = renderer.readback(fg, copy, dtype=np.float32)
            return copy

        renderer.render(build)
        assert np.array_equal(build.result.result(), data * 2.0)
    assert seen["buffer"]


def test_bind_of_another_set_names_the_pass_and_the_way(vk_context, shaders):
    """bind() pushes set 0; asking it for set 1 is a FrameGraphError naming the pass and pointing
    at kit.DescriptorSets (it was a bare ValueError)."""
    with Renderer(vk_context) as renderer:
        renderer.add_shader_path(shaders)

        def build(fg, frame):
            out = fg.create_buffer("out", size=256)
            with fg.add_pass("scale", queue="compute") as p:
                out = p.writes(out, "compute_shader_write_storage", discard=True)

                def scale(ctx):
                    ctx.bind_pipeline(ctx.compute_pipeline("scale.comp"))
                    ctx.bind({1: out}, set=1)
                p.execute(scale)
            fg.output(out)
            return out
        with pytest.raises(FrameGraphError, match="DescriptorSets") as e:
            renderer.render(build)
    assert e.value.pass_name == "scale" and e.value.field == "set"


def test_a_declared_access_the_shader_contradicts_is_an_error_at_bind(vk_context, shaders):
    def build(fg, frame):
        src = fg.create_buffer("src", size=256)
        dst = fg.create_buffer("dst", size=256)
        with fg.add_pass("fill", queue="compute") as p:
            src = p.writes(src, "compute_shader_write_storage", discard=True)
            dst = p.writes(dst, "compute_shader_write_storage", discard=True)
            p.execute(lambda ctx: None)
        with fg.add_pass("scale", queue="compute") as p:
            p.reads(src, "compute_shader_read_storage")
            p.reads(dst, "compute_shader_read_storage")          # the shader's dst is writeonly
            kept = p.writes(fg.create_buffer("kept", size=4), "transfer_write", discard=True)  # not culled
            p.execute(lambda ctx: ctx.dispatch_threads(64, pipeline=ctx.compute_pipeline("scale.comp"),
                                                       bindings={0: "src", 1: "dst"}))
        fg.output(kept)
        return kept

    with Renderer(vk_context) as renderer:
        renderer.add_shader_path(shaders)
        with pytest.raises(FrameGraphError, match=r"pass 'scale', resource 'dst'.*writeonly in the shader"):
            renderer.render(build)


def _work_frame(call: str, args: tuple):
    """One pass 'work' that calls ctx.<call>(*args): a dispatch of scale.comp, or a draw of the
    triangle into a 4x4 image."""
    def build(fg, frame):
        if call.startswith("dispatch"):
            src = fg.create_buffer("src", size=256)
            with fg.add_pass("fill", queue="compute") as p:
                src = p.writes(src, "compute_shader_write_storage", discard=True)
                p.execute(lambda ctx: None)
        with fg.add_pass("work") as p:
            if call.startswith("dispatch"):
                p.reads(src, "compute_shader_read_storage")
                out = p.writes(fg.create_buffer("dst", size=256), "compute_shader_write_storage", discard=True)
                p.execute(lambda ctx: getattr(ctx, call)(*args, pipeline=ctx.compute_pipeline("scale.comp"),
                                                         bindings={0: "src", 1: "dst"}))
            else:
                out = p.writes(fg.create_image("target", format="R8G8B8A8_UNORM", extent=(4, 4)),
                               "color_attachment_write", discard=True)

                def draw(ctx):
                    with ctx.rendering():
                        getattr(ctx, call)(*args, pipeline=ctx.graphics_pipeline("triangle.vert", "triangle.frag"))
                p.execute(draw)
        fg.output(out)
        return out
    return build


@pytest.mark.parametrize("call, bad", [("dispatch", (-1, 1, 1)), ("dispatch", (2 ** 32, 1, 1)),
                                       ("dispatch_threads", (64.5,)), ("draw", (3, -1)),
                                       ("draw_indexed", (3, 1, 0, 2 ** 31))])
def test_counts_a_command_cannot_take_name_the_pass(vk_context, shaders, call, bad):
    """A negative, too large or fractional count in a draw or dispatch is a FrameGraphError naming
    the pass and the call (it was the binding's bare OverflowError or TypeError), and the renderer
    renders the next frame."""
    good = ("dispatch", (1, 1, 1)) if call.startswith("dispatch") else ("draw", (3,))
    with Renderer(vk_context) as renderer:
        renderer.add_shader_path(shaders)
        with pytest.raises(FrameGraphError, match=rf"pass 'work'.*{call}\(") as e:
            renderer.render(_work_frame(call, bad))
        assert e.value.pass_name == "work"
        renderer.render(_work_frame(*good))
        renderer.wait()


def _output(fg, handle, results, renderer, dtype=np.uint32):
    """The frame's output: `handle`, read back into `results` when given (a buffer as `dtype`)."""
    if results is not None:
        results.append(renderer.readback(fg, handle, dtype=dtype))
    fg.output(handle)
    return handle


def _transfer_frame(op, results=None, renderer=None):
    """'fill' clears an 8x8 image and uploads 64 words into 'a'; 'work' reads both (transfer) and
    writes bytes 64..191 of the 256-byte 'b' (a declared sub-range), where `op(ctx)` runs."""
    def build(fg, frame):
        img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(8, 8))
        a = fg.create_buffer("a", size=256)
        b = fg.create_buffer("b", size=256)
        with fg.add_pass("fill") as p:
            img = p.writes(img, "color_attachment_write", discard=True)
            a = p.writes(a, "transfer_write", discard=True)
            b = p.writes(b, "transfer_write", discard=True)

            def fill(ctx):
                with ctx.rendering(clear=(0.0, 0.0, 0.0, 0.0)):
                    pass
                ctx.upload("a", np.arange(64, dtype=np.uint32))
                ctx.upload("b", np.full(64, 7, np.uint32))
            p.execute(fill)
        with fg.add_pass("work") as p:
            p.reads(img, "transfer_read")
            p.reads(a, "transfer_read")
            b = p.writes(b, "transfer_write", range=(64, 128))
            p.execute(op)
        return _output(fg, b, results, renderer)
    return build


@pytest.mark.parametrize("name, op, resource, field", [
    ("copy mip outside the declared ones", lambda ctx: ctx.copy_image_to_buffer("img", "b", mip=1), "img", "mip"),
    ("copy 256 bytes into a 128-byte range", lambda ctx: ctx.copy_image_to_buffer("img", "b"), "b", None),
    ("upload at a negative offset", lambda ctx: ctx.upload("b", b"1234", offset=-4), "b", "offset"),
    ("upload past the declared range", lambda ctx: ctx.upload("b", bytes(128), offset=4), "b", "data"),
    ("upload at a fractional offset", lambda ctx: ctx.upload("b", b"1234", offset=1.5), "b", "offset"),
    ("update past the declared range", lambda ctx: ctx.update_buffer("b", bytes(132)), "b", "data"),
    ("update at an unaligned offset", lambda ctx: ctx.update_buffer("b", b"1234", offset=2), "b", "data"),
    ("copy more than the source holds", lambda ctx: ctx.copy_buffer("a", "b", size=300), "a", "size"),
    ("copy more than the target's range", lambda ctx: ctx.copy_buffer("a", "b", size=200), "b", "size"),
    ("copy a negative size", lambda ctx: ctx.copy_buffer("a", "b", size=-1), "a", "size"),
    ("push constants with no pipeline", lambda ctx: ctx.push_constants(b"1234"), None, None),
    ("copy_buffer from an image", lambda ctx: ctx.copy_buffer("img", "b"), "img", None),
    ("copy_image_to_buffer from a buffer", lambda ctx: ctx.copy_image_to_buffer("a", "b"), "a", None)])
def test_transfers_outside_what_the_pass_declared_are_errors(vk_context, name, op, resource, field):
    """The pass context's transfers stay inside what the pass declared (its barriers cover that
    and nothing else) and inside what Vulkan takes: each of these raised the binding's
    OverflowError/TypeError/AttributeError, or recorded a copy outside the declared range or the
    image (a hazard the plan cannot see). Now a FrameGraphError names the pass, resource and field,
    and the next frame renders."""
    with Renderer(vk_context) as renderer:
        with pytest.raises(FrameGraphError) as e:
            renderer.render(_transfer_frame(op))
        assert (e.value.pass_name, e.value.resource, e.value.field) == ("work", resource, field), name
        renderer.render(_transfer_frame(lambda ctx: ctx.copy_buffer("a", "b")))
        renderer.wait()


def test_offsets_are_within_the_declared_range(vk_context):
    """upload(), update_buffer() and copy_buffer() write at their offset within the range the pass
    declared (bytes 64..191 of 'b' here), the rest of the buffer untouched; empty data copies
    nothing."""
    ops = {"upload": lambda ctx: ctx.upload("b", np.array([1, 2], np.uint32), offset=8),
           "update": lambda ctx: ctx.update_buffer("b", np.array([3, 4], np.uint32), offset=8),
           "copy": lambda ctx: ctx.copy_buffer("a", "b"),
           "copy 8": lambda ctx: ctx.copy_buffer("a", "b", size=8),
           "empty": lambda ctx: (ctx.upload("b", b""), ctx.update_buffer("b", b""), ctx.copy_buffer("a", "b", size=0))}
    results = []
    with Renderer(vk_context) as renderer:
        for op in ops.values():
            renderer.render(_transfer_frame(op, results, renderer))
        got = {name: r.result() for name, r in zip(ops, results)}
    expected = {name: np.full(64, 7, np.uint32) for name in ops}
    expected["upload"][18:20] = (1, 2)              # word 16 starts the declared range; 8 bytes on
    expected["update"][18:20] = (3, 4)
    expected["copy"][16:48] = np.arange(32)         # as much as the declared range holds
    expected["copy 8"][16:18] = (0, 1)
    for name in ops:
        assert np.array_equal(got[name], expected[name]), name


def _filled_src(fg):
    """Pass 'fill' (compute queue) writes the 256-byte buffer 'src'; its handle."""
    src = fg.create_buffer("src", size=256)
    with fg.add_pass("fill", queue="compute") as p:
        src = p.writes(src, "compute_shader_write_storage", discard=True)
        p.execute(lambda ctx: None)
    return src


def _one_pass(op, kind: str, fmt: str = "R8G8B8A8_UNORM", results=None, renderer=None):
    """Pass 'work' calling `op(ctx)`: a compute pass reading 'src' and writing 'dst' (kind
    "compute"), or a graphics pass writing the 4x4 attachment 'target' (discarded) of `fmt`."""
    def build(fg, frame):
        src = _filled_src(fg)
        with fg.add_pass("work") as p:
            p.reads(src, "compute_shader_read_storage")
            if kind == "graphics":
                p.reads(src, "vertex_shader_read_storage")
            if kind == "compute":
                out = p.writes(fg.create_buffer("dst", size=256), "compute_shader_write_storage", discard=True)
            else:
                out = p.writes(fg.create_image("target", format=fmt, extent=(4, 4)), "color_attachment_write",
                               discard=True)
            p.execute(op)
        return _output(fg, out, results, renderer, np.uint32 if kind == "compute" else None)
    return build


def _scale(ctx):
    return ctx.compute_pipeline("scale.comp")


def _triangle(ctx, **state):
    return ctx.graphics_pipeline("triangle.vert", "triangle.frag", **state)


def _in_rendering(fn):
    def op(ctx):
        with ctx.rendering():
            fn(ctx)
    return op


SCALE_BINDINGS = {0: "src", 1: "dst"}
MISUSES = {
    "dispatch inside rendering": ("graphics", _in_rendering(lambda ctx: ctx.dispatch(1, pipeline=_scale(ctx))),
                                  "inside `with ctx.rendering"),
    "dispatch with a graphics pipeline": ("compute", lambda ctx: ctx.dispatch(1, pipeline=ctx.graphics_pipeline(
        "triangle.vert")), "needs a compute pipeline"),
    "draw with a compute pipeline": ("graphics", _in_rendering(lambda ctx: ctx.draw(3, pipeline=_scale(ctx))),
                                     "needs a graphics pipeline"),
    "dispatch before its descriptors": ("compute", lambda ctx: ctx.dispatch(1, pipeline=_scale(ctx)),
                                        "before the descriptors"),
    "draw_indexed without an index buffer": ("graphics", _in_rendering(lambda ctx: ctx.draw_indexed(
        3, pipeline=_triangle(ctx))), "no index buffer"),
    "more workgroups than the device has": ("compute", lambda ctx: ctx.dispatch(
        _max_groups(ctx)[0] + 1, pipeline=_scale(ctx), bindings=SCALE_BINDINGS), "maxComputeWorkGroupCount"),
    "dispatch_threads past the group limit": ("compute", lambda ctx: ctx.dispatch_threads(
        1, 1 << 20, pipeline=_scale(ctx), bindings=SCALE_BINDINGS), "maxComputeWorkGroupCount"),
    "three bytes of push constants": ("graphics", _in_rendering(lambda ctx: ctx.draw(
        3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "bloom_up.frag"), push=b"abc")), "multiple of 4"),
    "a vertex shader as compute": ("compute", lambda ctx: ctx.compute_pipeline("triangle.vert"),
                                   "triangle.vert is a vertex shader"),
    "a compute shader as vertex": ("graphics", lambda ctx: ctx.graphics_pipeline("scale.comp", "triangle.frag"),
                                   "scale.comp is a compute shader"),
    "a vertex shader as fragment": ("graphics", lambda ctx: ctx.graphics_pipeline("triangle.vert", "triangle.vert"),
                                    "triangle.vert is a vertex shader"),
    "a shader named by a number": ("compute", lambda ctx: ctx.compute_pipeline(5), "named by a string"),
    "an unknown topology": ("graphics", lambda ctx: _triangle(ctx, topology="hexagons"), "topology='hexagons'"),
    "a depth bias of one number": ("graphics", lambda ctx: _triangle(ctx, depth_bias=(1.0,)), "depth_bias"),
    "a clear colour of three numbers": ("graphics", lambda ctx: ctx.rendering(clear=(0, 1, 0)).__enter__(),
                                        "four numbers"),
    "a clear colour that is a word": ("graphics", lambda ctx: ctx.rendering(clear="red").__enter__(), "four numbers"),
    "a clear value for no attachment": ("graphics", lambda ctx: ctx.rendering(clear={"nope": (0, 0, 0, 1)}).__enter__(),
                                        "not colour attachments"),
    "bindings as a list": ("compute", lambda ctx: ctx.dispatch(1, pipeline=_scale(ctx), bindings=[(0, "src")]),
                           "a dict of binding number"),
    "a one-tuple binding": ("compute", lambda ctx: ctx.dispatch(1, pipeline=_scale(ctx), bindings={
        0: ("src",), 1: "dst"}), "a tuple is \\(name or handle, sampler\\)"),
    "a number as a binding": ("compute", lambda ctx: ctx.dispatch(1, pipeline=_scale(ctx), bindings={0: 5, 1: "dst"}),
                              "give a resource name or handle"),
    "an unknown sampler": ("compute", lambda ctx: ctx.dispatch(1, pipeline=_scale(ctx), bindings={
        0: ("src", "bilinear"), 1: "dst"}), "sampler 'bilinear'"),
    "a pipeline given by name": ("compute", lambda ctx: ctx.dispatch(1, pipeline="scale.comp"), "give the Pipeline"),
    "bind_pipeline by name": ("compute", lambda ctx: ctx.bind_pipeline("scale.comp"), "give the Pipeline"),
    "image() of a buffer": ("compute", lambda ctx: ctx.image("src"), "takes an image; this is a buffer"),
    "extent() of a buffer": ("compute", lambda ctx: ctx.extent("src"), "takes an image; this is a buffer"),
    "an unknown index type": ("graphics", lambda ctx: ctx.bind_index_buffer("src", index_type="uint8"),
                              "declares no index_buffer read"),
}


def _max_groups(ctx) -> tuple:
    """The device's maxComputeWorkGroupCount (lavapipe: 65535 in x; NVIDIA: 2**31 - 1)."""
    return tuple(ctx.renderer.ctx.properties.limits.maxComputeWorkGroupCount)


@pytest.mark.parametrize("case", MISUSES)
def test_misuses_the_driver_would_crash_on_are_errors(vk_context, shaders, case):
    """Each of these crashed lavapipe (SIGSEGV/SIGFPE at the command or at pipeline creation), hung
    it, or drew wrong or with validation errors; the binding would raise a bare KeyError or
    IndexError for some. Now: a FrameGraphError naming the pass, and the next frame renders."""
    kind, op, message = MISUSES[case]
    with Renderer(vk_context) as renderer:
        renderer.add_shader_path(shaders)
        with pytest.raises(FrameGraphError, match=message) as e:
            renderer.render(_one_pass(op, kind))
        assert e.value.pass_name == "work"
        good = ((lambda ctx: ctx.dispatch(1, pipeline=_scale(ctx), bindings=SCALE_BINDINGS)) if kind == "compute"
                else _in_rendering(lambda ctx: ctx.draw(3, pipeline=_triangle(ctx))))
        renderer.render(_one_pass(good, kind))
        renderer.wait()


def test_a_descriptor_of_the_other_kind_is_an_error(vk_context, shaders):
    """A buffer (declared sampled: a texel-buffer access the graph allows) bound to a sampler2D,
    or an image bound directly to a storage-buffer binding: pushing either descriptor crashed
    lavapipe. Now a FrameGraphError naming the pass and the resource."""
    def sampled_buffer(fg, frame):
        src = _filled_src(fg)
        with fg.add_pass("work") as p:
            p.reads(src, "fragment_shader_read_sampled")
            out = p.writes(frame.output, "color_attachment_write", discard=True)
            p.execute(_in_rendering(lambda ctx: ctx.draw(
                3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "fxaa.frag"), bindings={0: "src"})))
        return out

    with Renderer(vk_context, fvk.OffscreenTarget(4, 4)) as renderer:
        with pytest.raises(FrameGraphError, match="binding 0 is a sampled image in the shader, but this is a buffer"
                           ) as e:
            renderer.render(sampled_buffer)
        assert (e.value.pass_name, e.value.resource) == ("work", "src")

    with Renderer(vk_context) as renderer:
        renderer.add_shader_path(shaders)
        image = renderer.create_image("picture", format="R8G8B8A8_UNORM", extent=(4, 4),
                                      state="compute_shader_read_storage")
        op = lambda ctx: ctx.dispatch(1, pipeline=_scale(ctx), bindings={0: image, 1: "dst"})  # noqa: E731
        with pytest.raises(FrameGraphError, match="binding 0 is a storage buffer in the shader, but this is an image"
                           ) as e:
            renderer.render(_one_pass(op, "compute"))
        assert (e.value.pass_name, e.value.resource) == ("work", "picture")


def _image_pass(op, *, fmt="R8G8B8A8_UNORM", mips=3, layers=2):
    """'fill' writes 'img' (8x8, `mips` mips, `layers` layers) and 'src'; 'work' reads mips 0-1 of
    'img' (sampled, every layer) and 'src', and calls `op(ctx)`."""
    def build(fg, frame):
        img = fg.create_image("img", format=fmt, extent=(8, 8), mips=mips, layers=layers)
        src = _filled_src(fg)
        with fg.add_pass("paint", queue="compute") as p:
            img = p.writes(img, "compute_shader_write_storage", discard=True)
            p.execute(lambda ctx: None)
        with fg.add_pass("work", queue="compute") as p:
            p.reads(img, "compute_shader_read_sampled", mips=(0, 2))
            p.reads(src, "compute_shader_read_storage")
            out = p.writes(fg.create_buffer("dst", size=256), "compute_shader_write_storage", discard=True)
            p.execute(op)
        fg.output(out)
        return out
    return build


@pytest.mark.parametrize("kw, field", [({"mips": (2, 1)}, "mips"), ({"mips": (0, 0)}, "mips"),
                                       ({"mips": (-1, 1)}, "mips"), ({"mips": 0.5}, "mips"),
                                       ({"layers": (1, 5)}, "layers"), ({"layers": "all"}, "layers")])
def test_views_stay_within_what_the_pass_declared(vk_context, kw, field):
    """ctx.view's mips and layers: (base, count) or one index, inside what an access of the pass
    declares (the barriers cover that); outside the image they were validation errors, outside the
    declaration unsynchronized reads."""
    views = []
    with Renderer(vk_context) as renderer:
        with pytest.raises(FrameGraphError) as e:
            renderer.render(_image_pass(lambda ctx: ctx.view("img", **kw)))
        assert (e.value.pass_name, e.value.resource, e.value.field) == ("work", "img", field)
        with pytest.raises(FrameGraphError, match="for images"):
            renderer.render(_image_pass(lambda ctx: ctx.view("src")))
        renderer.render(_image_pass(lambda ctx: views.append(ctx.view("img", mips=1, layers=(0, 2)))))
        renderer.wait()
    assert views and views[0] is not None


def test_copy_image_between_depth_and_colour_is_an_error(vk_context):
    """D32_SFLOAT into R32_SFLOAT has the same texel size, but Vulkan copies a depth format only to
    the same format (it was a validation error)."""
    def build(fg, frame):
        d = fg.create_image("d", format="D32_SFLOAT", extent=(4, 4))
        c = fg.create_image("c", format="R32_SFLOAT", extent=(4, 4))
        with fg.add_pass("fill") as p:
            d = p.writes(d, "depth_attachment_write", discard=True)
            c = p.writes(c, "color_attachment_write", discard=True)

            def clear(ctx):
                with ctx.rendering(clear=(0.0, 0.0, 0.0, 0.0), clear_depth=1.0):
                    pass
            p.execute(clear)
        with fg.add_pass("work") as p:
            p.reads(d, "transfer_read")
            c = p.writes(c, "transfer_write")
            p.execute(lambda ctx: ctx.copy_image("d", "c"))
        fg.output(c)
        return c

    with Renderer(vk_context) as renderer:
        with pytest.raises(FrameGraphError, match="the format itself") as e:
            renderer.render(build)
        assert (e.value.pass_name, e.value.resource) == ("work", "d")


def test_kit_refuses_counts_vulkan_cannot_take(vk_context):
    """kit.DescriptorSets(max_sets=0) and a vertex-buffer binding past maxVertexInputBindings were
    validation errors (or a bare OverflowError for negative ones)."""
    from framegraph.backends.vulkan import kit

    def build(fg, frame):
        vb = fg.create_buffer("vb", size=64)
        with fg.add_pass("fill") as p:
            vb = p.writes(vb, "transfer_write", discard=True)
            p.execute(lambda ctx: ctx.upload("vb", bytes(64)))
        with fg.add_pass("work") as p:
            p.reads(vb, "vertex_buffer")
            out = p.writes(frame.output, "color_attachment_write", discard=True)
            p.execute(lambda ctx: kit.bind_vertex_buffers(ctx, {-1: "vb"}))
        return out

    with Renderer(vk_context, fvk.OffscreenTarget(4, 4)) as renderer:
        with pytest.raises(FrameGraphError) as e:
            kit.DescriptorSets(renderer, max_sets=0)
        assert e.value.field == "max_sets"
        with pytest.raises(FrameGraphError) as e:
            renderer.render(build)
        assert (e.value.pass_name, e.value.resource, e.value.field) == ("work", "vb", "binding")


SET1_COPY = """#version 450
layout(local_size_x = 64) in;
layout(std430, set = 1, binding = 0) readonly buffer Src { float src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dst { float dst[]; };
void main() { uint i = gl_GlobalInvocationID.x; if (i < src.length()) dst[i] = src[i]; }
"""


def test_a_set_of_kit_never_bound_is_an_error(vk_context, shaders):
    """A pipeline with a descriptor set 1 (kit.DescriptorSets') dispatched before that set is bound
    in the pass crashed lavapipe; now a FrameGraphError naming the set. Bound, the copy runs."""
    from framegraph.backends.vulkan import kit

    (shaders / "set1_copy.comp").write_text(SET1_COPY)
    with Renderer(vk_context) as renderer:
        renderer.add_shader_path(shaders)
        sets = kit.DescriptorSets(renderer)

        def copy(bind_set_1):
            def op(ctx):
                pipeline = ctx.compute_pipeline("set1_copy.comp")
                ctx.bind_pipeline(pipeline)
                if bind_set_1:
                    sets.bind(ctx, pipeline, 1, {0: "src"})
                ctx.dispatch(1, bindings={1: "dst"})
            return op
        with pytest.raises(FrameGraphError, match="descriptor set 1") as e:
            renderer.render(_one_pass(copy(False), "compute"))
        assert (e.value.pass_name, e.value.field) == ("work", "set")
        renderer.render(_one_pass(copy(True), "compute"))
        renderer.wait()
        sets.close()


def test_truncated_spirv_is_refused_before_the_driver_sees_it(vk_context, shaders):
    """A SPIR-V module cut at an instruction boundary passes the magic number check; lavapipe's
    vkCreateShaderModule then aborted the process (std::bad_alloc). The module must end with an
    OpFunctionEnd, and every instruction must fit."""
    from framegraph.backends.vulkan.shaders import ShaderError, builtin_shader_dir

    code = (builtin_shader_dir() / "bench_fill_buffer.comp.spv").read_bytes()
    (shaders / "half.comp.spv").write_bytes(code[:len(code) // 8 * 4])          # half, on a word boundary
    (shaders / "ragged.comp.spv").write_bytes(code[:-4])                         # the last instruction cut
    with Renderer(vk_context) as renderer:
        renderer.add_shader_path(shaders)
        for name in ("half.comp", "ragged.comp"):
            with pytest.raises(ShaderError, match="truncated") as e:
                renderer.render(_one_pass(lambda ctx, name=name: ctx.compute_pipeline(name), "compute"))
            assert e.value.pass_name == "work"


def test_integer_attachments_clear_to_integers(vk_context, shaders):
    """A clear colour for an R32_UINT attachment is the integers given (it was sent as float32: 7
    read back as 1088421888, the bits of 7.0)."""
    results = []
    with Renderer(vk_context) as renderer:
        renderer.add_shader_path(shaders)
        renderer.render(_one_pass(_in_rendering_with_clear((7, 0, 0, 1)), "graphics", "R32_UINT", results, renderer))
        assert (results[0].result() == 7).all()


def _in_rendering_with_clear(colour):
    def op(ctx):
        with ctx.rendering(clear=colour):
            pass
    return op


def test_shader_lookup_errors_name_the_pass(vk_context):
    def build(fg, frame):
        out = fg.create_buffer("out", size=64)
        with fg.add_pass("lookup", queue="compute") as p:
            out = p.writes(out, "compute_shader_write_storage", discard=True)
            p.execute(lambda ctx: ctx.compute_pipeline("no_such_shader.comp"))
        fg.output(out)
        return out

    with Renderer(vk_context) as renderer:
        with pytest.raises(ShaderNotFound, match=r"pass 'lookup'.*no_such_shader\.comp") as caught:
            renderer.render(build)
        assert caught.value.pass_name == "lookup"


def test_a_pass_without_execute_warns_once(vk_context):
    def build(fg, frame):
        out = fg.create_buffer("out", size=64)
        with fg.add_pass("forgotten_body", queue="compute") as p:
            out = p.writes(out, "compute_shader_write_storage", discard=True)
        fg.output(out)
        return out

    with Renderer(vk_context) as renderer, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            renderer.render(build)
    mine = [w for w in caught if "forgotten_body" in str(w.message)]
    assert len(mine) == 1 and "records nothing" in str(mine[0].message), [str(w.message) for w in caught]
    assert mine[0].filename == __file__          # points at the render() call


def test_replay_markers_exported_and_poll_public(vk_context, monkeypatch):
    assert fvk.static is recorder_mod.static and fvk.dynamic is recorder_mod.dynamic
    assert {"static", "dynamic"} <= set(fvk.__all__)
    polls = []
    with Renderer(vk_context, replay=True) as renderer:
        if renderer.replay is None:
            support.unavailable(f"replay is off here: {renderer.replay_off_reason}")   # a failure in CI
        monkeypatch.setattr(renderer.pipelines, "poll", lambda: polls.append(renderer.frame))

        def build(fg, frame):
            out = fg.create_buffer("out", size=64)
            with fg.add_pass("fill", queue="compute") as p:
                out = p.writes(out, "transfer_write", discard=True)
                p.execute(fvk.static(lambda ctx: None))
            fg.output(out)
            return out

        for _ in range(2):
            renderer.render(build)
        assert polls == []               # nothing watched: nothing to poll
        renderer.pipelines.watch = True
        for _ in range(2):
            renderer.render(build)
        renderer.pipelines.watch = False
    assert polls == [2, 3]           # a replayed frame looks no pipeline up: the recorder polls


def test_one_as_bytes():
    assert recorder_mod.as_bytes is data_mod.as_bytes and not hasattr(recorder_mod, "_as_bytes")
    assert data_mod.as_bytes([1, 2]) == np.array([1, 2], np.int32).tobytes()
    assert data_mod.as_bytes([1.5]) == np.array([1.5], np.float32).tobytes()
