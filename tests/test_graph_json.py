import json

import pytest

from framegraph import FrameGraphError, dump_graph, load_graph

from .graphs import deferred_like


def test_round_trip_is_exact():
    g = deferred_like().graph()
    text = dump_graph(g)
    assert load_graph(text) == g
    assert dump_graph(load_graph(text)) == text


def test_design_example_parses():
    doc = {
        "format": "framegraph-graph/1", "name": "deferred",
        "resources": [
            {"name": "depth", "kind": "image", "format": "VK_FORMAT_D32_SFLOAT", "extent": [1280, 720, 1],
             "mips": 1, "layers": 1, "samples": 1},
            {"name": "lights", "kind": "buffer", "size": 65536},
            {"name": "swapchain", "kind": "image", "format": "VK_FORMAT_B8G8R8A8_SRGB", "extent": [1280, 720, 1],
             "imported": True, "swapchain": True, "initial": "undefined", "final": "present"}],
        "passes": [{"name": "gbuffer", "queue": "graphics",
                    "accesses": [{"resource": "depth", "access": "depth_attachment_write"}]}],
        "outputs": ["swapchain"]}
    g = load_graph(json.dumps(doc))
    assert g.resources[2].swapchain and g.resources[2].final == "present"


@pytest.mark.parametrize("text,match", [
    ("{not json", "malformed graph JSON"),
    ('{"format": "framegraph-graph/2"}', "unsupported graph format"),
    ('{"format": "framegraph-graph/1", "resources": [{"name": "a", "kind": "texture"}]}', "resource 'a'.*kind"),
    ('{"format": "framegraph-graph/1", "resources": [{"name": "a", "kind": "image"}]}', "resource 'a'.*missing"),
    ('{"format": "framegraph-graph/1", "resources": [{"name": "a", "kind": "buffer", "size": 4}],'
     ' "passes": [{"name": "p", "accesses": [{"resource": "a", "access": "transfer_write", "range": [0]}]}]}',
     "pass 'p', resource 'a'.*range"),
    ('{"format": "framegraph-graph/1", "passes": [{"name": "p", "queue": "video"}]}', "pass 'p'.*queue"),
    ('{"format": "framegraph-graph/1", "passes": [{"name": "p", "accesses": [{"resource": "a"}]}]}', "pass 'p'"),
    ('[1, 2]', "must be an object"),
])
def test_malformed_graphs_raise_framegraph_error(text, match):
    with pytest.raises(FrameGraphError, match=match):
        load_graph(text)
