"""PlanCache: a re-declared frame hits unless its structure changed; a cached plan is the plan a fresh
compile gives."""
import dataclasses

import pytest
from hypothesis import given, settings

import framegraph
from framegraph import CompileOptions, FrameGraph, FrameGraphError, PlanCache, compile, structural_key
from framegraph.graph_json import dump_graph, load_graph
from framegraph.profiles import DISCRETE

from .graphs import chain, deferred_like
from .random_graphs import frame_graphs


class External:
    """Stands for a backend object (a VkImage of the swapchain, a history image)."""

    def __init__(self, name):
        self.name = name


def frame(*, swapchain_image=None, history_image=None, camera=(1.0,) * 16, size=(64, 64),
          hdr_format="R16G16B16A16_SFLOAT", hdr_mips=3, bloom_mip=1, shadow_layers=(1, 1),
          lights_size=4096, lights_range=(0, 256), lights_queue="transfer", lighting_queue="graphics",
          swap_initial="undefined", history_state="fragment_shader_read_sampled", extra_access=False,
          debug_output=False, discard=True):
    """A small deferred-ish frame; each keyword is one structural knob (camera and the externals
    are per-frame data, not structure)."""
    fg = FrameGraph("cached")
    swap = fg.import_image("swapchain", format="B8G8R8A8_SRGB", extent=size, swapchain=True, initial=swap_initial,
                           external=swapchain_image)
    history = fg.history_image("history", format="R16G16B16A16_SFLOAT", extent=size, state=history_state,
                               external=history_image)
    depth = fg.create_image("depth", format="D32_SFLOAT", extent=size)
    albedo = fg.create_image("albedo", format="R8G8B8A8_UNORM", extent=size)
    shadow = fg.create_image("shadow", format="D32_SFLOAT", extent=(32, 32), layers=2)
    hdr = fg.create_image("hdr", format=hdr_format, extent=size, mips=hdr_mips)
    debug = fg.create_image("debug", format="R8G8B8A8_UNORM", extent=size)
    lights = fg.create_buffer("lights", size=lights_size)
    with fg.add_pass("upload", queue=lights_queue) as p:
        lights = p.writes(lights, "transfer_write", range=lights_range, discard=True)
        p.execute(lambda ctx, cam=camera: ctx.append(("upload", cam)))
    for layer in range(2):
        with fg.add_pass(f"shadow{layer}") as p:
            shadow = p.writes(shadow, "depth_attachment_write", layers=(layer, 1), discard=True)
    with fg.add_pass("gbuffer") as p:
        depth = p.writes(depth, "depth_attachment_write", discard=discard)
        albedo = p.writes(albedo, "color_attachment_write", discard=True)
        p.execute(lambda ctx, cam=camera: ctx.append(("gbuffer", cam)))
    with fg.add_pass("lighting", queue=lighting_queue) as p:
        read = "compute_shader_read_sampled" if lighting_queue == "compute" else "fragment_shader_read_sampled"
        p.reads(albedo, read)
        p.reads(shadow, read, layers=shadow_layers)
        p.reads(lights, read.replace("sampled", "uniform"), range=lights_range)
        p.reads(history, read)
        if extra_access:
            p.reads(depth, read)
        write = "compute_shader_write_storage" if lighting_queue == "compute" else "color_attachment_write"
        hdr = p.writes(hdr, write, mips=(0, 1), discard=True)
    with fg.add_pass("bloom") as p:
        p.reads(hdr, "fragment_shader_read_sampled", mips=(0, 1))
        hdr = p.writes(hdr, "color_attachment_write", mips=(bloom_mip, 1), discard=True)
    with fg.add_pass("debug_view") as p:
        p.reads(depth, "fragment_shader_read_sampled")
        debug = p.writes(debug, "color_attachment_write", discard=True)
    with fg.add_pass("tonemap") as p:
        p.reads(hdr, "fragment_shader_read_sampled", mips=(0, 1))
        swap = p.writes(swap, "color_attachment_write", discard=True)
    fg.output(swap)
    if debug_output:
        fg.output(debug)
    return fg


def test_identical_redeclaration_hits_and_returns_the_same_plan():
    cache = PlanCache()
    first = cache.get_or_compile(frame(), device="discrete")
    second = cache.get_or_compile(frame(), device="discrete")
    assert second is first
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)
    assert cache.last_hit


