"""Stage: place transient resources at offsets in shared heaps so that resources whose lifetimes do
not overlap share memory.

Sizes and alignments come from the device (`memory_requirements`: name -> (size, alignment,
memory_type_bits)) when compiling for one, else from the offline estimator: texel bytes over all
mips/layers (buffers: their size) rounded up to the profile's alignment (images 64 KiB, buffers
256 B, typical of discrete GPUs). Buffers and images never share a heap, which satisfies
bufferImageGranularity between linear and optimal resources without padding. Two policies:
size-descending best fit and lifetime-ordered first fit; `auto` keeps the smaller result.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import FrameGraphError
from .lifetimes import Lifetime, memory_lower_bound
from .validate import ResolvedGraph

POLICIES = ("auto", "best_fit", "first_fit", "none")


@dataclass(frozen=True, slots=True)
class Placement:
    resource: int
    heap: int
    offset: int
    size: int


@dataclass(frozen=True, slots=True)
class Heap:
    id: int
    kind: str                 # "image" | "buffer"
    memory_type_bits: int
    size: int


@dataclass(frozen=True, slots=True)
class Placed:
    placements: dict          # resource index -> Placement
    heaps: tuple[Heap, ...]
    policy: str
    unaliased: int            # bytes if every transient had its own allocation
    lower_bound: int          # max over the order of the live transient bytes


def _align(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def requirements(rg: ResolvedGraph, r: int, memory_requirements, profile, desc=None) -> tuple[int, int, int]:
    """(size, alignment, memoryTypeBits): from the device's requirements function called with the
    resource's creation record (the backend passes one), from a {name: (size, alignment, bits)}
    table, or from the offline estimator."""
    res = rg.resources[r]
    if callable(memory_requirements) and desc is not None:
        size, alignment, bits = memory_requirements(desc)
        return int(size), max(1, int(alignment)), int(bits)
    if isinstance(memory_requirements, dict) and res.name in memory_requirements:
        size, alignment, bits = memory_requirements[res.name]
        return int(size), max(1, int(alignment)), int(bits)
    if res.is_image:
        alignment = profile.image_alignment
    else:
        alignment = profile.buffer_alignment
    return _align(res.decl.desc.byte_size_estimate(), alignment), alignment, 1


def _span_end(lt: Lifetime) -> int:
    return max([lt.last] + [pos for _s, pos in lt.free_after])


class _Facts:
    """A lifetime's numbers as plain attributes: the conflict test runs for every pair of resources
    live at once, so it reads no properties and walks no tuples."""
    __slots__ = ("first", "last", "stream", "until")

    def __init__(self, lt: Lifetime) -> None:
        self.first, self.last, self.stream = lt.first, lt.last, lt.first_stream
        self.until = dict(lt.free_after)   # stream -> last position it is live for an occupant there


def _busy(r: int, candidates, facts: dict, host: frozenset) -> list[tuple[int, int]]:
    """(offset, end) of the candidates `r` may not share memory with. Two resources may share when
    one is free, on the queue where the other starts, before the other's first use; but a resource
    the host writes while the frame is recorded (before any of its GPU work runs) may only be its
    memory's first occupant: an earlier pass's GPU accesses would land on top of the host's data
    whatever the barriers say."""
    fr = facts[r]
    r_first, r_stream, r_until, r_last, r_host = fr.first, fr.stream, fr.until, fr.last, r in host
    busy = []
    for q, o, e in candidates:
        fq = facts[q]
        if fq.until.get(r_stream, fq.last) < r_first:
            if r_host:
                busy.append((o, e))
        elif r_until.get(fq.stream, r_last) < fq.first:
            if q in host:
                busy.append((o, e))
        else:
            busy.append((o, e))
    return busy


def _fit(items, sizes, align_of, lts_by_r, host: frozenset = frozenset()) -> tuple[dict, int]:
    """Place `items` in order at the lowest aligned offset not overlapping any placed resource
    whose lifetime intersects; returns offsets and the heap size. Placed resources with short
    lifetimes are indexed by time buckets, so a query looks only at resources live around its time;
    long-lived ones (and host-accessed ones, which conflict with every earlier occupant) sit in one
    list every query scans: a bucket index alone costs span x entries per query when lifetimes are
    long (a random 10,000-pass frame took 18 s)."""
    bucket_width, short = 16, 4
    facts = {r: _Facts(lts_by_r[r]) for r in items}
    buckets: dict[int, list[tuple[int, int, int]]] = {}   # time bucket -> (resource, offset, end)
    wide: list[tuple[int, int, int]] = []                # long-lived or host-accessed resources
    placed: list[tuple[int, int, int]] = []
    offsets = {}
    top = 0
    for r in items:
        lt = lts_by_r[r]
        b0, b1 = lt.first // bucket_width, _span_end(lt) // bucket_width
        is_wide = b1 - b0 >= short or r in host
        if is_wide:
            candidates = placed
        else:
            seen = set()
            candidates = list(wide)
            for b in range(b0, b1 + 1):
                for entry in buckets.get(b, ()):
                    if entry[0] not in seen:
                        seen.add(entry[0])
                        candidates.append(entry)
        busy = _busy(r, candidates, facts, host)
        busy.sort()
        offset = 0
        for o, e in busy:
            if _align(offset, align_of[r]) + sizes[r] <= o:
                break
            offset = max(offset, e)
        offset = _align(offset, align_of[r])
        offsets[r] = offset
        entry = (r, offset, offset + sizes[r])
        placed.append(entry)
        if is_wide:
            wide.append(entry)
        else:
            for b in range(b0, b1 + 1):
                buckets.setdefault(b, []).append(entry)
        top = max(top, offset + sizes[r])
    return offsets, top


def place(rg: ResolvedGraph, lts: tuple[Lifetime, ...], *, policy: str, profile,
          memory_requirements=None, descs: dict | None = None) -> Placed:
    """`descs`: each resource's creation record (describe stage), given to a requirements function;
    a host-accessed one may only be the first occupant of its memory."""
    if policy not in POLICIES:
        raise FrameGraphError(f"unknown placement policy {policy!r} (one of {', '.join(POLICIES)})")
    lts_by_r = {lt.resource: lt for lt in lts}
    host = frozenset(r for r, d in (descs or {}).items() if d.host)
    sizes, align_of, groups = {}, {}, {}
    for lt in lts:
        size, alignment, bits = requirements(rg, lt.resource, memory_requirements, profile,
                                             (descs or {}).get(lt.resource))
        sizes[lt.resource], align_of[lt.resource] = size, alignment
        kind = "image" if rg.resources[lt.resource].is_image else "buffer"
        # Every transient may share memory: an image starts each occupancy from UNDEFINED, and a
        # buffer's contents before its first write are undefined wherever it sits (reading them is
        # an error the validate stage reports), so its first write starts a new occupancy too.
        shared = policy != "none"
        key = (kind, bits) if shared else (kind, bits, "own", lt.resource)
        groups.setdefault(key, []).append(lt.resource)
    placements, heaps = {}, []
    chosen = set()
    for key, members in groups.items():
        candidates = []
        if policy in ("auto", "best_fit", "none"):
            order = sorted(members, key=lambda r: (-sizes[r], lts_by_r[r].first))
            candidates.append(("best_fit",) + _fit(order, sizes, align_of, lts_by_r, host))
        if policy in ("auto", "first_fit"):
            order = sorted(members, key=lambda r: (lts_by_r[r].first, -sizes[r]))
            candidates.append(("first_fit",) + _fit(order, sizes, align_of, lts_by_r, host))
        name, offsets, top = min(candidates, key=lambda c: c[2])
        chosen.add(name)
        heap = Heap(len(heaps), key[0], key[1], top)
        heaps.append(heap)
        for r in members:
            placements[r] = Placement(r, heap.id, offsets[r], sizes[r])
    unaliased = sum(sizes.values())
    bound = memory_lower_bound(lts, sizes)
    label = policy if policy != "auto" else "auto:" + "+".join(sorted(chosen))
    return Placed(placements, tuple(heaps), label, unaliased, bound)


def overlapping_predecessors(placed: Placed, lts_by_r: dict) -> dict[int, tuple[int, ...]]:
    """For each placed resource, the latest earlier occupant of each byte it overlaps: its first
    accesses must be ordered after all of theirs. Older occupants are covered transitively (each
    occupant's accesses are chained after its own first access, which was ordered after its
    predecessor), so one sweep per heap in first-use order suffices."""
    by_heap: dict[int, list] = {}
    for p in placed.placements.values():
        by_heap.setdefault(p.heap, []).append(p)
    preds: dict[int, tuple[int, ...]] = {}
    for members in by_heap.values():
        members.sort(key=lambda p: lts_by_r[p.resource].first)
        segments: list[tuple[int, int, int]] = []   # disjoint (start, end, occupant), sorted
        for p in members:
            start, end = p.offset, p.offset + p.size
            keep, earlier = [], []
            for seg in segments:
                s0, s1, q = seg
                if s1 <= start or end <= s0:
                    keep.append(seg)
                    continue
                earlier.append(q)
                if s0 < start:
                    keep.append((s0, start, q))
                if end < s1:
                    keep.append((end, s1, q))
            keep.append((start, end, p.resource))
            keep.sort()
            segments = keep
            if earlier:
                preds[p.resource] = tuple(dict.fromkeys(earlier))
    return preds
