"""Issue 18, declare cost: the builder's memos (validated resources, access checks, handles, names)
must be invisible. A memoized declaration equals the one built and checked from scratch, a bad
argument raises the same error after a good one with the same name as on its own, unhashable
arguments still work, and every memo stays bounded. Speed lives in benchmarks/declare_cost.py."""
import pytest

from framegraph import FrameGraph, FrameGraphError, errors
from framegraph import graph as graph_module
from framegraph.graph import BufferDesc, Handle, ImageDesc, ResourceDecl, structural_key
from framegraph.vk import Format

np = pytest.importorskip("numpy")


@pytest.fixture
def cold():
    """Empty memos, as in a fresh process: the first declaration takes every checking path."""
    def clear():
        for memo in (graph_module._resource_memo, graph_module._access_memo, graph_module._handle_memo,
                     errors.known_names):
            memo.clear()
    clear()
    yield clear
    clear()


def declare(fg: FrameGraph, *, extent=(64, 32), fmt="R16G16B16A16_SFLOAT", layers=(1, 2)):
    """One frame using every resource kind, ranges and both queues."""
    out = fg.import_image("swapchain", format="B8G8R8A8_SRGB", extent=(64, 32), swapchain=True)
    hist = fg.history_image("taa", format=Format.R16G16B16A16_SFLOAT, extent=extent,
                            state="fragment_shader_read_sampled")
    img = fg.create_image("hdr", format=fmt, extent=extent, mips=3, layers=4)
    buf = fg.create_buffer("lights", size=4096)
    ring = fg.import_buffer("ring", size=1024, initial="host_write", final="transfer_read")
    with fg.add_pass("upload", queue="transfer") as p:
        p.reads(ring, "transfer_read", range=(0, 512))
        buf = p.writes(buf, "transfer_write", discard=True, range=(0, 4096))
    with fg.add_pass("light", queue="compute") as p:
        p.reads(buf, "compute_shader_read_storage")
        img = p.writes(img, "compute_shader_write_storage", mips=0, layers=layers, discard=True)
    with fg.add_pass("blur") as p:
        p.reads(img, "fragment_shader_read_sampled", mips=(0, 1), layers=layers)
        p.reads(hist, "fragment_shader_read_sampled")
        img = p.writes(img, "color_attachment_write", mips=(1, 1), layers=layers)
        img = p.writes(img, "color_attachment_write", mips=(2, 1), layers=layers)
    with fg.add_pass("present") as p:
        p.reads(img, "fragment_shader_read_sampled", mips=[0, 3], layers=[0, 4])
        out = p.writes(out, "color_attachment_write", discard=True)
    fg.output(out)
    return fg


def from_scratch_resources():
    """The same resources, constructed directly (every check, no builder, no memo)."""
    return (
        ResourceDecl(name="swapchain", desc=ImageDesc(format=Format.B8G8R8A8_SRGB, extent=(64, 32, 1)),
                     imported=True, swapchain=True, final="present"),
        ResourceDecl(name="taa", desc=ImageDesc(format=Format.R16G16B16A16_SFLOAT, extent=(64, 32, 1)),
                     imported=True, history=True, initial="fragment_shader_read_sampled",
                     final="fragment_shader_read_sampled"),
        ResourceDecl(name="hdr", desc=ImageDesc(format=Format.R16G16B16A16_SFLOAT, extent=(64, 32, 1), mips=3,
                                                layers=4)),
        ResourceDecl(name="lights", desc=BufferDesc(size=4096)),
        ResourceDecl(name="ring", desc=BufferDesc(size=1024), imported=True, initial="host_write",
                     final="transfer_read"),
    )


def where(error: FrameGraphError) -> tuple:
    return str(error), error.message, error.pass_name, error.resource, error.field


def error_of(fn) -> tuple:
    with pytest.raises(FrameGraphError) as info:
        fn()
    return where(info.value)


# ---------------------------------------------------------------- memoized == from scratch

def test_memoized_frames_equal_the_first(cold):
    first = declare(FrameGraph("f"))
    assert graph_module._resource_memo and graph_module._access_memo and graph_module._handle_memo
    again = declare(FrameGraph("f"))
    assert again.graph() == first.graph()
    assert again.structural_key() == first.structural_key() == structural_key(first.graph())
    assert structural_key(again.graph()) == again.structural_key()
    assert again.graph().resources == from_scratch_resources()
    # The second frame really took the memo: the validated declarations are shared, not rebuilt.
    assert all(a is b for a, b in zip(again.graph().resources, first.graph().resources))


