"""Stage: alias hand-offs. A transient's first use of each unit was left `fresh` by tracking; once
placement knows which earlier occupants shared its memory, each fresh entry becomes what the
first use needs: ordered after every last access of those occupants, then (images) a transition
from UNDEFINED. Without occupants it is only the transition (buffers: nothing).

An image or buffer barrier's access scopes cover only accesses made through that resource
(VkImageMemoryBarrier2, VkBufferMemoryBarrier2), so the occupants' writes are made available by a
global memory barrier in the same dependency (an `alias` entry); the new image's barrier carries
the occupants' stages only, so its transition waits for them. On another queue the semaphore
already orders the work and makes its memory available.
"""
from __future__ import annotations

from dataclasses import replace

from ..plan import Reason
from .tracking import ALIAS, BARRIER, CROSS, FRESH, Entry, EntryKey, LastUse, Synced, fold_per_stream
from .validate import ResolvedGraph


def plain_first_use(key: EntryKey) -> EntryKey | None:
    """A first use with no earlier occupant: an image's transition from UNDEFINED (buffers: nothing)."""
    if key.new_layout is None:
        return None
    return EntryKey(BARRIER, key.resource, 0, 0, key.dst_stages, key.dst_access, key.old_layout, key.new_layout)


def _handoff(key: EntryKey, stream: str, consumer: str, res_name: str, priors: tuple[LastUse, ...]) -> list:
    """[(entry key, reasons, cross, last_pos)] a first use ordered after `priors` needs."""
    image = key.new_layout is not None
    if not priors:
        new = plain_first_use(key)
        return [] if new is None else [(new, (Reason(None, consumer, res_name, "layout"),), {}, -1)]
    stages = writes = 0
    last_pos = -1
    cross: dict[str, int] = {}
    reasons = []
    for lu in priors:
        reasons.append(Reason(lu.pass_name, consumer, res_name, "alias"))
        if lu.stream == stream:
            stages |= lu.stages
            writes |= lu.write_access
            last_pos = max(last_pos, lu.position)
        else:
            cross[lu.stream] = max(cross.get(lu.stream, -1), lu.position)
    reasons = tuple(reasons)
    out = []
    if stages and (writes or not image):
        # The occupants' writes through their own resources: a global memory barrier makes them
        # available (and visible to this use); with nothing written it is an execution dependency.
        out.append((EntryKey(ALIAS, key.resource, stages, writes, key.dst_stages, key.dst_access if writes else 0,
                             None, None), reasons, {}, last_pos))
    if image:
        # The transition runs after the occupants' last stages (or, across queues, chained after
        # the semaphore wait at this use's stages); nothing written through this image yet.
        src = stages | (key.dst_stages if cross else 0)
        out.append((EntryKey(BARRIER, key.resource, src, 0, key.dst_stages, key.dst_access, key.old_layout,
                             key.new_layout), reasons, cross, last_pos))
    elif cross:
        out.append((EntryKey(CROSS, key.resource, 0, 0, key.dst_stages, 0, None, None), reasons, cross, -1))
    return out


def alias_handoffs(rg: ResolvedGraph, synced: Synced, occupants: dict) -> Synced:
    """Rewrite every fresh entry; `occupants` maps a resource to the earlier occupants of its memory.
    A resource without occupants keeps its fresh entries: collection reads them as the plain
    first use (`plain_first_use`), which saves rebuilding most passes."""
    priors_of: dict[int, tuple[LastUse, ...]] = {}
    passes = list(synced.passes)
    for pos in synced.fresh_positions:
        pn = passes[pos]
        if not any(key.kind == FRESH and key.resource in occupants for key in pn.entries):
            continue
        consumer = rg.passes[pn.pass_index].name
        rebuilt: dict = {}
        for key, e in pn.entries.items():
            if key.kind != FRESH or key.resource not in occupants:
                _merge(rebuilt, key, e)
                continue
            r = key.resource
            priors = priors_of.get(r)
            if priors is None:
                priors = priors_of[r] = fold_per_stream(lu for q in occupants[r] for lu in synced.last_uses.get(q, ()))
            for new_key, reasons, cross, last_pos in _handoff(key, pn.stream, consumer, rg.resources[r].name,
                                                              priors):
                entry = rebuilt.get(new_key)
                if entry is None:
                    entry = rebuilt[new_key] = Entry()
                for u in e.units:
                    entry.add(u, reasons, cross, False, last_pos)
        passes[pos] = replace(pn, entries=rebuilt)
    return replace(synced, passes=tuple(passes))


def _merge(into: dict, key: EntryKey, e: Entry) -> None:
    cur = into.get(key)
    if cur is None:
        into[key] = e   # reused: the tracked entries before this stage are not read again
        return
    cur.units.extend(e.units)
    cur.reasons.extend(e.reasons)
    for s, p in e.cross.items():
        if cur.cross.get(s, -1) < p:
            cur.cross[s] = p
    cur.ownership = cur.ownership or e.ownership
    cur.last_pos = max(cur.last_pos, e.last_pos)
