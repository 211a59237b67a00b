"""Stage 5, barriers: turn tracked transitions into dependency infos according to the strategy.

naive: a full ALL_COMMANDS memory barrier before every pass but a stream's first, with layout
       transitions at ALL_COMMANDS; per_resource: exact masks, one call per resource;
batched: exact masks, one call per point (merging across passes happens when submits are built).
"""
from __future__ import annotations

from ..plan import BufferBarrier, Dependency, ImageBarrier, MemoryBarrier, Reason
from ..vk import Access, Stage, as_access, as_stage
from .ranges import buffer_ranges, image_rects
from .tracking import Transition
from .validate import ResolvedGraph

STRATEGIES = ("naive", "per_resource", "batched", "split")
ALL_MEMORY = Access.MEMORY_READ | Access.MEMORY_WRITE
FULL_BARRIER = MemoryBarrier(src_stages=Stage.ALL_COMMANDS, src_access=Access.MEMORY_WRITE,
                             dst_stages=Stage.ALL_COMMANDS, dst_access=ALL_MEMORY)


def _entry_barriers(rg: ResolvedGraph, t: Transition, images: list, buffers: list) -> None:
    if t.kind == "alias":
        return   # a global memory barrier: entries_dependency folds these into one
    res = rg.resources[t.resource]
    src_q = t.src_family if t.kind != "barrier" else None
    dst_q = t.dst_family if t.kind != "barrier" else None
    if res.is_image:
        old = t.old_layout if t.old_layout is not None else t.new_layout
        for m, l in image_rects(res, t.units):
            images.append(ImageBarrier(resource=res.name, mips=m, layers=l, old_layout=old, new_layout=t.new_layout,
                                       src_stages=t.src_stages, src_access=t.src_access, dst_stages=t.dst_stages,
                                       dst_access=t.dst_access, src_queue=src_q, dst_queue=dst_q))
    else:
        for r in buffer_ranges(res, t.units):
            buffers.append(BufferBarrier(resource=res.name, range=r, src_stages=t.src_stages,
                                         src_access=t.src_access, dst_stages=t.dst_stages, dst_access=t.dst_access,
                                         src_queue=src_q, dst_queue=dst_q))


def entries_dependency(rg: ResolvedGraph, transitions, memory: tuple = ()) -> Dependency:
    """One dependency info holding the barriers of every transition, in order. Alias hand-offs
    become one global memory barrier (their scopes ORed: it names no resource, so one is enough)."""
    images, buffers = [], []
    src_stages = src_access = dst_stages = dst_access = 0
    for t in transitions:
        if t.kind == "alias":
            src_stages |= t.src_stages
            src_access |= t.src_access
            dst_stages |= t.dst_stages
            dst_access |= t.dst_access
        else:
            _entry_barriers(rg, t, images, buffers)
    if src_stages:
        memory = memory + (MemoryBarrier(src_stages=as_stage(src_stages), src_access=as_access(src_access),
                                         dst_stages=as_stage(dst_stages), dst_access=as_access(dst_access)),)
    return Dependency(memory=memory, images=tuple(images), buffers=tuple(buffers))


def reasons_of(transitions) -> tuple[Reason, ...]:
    seen = {}
    for t in transitions:
        for r in t.reasons:
            seen[r] = None
    return tuple(seen)


def _naive_entry(t: Transition) -> Transition | None:
    """Under naive, only layout transitions and ownership transfers need their own entries (its full
    memory barrier already covers alias hand-offs)."""
    if t.kind == "alias":
        return None
    if t.kind != "barrier":
        return t
    if not t.layout_change:
        return None
    from dataclasses import replace
    return replace(t, src_stages=Stage.ALL_COMMANDS, src_access=Access.MEMORY_WRITE,
                   dst_stages=Stage.ALL_COMMANDS, dst_access=ALL_MEMORY)


def point_dependencies(rg: ResolvedGraph, strategy: str, transitions, *, first_on_stream: bool
                       ) -> list[tuple[Dependency, tuple[Reason, ...]]]:
    """The barrier calls (dependency, provenance) placed at one point before a pass."""
    if strategy == "naive":
        if first_on_stream and not transitions:
            return []
        entries = [nt for nt in map(_naive_entry, transitions) if nt is not None]
        return [(entries_dependency(rg, entries, (FULL_BARRIER,)), reasons_of(transitions))]
    if not transitions:
        return []
    if strategy == "per_resource":
        by_resource: dict[int, list[Transition]] = {}
        for t in transitions:
            by_resource.setdefault(t.resource, []).append(t)
        return [(entries_dependency(rg, ts), reasons_of(ts)) for ts in by_resource.values()]
    return [(entries_dependency(rg, transitions), reasons_of(transitions))]   # batched and split: one call per point