def test_spellings_that_mean_the_same_give_the_same_graph(cold):
    reference = declare(FrameGraph("f"))
    for kwargs in (dict(extent=[64, 32]), dict(extent=(64, 32, 1)), dict(fmt=Format.R16G16B16A16_SFLOAT),
                   dict(fmt="VK_FORMAT_R16G16B16A16_SFLOAT"), dict(layers=[1, 2]),
                   dict(extent=(np.int64(64), np.int32(32))), dict(layers=(np.int64(1), 2))):
        for _ in range(2):      # cold for this spelling, then from the memo
            fg = declare(FrameGraph("f"), **kwargs)
            assert fg.graph() == reference.graph(), kwargs
            assert fg.structural_key() == reference.structural_key(), kwargs


def test_handles_are_values_of_the_right_version(cold):
    for _ in range(2):
        fg = FrameGraph("f")
        buf = fg.create_buffer("b", size=16)
        assert buf == Handle("b", 0)
        seen = [buf]
        for k in range(graph_module.MAX_MEMO_VERSIONS + 10):   # past what the memo keeps
            with fg.add_pass(f"p{k}", queue="compute") as p:
                buf = p.writes(buf, "compute_shader_write_storage")
            seen.append(buf)
        assert seen == [Handle("b", v) for v in range(len(seen))]
    assert len(graph_module._handle_memo["b"]) == graph_module.MAX_MEMO_VERSIONS


def test_a_memo_cleared_in_mid_frame_keeps_handles_right(cold):
    """A bound can clear the memo between two writes: the versions after it must not be filed at
    the indexes of the versions before."""
    for frame in range(3):
        fg = FrameGraph("f")
        buf = fg.create_buffer("b", size=16)
        seen = [buf]
        for k in range(6):
            if frame == 0 and k == 3:
                cold()
            with fg.add_pass(f"p{k}", queue="compute") as p:
                buf = p.writes(buf, "compute_shader_write_storage")
            seen.append(buf)
        assert seen == [Handle("b", v) for v in range(7)]


def test_a_str_subclass_name_is_kept_and_not_memoized(cold):
    class Name(str):
        pass
    for _ in range(2):
        fg = FrameGraph("f")
        h = fg.create_buffer(Name("b"), size=16)
        assert type(h.name) is Name
        with fg.add_pass(Name("p"), queue="compute") as p:
            h2 = p.writes(h, "compute_shader_write_storage")
        assert type(h2.name) is Name and h2 == Handle("b", 1)
    assert not graph_module._resource_memo and "b" not in graph_module._handle_memo
    assert fg.structural_key() == structural_key(fg.graph())


# ---------------------------------------------------------------- the memo never launders an error

def _bad_resources():
    """(what a frame declared before, a call with the same name and a bad argument)."""
    img = dict(format="R8G8B8A8_UNORM", extent=(16, 16))
    return [
        (lambda fg: fg.create_buffer("b", size=1), lambda fg: fg.create_buffer("b", size=True)),
        (lambda fg: fg.create_buffer("b", size=16), lambda fg: fg.create_buffer("b", size=16.0)),
        (lambda fg: fg.create_buffer("b", size=16), lambda fg: fg.create_buffer("b", size=0)),
        (lambda fg: fg.create_buffer("b", size=16), lambda fg: fg.create_buffer("b", size="16")),
        (lambda fg: fg.create_image("i", format=Format.R8G8B8A8_UNORM, extent=(16, 16)),
         lambda fg: fg.create_image("i", format=int(Format.R8G8B8A8_UNORM), extent=(16, 16))),
        (lambda fg: fg.create_image("i", **img), lambda fg: fg.create_image("i", format="R8G8B8A8_UNORM",
                                                                              extent=(16.0, 16))),
        (lambda fg: fg.create_image("i", **img), lambda fg: fg.create_image("i", format="R8G8B8A8_UNORM",
                                                                              extent=[16, 16, 1, 1])),
        (lambda fg: fg.create_image("i", **img, mips=1), lambda fg: fg.create_image("i", **img, mips=True)),
        (lambda fg: fg.create_image("i", **img, mips=5), lambda fg: fg.create_image("i", **img, mips=6)),
        (lambda fg: fg.create_image("i", **img, samples=4), lambda fg: fg.create_image("i", **img, samples=3)),
        (lambda fg: fg.create_image("i", **img, layers=1), lambda fg: fg.create_image("i", **img, layers=1.0)),
        (lambda fg: fg.import_image("s", **img, swapchain=True),
         lambda fg: fg.import_image("s", **img, swapchain=1)),
        (lambda fg: fg.import_image("s", **img, swapchain=True),
         lambda fg: fg.import_image("s", **img, swapchain=True, initial="transfer_read")),
        (lambda fg: fg.import_image("s", **img, final="transfer_read"),
         lambda fg: fg.import_image("s", **img, final="vertex_buffer")),
        (lambda fg: fg.import_buffer("r", size=64, initial="host_write"),
         lambda fg: fg.import_buffer("r", size=64, initial="color_attachment_write")),
        (lambda fg: fg.history_image("h", **img, state="fragment_shader_read_sampled"),
         lambda fg: fg.history_image("h", **img, state="undefined")),
        # The same arguments twice in one frame: the memo knows them, the frame refuses the duplicate.
        (lambda fg: fg.create_buffer("b", size=16),
         lambda fg: (fg.create_buffer("b", size=16), fg.create_buffer("b", size=16))),
    ]


