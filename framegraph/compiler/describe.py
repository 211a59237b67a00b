"""Stage: describe. What creating each resource of the frame takes (format, extent, usage, host
access, sharing families), decided once here: placement asks the device's memory requirements for
exactly these records and the backend creates exactly these objects, so the two cannot disagree.
"""
from __future__ import annotations

from ..access import lookup
from ..plan import ResourceDesc
from ..vk import ImageUsage, Stage
from .queues import Streams
from .validate import ResolvedGraph, usage_names

_HOST = int(Stage.HOST)


def describe(rg: ResolvedGraph, order, streams: Streams, concurrent: bool) -> dict[int, ResourceDesc]:
    used = sorted({a.resource for p in order for a in rg.passes[p].accesses})
    host_of = _host_resources(rg, order)
    families = tuple(sorted(set(streams.family_of.values())))
    outputs = set(rg.outputs)
    out = {}
    for r in used:
        res = rg.resources[r]
        d = res.decl
        usage = rg.image_usage[r]
        shared = families if (concurrent or d.sharing == "concurrent") else ()
        if res.is_image:
            # The backend reads outputs back (transfer source) and brings an image it creates for an
            # import to its initial layout with a transfer (destination).
            if r in outputs:
                usage |= int(ImageUsage.TRANSFER_SRC)
            if d.imported and d.initial not in (None, "undefined"):
                usage |= int(ImageUsage.TRANSFER_DST)
            desc = d.desc
            out[r] = ResourceDesc(kind="image", format=desc.format.full_name, extent=tuple(desc.extent),
                                  mips=desc.mips, layers=desc.layers, samples=desc.samples,
                                  usage=tuple(usage_names(res, usage)), host=False, families=shared)
        else:
            out[r] = ResourceDesc(kind="buffer", size=d.desc.size, usage=tuple(usage_names(res, usage)),
                                  host=r in host_of, families=shared)
    return out


def _host_resources(rg: ResolvedGraph, order) -> set[int]:
    out = {a.resource for p in order for a in rg.passes[p].accesses if a.stages & _HOST}
    for res in rg.resources:
        for state in (res.decl.initial, res.decl.final):
            if state not in (None, "undefined") and int(lookup(state).stages) & _HOST:
                out.add(res.index)
    return out
