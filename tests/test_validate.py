import pytest

from framegraph import FrameGraph, FrameGraphError, compile, load_graph
from framegraph.compiler.validate import validate
from framegraph.vk import Layout

from .graphs import deferred_like


def _fg():
    fg = FrameGraph("v")
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(16, 16), mips=3, layers=2)
    buf = fg.create_buffer("buf", size=256)
    return fg, img, buf


def test_read_of_never_written_transient():
    fg, img, _ = _fg()
    fg.add_pass("p").reads(img, "fragment_shader_read_sampled")
    with pytest.raises(FrameGraphError, match="pass 'p', resource 'img'.*no earlier pass wrote"):
        validate(fg.graph())


def test_read_of_unwritten_mip_is_caught_at_subresource_granularity():
    fg, img, _ = _fg()
    img = fg.add_pass("w").writes(img, "color_attachment_write", mips=(0, 1), discard=True)
    fg.add_pass("r").reads(img, "fragment_shader_read_sampled", mips=(1, 1))
    with pytest.raises(FrameGraphError, match="pass 'r', resource 'img'.*mip 1"):
        validate(fg.graph())


@pytest.mark.parametrize("kw,match", [({"mips": (2, 2)}, "mips"), ({"layers": (0, 3)}, "layers"),
                                      ({"mips": (-1, 1)}, "mips")])
def test_out_of_range_subresources(kw, match):
    # Raised where the access is declared, before the builder records anything.
    fg, img, _ = _fg()
    with pytest.raises(FrameGraphError, match=f"pass 'p', resource 'img'.*{match}"):
        fg.add_pass("p").writes(img, "color_attachment_write", **kw)


def test_buffer_range_out_of_bounds():
    fg, _, buf = _fg()
    with pytest.raises(FrameGraphError, match="pass 'p', resource 'buf'.*range"):
        fg.add_pass("p").writes(buf, "transfer_write", range=(200, 100))


def test_image_access_on_buffer_and_back():
    fg, img, buf = _fg()
    with pytest.raises(FrameGraphError, match="pass 'p', resource 'buf'"):
        fg.add_pass("p").writes(buf, "color_attachment_write")
    fg, img, buf = _fg()
    with pytest.raises(FrameGraphError, match="pass 'q', resource 'img'"):
        fg.add_pass("q").reads(img, "vertex_buffer")


def test_incompatible_accesses_in_one_pass():
    fg, img, _ = _fg()
    img = fg.add_pass("w").writes(img, "color_attachment_write", discard=True)
    p = fg.add_pass("feedback")
    p.reads(img, "fragment_shader_read_sampled", mips=(0, 1))
    p.writes(img, "color_attachment_write", mips=(0, 1))
    with pytest.raises(FrameGraphError, match="pass 'feedback', resource 'img'.*layouts"):
        validate(fg.graph())


def test_compatible_reads_merge_into_one_layout():
    fg = FrameGraph("m")
    depth = fg.create_image("depth", format="D32_SFLOAT", extent=(8, 8))
    depth = fg.add_pass("z").writes(depth, "depth_attachment_write", discard=True)
    p = fg.add_pass("decal")
    p.reads(depth, "depth_attachment_read")
    p.reads(depth, "fragment_shader_read_sampled")
    rg = validate(fg.graph())
    (acc,) = rg.passes[1].accesses
    assert acc.layout == Layout.DEPTH_READ_ONLY_OPTIMAL


def test_mip_chain_in_one_pass_is_fine():
    fg, img, _ = _fg()
    img = fg.add_pass("w").writes(img, "color_attachment_write", mips=(0, 1), discard=True)
    p = fg.add_pass("down")
    p.reads(img, "fragment_shader_read_sampled", mips=(0, 1))
    p.writes(img, "color_attachment_write", mips=(1, 1), discard=True)
    rg = validate(fg.graph())
    assert len(rg.passes[1].accesses) == 2


def test_duplicate_names_and_unknowns():
    fg = FrameGraph()
    fg.create_buffer("b", size=4)
    with pytest.raises(FrameGraphError, match="resource 'b'.*duplicate"):
        fg.create_buffer("b", size=4)
    fg.add_pass("p")
    with pytest.raises(FrameGraphError, match="pass 'p'.*duplicate"):
        fg.add_pass("p")
    with pytest.raises(FrameGraphError, match="unknown queue"):
        fg.add_pass("q", queue="video")


def test_stale_handle():
    fg, img, _ = _fg()
    new = fg.add_pass("a").writes(img, "color_attachment_write", discard=True)
    with pytest.raises(FrameGraphError, match="pass 'b', resource 'img'.*stale"):
        fg.add_pass("b").reads(img, "fragment_shader_read_sampled")
    fg.add_pass("c").reads(new, "fragment_shader_read_sampled")


def test_unknown_resource_in_json():
    g = {"format": "framegraph-graph/1", "name": "x", "resources": [],
         "passes": [{"name": "p", "accesses": [{"resource": "ghost", "access": "transfer_write"}]}]}
    with pytest.raises(FrameGraphError, match="pass 'p', resource 'ghost'.*unknown resource"):
        compile(load_graph(g))


def test_deferred_like_validates():
    rg = validate(deferred_like().graph())
    assert [p.name for p in rg.passes][:2] == ["upload_lights", "shadow0"]