def test_a_range_spelled_out_in_full_hits_the_unspelled_one():
    """`mips=(0, all)`, `layers=(0, all)` and a buffer's `range=(0, size)` declare the same accesses
    as leaving them out: one structure, one cache entry, one plan."""
    def declare(**ranges):
        image_ranges = {k: v for k, v in ranges.items() if k in ("mips", "layers")}
        buffer_ranges = {k: v for k, v in ranges.items() if k == "range"}
        fg = FrameGraph("spelled")
        img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(16, 16), mips=3, layers=2)
        buf = fg.create_buffer("buf", size=256)
        with fg.add_pass("write") as p:
            img = p.writes(img, "compute_shader_write_storage", discard=True)
            buf = p.writes(buf, "compute_shader_write_storage", discard=True)
        with fg.add_pass("read") as p:
            p.reads(img, "fragment_shader_read_sampled", **image_ranges)
            p.reads(buf, "fragment_shader_read_storage", **buffer_ranges)
            out = p.writes(fg.create_image("out", format="R8G8B8A8_UNORM", extent=(16, 16)),
                           "color_attachment_write", discard=True)
        fg.output(out)
        return fg

    full = dict(mips=(0, 3), layers=(0, 2), range=(0, 256))
    assert declare(**full).graph() == declare().graph()
    cache = PlanCache()
    first = cache.get_or_compile(declare())
    assert cache.get_or_compile(declare(**full)) is first and cache.hits == 1
    # Part of a range is another structure.
    for part in (dict(mips=(0, 2)), dict(layers=(1, 1)), dict(range=(0, 128))):
        assert structural_key(declare(**part)) != structural_key(declare()), part


def test_per_frame_data_and_external_objects_hit():
    cache = PlanCache()
    a = frame(swapchain_image=External("swap0"), history_image=External("hist0"), camera=(0.0,) * 16)
    b = frame(swapchain_image=External("swap1"), history_image=External("hist1"), camera=(2.0,) * 16)
    assert a.imports["swapchain"] is not b.imports["swapchain"]
    assert a.callbacks["gbuffer"] is not b.callbacks["gbuffer"]
    plan = cache.get_or_compile(a)
    assert cache.get_or_compile(b) is plan
    # Without an external object at all (e.g. the offline compiler) it is still the same structure.
    assert cache.get_or_compile(frame()) is plan
    assert (cache.hits, cache.misses) == (2, 1)


STRUCTURAL_CHANGES = {
    "access added": dict(extra_access=True),
    "mip range": dict(bloom_mip=2),
    "layer range": dict(shadow_layers=(0, 1)),
    "buffer range": dict(lights_range=(256, 256)),
    "discard": dict(discard=False),
    "format": dict(hdr_format="R32G32B32A32_SFLOAT"),
    "extent": dict(size=(128, 64)),
    "mip count": dict(hdr_mips=4),
    "buffer size": dict(lights_size=8192),
    "queue of a transfer pass": dict(lights_queue="graphics"),
    "queue of a compute pass": dict(lighting_queue="compute"),
    "initial state": dict(swap_initial="present"),
    "history state": dict(history_state="compute_shader_read_sampled"),
    "output kept": dict(debug_output=True),
}


@pytest.mark.parametrize("change", STRUCTURAL_CHANGES, ids=list(STRUCTURAL_CHANGES))
def test_each_structural_change_misses(change):
    cache = PlanCache()
    base = cache.get_or_compile(frame(), device="discrete")
    changed = cache.get_or_compile(frame(**STRUCTURAL_CHANGES[change]), device="discrete")
    assert changed is not base
    assert (cache.hits, cache.misses) == (0, 2)
    assert cache.key(frame(), device="discrete") != cache.key(frame(**STRUCTURAL_CHANGES[change]), device="discrete")
    # ...and the changed frame hits once it is cached.
    assert cache.get_or_compile(frame(**STRUCTURAL_CHANGES[change]), device="discrete") is changed
    assert changed.to_dict() == compile(frame(**STRUCTURAL_CHANGES[change]).graph(), device="discrete").to_dict()


def test_final_state_change_misses():
    def fg(final):
        g = FrameGraph("final")
        out = g.import_image("out", format="R8G8B8A8_UNORM", extent=(8, 8), final=final)
        with g.add_pass("draw") as p:
            out = p.writes(out, "color_attachment_write", discard=True)
        g.output(out)
        return g

    cache = PlanCache()
    a = cache.get_or_compile(fg("transfer_read"))
    b = cache.get_or_compile(fg("fragment_shader_read_sampled"))
    assert a is not b and cache.misses == 2
    assert a.to_dict() != b.to_dict()


def test_changed_output_culls_or_keeps_a_pass():
    cache = PlanCache()
    culled = cache.get_or_compile(frame())
    kept = cache.get_or_compile(frame(debug_output=True))
    assert "debug_view" in culled.culled and "debug_view" not in kept.culled
    assert cache.misses == 2


def test_graph_name_is_structure():
    a, b = chain(2), chain(2)
    b.name = "other"
    cache = PlanCache()
    assert cache.get_or_compile(a) is not cache.get_or_compile(b)


