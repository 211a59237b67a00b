"""Stage 3, order: the execution order of kept passes.

Declaration order is program order. With `reorder=True` the passes are list-scheduled over the
hazard DAG (read-after-write, write-after-read and write-after-write edges per subresource), so
every topological order observes the same data; among ready passes the one whose latest
producer ran longest ago goes first (Granite's idea), which widens the gap between producers and
consumers for split barriers and lets independent work hide barrier latency.
"""
from __future__ import annotations

import heapq

from .cull import CullResult
from .options import CompileOptions
from .validate import ResolvedGraph


def hazard_edges(rg: ResolvedGraph, kept: tuple[int, ...]) -> dict[int, set[int]]:
    """Predecessors of each kept pass: every earlier pass it must stay after."""
    preds: dict[int, set[int]] = {p: set() for p in kept}
    last_writer: dict[tuple[int, int], int] = {}
    readers: dict[tuple[int, int], list[int]] = {}
    for p in kept:
        for a in rg.passes[p].accesses:
            for u in a.units:
                key = (a.resource, u)
                w = last_writer.get(key)
                if w is not None and w != p:
                    preds[p].add(w)            # RAW, or WAW for a write
                if a.writes:
                    for r in readers.get(key, ()):
                        if r != p:
                            preds[p].add(r)    # WAR
        for a in rg.passes[p].accesses:
            for u in a.units:
                key = (a.resource, u)
                if a.writes:
                    last_writer[key] = p
                    readers[key] = []
                else:
                    readers.setdefault(key, []).append(p)
    return preds


def reorder(rg: ResolvedGraph, kept: tuple[int, ...]) -> tuple[int, ...]:
    preds = hazard_edges(rg, kept)
    succs: dict[int, list[int]] = {p: [] for p in kept}
    for p, ps in preds.items():
        for q in ps:
            succs[q].append(p)
    waiting = {p: len(ps) for p, ps in preds.items()}
    latest = {p: -1 for p in kept}     # schedule position of the latest producer
    ready = [(-1, p) for p in kept if waiting[p] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, p = heapq.heappop(ready)
        pos = len(order)
        order.append(p)
        for s in succs[p]:
            latest[s] = max(latest[s], pos)
            waiting[s] -= 1
            if waiting[s] == 0:
                heapq.heappush(ready, (latest[s], s))
    return tuple(order)


def order_passes(rg: ResolvedGraph, culled: CullResult | None, options: CompileOptions) -> tuple[int, ...]:
    kept = culled.kept if culled is not None else tuple(range(len(rg.passes)))
    if options.reorder:
        return reorder(rg, kept)
    return kept
