import networkx as nx

from framegraph import FrameGraph
from framegraph.compiler.cull import cull
from framegraph.compiler.validate import validate

from .graphs import deferred_like


def test_debug_view_is_culled_and_the_rest_kept():
    res = cull(validate(deferred_like().graph()))
    assert res.culled == ("debug_view",)
    assert nx.is_directed_acyclic_graph(res.deps.to_networkx())


def test_writes_to_imported_resources_are_side_effects():
    fg = FrameGraph()
    buf = fg.import_buffer("readback", size=64)
    fg.add_pass("copy", queue="transfer").writes(buf, "transfer_write")
    fg.add_pass("orphan").writes(fg.create_buffer("tmp", size=4), "transfer_write")
    res = cull(validate(fg.graph()))
    assert res.culled == ("orphan",)


def test_loading_write_keeps_the_previous_writer():
    fg = FrameGraph()
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(8, 8))
    img = fg.add_pass("clear").writes(img, "color_attachment_write", discard=True)
    img = fg.add_pass("overlay").writes(img, "color_attachment_write")   # LOAD: keeps clear's pixels
    img2 = fg.add_pass("overwrite_unused").writes(fg.create_image("x", format="R8_UNORM", extent=(8, 8)),
                                                  "color_attachment_write", discard=True)
    fg.output(img)
    res = cull(validate(fg.graph()))
    assert res.culled == ("overwrite_unused",)


def test_output_by_changed_outputs():
    fg = FrameGraph()
    a = fg.add_pass("a").writes(fg.create_buffer("ba", size=4), "transfer_write")
    b = fg.add_pass("b").writes(fg.create_buffer("bb", size=4), "transfer_write")
    fg.output(a)
    assert cull(validate(fg.graph())).culled == ("b",)