@pytest.mark.parametrize("other", [
    dict(strategy="split"),
    dict(options=CompileOptions(alias_transients=False)),
    dict(options=CompileOptions(cull=False)),
    dict(device="discrete"),
    dict(device=dataclasses.replace(DISCRETE, buffer_image_granularity=4096)),
], ids=["strategy", "alias", "cull", "device", "profile field"])
def test_options_and_device_are_part_of_the_key(other):
    cache = PlanCache()
    base = cache.get_or_compile(frame(), device="lavapipe")
    args = {"device": "lavapipe", **other}
    changed = cache.get_or_compile(frame(), **args)
    assert changed is not base and cache.misses == 2
    assert cache.get_or_compile(frame(), **args) is changed
    assert cache.hits == 1


def test_equal_options_and_profiles_built_anew_hit():
    cache = PlanCache()
    plan = cache.get_or_compile(frame(), options=CompileOptions(strategy="split"), device="discrete")
    assert cache.get_or_compile(frame(), strategy="split", device="discrete") is plan
    assert cache.get_or_compile(frame(), options=CompileOptions(strategy="split"), device=DISCRETE) is plan
    assert cache.get_or_compile(frame(), options=CompileOptions(strategy="split"),
                                device=DISCRETE.to_dict()) is plan
    assert (cache.hits, cache.misses) == (3, 1)


def test_lru_eviction():
    cache = PlanCache(maxsize=2)
    a = cache.get_or_compile(frame())
    b = cache.get_or_compile(frame(extra_access=True))
    assert cache.get_or_compile(frame()) is a            # a is now the most recent
    cache.get_or_compile(frame(hdr_mips=4))              # evicts b, the least recently used
    assert len(cache) == 2 and cache.evictions == 1
    assert cache.get_or_compile(frame()) is a
    assert cache.misses == 3
    assert cache.get_or_compile(frame(extra_access=True)) is not b   # compiled again
    assert cache.misses == 4 and cache.evictions == 2


def test_counters_and_clear():
    cache = PlanCache()
    assert (cache.hits, cache.misses, cache.compile_seconds, cache.key_seconds) == (0, 0, 0.0, 0.0)
    cache.get_or_compile(frame())
    compiled, keyed = cache.compile_seconds, cache.key_seconds
    assert compiled > 0 and keyed > 0
    for _ in range(3):
        cache.get_or_compile(frame())
    assert (cache.hits, cache.misses) == (3, 1)
    assert cache.compile_seconds == compiled           # hits compile nothing
    assert cache.key_seconds > keyed
    assert "3 hits" in repr(cache)
    cache.clear()
    assert (len(cache), cache.hits, cache.misses, cache.compile_seconds, cache.key_seconds) == (0, 0, 0, 0.0, 0.0)
    cache.get_or_compile(frame())
    assert cache.misses == 1


def test_compile_args_are_key_and_a_compiler_is_called_on_misses(monkeypatch):
    """`**compile_args` go to compile and into the key; `compiler` replaces compile on misses (a
    backend adding memory requirements that follow from the graph and its device)."""
    import framegraph.cache
    calls = []

    def fake_compile(graph, *, extra=None, **kw):
        calls.append(extra)
        return compile(graph, **kw)

    monkeypatch.setattr(framegraph.cache, "compile", fake_compile)
    cache = PlanCache()
    plan = cache.get_or_compile(frame(), extra={"hdr": (1, 2, 3)})
    assert cache.get_or_compile(frame(), extra={"hdr": (1, 2, 3)}) is plan
    assert cache.get_or_compile(frame(), extra={"hdr": (1, 2, 4)}) is not plan
    assert calls == [{"hdr": (1, 2, 3)}, {"hdr": (1, 2, 4)}]

    compiled = []

    def backend_compile(graph, **kw):
        compiled.append((graph.name, kw["options"].strategy, kw["device"].name))
        return compile(graph, **kw)

    split = cache.get_or_compile(frame(), strategy="split", device="discrete", compiler=backend_compile)
    assert cache.get_or_compile(frame(), strategy="split", device="discrete", compiler=backend_compile) is split
    assert compiled == [("cached", "split", "discrete")]


