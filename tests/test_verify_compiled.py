"""Deliberately broken versions of compiled plans: each break must be caught by the verifier."""
import copy
import json

import pytest

from framegraph import compile
from framegraph.verifier import verify_plan

from .graphs import chain, deferred_like


def plan_dict(fg, strategy="batched", device="lavapipe"):
    return json.loads(compile(fg.graph(), strategy=strategy, device=device).to_json())


def barriers(d):
    for s in d["submits"]:
        for i, c in enumerate(s["commands"]):
            if c["op"] == "barrier":
                yield s, i, c


def image_entry(d, resource, new_layout):
    for s, i, c in barriers(d):
        for b in c["dependency"]["images"]:
            if b["resource"] == resource and b["new_layout"] == new_layout:
                return b
    raise AssertionError("no such barrier")


def kinds(d):
    return {p.kind for p in verify_plan(d)}


@pytest.mark.parametrize("strategy", ["naive", "per_resource", "batched", "split"])
@pytest.mark.parametrize("device", ["lavapipe", "discrete"])
def test_compiled_plans_verify_clean(strategy, device):
    for fg in (chain(3), deferred_like()):
        assert verify_plan(plan_dict(fg, strategy, device)) == []


def test_missing_barrier_is_caught():
    d = plan_dict(chain(2))
    s, i, c = next((s, i, c) for s, i, c in barriers(d)
                   if any(b["resource"] == "img0" and b["new_layout"].endswith("SHADER_READ_ONLY_OPTIMAL")
                          for b in c["dependency"]["images"]))
    del s["commands"][i]
    problems = verify_plan(d)
    assert {"RAW", "layout"} & {p.kind for p in problems}
    assert any(p.resource == "img0" and p.pass_name == "consume0" for p in problems)


def test_too_early_src_stage_is_caught():
    d = plan_dict(chain(1))
    b = image_entry(d, "img0", "VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL")
    b["src_stages"] = ["VK_PIPELINE_STAGE_2_VERTEX_SHADER_BIT"]
    assert "RAW" in kinds(d) or "WAW" in kinds(d)


def test_missing_src_access_is_caught():
    d = plan_dict(chain(1))
    b = image_entry(d, "img0", "VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL")
    b["src_access"] = []
    assert kinds(d) & {"RAW", "WAW"}


def test_wrong_old_layout_is_caught():
    d = plan_dict(chain(1))
    b = image_entry(d, "img0", "VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL")
    b["old_layout"] = "VK_IMAGE_LAYOUT_GENERAL"
    assert "layout" in kinds(d)


def test_wrong_final_state_is_caught():
    d = plan_dict(chain(1))
    b = image_entry(d, "out", "VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL")
    b["new_layout"] = "VK_IMAGE_LAYOUT_GENERAL"
    assert "final" in kinds(d)


def test_missing_semaphore_wait_is_caught():
    d = plan_dict(deferred_like(), device="discrete")
    waiting = next(s for s in d["submits"] if any("queue" in w for w in s["wait"]))
    waiting["wait"] = [w for w in waiting["wait"] if "queue" not in w]
    assert kinds(d) & {"RAW", "WAR", "WAW", "ownership", "layout"}


def test_missing_acquire_is_caught():
    d = plan_dict(deferred_like(), device="discrete")
    for s, i, c in barriers(d):
        for key in ("images", "buffers"):
            c["dependency"][key] = [b for b in c["dependency"][key]
                                    if not (b["src_queue"] is not None and not b["src_stages"])]
    assert "ownership" in kinds(d)


def test_every_single_barrier_removal_in_a_chain_is_caught():
    d = plan_dict(chain(3), strategy="per_resource")
    positions = [(si, i) for si, s in enumerate(d["submits"]) for i, c in enumerate(s["commands"])
                 if c["op"] == "barrier"]
    assert positions
    for si, i in positions:
        broken = copy.deepcopy(d)
        del broken["submits"][si]["commands"][i]
        assert verify_plan(broken), f"removing barrier {i} went unnoticed"


def test_split_wait_without_set_is_caught():
    d = plan_dict(deferred_like(), strategy="split")
    sets = [(s, i) for s in d["submits"] for i, c in enumerate(s["commands"]) if c["op"] == "set_event"]
    assert sets, "deferred_like must produce at least one event under split"
    s, i = sets[0]
    del s["commands"][i]
    assert "event" in kinds(d)


def test_split_uses_events():
    d = plan_dict(deferred_like(), strategy="split")
    assert d["stats"]["events"] >= 1
