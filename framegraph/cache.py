"""Plan caching: a frame re-declared every frame is compiled only when its structure changed.

The key is the graph's structural key (kept by the FrameGraph builder as it declares) plus the
compile options, the device profile and any other compile arguments (a backend's memory
requirements function); execute callbacks and imported objects (this frame's swapchain image, a
swapped history image) are not in it, so they hit. Keys are compared for equality, never by hash
alone.
"""
from __future__ import annotations

import dataclasses
import time
import types
from collections import OrderedDict
from typing import Callable, Mapping

from .compiler import CompileOptions, compile
from .graph import FrameGraph, Graph, structural_key
from .plan import Plan
from .profiles import BUILTIN, DeviceProfile, resolve_profile


def _freeze(value):
    """Nested dicts/lists/dataclasses as nested tuples: hashable and compared by value. A bound
    method (a backend's memory requirements) is its function and its object's `plan_cache_key`
    where it has one (what its answers depend on, e.g. the device: renderers on one device then
    share plans), else its object, compared by identity as bound methods are."""
    if isinstance(value, types.MethodType):
        owner = value.__self__
        return ("method", value.__func__, getattr(owner, "plan_cache_key", owner))
    if isinstance(value, Mapping):     # dicts, and a profile's read-only queue map
        return ("{}",) + tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,) + tuple(_freeze(getattr(value, f.name)) for f in dataclasses.fields(value))
    return value


class PlanCache:
    """An LRU cache of compiled plans. `get_or_compile(fg, options=..., device=...)` returns the
    cached Plan (the same object each hit) or compiles and keeps it.

    Counters, cumulative until `clear()`: `hits`, `misses`, `evictions`, `compile_seconds` (freezing
    and compiling on misses), `key_seconds` (time spent computing keys and looking them up)."""

    def __init__(self, maxsize: int = 64):
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._plans: OrderedDict[tuple, Plan] = OrderedDict()
        # Resolving a profile and freezing it is done once per device object, not once per frame.
        self._device = self._device_key = self._profile = None
        self.last_hit = False
        self._reset_counters()

    def _reset_counters(self) -> None:
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.compile_seconds = 0.0
        self.key_seconds = 0.0

    def __len__(self) -> int:
        return len(self._plans)

    def clear(self) -> None:
        """Drop every plan and reset the counters."""
        self._plans.clear()
        self._device = self._device_key = self._profile = None
        self._reset_counters()

    def _resolve_device(self, device) -> tuple[DeviceProfile, tuple]:
        # Identity memo for profile objects (immutable, queue map included) and built-in names only:
        # a dict may be mutated and a profile file edited between calls, so those are resolved every time.
        if device is not self._device or not (isinstance(device, DeviceProfile)
                                              or isinstance(device, str) and device in BUILTIN):
            profile = resolve_profile(device)
            self._device, self._profile, self._device_key = device, profile, _freeze(profile)
        return self._profile, self._device_key

    @staticmethod
    def _options(strategy, options) -> CompileOptions:
        options = options or CompileOptions()
        if strategy is not None and strategy != options.strategy:
            options = dataclasses.replace(options, strategy=strategy)
        return options

    def key(self, fg_or_graph: FrameGraph | Graph, *, strategy: str | None = None,
            options: CompileOptions | None = None, device="lavapipe", **compile_args) -> tuple:
        """The cache key `get_or_compile` uses (for inspection and tests)."""
        return self._key(fg_or_graph, self._options(strategy, options), self._resolve_device(device)[1],
                         compile_args)

    def _key(self, fg_or_graph, options, device_key, compile_args) -> tuple:
        if isinstance(fg_or_graph, FrameGraph):
            graph_key = fg_or_graph.structural_key()
        elif isinstance(fg_or_graph, Graph):
            graph_key = structural_key(fg_or_graph)
        else:
            raise TypeError(f"PlanCache takes a FrameGraph or a Graph, got {type(fg_or_graph).__name__}")
        extra = _freeze(compile_args) if compile_args else ()
        return (graph_key, options, device_key, extra)

    def get_or_compile(self, fg_or_graph: FrameGraph | Graph, *, strategy: str | None = None,
                       options: CompileOptions | None = None, device="lavapipe",
                       compiler: Callable[..., Plan] | None = None, **compile_args) -> Plan:
        """The plan for this frame: `framegraph.compile(graph, options=..., device=...)`'s result,
        from the cache when an equal structure was compiled before. Extra keyword arguments go to
        `compile` and are part of the key (the Vulkan renderer's `memory_requirements=` function).
        `compiler`, called the same way on a miss, replaces `framegraph.compile` (an instrumented or
        patched compile); what it adds beyond its arguments is not part of the key."""
        start = time.perf_counter()
        options = self._options(strategy, options)
        profile, device_key = self._resolve_device(device)
        key = self._key(fg_or_graph, options, device_key, compile_args)
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
            self.hits += 1
            self.last_hit = True
            self.key_seconds += time.perf_counter() - start
            return plan
        keyed = time.perf_counter()
        self.key_seconds += keyed - start
        self.misses += 1
        self.last_hit = False
        graph = fg_or_graph.graph() if isinstance(fg_or_graph, FrameGraph) else fg_or_graph
        try:
            plan = (compiler or compile)(graph, options=options, device=profile, **compile_args)
        finally:   # a graph the compiler rejects is not cached: it raises again next frame
            self.compile_seconds += time.perf_counter() - keyed
        self._plans[key] = plan
        while len(self._plans) > self.maxsize:
            self._plans.popitem(last=False)
            self.evictions += 1
        return plan

    def __repr__(self) -> str:
        return (f"PlanCache({len(self)}/{self.maxsize} plans, {self.hits} hits, {self.misses} misses, "
                f"compile {self.compile_seconds * 1e3:.1f} ms, keys {self.key_seconds * 1e3:.1f} ms)")