def test_a_requirements_method_is_keyed_by_its_function_and_plan_cache_key():
    """A backend's requirements, a bound method, in the key: methods of objects with equal
    `plan_cache_key`s (one device) hit; without one, the object's identity decides; another
    function misses."""
    class Requirements:
        def __init__(self, device):
            self.plan_cache_key = device

        def requirements(self, desc):
            return 1 << 16, 256, 1

    class Bare:
        def requirements(self, desc):
            return 1 << 16, 256, 1

    cache = PlanCache()
    plan = cache.get_or_compile(frame(), memory_requirements=Requirements("gpu0").requirements)
    assert cache.get_or_compile(frame(), memory_requirements=Requirements("gpu0").requirements) is plan
    assert cache.get_or_compile(frame(), memory_requirements=Requirements("gpu1").requirements) is not plan
    bare = Bare()
    mine = cache.get_or_compile(frame(), memory_requirements=bare.requirements)
    assert cache.get_or_compile(frame(), memory_requirements=bare.requirements) is mine
    assert cache.get_or_compile(frame(), memory_requirements=Bare().requirements) is not mine
    assert cache.misses == 4


def test_rejected_graph_is_not_cached():
    fg = FrameGraph("bad")
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(8, 8))
    with fg.add_pass("read") as p:
        p.reads(img, "fragment_shader_read_sampled")   # never written
    fg.output(img)
    cache = PlanCache()
    for _ in range(2):
        with pytest.raises(FrameGraphError):
            cache.get_or_compile(fg)
    assert len(cache) == 0 and cache.misses == 2


@pytest.mark.parametrize("strategy", ["naive", "per_resource", "batched", "split"])
@pytest.mark.parametrize("device", ["lavapipe", "discrete"])
def test_cached_plan_equals_fresh_compile(strategy, device):
    cache = PlanCache()
    for build in (frame, deferred_like, lambda: chain(3)):
        cache.get_or_compile(build(), strategy=strategy, device=device)
        cached = cache.get_or_compile(build(), strategy=strategy, device=device)
        assert cache.last_hit
        assert cached.to_dict() == compile(build().graph(), strategy=strategy, device=device).to_dict()


def test_frozen_and_json_loaded_graphs_share_the_builders_key():
    fg = frame(swapchain_image=External("swap0"))
    graph = fg.graph()
    loaded = load_graph(dump_graph(graph))
    assert structural_key(graph) == fg.structural_key() == structural_key(loaded) == structural_key(fg)
    cache = PlanCache()
    plan = cache.get_or_compile(fg)
    assert cache.get_or_compile(graph) is plan
    assert cache.get_or_compile(loaded) is plan
    assert cache.hits == 2


@settings(max_examples=60, deadline=None)
@given(frame_graphs(max_passes=12))
def test_builder_key_is_the_frozen_graphs_key(fg):
    graph = fg.graph()
    assert fg.structural_key() == structural_key(graph) == structural_key(load_graph(dump_graph(graph)))
    hash(fg.structural_key())


def test_interleaved_pass_declarations_are_refused_and_leave_the_key_alone():
    """Accesses belong to their pass in the key; a pass closed by the next add_pass cannot take more
    (issue 16: it could read a version a later pass writes), and the refused call changes nothing."""
    def build(split):
        fg = FrameGraph("interleaved")
        a = fg.create_buffer("a", size=64)
        b = fg.create_buffer("b", size=64)
        with fg.add_pass("p1") as p1:
            if split:
                p1.writes(a, "transfer_write", discard=True)
        with fg.add_pass("p2") as p2:
            if not split:
                p2.writes(a, "transfer_write", discard=True)
            p2.writes(b, "transfer_write", discard=True)
        fg.output(a)
        fg.output(b)
        return fg

    assert build(True).structural_key() != build(False).structural_key()
    assert build(True).structural_key() == structural_key(build(True).graph())
    fg = FrameGraph("interleaved")
    a = fg.create_buffer("a", size=64)
    p1, p2 = fg.add_pass("p1"), fg.add_pass("p2")
    key = fg.structural_key()
    with pytest.raises(FrameGraphError, match="pass 'p1'.*closed"):
        p1.writes(a, "transfer_write", discard=True)
    assert fg.structural_key() == key
    p2.writes(a, "transfer_write", discard=True)


def test_exported_from_the_package():
    assert framegraph.PlanCache is PlanCache and framegraph.structural_key is structural_key


def test_a_profile_cannot_change_under_a_cached_plan():
    """Issue 16: mutating a profile's queue map in place once returned the plan cached for the old map."""
    from framegraph.profiles import DeviceProfile, QueueSlot
    profile = DeviceProfile(name="p", queues={"graphics": QueueSlot(family=0), "compute": QueueSlot(family=0)})
    cache = PlanCache()
    plan = cache.get_or_compile(deferred_like(), device=profile)
    with pytest.raises(TypeError):
        profile.queues["compute"] = QueueSlot(family=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.queues = {}
    assert cache.get_or_compile(deferred_like(), device=profile) is plan
    moved = dataclasses.replace(profile, queues={**profile.queues, "compute": QueueSlot(family=2)})
    assert cache.get_or_compile(deferred_like(), device=moved) is not plan
