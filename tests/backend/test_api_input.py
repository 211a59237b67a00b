"""Bad input to the renderer's public API is a FrameGraphError naming the resource and field, at
the call that took it (not a bare numpy/cffi error at the first frame, a hang, a crash or a silently
wrong result), and the renderer then runs the next frame. Also the documented input that used to
fail: a persistent buffer made with size= and no (or short) data reads back as zeros after it."""
from __future__ import annotations

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import OffscreenTarget, Renderer
    from framegraph.backends.vulkan.data import as_bytes
    from framegraph.backends.vulkan.validation import MESSAGES
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

from framegraph.errors import FrameGraphError


def _copied(renderer, buffer, size):
    """One frame that copies persistent `buffer` into a transient and reads that back (bytes)."""
    futures = []

    def build(fg, frame):
        h = buffer.use(fg)
        d = fg.create_buffer("copy", size=size)
        with fg.add_pass("copy") as p:
            p.reads(h, "transfer_read")
            d = p.writes(d, "transfer_write", discard=True)
            p.execute(lambda ctx: ctx.copy_buffer(h, d))
        futures.append(renderer.readback(fg, d))
        return d

    renderer.render(build)
    return futures[0].result()


def _upload_frame(renderer, data, futures, **readback):
    def build(fg, frame):
        h = renderer.upload(fg, "values", data)
        futures.append(renderer.readback(fg, h, **readback))
        return h
    return build


def _fails(field, resource=None):
    """pytest.raises for a FrameGraphError naming `field` (and `resource`)."""
    class Check:
        def __enter__(self):
            self.raises = pytest.raises(FrameGraphError)
            self.info = self.raises.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.raises.__exit__(*exc)
            assert self.info.value.field == field, str(self.info.value)
            if resource is not None:
                assert self.info.value.resource == resource, str(self.info.value)
            return handled
    return Check()


def _next_frame_works(renderer):
    futures = []
    renderer.render(_upload_frame(renderer, np.arange(4, dtype=np.uint32), futures, dtype=np.uint32))
    assert futures[0].result().tolist() == [0, 1, 2, 3]


# -- 1. create_buffer(size=) with no data, or less data than size ---------------------------------

@pytest.mark.parametrize("data, size", [
    (None, 64), (np.arange(3, dtype=np.float32), 64), (b"\x01\x02\x03\x04\x05", 16)],
    ids=["size_only", "short_data", "unaligned_data"])
def test_buffer_with_size_and_short_or_no_data_reads_back_data_then_zeros(vk_context, data, size):
    with Renderer(vk_context) as renderer:
        buffer = renderer.create_buffer("b", data=data, size=size)
        got = _copied(renderer, buffer, size)
        assert MESSAGES.drain() == []                  # the creating fill and copy are valid Vulkan
        head = b"" if data is None else as_bytes(data)
        assert got.tobytes() == head + bytes(size - len(head))
        assert buffer.read().tobytes() == head + bytes(size - len(head))


# -- 2. Renderer arguments -----------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("frames_in_flight", 0), ("frames_in_flight", 2**40), ("frames_in_flight", 17), ("frames_in_flight", 1.5),
    ("frames_in_flight", "2"), ("frames_in_flight", None), ("frames_in_flight", True),
    ("replay", "bogus"), ("replay", 1), ("strategy", "bogus"), ("plan_cache_size", 0), ("plan_cache_size", 2.0),
    ("timestamps", "bogus"), ("timestamps", 1), ("options", "bogus"), ("target", "bogus"), ("plan_cache", "yes"),
    ("on_compile", 3), ("name", 123)])
def test_renderer_refuses_bad_arguments_at_construction(vk_context, field, value):
    with _fails(field):
        Renderer(vk_context, **{field: value})


def test_renderer_takes_its_documented_arguments(vk_context):
    with Renderer(vk_context, frames_in_flight=np.int64(3), timestamps="frame", replay="all", strategy=None,
                  plan_cache_size=np.int32(4)) as renderer:
        assert renderer.frames_in_flight == 3 and type(renderer.frames_in_flight) is int
        assert len(renderer.slots) == 3
        _next_frame_works(renderer)


# -- 3. persistent resources after their renderer closed, or in another renderer ------------------

