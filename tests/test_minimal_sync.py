"""No over-synchronization against the Khronos Synchronization Examples: the masks and layouts the
compiler emits for discarding attachment writes, host writes before the frame, and depth re-use;
every barrier that remains still says why (plan.explain())."""
import json

import pytest

from framegraph import CompileOptions, FrameGraph, compile
from framegraph.verifier import verify_plan

STRATEGIES = ("per_resource", "batched", "split")


def _barriers(plan: dict, resource: str):
    """(command, barrier entry) for every barrier (or event) entry naming `resource`."""
    out = []
    for s in plan["submits"]:
        for c in s["commands"]:
            deps = [c["dependency"]] if "dependency" in c else c.get("dependencies", [])
            for d in deps:
                for b in d["images"] + d["buffers"]:
                    if b["resource"] == resource:
                        out.append((c, b))
    return out


def _short(names):
    return sorted(n.replace("VK_PIPELINE_STAGE_2_", "").replace("VK_ACCESS_2_", "").replace("_BIT", "") for n in names)


def frame():
    fg = FrameGraph("minimal")
    swap = fg.import_image("swap", format="B8G8R8A8_SRGB", extent=(32, 32), swapchain=True)
    consts = fg.import_buffer("consts", size=256, initial="host_write", final="host_write")
    depth = fg.create_image("depth", format="D32_SFLOAT", extent=(32, 32))
    color = fg.create_image("color", format="R8G8B8A8_UNORM", extent=(32, 32))
    with fg.add_pass("prepass") as p:
        p.reads(consts, "vertex_shader_read_uniform")
        depth = p.writes(depth, "depth_attachment_write", discard=True)
        color = p.writes(color, "color_attachment_write", discard=True)
    with fg.add_pass("main") as p:                 # depth cleared again: re-use
        p.reads(consts, "vertex_shader_read_uniform")
        depth = p.writes(depth, "depth_attachment_write", discard=True)
        color = p.writes(color, "color_attachment_write")          # load op LOAD: reads it
    with fg.add_pass("present") as p:
        p.reads(color, "fragment_shader_read_sampled")
        swap = p.writes(swap, "color_attachment_write", discard=True)
    fg.output(swap)
    fg.output(depth)
    return fg.graph()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_discarding_colour_writes_name_only_the_write(strategy):
    plan = json.loads(compile(frame(), strategy=strategy).to_json())
    first_color = _barriers(plan, "color")[0][1]
    assert first_color["old_layout"].endswith("UNDEFINED")
    assert _short(first_color["dst_access"]) == ["COLOR_ATTACHMENT_WRITE"]
    swap_first = _barriers(plan, "swap")[0][1]
    assert _short(swap_first["dst_access"]) == ["COLOR_ATTACHMENT_WRITE"]
    # LOAD keeps the read: 'main' loads 'color'.
    load = [b for c, b in _barriers(plan, "color") if any(r["consumer"] == "main" for r in c.get("reasons", []))]
    assert load and all("VK_ACCESS_2_COLOR_ATTACHMENT_READ_BIT" in b["dst_access"] for b in load)
    assert verify_plan(plan) == []


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_host_writes_before_the_frame_get_no_barrier(strategy):
    plan = json.loads(compile(frame(), strategy=strategy).to_json())
    before_use = [(c, b) for c, b in _barriers(plan, "consts")
                  if any(r["consumer"] is not None for r in c.get("reasons", []))]
    assert before_use == []
    assert verify_plan(plan) == []


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_depth_rewritten_with_discard_transitions_from_undefined(strategy):
    plan = json.loads(compile(frame(), strategy=strategy).to_json())
    reuse = [b for c, b in _barriers(plan, "depth") if any(r["consumer"] == "main" for r in c.get("reasons", []))]
    assert len(reuse) == 1
    (b,) = reuse
    assert b["old_layout"].endswith("UNDEFINED") and b["new_layout"].endswith("DEPTH_ATTACHMENT_OPTIMAL")
    assert _short(b["src_stages"]) == ["LATE_FRAGMENT_TESTS"]
    assert _short(b["src_access"]) == ["DEPTH_STENCIL_ATTACHMENT_WRITE"]
    assert _short(b["dst_stages"]) == ["EARLY_FRAGMENT_TESTS"]
    assert verify_plan(plan) == []


def test_every_remaining_barrier_says_why():
    plan = compile(frame(), strategy="batched")
    text = plan.explain()
    for c in plan.commands():
        for r in getattr(c, "reasons", ()):
            assert r.resource in text
    d = json.loads(plan.to_json())
    assert all(c.get("reasons") for s in d["submits"] for c in s["commands"] if c["op"] == "barrier")


@pytest.mark.parametrize("device", ["discrete", {"name": "two", "queues": {
    "graphics": {"family": 0, "index": 0}, "compute": {"family": 0, "index": 1}, "transfer": {"family": 1}}}])
@pytest.mark.parametrize("opts", [dict(concurrent_sharing=True), dict(reorder=True), dict()])
def test_read_initial_state_read_on_two_queues_then_written(device, opts):
    # Found by fuzzing the API: the barrier before the write dropped the initial read's stages.
    fg = FrameGraph("initial_read")
    b = fg.import_buffer("b", size=256, initial="vertex_buffer", final="vertex_buffer")
    with fg.add_pass("draw") as p:
        p.reads(b, "vertex_buffer")
    with fg.add_pass("sim", queue="compute") as p:
        p.reads(b, "compute_shader_read_storage")
    with fg.add_pass("update", queue="compute") as p:
        b = p.writes(b, "compute_shader_write_storage")
    fg.output(b)
    for strategy in ("naive", "per_resource", "batched", "split"):
        plan = compile(fg.graph(), device=device, options=CompileOptions(strategy=strategy, **opts))
        assert verify_plan(json.loads(plan.to_json())) == [], (strategy, opts)


