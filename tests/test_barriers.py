"""Barrier placement per strategy, checked structurally (counts, masks, layouts)."""
import pytest

from framegraph import FrameGraph, compile
from framegraph.plan import BarrierCmd, PassCmd
from framegraph.vk import Access, Layout, Stage

from .graphs import chain, deferred_like


def commands(plan):
    return list(plan.commands())


def barrier_before(plan, pass_name):
    cmds = commands(plan)
    i = next(k for k, c in enumerate(cmds) if isinstance(c, PassCmd) and c.pass_name == pass_name)
    out = []
    k = i - 1
    while k >= 0 and isinstance(cmds[k], BarrierCmd):
        out.append(cmds[k])
        k -= 1
    return out


def test_batched_chain_has_exactly_one_barrier_before_each_consumer():
    plan = compile(chain(4).graph(), strategy="batched")
    for i in range(4):
        calls = barrier_before(plan, f"consume{i}")
        assert len(calls) == 1
        img = [b for b in calls[0].dependency.images if b.resource == f"img{i}"]
        assert len(img) == 1
        b = img[0]
        assert b.src_stages == Stage.COLOR_ATTACHMENT_OUTPUT and b.src_access == Access.COLOR_ATTACHMENT_WRITE
        assert b.dst_stages == Stage.FRAGMENT_SHADER and b.dst_access == Access.SHADER_SAMPLED_READ
        assert (b.old_layout, b.new_layout) == (Layout.COLOR_ATTACHMENT_OPTIMAL, Layout.SHADER_READ_ONLY_OPTIMAL)


def test_no_barrier_between_readers_sharing_a_layout():
    fg = FrameGraph()
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(8, 8))
    buf = fg.import_buffer("out", size=64)
    img = fg.add_pass("w").writes(img, "color_attachment_write", discard=True)
    for i in range(3):
        p = fg.add_pass(f"r{i}")
        p.reads(img, "fragment_shader_read_sampled")
        buf = p.writes(buf, "fragment_shader_write_storage", range=(16 * i, 16))
    plan = compile(fg.graph(), strategy="batched")
    assert len(barrier_before(plan, "r0")) == 1
    assert barrier_before(plan, "r1") == [] and barrier_before(plan, "r2") == []


def test_write_after_read_is_execution_only():
    fg = FrameGraph()
    buf = fg.import_buffer("b", size=64, initial="compute_shader_read_storage")
    r = fg.add_pass("r")
    r.reads(buf, "compute_shader_read_storage")
    r.writes(fg.import_buffer("sink", size=4), "compute_shader_write_storage")
    fg.add_pass("w", queue="compute").writes(buf, "compute_shader_write_storage")
    plan = compile(fg.graph(), strategy="batched")
    (call,) = barrier_before(plan, "w")
    (b,) = call.dependency.buffers
    assert b.src_stages == Stage.COMPUTE_SHADER and b.src_access == Access.NONE and b.dst_access == Access.NONE
    assert {(r.producer, r.hazard) for r in call.reasons} == {(None, "WAR"), ("r", "WAR")}


def test_transient_first_use_starts_undefined_and_imported_end_in_final():
    plan = compile(chain(1).graph(), strategy="batched")
    (first,) = barrier_before(plan, "produce0")
    assert first.dependency.images[0].old_layout == Layout.UNDEFINED
    last = commands(plan)[-1]
    assert isinstance(last, BarrierCmd)
    (fin,) = last.dependency.images
    assert fin.resource == "out" and fin.new_layout == Layout.TRANSFER_SRC_OPTIMAL
    assert fin.dst_stages == Stage.ALL_TRANSFER and fin.dst_access == Access.TRANSFER_READ
    assert any(r.hazard == "final" for r in last.reasons)


def test_strategies_rank_by_call_count():
    g = deferred_like().graph()
    calls = {s: compile(g, strategy=s).stats["barrier_calls"] for s in ("naive", "per_resource", "batched")}
    assert calls["batched"] <= calls["per_resource"]
    assert calls["batched"] < calls["naive"]
    naive = compile(g, strategy="naive")
    assert naive.stats["memory_barriers"] >= naive.stats["passes"] - 1


def test_mip_granular_barriers_in_a_downsample_chain():
    plan = compile(deferred_like().graph(), strategy="batched")
    (call,) = barrier_before(plan, "bloom_down2")
    hdr = [b for b in call.dependency.images if b.resource == "hdr"]
    assert {(b.mips, b.old_layout, b.new_layout) for b in hdr} >= {
        ((1, 1), Layout.COLOR_ATTACHMENT_OPTIMAL, Layout.SHADER_READ_ONLY_OPTIMAL)}
    assert all(b.mips[1] == 1 for b in hdr)


