"""The frame loop takes its plans from a PlanCache (#10): a re-declared frame is not compiled again,
its Vulkan structs (Programs) are reused, and the frames are the same as with the cache off."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import OffscreenTarget, Renderer
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

from framegraph import PlanCache

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def multipass():
    path = ROOT / "samples" / "multipass.py"
    spec = importlib.util.spec_from_file_location("framegraph_sample_multipass_cache", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _programs(renderer):
    return {(id(c.plan), slot): id(p) for c in renderer._plans.values() for slot, p in c.programs.items()}


def test_redeclared_frames_hit_and_reuse_their_programs(vk_context, multipass):
    cache = PlanCache()
    with Renderer(vk_context, OffscreenTarget(32, 32), plan_cache=cache) as renderer:
        plans = set()
        for _ in range(2):
            renderer.render(multipass.build)
            plans.add(id(renderer.last_plan))
        programs = _programs(renderer)
        for _ in range(4):
            renderer.render(multipass.build)
            plans.add(id(renderer.last_plan))
        assert (cache.hits, cache.misses, renderer.compiles) == (5, 1, 1)
        assert len(plans) == 1
        assert len(programs) == renderer.frames_in_flight
        assert _programs(renderer) == programs, "a hit rebuilt the plan's Vulkan structs"


def test_cache_off_compiles_every_frame_and_renders_the_same(vk_context, multipass):
    images = {}
    for mode in (True, False):
        target = OffscreenTarget(32, 32)
        with Renderer(vk_context, target, plan_cache=mode) as renderer:
            for _ in range(3):
                renderer.render(multipass.build)
            images[mode] = target.read()
            assert renderer.compiles == (1 if mode else 3)
            assert (renderer.plan_cache is None) == (not mode)
    assert np.array_equal(images[True], images[False])


def test_renderers_can_share_a_cache(vk_context, multipass):
    cache = PlanCache()
    compiled = []
    images = []
    for _ in range(2):
        target = OffscreenTarget(32, 32)
        with Renderer(vk_context, target, plan_cache=cache, on_compile=compiled.append) as renderer:
            for _ in range(2):
                renderer.render(multipass.build)
            images.append(target.read())
    assert len(compiled) == 1 and (cache.misses, cache.hits) == (1, 3)
    assert np.array_equal(images[0], images[1])
