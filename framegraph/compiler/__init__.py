"""The compiler: a short list of named stages over one `Compilation` record, each stage its own
module (Granite's bake() as a model). Every stage runs once.

    validate → cull → order → queues → track → semaphores → lifetimes → placement → hand-offs
    → submits → plan
"""
from __future__ import annotations

import gc
from dataclasses import dataclass, replace

from ..errors import FrameGraphError
from ..graph import Graph
from ..plan import Plan
from ..profiles import DeviceProfile, resolve_profile
from .assemble import assemble_plan
from .cull import CullResult, cull
from .describe import describe
from .handoffs import alias_handoffs
from .lifetimes import Lifetime, lifetimes, widen_across_queues
from .options import CompileOptions
from .order import order_passes
from .placement import Placed, overlapping_predecessors, place
from .queues import Streams, assign_streams
from .submits import SubmitBuilder, Submits
from .tracking import Synced, collect, semaphore_needs, track
from .validate import ResolvedGraph, validate

__all__ = ["compile", "CompileOptions", "Compilation"]


@dataclass(frozen=True, slots=True)
class Compilation:
    """Everything the stages decided so far; each stage returns it with its own field filled."""
    graph: Graph
    options: CompileOptions
    profile: DeviceProfile
    memory_requirements: object = None          # requirements(ResourceDesc) -> (size, alignment, bits), or a dict
    resolved: ResolvedGraph | None = None
    culled: CullResult | None = None
    order: tuple[int, ...] = ()
    streams: Streams | None = None
    descs: dict | None = None                   # resource index -> ResourceDesc (how it is created)
    synced: Synced | None = None
    semaphores: SubmitBuilder | None = None     # the frame's submits and waits before aliasing
    lifetimes: tuple[Lifetime, ...] = ()
    placed: Placed | None = None
    submits: Submits | None = None


def compile(graph: Graph, *, strategy: str | None = None, device="lavapipe",
            options: CompileOptions | None = None, memory_requirements=None) -> Plan:
    """Compile a declared frame into an immutable, verified-by-construction plan.

    `memory_requirements`: the device's `requirements(desc) -> (size, alignment, memoryTypeBits)`,
    called with each transient's creation record (the Vulkan backend passes its own), or a
    {name: (size, alignment, bits)} table; without it placement uses the offline estimator."""
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
        return _compile(Compilation(graph=graph, options=options, profile=profile,
                                    memory_requirements=memory_requirements))
    finally:
        if gc_was_enabled:
            gc.enable()


def _compile(c: Compilation) -> Plan:
    c = _validate(c)      # check the declaration; resolve every access to subresource units
    c = _cull(c)          # keep the passes whose results reach an output or an import
    c = _order(c)         # program order, or list-scheduled over the dependency graph
    c = _queues(c)        # logical queues -> streams (VkQueues) of the device profile
    c = _describe(c)      # what creating each resource takes: usage, host access, sharing families
    c = _track(c)         # per-unit state: what each access must wait for (aliasing left open)
    c = _semaphores(c)    # which waits the frame has anyway (only to widen lifetimes across queues)
    c = _lifetimes(c)     # first/last use of each transient, widened to those waits
    c = _placement(c)     # transients into shared heaps where lifetimes allow
    c = _handoffs(c)      # first uses ordered after the earlier occupants of their memory
    c = _submits(c)       # barriers per strategy, events, semaphores, ownership transfers
    return assemble_plan(c.resolved, c.culled, c.order, c.streams, c.placed, c.submits, c.options, c.profile,
                         c.descs)


def _validate(c: Compilation) -> Compilation:
    return replace(c, resolved=validate(c.graph))


def _cull(c: Compilation) -> Compilation:
    return replace(c, culled=cull(c.resolved) if c.options.cull else None)


def _order(c: Compilation) -> Compilation:
    return replace(c, order=order_passes(c.resolved, c.culled, c.options))


def _queues(c: Compilation) -> Compilation:
    return replace(c, streams=assign_streams(c.resolved, c.order, c.profile))


def _describe(c: Compilation) -> Compilation:
    return replace(c, descs=describe(c.resolved, c.order, c.streams, c.options.concurrent_sharing))


def _track(c: Compilation) -> Compilation:
    return replace(c, synced=track(c.resolved, c.order, c.streams.stream_of, c.streams.family_of,
                                   c.options.concurrent_sharing))


def _widens(c: Compilation) -> bool:
    return c.options.alias_transients and len(c.streams.names) > 1 and not c.options.alias_across_queues


def _semaphores(c: Compilation) -> Compilation:
    """With several queues, memory is shared across them only where the frame's semaphores already
    order the two uses, so aliasing adds no wait of its own: lay out the submits' waits (no
    commands) from what tracking found."""
    if not _widens(c):
        return c
    builder = SubmitBuilder(c.resolved, semaphore_needs(c.synced), c.options.strategy, c.streams.names, c.order,
                            waits_only=True)
    builder.build()
    return replace(c, semaphores=builder)


def _lifetimes(c: Compilation) -> Compilation:
    lts = lifetimes(c.resolved, c.order, c.streams.stream_of)
    if c.semaphores is not None:
        lts = widen_across_queues(lts, c.semaphores.signal_known, c.semaphores.pos_submit, c.streams.names,
                                  len(c.order))
    return replace(c, lifetimes=lts)


def _placement(c: Compilation) -> Compilation:
    policy = c.options.placement if c.options.alias_transients else "none"
    return replace(c, placed=place(c.resolved, c.lifetimes, policy=policy, profile=c.profile,
                                   memory_requirements=c.memory_requirements, descs=c.descs))


def _handoffs(c: Compilation) -> Compilation:
    occupants = overlapping_predecessors(c.placed, {lt.resource: lt for lt in c.lifetimes})
    return replace(c, synced=alias_handoffs(c.resolved, c.synced, occupants))


def _submits(c: Compilation) -> Compilation:
    builder = SubmitBuilder(c.resolved, collect(c.synced), c.options.strategy, c.streams.names, c.order)
    return replace(c, submits=builder.result())
