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


def test_every_feature_round_trips():
    from .fuzz_inputs import everything_graph
    g = everything_graph().graph()
    text = dump_graph(g)
    assert load_graph(text) == g and dump_graph(load_graph(text)) == text


def test_a_range_spelled_in_full_is_no_range():
    d = json.loads(dump_graph(deferred_like().graph()))
    d["passes"][0]["accesses"][0]["range"] = [0, 4096]
    assert load_graph(d) == deferred_like().graph()


@pytest.mark.parametrize("text,match", [
    ('{"format": "framegraph-graph/1", "name": 7}', "field 'name': must be a string"),
    ('{"format": "framegraph-graph/1", "resources": {}}', "field 'resources': must be a list"),
    ('{"format": "framegraph-graph/1", "passes": [], "extra": 1}', "unknown field 'extra' in the graph"),
    ('{"format": "framegraph-graph/1", "outputs": ["nope"]}', "resource 'nope'.*unknown output"),
    ('{"format": "framegraph-graph/1", "resources": [{"name": "b", "kind": "buffer", "size": 4}],'
     ' "outputs": ["b", "b"]}', "listed twice"),
    ('{"format": "framegraph-graph/1", "resources": [{"name": "b", "kind": "buffer", "size": 4}],'
     ' "passes": [{"name": "p", "accesses": [{"resource": "b", "access": "transfer_write", "mips": 0}]}]}',
     "pass 'p', resource 'b', field 'mips'"),
    ('{"format": "framegraph-graph/1", "resources": [{"name": "b", "kind": "buffer", "size": 4, '
     '"initial": "transfer_write"}]}', "only imported resources"),
    (b'{"format": "framegraph-graph/1", "name": "\xff"}', "not UTF-8"),
])
def test_schema_errors_name_the_field(text, match):
    with pytest.raises(FrameGraphError, match=match):
        load_graph(text)