@pytest.mark.parametrize("good, bad", _bad_resources())
def test_a_bad_resource_raises_the_same_after_a_good_one(cold, good, bad):
    alone = error_of(lambda: bad(FrameGraph("f")))
    cold()
    good(FrameGraph("f"))
    good(FrameGraph("f"))
    assert error_of(lambda: bad(FrameGraph("f"))) == alone
    assert error_of(lambda: bad(FrameGraph("f"))) == alone     # and raising left nothing behind


def _bad_accesses():
    """(a good access on a pass, a bad one in the same place): p, image, buffer handles."""
    return [
        (lambda p, i, b: p.writes(b, "compute_shader_write_storage", discard=True),
         lambda p, i, b: p.writes(b, "compute_shader_write_storage", discard=1)),
        (lambda p, i, b: p.reads(b, "compute_shader_read_storage"),
         lambda p, i, b: p.writes(b, "compute_shader_read_storage")),
        (lambda p, i, b: p.writes(b, "compute_shader_write_storage"),
         lambda p, i, b: p.reads(b, "compute_shader_write_storage")),
        (lambda p, i, b: p.reads(b, "compute_shader_read_storage"),
         lambda p, i, b: p.reads(i, "index_buffer")),
        (lambda p, i, b: p.reads(b, "compute_shader_read_uniform"),      # a buffer access, on an image
         lambda p, i, b: p.reads(i, "compute_shader_read_uniform")),
        (lambda p, i, b: p.reads(b, "compute_shader_read_storage"),
         lambda p, i, b: p.writes(b, "compute_shader_read_storage", discard=True)),
        (lambda p, i, b: p.reads(i, "compute_shader_read_sampled", layers=(0, 1)),
         lambda p, i, b: p.reads(i, "compute_shader_read_sampled", layers=(0, 1.0))),
        (lambda p, i, b: p.reads(i, "compute_shader_read_sampled", layers=(1, 1)),
         lambda p, i, b: p.reads(i, "compute_shader_read_sampled", layers=(1, 2))),
        (lambda p, i, b: p.reads(i, "compute_shader_read_sampled", layers=1),
         lambda p, i, b: p.reads(i, "compute_shader_read_sampled", layers=True)),
        (lambda p, i, b: p.reads(i, "compute_shader_read_sampled", mips=0),
         lambda p, i, b: p.reads(i, "compute_shader_read_sampled", mips=1)),
        (lambda p, i, b: p.reads(i, "compute_shader_read_sampled", layers=(0, 2)),
         lambda p, i, b: p.reads(i, "compute_shader_read_sampled", range=(0, 2))),
        (lambda p, i, b: p.reads(b, "compute_shader_read_storage", range=(0, 16)),
         lambda p, i, b: p.reads(b, "compute_shader_read_storage", range=(16, 4096))),
        (lambda p, i, b: p.reads(b, "compute_shader_read_storage", range=(0, 16)),
         lambda p, i, b: p.reads(b, "compute_shader_read_storage", layers=(0, 1))),
        (lambda p, i, b: p.reads(b, "compute_shader_read_storage"),
         lambda p, i, b: p.reads(Handle("b", True), "compute_shader_read_storage")),
        (lambda p, i, b: p.reads(b, "compute_shader_read_storage"),
         lambda p, i, b: p.reads(Handle("b", 1), "compute_shader_read_storage")),
        (lambda p, i, b: p.reads(b, "compute_shader_read_storage"),
         lambda p, i, b: p.reads(Handle("nope", 0), "compute_shader_read_storage")),
        (lambda p, i, b: p.reads(b, "compute_shader_read_storage"),
         lambda p, i, b: p.reads(("b", 0), "compute_shader_read_storage")),
    ]