def _made_and_used(vk_context, *, image=False):
    renderer = Renderer(vk_context)
    if image:
        resource = renderer.create_image("img", format="R8G8B8A8_UNORM", extent=(4, 4), data=bytes(64))
        futures = []
        renderer.render(lambda fg, frame: futures.append(renderer.readback(fg, resource.use(fg))))
        assert futures[0].result().shape == (4, 4, 4)
    else:
        resource = renderer.create_buffer("b", data=np.arange(4, dtype=np.int32))
        _copied(renderer, resource, 16)
    return renderer, resource


@pytest.mark.parametrize("image", [False, True], ids=["buffer", "image"])
def test_persistent_resource_read_after_its_renderer_closed_raises(vk_context, image):
    renderer, resource = _made_and_used(vk_context, image=image)
    renderer.close()
    with pytest.raises(FrameGraphError, match="renderer was closed") as info:
        resource.read()
    assert info.value.resource == resource.name
    resource.destroy()                       # freed with the renderer: nothing to do, no crash


def test_persistent_resource_of_another_renderer_is_refused(vk_context):
    first, buffer = _made_and_used(vk_context)
    frame_data = first.create_frame_data("fd", size=16)
    with Renderer(vk_context) as second:
        with pytest.raises(FrameGraphError, match="made by another renderer") as info:
            _copied(second, buffer, 16)              # destroy()/read() would not wait for this renderer's frames
        assert info.value.resource == "b"
        with pytest.raises(FrameGraphError, match="made by another renderer"):
            second.render(lambda fg, frame: fg.output(frame_data.use(fg, frame)) or None)
        first.close()
        with pytest.raises(FrameGraphError, match="since closed"):
            _copied(second, buffer, 16)
        _next_frame_works(second)


# -- 4. frame data and uploads: offset and data ---------------------------------------------------

@pytest.mark.parametrize("field, data, offset", [
    ("offset", [1.0], 1.5), ("offset", [1.0], "4"), ("offset", [1.0], None),
    ("data", None, 0), ("data", "abcd", 0), ("data", [2**40], 0), ("data", [1.0, None], 0),
    ("data", np.array([object()]), 0), ("data", [[1.0], [2.0, 3.0]], 0), ("data", 5, 0)])
def test_frame_data_set_refuses_bad_data_and_offset(vk_context, field, data, offset):
    with Renderer(vk_context) as renderer:
        values = renderer.create_frame_data("fd", size=16, data=[1.0, 2.0, 3.0, 4.0])
        with _fails(field, resource="fd"):
            values.set(data, offset=offset)
        assert bytes(values._data) == np.array([1, 2, 3, 4], np.float32).tobytes()     # unchanged


@pytest.mark.parametrize("data", [None, "hello", [None, 1.0], np.array([object()], dtype=object)])
def test_upload_and_create_refuse_what_is_not_data(vk_context, data):
    with Renderer(vk_context) as renderer:
        with _fails("data", resource="values"):
            renderer.render(_upload_frame(renderer, data, []))
        if data is not None:                         # create_buffer(data=None) is size= alone
            with _fails("data", resource="b"):
                renderer.create_buffer("b", data=data, size=16)
        _next_frame_works(renderer)


def test_as_bytes_keeps_its_rules():
    assert as_bytes([1, 2]) == np.array([1, 2], np.int32).tobytes()
    assert as_bytes([1, 2.5]) == np.array([1, 2.5], np.float32).tobytes()
    assert as_bytes([[1, 2], [3, 4]]) == np.array([1, 2, 3, 4], np.float32).tobytes()
    assert as_bytes([]) == b""
    assert as_bytes(np.arange(6, dtype=np.uint16).reshape(2, 3)[:, ::2]) == np.array([0, 2, 3, 5], np.uint16).tobytes()


# -- 5. readback arguments ------------------------------------------------------------------------

def _image_frame(renderer, **readback):
    def build(fg, frame):
        h = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(4, 4), mips=2)
        with fg.add_pass("fill") as p:
            h = p.writes(h, "transfer_write", discard=True)
            p.execute(lambda ctx: ctx.upload(h, bytes(64)))
        renderer.readback(fg, h, **readback)
        return h
    return build


@pytest.mark.parametrize("field, kw", [
    ("mip", {"mip": -1}), ("mip", {"mip": 0.5}), ("mip", {"mip": 2}), ("dtype", {"dtype": np.float32})])
def test_image_readback_refuses_bad_arguments(vk_context, field, kw):
    with Renderer(vk_context) as renderer:
        with _fails(field, resource="img"):
            renderer.render(_image_frame(renderer, **kw))
        _next_frame_works(renderer)


