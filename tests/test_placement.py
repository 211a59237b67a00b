import json

import pytest

from framegraph import CompileOptions, FrameGraph, FrameGraphError, compile
from framegraph.verifier import verify_plan

from .graphs import chain


def placed(plan):
    return {r.name: (r.heap, r.offset, r.size) for r in plan.resources if r.transient}


def overlap(a, b):
    return a[0] == b[0] and a[1] < b[1] + b[2] and b[1] < a[1] + a[2]


def test_sequential_transients_share_one_slot_at_the_lower_bound():
    plan = compile(chain(4).graph())
    p = placed(plan)
    assert all(overlap(p["img0"], p[f"img{i}"]) for i in range(1, 4))
    s = plan.stats
    assert s["transient_bytes"] == s["transient_bytes_lower_bound"] < s["transient_bytes_unaliased"]
    assert verify_plan(plan.to_dict()) == []


@pytest.mark.parametrize("policy", ["best_fit", "first_fit", "auto"])
def test_policies_never_overlap_live_resources(policy):
    plan = compile(chain(3).graph(), options=CompileOptions(placement=policy))
    assert verify_plan(plan.to_dict()) == []
    assert plan.stats["placement"].startswith(policy)


def test_unknown_policy_is_an_error():
    with pytest.raises(FrameGraphError, match="placement policy"):
        compile(chain(1).graph(), options=CompileOptions(placement="magic"))


def unordered_queues():
    """`early` lives on compute, `late` on graphics afterwards; nothing orders the two queues."""
    fg = FrameGraph("queues")
    sink_c = fg.import_buffer("sink_c", size=256)
    sink_g = fg.import_buffer("sink_g", size=256)
    early = fg.create_buffer("early", size=4096)
    late = fg.create_buffer("late", size=4096)
    early = fg.add_pass("make_early", queue="compute").writes(early, "compute_shader_write_storage", discard=True)
    p = fg.add_pass("use_early", queue="compute")
    p.reads(early, "compute_shader_read_storage")
    p.writes(sink_c, "compute_shader_write_storage")
    late = fg.add_pass("make_late").writes(late, "transfer_write", discard=True)
    p = fg.add_pass("use_late")
    p.reads(late, "vertex_buffer")
    p.writes(sink_g, "fragment_shader_write_storage")
    return fg


def test_aliasing_across_unordered_queues_adds_no_wait_by_default():
    plan = compile(unordered_queues().graph(), device="discrete")
    p = placed(plan)
    assert not overlap(p["early"], p["late"])
    assert not [w for s in plan.submits for w in s.waits if w.queue is not None]
    assert verify_plan(plan.to_dict()) == []


def test_alias_across_queues_trades_a_wait_for_memory():
    plan = compile(unordered_queues().graph(), device="discrete",
                   options=CompileOptions(alias_across_queues=True))
    p = placed(plan)
    assert overlap(p["early"], p["late"])
    waits = [w for s in plan.submits if s.queue == "graphics" for w in s.waits if w.queue == "compute"]
    assert waits, "the later occupant must wait for the compute queue"
    assert verify_plan(json.loads(plan.to_json())) == []


def test_single_queue_profile_aliases_in_program_order():
    plan = compile(unordered_queues().graph(), device="lavapipe")
    p = placed(plan)
    assert overlap(p["early"], p["late"])


def test_resource_desc_hashes_once_and_rebuilds_its_hash_when_unpickled():
    """ResourceDesc keys the backend's objects every frame, so its hash is computed once; a pickled
    one (another process: str hashes differ) is rebuilt through __init__, never carries the old hash."""
    import dataclasses
    import pickle

    from framegraph.plan import ResourceDesc

    a = ResourceDesc(kind="image", format="VK_FORMAT_R8G8B8A8_UNORM", extent=(4, 4, 1), usage=("X", "Y"))
    b = ResourceDesc(kind="image", format="VK_FORMAT_R8G8B8A8_UNORM", extent=(4, 4, 1), usage=("X", "Y"))
    assert a == b and hash(a) == hash(b) and len({a: 1, b: 2}) == 1
    c = dataclasses.replace(a, mips=2)
    assert c != a and hash(c) == hash(dataclasses.replace(c))
    object.__setattr__(a, "_hash", 12345)            # as if made in another process
    copy = pickle.loads(pickle.dumps(a))
    assert copy == b and hash(copy) == hash(b) and hash(copy) != 12345
    assert "_hash" not in repr(a) and "_hash" not in a.to_dict()