@pytest.mark.parametrize("good, bad", _bad_accesses())
@pytest.mark.parametrize("queue", ["compute", "graphics"])
def test_a_bad_access_raises_the_same_after_a_good_one(cold, good, bad, queue):
    def frame(access):
        fg = FrameGraph("f")
        i = fg.create_image("i", format="R8G8B8A8_UNORM", extent=(16, 16), mips=1, layers=2)
        b = fg.create_buffer("b", size=4096)
        with fg.add_pass("p", queue=queue) as p:
            access(p, i, b)
        return fg
    alone = error_of(lambda: frame(bad))
    cold()
    frame(good)
    frame(good)
    assert error_of(lambda: frame(bad)) == alone


def test_an_access_valid_on_one_queue_is_checked_on_another(cold):
    def frame(queue):
        fg = FrameGraph("f")
        i = fg.create_image("i", format="R8G8B8A8_UNORM", extent=(16, 16))
        with fg.add_pass("p", queue=queue) as p:
            p.writes(i, "color_attachment_write")
    frame("graphics")
    frame("graphics")
    with pytest.raises(FrameGraphError, match="which a compute queue cannot execute"):
        frame("compute")


def test_a_known_name_is_still_checked_for_duplicates_and_bad_names_always_raise(cold):
    for _ in range(2):
        fg = FrameGraph("f")
        fg.add_pass("p")
        with pytest.raises(FrameGraphError, match="duplicate pass name"):
            fg.add_pass("p")
        with pytest.raises(FrameGraphError, match="unknown queue"):
            fg.add_pass("q", queue="graphic")
        with pytest.raises(FrameGraphError, match="unknown queue"):
            fg.add_pass("r", queue=["graphics"])
        with pytest.raises(FrameGraphError, match="control characters"):
            fg.add_pass("bad\x00name")
        with pytest.raises(FrameGraphError, match="must be a string"):
            fg.create_buffer(["b"], size=16)


# ---------------------------------------------------------------- unhashable arguments

def test_unhashable_arguments_work_and_are_not_memoized(cold):
    for _ in range(2):
        fg = FrameGraph("f")
        i = fg.create_image("i", format="R8G8B8A8_UNORM", extent=[16, 16], layers=2)
        j = fg.import_image("j", format="R8G8B8A8_UNORM", extent=[np.int64(16), 16], final="transfer_read")
        b = fg.create_buffer("b", size=np.int64(64))
        with fg.add_pass("p") as p:
            p.reads(i, "fragment_shader_read_sampled", layers=[1, 1], mips=[0, 1])
            p.reads(b, "fragment_shader_read_storage", range=[0, 32])
            p.writes(j, "color_attachment_write", discard=True)
        with pytest.raises(FrameGraphError, match="must be an access name"):
            fg.add_pass("q").reads(i, ["fragment_shader_read_sampled"])
        assert fg.structural_key() == structural_key(fg.graph())
        assert fg.graph().resources[0].desc.extent == (16, 16, 1)
        assert fg.graph().passes[0].accesses[0].layers == (1, 1)
        assert fg.graph().passes[0].accesses[0].mips is None            # the whole, stored as None
    assert ("create_buffer", "b", 64) not in graph_module._resource_memo
    assert any(k[0] == "create_image" and k[3] == (16, 16) for k in graph_module._resource_memo)


# ---------------------------------------------------------------- bounded

def test_memos_stay_bounded(cold, monkeypatch):
    monkeypatch.setattr(graph_module, "MAX_MEMO", 16)
    monkeypatch.setattr(errors, "MAX_KNOWN_NAMES", 16)
    for frame in range(3):
        fg = FrameGraph(f"frame{frame}")
        prev = None
        for k in range(100):
            buf = fg.create_buffer(f"b{frame}.{k}", size=16 + k)
            with fg.add_pass(f"p{frame}.{k}", queue="compute") as p:
                if prev is not None:
                    p.reads(prev, "compute_shader_read_storage", range=(0, 16))
                buf = p.writes(buf, "compute_shader_write_storage" if k % 2 else "transfer_write")
            prev = buf
        fg.output(prev)
        assert fg.structural_key() == structural_key(fg.graph())
        assert [r.desc.size for r in fg.graph().resources] == [16 + k for k in range(100)]
        for memo in (graph_module._resource_memo, graph_module._access_memo, graph_module._handle_memo):
            assert 0 < len(memo) <= 16
        assert 0 < len(errors.known_names) <= 16
