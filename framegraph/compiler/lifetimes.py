"""Stage: lifetimes of transient resources over the compiled order (first and last use), and the
lower bound on their memory: the largest sum of live transient sizes at any point of the order.

Across queues, a resource is free for an occupant on another queue only once that queue has waited
(through the frame's semaphores) for its last use there: `widen_across_queues` records, per queue,
the last position at which the resource still counts as live, from the submits of a first,
alias-free compile. Placement then never creates a semaphore wait the frame did not already have
(the tracker still orders every aliasing dependency, so a plan stays valid either way).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace

from .validate import ResolvedGraph


@dataclass(frozen=True, slots=True)
class Lifetime:
    resource: int
    first: int     # order position of first use
    last: int      # order position of last use
    size: int      # estimated bytes (placement may use the device's real size)
    first_stream: str = ""
    last_by_stream: tuple = ()   # ((stream, last position on it), ...)
    free_after: tuple = ()       # ((stream, position), ...): live until then for occupants on that stream


def lifetimes(rg: ResolvedGraph, order: tuple[int, ...], stream_of: dict | None = None) -> tuple[Lifetime, ...]:
    """Lifetimes of transients over the compiled order."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    first_stream: dict[int, str] = {}
    last_by_stream: dict[int, dict] = {}
    for pos, p_index in enumerate(order):
        p = rg.passes[p_index]
        stream = stream_of[p.queue] if stream_of else ""
        for a in p.accesses:
            r = a.resource
            if r not in first:
                first[r] = pos
                first_stream[r] = stream
                last_by_stream[r] = {}
            last_by_stream[r][stream] = pos
            last[r] = pos
    return tuple(Lifetime(r, first[r], last[r], rg.resources[r].decl.desc.byte_size_estimate(), first_stream[r],
                          tuple(last_by_stream[r].items()))
                 for r in sorted(first) if rg.resources[r].decl.transient)


def widen_across_queues(lts: tuple[Lifetime, ...], clocks: dict, pos_submit: dict, streams: list[str],
                        n_positions: int) -> tuple[Lifetime, ...]:
    """Each lifetime's `free_after` per queue: for an occupant on queue B, the resource is live until
    the position before B's first pass whose submit has waited for the resource's last use on every
    other queue (or to the end of the frame when B never waits)."""
    if len(streams) < 2:
        return lts
    # Per queue: its passes' positions in order. What a queue has waited for only grows along its
    # submits, so per other queue the highest value waited is a sorted list: two bisections find
    # the first pass after a position that has waited for a value.
    positions: dict[str, list[int]] = {s: [] for s in streams}
    values: dict[str, list[int]] = {s: [] for s in streams}
    for pos, (stream, index) in sorted(pos_submit.items()):
        positions.setdefault(stream, []).append(pos)
        values.setdefault(stream, []).append(index + 1)
    highs: dict[tuple[str, str], list[int]] = {}

    def first_ordered(b: str, a: str, after: int, value: int) -> int | None:
        high = highs.get((b, a))
        if high is None:
            high = highs[(b, a)] = [clocks[(b, v)].highest(a) for v in values[b]]
        k = max(bisect_right(positions[b], after), bisect_left(high, value))
        return positions[b][k] if k < len(high) else None

    out = []
    for lt in lts:
        free = []
        for b in streams:
            until = lt.last
            for a, last_pos in lt.last_by_stream:
                if a == b:
                    until = max(until, last_pos)
                    continue
                ordered = first_ordered(b, a, last_pos, pos_submit[last_pos][1] + 1)
                until = max(until, (ordered - 1) if ordered is not None else n_positions)
            free.append((b, until))
        out.append(replace(lt, free_after=tuple(free)))
    return tuple(out)


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
