"""Stage: lifetimes of transient resources over the compiled order (first and last use), and the
lower bound on their memory: the largest sum of live transient sizes at any point of the order.

Across queues the compiler does not widen intervals: when an aliased resource's previous occupant
was last used on another queue, the tracker orders the new occupant's first use after it with a
semaphore wait, so the placement stays valid by construction.
"""
from __future__ import annotations

from dataclasses import dataclass

from .validate import ResolvedGraph


@dataclass(frozen=True, slots=True)
class Lifetime:
    resource: int
    first: int     # order position of first use
    last: int      # order position of last use
    size: int      # estimated bytes (placement may use the device's real size)


def lifetimes(rg: ResolvedGraph, order: tuple[int, ...]) -> tuple[tuple[Lifetime, ...], dict]:
    """Lifetimes of transients, and for each whether its first pass overwrites it entirely."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    first_discards: dict[int, bool] = {}
    for pos, p_index in enumerate(order):
        for a in rg.passes[p_index].accesses:
            if a.resource not in first:
                first[a.resource] = pos
                first_discards[a.resource] = True
            if first[a.resource] == pos and not (a.discard and len(a.units) == rg.resources[a.resource].unit_count):
                first_discards[a.resource] = False
            last[a.resource] = pos
    lts = tuple(Lifetime(r, first[r], last[r], rg.resources[r].decl.desc.byte_size_estimate())
                for r in sorted(first) if rg.resources[r].decl.transient)
    return lts, first_discards


def memory_lower_bound(lts: tuple[Lifetime, ...], sizes: dict | None = None) -> int:
    events = []
    for lt in lts:
        size = sizes[lt.resource] if sizes is not None else lt.size
        events += [(lt.first, size), (lt.last + 1, -size)]
    events.sort(key=lambda e: (e[0], e[1]))
    best = running = 0
    i = 0
    while i < len(events):
        pos = events[i][0]
        while i < len(events) and events[i][0] == pos:
            running += events[i][1]
            i += 1
        best = max(best, running)
    return best
