"""The samples' frames as graphs, with no device: they export to framegraph-graph/1 and back unchanged,
compile under every strategy for one queue (lavapipe) and for async compute (discrete) into plans the
verifier passes, and have the structure they exist to show (layer- and mip-granular barriers,
the debug view culled unless shown, SSAO on the compute queue, shadow cascades that die at their
projection and share memory). Rendering is tests/backend/test_samples.py.
"""
from __future__ import annotations

import json

import pytest

from framegraph import compile, dump_graph, load_graph
from framegraph.consistency import check_plan_against_graph
from framegraph.plan import BarrierCmd, SetEventCmd, WaitEventsCmd
from framegraph.verifier import verify_plan
from framegraph.samples import deferred, shadow_map

SAMPLES = {"shadow_map": shadow_map, "deferred": deferred}
STRATEGIES = ("naive", "per_resource", "batched", "split")


def image_barriers(plan, resource: str):
    for c in plan.commands():
        if isinstance(c, BarrierCmd | SetEventCmd):
            deps = (c.dependency,)
        elif isinstance(c, WaitEventsCmd):
            deps = c.dependencies
        else:
            continue
        for d in deps:
            yield from (b for b in d.images if b.resource == resource)


@pytest.fixture(scope="module")
def graphs():
    return {name: module.build_graph(width=320, height=180).graph() for name, module in SAMPLES.items()}


@pytest.mark.parametrize("name", SAMPLES)
def test_graph_round_trips_through_json(name):
    graph = SAMPLES[name].build_graph(width=1280, height=720).graph()
    text = dump_graph(graph)
    assert json.loads(text)["format"] == "framegraph-graph/1"
    assert load_graph(text) == graph
    assert dump_graph(load_graph(text)) == text


@pytest.mark.parametrize("device", ("lavapipe", "discrete"))
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", SAMPLES)
def test_plans_verify(graphs, name, strategy, device):
    graph = graphs[name]
    plan = json.loads(compile(graph, strategy=strategy, device=device).to_json())
    problems = [str(p) for p in check_plan_against_graph(graph, plan)] + [str(p) for p in verify_plan(plan)]
    assert not problems, "\n".join(problems)


def test_each_cascade_pass_transitions_only_its_layer(graphs):
    plan = compile(graphs["shadow_map"], strategy="batched")
    to_attachment = {b.layers for b in image_barriers(plan, "shadow")
                     if b.new_layout.name == "DEPTH_ATTACHMENT_OPTIMAL"}
    assert to_attachment == {(0, 1), (1, 1)}
    scene = plan.pass_named("scene")
    assert [a.layers for a in scene.accesses if a.resource == "shadow"] == [(0, 2)]


def test_bloom_chain_barriers_name_single_mips(graphs):
    plan = compile(graphs["deferred"], strategy="batched")
    mips = deferred.bloom_mips(320, 180)
    assert mips >= 3
    barriers = list(image_barriers(plan, "bloom"))
    assert barriers and all(b.mips[1] == 1 for b in barriers)
    # Every mip but the smallest is read by the next down pass, then written by its up pass.
    to_read = {b.mips[0] for b in barriers if b.new_layout.name == "SHADER_READ_ONLY_OPTIMAL"}
    assert to_read == set(range(mips))
    names = [p.name for p in plan.passes]
    assert names.index(f"bloom_down{mips - 1}") < names.index(f"bloom_up{mips - 2}") < names.index("bloom_up0")


@pytest.mark.parametrize("shown", (False, True))
def test_debug_view_is_culled_unless_shown(shown):
    graph = deferred.build_graph(width=320, height=180, debug_view=shown).graph()
    plan = compile(graph, strategy="batched")
    names = {p.name for p in plan.passes}
    if shown:
        assert not plan.culled and {"debug_view", "debug_composite"} <= names
    else:
        assert plan.culled == ("debug_view",) and "debug_view" not in names
        assert "debug" not in {r.name for r in plan.resources}


def test_ssao_runs_on_the_compute_queue_beside_the_shadow_cascades(graphs):
    plan = compile(graphs["deferred"], strategy="batched", device="discrete")
    assert plan.pass_named("ssao").queue == "compute"
    streams = {s.queue for s in plan.submits}
    assert {"graphics", "compute"} <= streams
    waits = [w for s in plan.submits if s.queue == "graphics" for w in s.waits if w.queue == "compute"]
    assert waits, "the lighting pass must wait for the compute queue's SSAO"


def overlaps(a, b) -> bool:
    return a.heap == b.heap and a.offset < b.offset + b.size and b.offset < a.offset + a.size


def test_shadow_cascades_die_at_their_projection_and_share_memory():
    """Each cascade's depth map is used by its draw and its projection into the screen-space mask,
    nothing else; lighting reads the mask. So the second cascade reuses the first one's memory, and
    the post chain reuses the G-buffer's."""
    plan = compile(deferred.build_graph(width=1920, height=1080).graph(), strategy="batched")
    cascades = [r for r in plan.resources if r.name.startswith("shadow_cascade")]
    assert len(cascades) == 2
    for c, resource in enumerate(cascades):
        users = [p.name for p in plan.passes if any(a.resource == resource.name for a in p.accesses)]
        assert users == [f"shadow_cascade{c}", f"shadow_project{c}"]
    lighting_reads = {a.resource for a in plan.pass_named("lighting").accesses}
    assert "shadow_mask" in lighting_reads and not any(n.startswith("shadow_cascade") for n in lighting_reads)
    assert overlaps(*cascades)
    placed = {r.name: r for r in plan.resources if r.transient}
    assert any(overlaps(placed["ldr"], placed[g]) for g in ("albedo", "normal", "material", "depth"))
    assert plan.stats["transient_bytes"] < plan.stats["transient_bytes_unaliased"]


def test_light_count_sizes_the_light_buffer():
    graph = deferred.build_graph(width=64, height=64, lights=16).graph()
    sizes = {r.name: r.desc.size for r in graph.resources if r.kind == "buffer"}
    assert sizes["lights"] == 16 * 32


@pytest.mark.parametrize("name", SAMPLES)
def test_animation_changes_data_not_structure(name):
    """Frames at different times upload different uniforms into the same graph: the renderer's plan
    cache compiles the sample once."""
    early = SAMPLES[name].build_graph(width=64, height=64, time=0.0).graph()
    late = SAMPLES[name].build_graph(width=64, height=64, time=7.5).graph()
    assert early == late
