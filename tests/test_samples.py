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


def _lights_by_hand(count: int, t: float) -> list[tuple]:
    """The lights' positions as the docstring of deferred._light_layout states them, one by one."""
    import math
    rings = (2.3, 4.0, 5.6, 8.6)
    out = []
    for n in range(count):
        ring = n % 4
        turn = (1 if ring % 2 == 0 else -1) * 0.4 * t / (1 + ring)
        a = 2 * math.pi * (n // 4 + 0.5 * ring) / math.ceil(count / 4) + turn
        out.append((rings[ring] * math.cos(a), 0.6 + 0.25 * math.sin(3 * a + ring), rings[ring] * math.sin(a)))
    return out


@pytest.mark.parametrize("count", [1, 5, 64])
def test_light_positions_follow_their_rings(count):
    import numpy as np
    for t in (0.0, 1.0, 123.4):
        lights = deferred.light_data(count, t)
        assert lights.shape == (count, 8) and lights.dtype == np.float32
        np.testing.assert_allclose(lights[:, :3], _lights_by_hand(count, t), atol=2e-5)
        assert (lights[:, 3:] == deferred.light_data(count, 0.0)[:, 3:]).all()     # only positions move
    assert not (deferred.light_data(count, 0.0)[:, :3] == deferred.light_data(count, 0.5)[:, :3]).all()


@pytest.mark.parametrize("count", [1, 5, 64])
def test_light_paths_give_the_lights(count):
    """The paths the "lights" pass reads (move_lights.comp LightPath), evaluated in float32 as
    the shader does, are light_data's lights: positions to float32 rounding, the rest exactly."""
    import numpy as np
    raw = deferred.light_paths(count)
    assert len(raw) == count * deferred.LIGHT_PATH_FLOATS * 4
    paths = np.frombuffer(raw, np.float32).reshape(count, 5, 4)
    for t in (0.0, 1.0, 123.4):
        angle, rate, scale, offset = (paths[:, i, :3] for i in range(4))
        position = np.sin(angle + rate * np.float32(t)) * scale + offset
        expected = deferred.light_data(count, t)
        np.testing.assert_allclose(position, expected[:, :3], atol=5e-4)
        assert (paths[:, 0, 3] == expected[:, 3]).all() and (paths[:, 4] == expected[:, 4:]).all()


def test_frame_block_changes_with_time_camera_and_size():
    """frame_data's matrices come from a memo: a new time changes only the time; a moved camera or
    another size changes the matrices."""
    import struct

    from framegraph.samples import common

    camera = common.Camera()
    a = deferred.frame_data((64, 64), shadow_size=256, camera=camera, t=1.0)
    b = deferred.frame_data((64, 64), shadow_size=256, camera=camera, t=2.5)
    t = common.FRAME_TIME
    assert a[:t] == b[:t] and a[t + 4:] == b[t + 4:]
    assert struct.unpack_from("f", b, t)[0] == 2.5
    camera.eye = (3.0, 4.0, 5.0)
    moved = deferred.frame_data((64, 64), shadow_size=256, camera=camera, t=1.0)
    wider = deferred.frame_data((128, 64), shadow_size=256, camera=common.Camera(), t=1.0)
    assert moved[:256] != a[:256] and wider[:128] != a[:128]
    # The memoized block is what frame_uniforms makes from scratch.
    cascades = common.cascade_matrices(camera, 1.0, deferred.MOON_DIR, splits=deferred.MOON_SPLITS, resolution=256)
    fresh = common.frame_uniforms(camera, 1.0, sun_dir=deferred.MOON_DIR, sun_color=deferred.MOON_COLOR,
                                  sun_intensity=0.4, ambient=0.3, cascades=cascades, shadow_size=256,
                                  normal_offsets=deferred.MOON_NORMAL_OFFSETS, light_count=64, time=1.0)
    assert moved == fresh


def test_cascade_matrices_are_the_callers():
    """cascade_matrices is memoized; what it returns may be changed without changing the next answer."""
    from framegraph.samples import common

    first = common.cascade_matrices(common.Camera(), 1.5, deferred.MOON_DIR, splits=deferred.MOON_SPLITS)
    expected = [m.to_bytes() for m in first]
    first[0][0][0] = 99.0
    again = common.cascade_matrices(common.Camera(), 1.5, deferred.MOON_DIR, splits=deferred.MOON_SPLITS)
    assert [m.to_bytes() for m in again] == expected