@pytest.mark.parametrize("field, kw", [
    ("mip", {"mip": 3}), ("dtype", {"dtype": "bogus"}), ("dtype", {"dtype": np.float64}),
    ("shape", {"dtype": np.float32, "shape": (3, 3)}), ("shape", {"shape": "x"})])
def test_buffer_readback_refuses_bad_arguments(vk_context, field, kw):
    with Renderer(vk_context) as renderer:       # 'values' is 12 bytes: three float32
        with _fails(field, resource="values"):
            renderer.render(_upload_frame(renderer, [1.0, 2.0, 3.0], [], **kw))
        _next_frame_works(renderer)


def test_buffer_readback_with_dtype_and_shape(vk_context):
    with Renderer(vk_context) as renderer:
        futures = []
        renderer.render(_upload_frame(renderer, [1.0, 2.0, 3.0, 4.0], futures, dtype="float32", shape=(2, -1)))
        assert futures[0].result().tolist() == [[1.0, 2.0], [3.0, 4.0]]


# -- 6. OffscreenTarget ---------------------------------------------------------------------------

@pytest.mark.parametrize("field, args, kw", [
    ("width", (0, 0), {}), ("width", (-4, 8), {}), ("width", (float("nan"), 8), {}), ("width", (None, 8), {}),
    ("height", (8, 16385), {}), ("width", (15.7, 8), {}), ("format", (4, 4), {"format": None}),
    ("format", (4, 4), {"format": "bogus"}), ("format", (4, 4), {"format": "R32_SFLOAT"}),
    ("format", (4, 4), {"format": "D32_SFLOAT"})])
def test_offscreen_target_refuses_bad_size_and_format(field, args, kw):
    with _fails(field, resource="output"):
        OffscreenTarget(*args, **kw)


def test_offscreen_target_resize_refuses_no_area(vk_context):
    target = OffscreenTarget(4, 4, format="B8G8R8A8_UNORM")
    with _fails("height", resource="output"):
        target.resize(4, 0)
    assert target.extent == (4, 4)


@pytest.mark.parametrize("kind, field, kw", [
    ("image", "format", {"format": "bogus"}), ("image", "format", {"format": None}),
    ("image", "format", {"format": 37}), ("image", "extent", {"extent": None}), ("image", "extent", {"extent": (8,)}),
    ("image", "extent", {"extent": (float("nan"), 8)}), ("image", "extent", {"extent": (7.9, 8)}),
    ("buffer", "size", {"size": float("nan")}), ("buffer", "size", {"size": "abc"}),
    ("buffer", "size", {"size": 0})])
def test_persistent_resources_refuse_bad_descriptions(vk_context, kind, field, kw):
    """create_image's format and extent, create_buffer's size: a FrameGraphError naming the resource
    and field at the call (they were bare ValueError/AttributeError/IndexError, and 7.9 was truncated
    to 7)."""
    with Renderer(vk_context) as renderer:
        with pytest.raises(FrameGraphError) as e:
            if kind == "image":
                renderer.create_image("img", **{"format": "R8G8B8A8_UNORM", "extent": (8, 8), **kw})
            else:
                renderer.create_buffer("buf", **kw)
        assert (e.value.resource, e.value.field) == ("img" if kind == "image" else "buf", field)


def test_persistent_image_read_refuses_a_layer_it_has_not(vk_context):
    """read(layer=5) of a 2-layer image was a bare IndexError; read(layer=7) of a 1-layer image
    returned layer 0."""
    data = np.arange(4 * 4 * 2 * 4, dtype=np.uint8)
    with Renderer(vk_context) as renderer:
        for layers in (2, 1):
            img = renderer.create_image(f"img{layers}", format="R8G8B8A8_UNORM", extent=(4, 4), layers=layers,
                                        data=data[:4 * 4 * layers * 4])
            futures = []
            renderer.render(lambda fg, frame, img=img: futures.append(renderer.readback(fg, img.use(fg))))
            futures[0].result()
            for layer in (layers, 7, 0.5):
                with pytest.raises(FrameGraphError) as e:
                    img.read(layer=layer)
                assert (e.value.resource, e.value.field) == (f"img{layers}", "layer")
            assert np.array_equal(img.read(layer=layers - 1).ravel(), data[(layers - 1) * 64:layers * 64])
