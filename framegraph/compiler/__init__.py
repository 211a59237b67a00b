"""The compiler: a short list of named stages, each its own module (Granite's bake() as a model).

    validate → cull → order → queues → lifetimes → placement (aliasing) → track (per-subresource
    state) → submits (barriers per strategy, events, semaphores, ownership) → plan
"""
from __future__ import annotations

import gc

from ..errors import FrameGraphError
from ..graph import Graph
from ..plan import Plan
from ..profiles import resolve_profile
from .assemble import assemble_plan
from .cull import cull
from .lifetimes import lifetimes, widen_across_queues
from .options import CompileOptions
from .order import order_passes
from .placement import overlapping_predecessors, place
from .queues import assign_streams
from .submits import SubmitBuilder
from .tracking import track
from .validate import validate

__all__ = ["compile", "CompileOptions"]


def compile(graph: Graph, *, strategy: str | None = None, device="lavapipe",
            options: CompileOptions | None = None, memory_requirements: dict | None = None) -> Plan:
    """Compile a declared frame into an immutable, verified-by-construction plan."""
    if not isinstance(graph, Graph):
        graph = getattr(graph, "graph", lambda: None)()
        if not isinstance(graph, Graph):
            raise FrameGraphError("compile() takes a Graph or a FrameGraph")
    options = options or CompileOptions()
    if strategy is not None:
        options = CompileOptions(**{**options.to_dict(), "strategy": strategy})
    profile = resolve_profile(device)
    # The compile allocates many small objects and frees none of them as cycles: generational GC
    # passes over them are pure overhead (a quarter of a 10,000-pass compile), so pause it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile(graph, options, profile, memory_requirements)
    finally:
        if gc_was_enabled:
            gc.enable()


def _compile(graph: Graph, options: CompileOptions, profile, memory_requirements) -> Plan:
    resolved = validate(graph)
    culled = cull(resolved) if options.cull else None
    order = order_passes(resolved, culled, options)
    streams = assign_streams(resolved, order, profile)
    lts, first_discards = lifetimes(resolved, order, streams.stream_of)
    if options.alias_transients and len(streams.names) > 1 and not options.alias_across_queues:
        lts = _widen_lifetimes(resolved, order, streams, options, lts)
    placed = place(resolved, lts, first_discards, policy=options.placement if options.alias_transients else "none",
                   profile=profile, memory_requirements=memory_requirements)
    alias_preds = overlapping_predecessors(placed, {lt.resource: lt for lt in lts})
    tracked = track(resolved, order, streams.stream_of, streams.family_of, options.concurrent_sharing, alias_preds)
    submits = SubmitBuilder(resolved, tracked, options.strategy, streams.names, order)
    return assemble_plan(resolved, culled, order, streams, placed, submits, options, profile)


def _widen_lifetimes(resolved, order, streams, options, lts):
    """With several queues, a first alias-free pass finds which semaphore waits the frame has
    anyway; lifetimes widen to them, so aliasing adds no cross-queue wait of its own."""
    pre = track(resolved, order, streams.stream_of, streams.family_of, options.concurrent_sharing, None)
    builder = SubmitBuilder(resolved, pre, options.strategy, streams.names, order)
    builder.build()
    return widen_across_queues(lts, builder.signal_known, builder.pos_submit, streams.names, len(order))