@pytest.mark.parametrize("strategy", ["naive", "per_resource", "batched", "split"])
def test_two_queues_of_one_family_and_a_transfer_family(strategy):
    # Found by fuzzing the API: a release sent to the transfer family while the next user was compute
    # (same family as graphics): it must be acquired where it is used, by the family that uses it.
    two = {"name": "two", "queues": {"graphics": {"family": 0, "index": 0}, "compute": {"family": 0, "index": 1},
                                     "transfer": {"family": 1}}}
    fg = FrameGraph("families")
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(16, 16))
    out = fg.import_buffer("out", size=16 * 16 * 4, final="host_read")
    with fg.add_pass("render") as p:
        img = p.writes(img, "color_attachment_write", discard=True)
    with fg.add_pass("copy", queue="transfer") as p:
        p.reads(img, "transfer_read")
        out = p.writes(out, "transfer_write")
    with fg.add_pass("post", queue="compute") as p:
        p.reads(img, "compute_shader_read_sampled")
        img2 = fg.create_image("img2", format="R8G8B8A8_UNORM", extent=(16, 16))
        img2 = p.writes(img2, "compute_shader_write_storage", discard=True)
    with fg.add_pass("show") as p:
        p.reads(img2, "fragment_shader_read_sampled")
        out2 = fg.import_image("out2", format="R8G8B8A8_UNORM", extent=(16, 16), final="transfer_read")
        out2 = p.writes(out2, "color_attachment_write", discard=True)
    fg.output(out)
    fg.output(out2)
    for opts in (dict(), dict(concurrent_sharing=True), dict(reorder=True)):
        plan = compile(fg.graph(), device=two, options=CompileOptions(strategy=strategy, **opts))
        assert verify_plan(json.loads(plan.to_json()), driver_rules=True) == [], opts


# Found by the fuzzer on two queues of one family plus a transfer family: compute released 'buf0'
# to the transfer family while graphics (same family) still read it in p54, not ordered before.
RELEASE_AFTER_FAMILY = '{"format":"framegraph-graph/1","name":"fuzz","resources":[{"name":"img0","kind":"image","format":"VK_FORMAT_R8G8B8A8_UNORM","extent":[16,16,1],"mips":1,"layers":1,"samples":1},{"name":"buf0","kind":"buffer","size":256},{"name":"buf1","kind":"buffer","size":256},{"name":"buf2","kind":"buffer","size":256,"imported":true,"initial":"undefined"},{"name":"buf3","kind":"buffer","size":256,"imported":true,"initial":"undefined"}],"passes":[{"name":"p0","queue":"graphics","accesses":[{"resource":"img0","access":"color_attachment_write","discard":true}]},{"name":"p38","queue":"graphics","accesses":[{"resource":"img0","access":"fragment_shader_read_sampled"},{"resource":"buf1","access":"transfer_write","range":[0,128]},{"resource":"buf0","access":"transfer_write"}]},{"name":"p45","queue":"transfer","accesses":[{"resource":"img0","access":"transfer_read"},{"resource":"buf2","access":"transfer_write","range":[0,64]},{"resource":"buf1","access":"transfer_write","range":[0,64],"discard":true}]},{"name":"p47","queue":"transfer","accesses":[{"resource":"img0","access":"transfer_read"},{"resource":"buf1","access":"transfer_write","range":[64,128],"discard":true}]},{"name":"p48","queue":"graphics","accesses":[{"resource":"buf2","access":"vertex_shader_write_storage","range":[192,64]},{"resource":"buf0","access":"vertex_buffer","range":[192,64]},{"resource":"buf1","access":"transfer_write","range":[192,64]}]},{"name":"p54","queue":"graphics","accesses":[{"resource":"buf2","access":"compute_shader_write_storage","range":[64,64]},{"resource":"img0","access":"fragment_shader_read_sampled"},{"resource":"buf0","access":"compute_shader_read_storage","range":[192,64]}]},{"name":"p55","queue":"compute","accesses":[{"resource":"buf1","access":"compute_shader_read_uniform"},{"resource":"buf0","access":"compute_shader_read_uniform","range":[128,128]},{"resource":"buf3","access":"transfer_write"}]},{"name":"p58","queue":"transfer","accesses":[{"resource":"buf1","access":"transfer_write"},{"resource":"buf0","access":"transfer_read","range":[128,128]}]},{"name":"p107","queue":"transfer","accesses":[{"resource":"buf0","access":"transfer_write","range":[192,64]},{"resource":"buf1","access":"transfer_read","range":[128,64]}]}],"outputs":["buf0"]}'


@pytest.mark.parametrize("strategy", ["naive", "per_resource", "batched", "split"])
def test_a_release_follows_the_family_s_other_queues(strategy):
    from framegraph import load_graph
    two = {"name": "two", "queues": {"graphics": {"family": 0, "index": 0}, "compute": {"family": 0, "index": 1},
                                     "transfer": {"family": 1}}}
    plan = compile(load_graph(RELEASE_AFTER_FAMILY), device=two, options=CompileOptions(strategy=strategy))
    assert verify_plan(json.loads(plan.to_json()), driver_rules=True) == []
