from framegraph import CompileOptions, FrameGraph, compile
from framegraph.compiler.cull import cull
from framegraph.compiler.order import hazard_edges, reorder
from framegraph.compiler.validate import validate

from .graphs import deferred_like


def producer_then_independent_work():
    fg = FrameGraph("gap")
    out = fg.import_image("out", format="R8G8B8A8_UNORM", extent=(8, 8), final="transfer_read")
    a = fg.create_image("a", format="R8G8B8A8_UNORM", extent=(8, 8))
    a = fg.add_pass("produce").writes(a, "color_attachment_write", discard=True)
    p = fg.add_pass("consume")
    p.reads(a, "fragment_shader_read_sampled")
    out = p.writes(out, "color_attachment_read_write")
    side = fg.import_buffer("side", size=256)
    for i in range(3):
        side = fg.add_pass(f"independent{i}", queue="compute").writes(side, "compute_shader_write_storage",
                                                                      range=(64 * i, 64))
    fg.output(out)
    return fg


def test_reorder_moves_independent_work_between_producer_and_consumer():
    rg = validate(producer_then_independent_work().graph())
    order = [rg.passes[i].name for i in reorder(rg, cull(rg).kept)]
    assert order.index("consume") - order.index("produce") > 1


def test_reorder_is_off_by_default_and_keeps_hazard_order():
    g = deferred_like().graph()
    plain = compile(g)
    assert [p.name for p in plain.passes] == [p.name for p in g.passes if p.name != "debug_view"]
    rg = validate(g)
    kept = cull(rg).kept
    order = reorder(rg, kept)
    position = {p: i for i, p in enumerate(order)}
    for p, preds in hazard_edges(rg, kept).items():
        assert all(position[q] < position[p] for q in preds)


def test_reordered_split_plan_uses_events_and_verifies():
    import json
    from framegraph.verifier import verify_plan
    g = producer_then_independent_work().graph()
    plain = compile(g, options=CompileOptions(strategy="split"))
    moved = compile(g, options=CompileOptions(strategy="split", reorder=True))
    assert moved.stats["events"] > plain.stats["events"]
    assert verify_plan(json.loads(moved.to_json())) == []