def test_layer_granular_shadow_cascades():
    plan = compile(deferred_like().graph(), strategy="per_resource")
    (call,) = barrier_before(plan, "shadow1")
    (b,) = call.dependency.images
    assert b.layers == (1, 1) and b.old_layout == Layout.UNDEFINED


def test_swapchain_waits_for_acquire_and_presents():
    plan = compile(deferred_like().graph(), strategy="batched")
    acquire = [w for s in plan.submits for w in s.waits if w.acquire]
    assert len(acquire) == 1 and acquire[0].stages == Stage.COLOR_ATTACHMENT_OUTPUT
    assert plan.submits[-1].present == ("swapchain",)
    last = plan.submits[-1].commands[-1]
    assert last.dependency.images[-1].new_layout == Layout.PRESENT_SRC_KHR


def test_provenance_names_producer_consumer_and_hazard():
    plan = compile(chain(1).graph(), strategy="batched")
    (call,) = barrier_before(plan, "consume0")
    assert any((r.producer, r.consumer, r.resource, r.hazard) == ("produce0", "consume0", "img0", "RAW")
               for r in call.reasons)


def test_plan_json_has_design_fields():
    d = compile(deferred_like().graph(), strategy="batched").to_dict()
    assert d["format"] == "framegraph-plan/1" and d["culled"] == ["debug_view"]
    assert set(d["stats"]) >= {"barrier_calls", "image_barriers", "buffer_barriers", "memory_barriers", "events",
                               "semaphore_waits", "transient_bytes", "transient_bytes_unaliased",
                               "transient_bytes_lower_bound"}
    img = next(c for s in d["submits"] for c in s["commands"] if c["op"] == "barrier")["dependency"]["images"][0]
    assert set(img) >= {"resource", "mips", "layers", "src_stages", "src_access", "dst_stages", "dst_access",
                        "old_layout", "new_layout", "src_queue", "dst_queue"}


def test_state_carried_into_the_next_frame_ends_on_the_first_queue():
    """A history image first used on compute and last on graphics ends on compute, acquired back to
    its family, so frame N+1's first use follows frame N's end in queue order."""
    fg = FrameGraph()
    hist = fg.history_image("hist", format="R8G8B8A8_UNORM", extent=(8, 8), state="compute_shader_read_sampled")
    out = fg.import_buffer("out", size=64)
    p = fg.add_pass("reproject", queue="compute")
    p.reads(hist, "compute_shader_read_sampled")
    out = p.writes(out, "compute_shader_write_storage")
    fg.add_pass("store").writes(hist, "color_attachment_write", discard=True)
    plan = compile(fg.graph(), device="discrete")
    d = plan.to_dict()
    res = next(r for r in d["resources"] if r["name"] == "hist")
    assert res["final_queue"] == "compute"
    last = [s for s in plan.submits if s.queue == "compute"][-1]
    acquires = [b for c in last.commands if isinstance(c, BarrierCmd) for b in c.dependency.images
                if b.resource == "hist" and b.dst_queue == 2]
    assert acquires and acquires[-1].new_layout == Layout.SHADER_READ_ONLY_OPTIMAL
    from framegraph.verifier import verify_plan
    assert verify_plan(d) == []


def test_stage_masks_stay_within_what_the_queue_family_executes():
    """On a compute-only family, graphics stages from an imported resource's states become
    ALL_COMMANDS; nothing a compute or transfer submit records names a graphics stage."""
    fg = FrameGraph()
    img = fg.import_image("img", format="R8G8B8A8_UNORM", extent=(8, 8), initial="color_attachment_write",
                          final="fragment_shader_read_sampled")
    buf = fg.import_buffer("buf", size=64, initial="vertex_buffer", final="vertex_buffer")
    p = fg.add_pass("cs", queue="compute")
    p.reads(img, "compute_shader_read_sampled")
    p.writes(buf, "compute_shader_write_storage")
    plan = compile(fg.graph(), device="discrete")
    graphics_only = Stage.ALL_GRAPHICS | Stage.COLOR_ATTACHMENT_OUTPUT | Stage.FRAGMENT_SHADER | \
        Stage.VERTEX_ATTRIBUTE_INPUT | Stage.VERTEX_SHADER | Stage.EARLY_FRAGMENT_TESTS | Stage.LATE_FRAGMENT_TESTS
    for s in plan.submits:
        if s.queue == "graphics":
            continue
        for c in s.commands:
            if isinstance(c, BarrierCmd):
                d = c.dependency
                for b in d.images + d.buffers + d.memory:
                    assert not (b.src_stages & graphics_only) and not (b.dst_stages & graphics_only), b
    from framegraph.verifier import verify_plan
    assert verify_plan(plan.to_dict()) == []


