"""Final stage: assemble the immutable Plan from what the stages decided."""
from __future__ import annotations

from ..access import layout_for_format, lookup
from ..plan import Plan, PlanAccess, PlanPass, PlanResource, State
from ..vk import Access, Layout, Stage, as_access, as_stage
from .cull import CullResult
from .placement import Placed
from .options import CompileOptions
from .queues import Streams
from .ranges import buffer_ranges, image_rects
from .submits import Submits
from .validate import ResolvedGraph, usage_names


def _state(res, name: str | None) -> State | None:
    if name is None:
        return None
    if name == "undefined":
        return State(stages=Stage.NONE, access=Access.NONE, layout=Layout.UNDEFINED if res.is_image else None)
    info = lookup(name)
    layout = layout_for_format(info.layout, res.decl.desc.format) if res.is_image else None
    return State(stages=info.stages, access=info.access, layout=layout)


def plan_passes(rg: ResolvedGraph, order, streams: Streams) -> tuple[PlanPass, ...]:
    out = []
    made: dict = {}   # the same access of the same units recurs across passes: build its entries once
    for p_index in order:
        p = rg.passes[p_index]
        accesses = []
        for a in p.accesses:
            key = (a.resource, a.units, a.stages, a.access, a.layout, a.discard)
            entries = made.get(key)
            if entries is not None:
                accesses.extend(entries)
                continue
            start = len(accesses)
            res = rg.resources[a.resource]
            if res.is_image:
                for mips, layers in image_rects(res, a.units):
                    accesses.append(PlanAccess(resource=res.name, stages=as_stage(a.stages), access=as_access(a.access),
                                               layout=a.layout,
                                               mips=mips, layers=layers, discard=a.discard))
            else:
                for rng in buffer_ranges(res, a.units):
                    accesses.append(PlanAccess(resource=res.name, stages=as_stage(a.stages), access=as_access(a.access),
                                               range=rng,
                                               discard=a.discard))
            made[key] = accesses[start:]
        out.append(PlanPass(name=p.name, queue=p.queue, stream=streams.stream_of[p.queue], accesses=tuple(accesses)))
    return tuple(out)


def plan_resources(rg: ResolvedGraph, order, options: CompileOptions, placements: dict,
                   final_stream: dict, descs: dict) -> tuple[PlanResource, ...]:
    used = sorted({a.resource for p_index in order for a in rg.passes[p_index].accesses})
    out = []
    for r in used:
        res = rg.resources[r]
        d = res.decl
        sharing = "concurrent" if options.concurrent_sharing else d.sharing
        common = dict(name=d.name, kind=d.kind, transient=d.transient, imported=d.imported, swapchain=d.swapchain,
                      history=d.history, usage=tuple(usage_names(res, rg.image_usage[r])), sharing=sharing,
                      size=d.desc.byte_size_estimate(),
                      initial=_state(res, d.initial) if d.imported else None,
                      final=_state(res, d.final) if d.imported else None,
                      final_queue=final_stream.get(r), create=descs.get(r))
        heap, offset, placed_size = placements.get(r, (None, None, None))
        if placed_size is not None:
            common["size"] = placed_size
        if res.is_image:
            desc = d.desc
            out.append(PlanResource(**common, format=desc.format.full_name, extent=desc.extent, mips=desc.mips,
                                    layers=desc.layers, samples=desc.samples, heap=heap, offset=offset))
        else:
            out.append(PlanResource(**common, heap=heap, offset=offset))
    return tuple(out)


def assemble_plan(rg: ResolvedGraph, culled: CullResult | None, order, streams: Streams, placed: Placed,
                  built: Submits, options: CompileOptions, profile, descs: dict) -> Plan:
    submits = built.submits
    stats = dict(built.stats)
    stats.update(passes=len(order), culled=len(culled.culled) if culled else 0, submits=len(submits),
                 transient_bytes=sum(h.size for h in placed.heaps), transient_bytes_unaliased=placed.unaliased,
                 transient_bytes_lower_bound=placed.lower_bound, placement=placed.policy)
    placements = {r: (p.heap, p.offset, p.size) for r, p in placed.placements.items()}
    heaps = tuple({"id": h.id, "size": h.size, "kind": h.kind, "memory_type_bits": h.memory_type_bits}
                  for h in placed.heaps)
    return Plan(graph=rg.graph.name, strategy=options.strategy,
                queues={s: streams.slots[s] for s in streams.names},
                culled=culled.culled if culled else (), passes=plan_passes(rg, order, streams),
                resources=plan_resources(rg, order, options, placements, built.final_stream, descs), heaps=heaps, submits=submits, stats=stats,
                options={**options.to_dict(), "device": profile.name})
