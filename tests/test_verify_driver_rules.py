"""The verifier's opt-in driver rules (framegraph/verifier/driver_rules.py): split-barrier shapes
the spec allows but that corrupted renders on the H100. Compiled plans never have them (the fuzz
tests check every random plan with the rules on); plans compiled with the compiler's rule switched
off have them, pass the spec model, and are caught by the rules."""
from __future__ import annotations

import json

import pytest

import framegraph
from framegraph.compiler import submits
from framegraph.verifier import verify_plan
from samples import deferred, shadow_map


def split_plan(graph) -> dict:
    return json.loads(framegraph.compile(graph, strategy="split").to_json())


@pytest.mark.parametrize("strategy", ("naive", "per_resource", "batched", "split"))
@pytest.mark.parametrize("build", (deferred.build_graph, shadow_map.build_graph))
def test_compiled_sample_plans_keep_the_driver_rules(build, strategy):
    graph = build(width=128, height=128, shadow_size=512).graph()
    plan = json.loads(framegraph.compile(graph, strategy=strategy).to_json())
    assert verify_plan(plan, driver_rules=True) == []


def test_plans_without_the_compiler_rule_are_spec_valid_but_caught(monkeypatch):
    monkeypatch.setattr(submits, "event_may_carry", lambda transition, image_used_before_wait: True)
    plan = split_plan(deferred.build_graph(width=128, height=128, shadow_size=512).graph())
    assert verify_plan(plan) == [], "the spec model accepts these events"
    found = [p for p in verify_plan(plan, driver_rules=True) if p.kind == "driver"]
    # An aliased render target taking over memory at the set while lighting runs before the wait ...
    assert any(p.resource == "ldr" and "from UNDEFINED to COLOR_ATTACHMENT_OPTIMAL" in p.detail
               and "'lighting'" in p.detail and p.pass_name == "tonemap" for p in found), found
    # ... and one bloom mip transitioned at the set while another mip is rendered.
    assert any(p.resource == "bloom" and "uses the image before the wait" in p.detail for p in found), found


def test_a_handoff_that_needs_a_memory_barrier_never_goes_into_an_event(monkeypatch):
    """A hand-off whose old occupant's writes were never made available carries a global memory
    barrier; its transition must follow it, so the pair stays in the pipeline barrier even with the
    driver rule off."""
    from tests.test_handoffs import depth_then_bloom
    monkeypatch.setattr(submits, "event_may_carry", lambda transition, image_used_before_wait: True)
    plan = split_plan(depth_then_bloom())
    assert verify_plan(plan) == []
    events = [c for s in plan["submits"] for c in s["commands"] if c["op"] == "set_event"]
    assert not any(i["resource"] == "bloom" for c in events for i in c["dependency"]["images"])
    handoff = [c for s in plan["submits"] for c in s["commands"] if c["op"] == "barrier"
               and any(i["resource"] == "bloom" and i["old_layout"] == "VK_IMAGE_LAYOUT_UNDEFINED"
                       for i in c["dependency"]["images"])]
    assert handoff and handoff[0]["dependency"]["memory"], handoff