def test_split_keeps_transitions_out_of_events_while_the_image_is_in_use():
    """A mip chain under split: an event may carry a layout transition only if no other part of
    that image is touched between set and wait (a transition in vkCmdSetEvent2 runs at the set)."""
    from framegraph.plan import SetEventCmd
    from .graphs import deferred_like
    plan = compile(deferred_like().graph(), strategy="split")
    order = [c for c in plan.commands()]
    for i, c in enumerate(order):
        if not isinstance(c, SetEventCmd):
            continue
        wait = next(j for j in range(i, len(order)) if getattr(order[j], "events", None) and c.event in order[j].events)
        touched = {a.resource for k in range(i, wait) if isinstance(order[k], PassCmd)
                   for a in plan.pass_named(order[k].pass_name).accesses}
        for b in c.dependency.images:
            if b.old_layout != b.new_layout:
                assert b.resource not in touched, (c.event, b.resource)


@pytest.mark.parametrize("placement", ("best_fit", "first_fit"))
def test_split_keeps_aliased_render_targets_out_of_events(placement):
    """Aliased render targets take over memory with a transition from UNDEFINED; in vkCmdSetEvent2
    that corrupted the deferred sample on the H100 (scripts/diag_split.py), so under split such
    transitions stay in pipeline barriers, while events still split the other dependencies."""
    from framegraph import CompileOptions
    from framegraph.plan import SetEventCmd
    from samples import deferred
    graph = deferred.build_graph(width=128, height=128, shadow_size=512).graph()
    plan = compile(graph, options=CompileOptions(strategy="split", placement=placement))
    sets = [c for c in plan.commands() if isinstance(c, SetEventCmd)]
    assert sets, "the deferred sample must still get events under split"
    attachment = {"COLOR_ATTACHMENT_OPTIMAL", "DEPTH_ATTACHMENT_OPTIMAL", "DEPTH_STENCIL_ATTACHMENT_OPTIMAL"}
    assert not [b for c in sets for b in c.dependency.images
                if b.old_layout.name == "UNDEFINED" and b.new_layout.name in attachment]
    undefined = [b for c in plan.commands() if isinstance(c, BarrierCmd) for b in c.dependency.images
                 if b.old_layout.name == "UNDEFINED" and any(r.hazard == "alias" for r in c.reasons)]
    assert undefined, "the aliasing transitions are still there, in pipeline barriers"
    from framegraph.verifier import verify_plan
    assert verify_plan(plan.to_dict()) == []


def test_an_imported_state_from_another_queue_is_fitted_to_the_first_user():
    """An image left by a fragment shader last frame, first used on the compute queue: the compute
    queue's barriers cannot name FRAGMENT_SHADER, so the entry state is synchronized at ALL_COMMANDS
    (found by the verifier's queue-capability check on a fuzzed graph)."""
    from framegraph import CompileOptions
    from framegraph.verifier import verify_plan
    fg = FrameGraph("entry_state")
    img = fg.import_image("img", format="R8G8B8A8_UNORM", extent=(16, 16), initial="fragment_shader_read_sampled")
    out = fg.create_buffer("out", size=256)
    with fg.add_pass("sim", queue="compute") as p:
        p.reads(img, "compute_shader_read_sampled")
        out = p.writes(out, "compute_shader_write_storage", discard=True)
    with fg.add_pass("draw") as p:
        p.writes(img, "color_attachment_write")
    fg.output(out)
    for strategy in ("naive", "per_resource", "batched", "split"):
        plan = compile(fg.graph(), device="discrete", options=CompileOptions(strategy=strategy))
        assert verify_plan(plan.to_dict()) == [], strategy
        compute = [c for s in plan.submits if s.queue == "compute" for c in s.commands if isinstance(c, BarrierCmd)]
        assert all(not (b.src_stages & Stage.FRAGMENT_SHADER) for c in compute for b in c.dependency.images)
