"""Stage: lifetimes of transient resources over the compiled order, and the memory report
(aliased, unaliased, and the lower bound: the largest sum of live transient sizes at any point)."""
from __future__ import annotations

from dataclasses import dataclass

from .validate import ResolvedGraph


@dataclass(frozen=True, slots=True)
class Lifetime:
    resource: int
    first: int     # order position of first use
    last: int      # order position of last use
    size: int


def lifetimes(rg: ResolvedGraph, order: tuple[int, ...]) -> tuple[Lifetime, ...]:
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for pos, p_index in enumerate(order):
        for a in rg.passes[p_index].accesses:
            first.setdefault(a.resource, pos)
            last[a.resource] = pos
    return tuple(Lifetime(r, first[r], last[r], rg.resources[r].decl.desc.byte_size_estimate())
                 for r in sorted(first) if rg.resources[r].decl.transient)


def memory_lower_bound(lts: tuple[Lifetime, ...], length: int) -> int:
    live = [0] * (length + 1)
    for lt in lts:
        live[lt.first] += lt.size
        live[lt.last + 1] -= lt.size
    best = running = 0
    for delta in live:
        running += delta
        best = max(best, running)
    return best
