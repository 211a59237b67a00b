"""Alias hand-offs by the letter of the spec: an image or buffer barrier's access scopes cover only
accesses through its own resource, so the earlier occupant's writes reach the new occupant through
a global memory barrier in the same dependency; transient buffers alias like images."""
import json

import pytest

from framegraph import CompileOptions, FrameGraph, compile
from framegraph.verifier import verify_plan

STRATEGIES = ("naive", "per_resource", "batched", "split")


def depth_then_bloom():
    """'depth' is only depth-tested in 'gbuffer' (never read after); 'bloom' takes over its memory
    right after: the depth writes were never made available by any barrier through 'depth'."""
    fg = FrameGraph("handoff")
    out = fg.import_image("out", format="R8G8B8A8_UNORM", extent=(64, 64), final="transfer_read")
    depth = fg.create_image("depth", format="D32_SFLOAT", extent=(64, 64))
    bloom = fg.create_image("bloom", format="R32_SFLOAT", extent=(64, 64))
    with fg.add_pass("gbuffer") as p:
        depth = p.writes(depth, "depth_attachment_write", discard=True)
        out = p.writes(out, "color_attachment_write", discard=True)
    with fg.add_pass("bloom") as p:
        bloom = p.writes(bloom, "compute_shader_write_storage", discard=True)
    with fg.add_pass("composite") as p:
        p.reads(bloom, "fragment_shader_read_sampled")
        out = p.writes(out, "color_attachment_write")
    fg.output(out)
    return fg.graph()


def compute_chain(n_buffers=8, size=65536):
    """Nine dispatches over eight transient buffers, each read by the next two dispatches."""
    fg = FrameGraph("compute_chain")
    out = fg.import_buffer("out", size=size, final="transfer_read")
    bufs = [fg.create_buffer(f"t{i}", size=size) for i in range(n_buffers)]
    with fg.add_pass("d0", queue="compute") as p:
        bufs[0] = p.writes(bufs[0], "compute_shader_write_storage")
    for i in range(1, n_buffers):
        with fg.add_pass(f"d{i}", queue="compute") as p:
            p.reads(bufs[i - 1], "compute_shader_read_storage")
            if i >= 2:
                p.reads(bufs[i - 2], "compute_shader_read_storage")
            bufs[i] = p.writes(bufs[i], "compute_shader_write_storage")
    with fg.add_pass(f"d{n_buffers}", queue="compute") as p:
        p.reads(bufs[-1], "compute_shader_read_storage")
        out = p.writes(out, "compute_shader_write_storage")
    fg.output(out)
    return fg.graph()


def _commands(plan):
    return [c for s in plan["submits"] for c in s["commands"]]


def _handoff_barrier(plan, resource):
    for c in _commands(plan):
        if c["op"] == "barrier" and any(i["resource"] == resource and i["old_layout"].endswith("UNDEFINED")
                                        for i in c["dependency"]["images"]):
            return c
    raise AssertionError(f"no barrier takes {resource} from UNDEFINED")


@pytest.mark.parametrize("strategy", ["per_resource", "batched", "split"])
def test_image_handoff_carries_the_old_writes_in_a_memory_barrier(strategy):
    plan = json.loads(compile(depth_then_bloom(), strategy=strategy).to_json())
    res = {r["name"]: r for r in plan["resources"]}
    assert (res["bloom"]["heap"], res["bloom"]["offset"]) == (res["depth"]["heap"], res["depth"]["offset"])
    c = _handoff_barrier(plan, "bloom")
    (image,) = [i for i in c["dependency"]["images"] if i["resource"] == "bloom"]
    (memory,) = c["dependency"]["memory"]
    # The image barrier orders the transition after the old occupant's depth tests but names no
    # access of its own: nothing was written through 'bloom'.
    tests = ["VK_PIPELINE_STAGE_2_EARLY_FRAGMENT_TESTS_BIT", "VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT"]
    assert image["src_stages"] == tests and image["src_access"] == []
    # The global barrier carries the old occupant's last stages and writes to the new first use.
    assert memory["src_stages"] == tests
    assert memory["src_access"] == ["VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT"]
    assert memory["dst_stages"] == ["VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT"]
    assert memory["dst_access"] == ["VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT"]
    assert any(r["hazard"] == "alias" and r["producer"] == "gbuffer" for r in c["reasons"])
    assert verify_plan(plan) == []


def test_the_old_handoff_shape_is_reported_with_resource_names():
    """Built the old way (the old occupant's writes in the new image barrier's source access, no
    memory barrier), the hand-off is a write-after-write on aliased memory."""
    plan = json.loads(compile(depth_then_bloom(), strategy="batched").to_json())
    c = _handoff_barrier(plan, "bloom")
    memory = c["dependency"]["memory"].pop()
    for i in c["dependency"]["images"]:
        if i["resource"] == "bloom":
            i["src_stages"] = sorted(set(i["src_stages"]) | set(memory["src_stages"]))
            i["src_access"] = memory["src_access"]
    problems = verify_plan(plan)
    assert any(p.kind == "alias" and p.resource == "bloom" and "'depth'" in p.detail
               and "never made available" in p.detail for p in problems), problems


@pytest.mark.parametrize("device", ["lavapipe", "discrete"])
def test_transient_buffers_alias_by_default(device):
    plan = compile(compute_chain(), device=device)
    s = plan.stats
    assert s["transient_bytes_unaliased"] == 8 * 65536
    assert s["transient_bytes"] == s["transient_bytes_lower_bound"] == 3 * 65536   # was 8 buffers, 1.6x+
    d = json.loads(plan.to_json())
    assert verify_plan(d) == []
    # Each buffer that takes over memory waits for the old occupant through a global barrier: no
    # buffer barrier on the new buffer claims to make the old writes available.
    handoffs = [c for c in _commands(d) if c["op"] == "barrier"
                and any(r["hazard"] == "alias" for r in c["reasons"])]
    assert handoffs and all(c["dependency"]["memory"] for c in handoffs)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("device", ["lavapipe", "discrete"])
def test_handoff_plans_verify_under_every_strategy(strategy, device):
    for graph in (depth_then_bloom(), compute_chain()):
        for opts in (dict(), dict(reorder=True), dict(alias_across_queues=True), dict(placement="first_fit")):
            plan = compile(graph, device=device, options=CompileOptions(strategy=strategy, **opts))
            assert verify_plan(json.loads(plan.to_json()), driver_rules=True) == [], (strategy, device, opts)
