"""Stage 1, validate: check a declared graph and resolve every access to subresource units.

A unit is one (mip, layer) of an image or one byte interval of a buffer (cut at every range
boundary the graph uses). Accesses of one unit in one pass merge into one layout or fail here.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from ..access import AccessInfo, effective_access, layout_for_format, lookup, merge_layouts
from ..errors import FrameGraphError
from ..graph import Graph, ImageDesc, ResourceDecl
from ..vk import Access, BufferUsage, ImageUsage, Layout, Stage, WRITE_ACCESS


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    index: int
    decl: ResourceDecl
    unit_count: int
    buffer_cuts: tuple[int, ...] = ()   # for buffers: unit i is [cuts[i], cuts[i+1])

    @property
    def name(self) -> str:
        return self.decl.name

    @property
    def is_image(self) -> bool:
        return isinstance(self.decl.desc, ImageDesc)

    def unit_rect(self, unit: int) -> tuple[int, int]:
        """(mip, layer) of an image unit."""
        layers = self.decl.desc.layers
        return divmod(unit, layers)


@dataclass(frozen=True, slots=True)
class ResolvedAccess:
    """A pass's merged access to a set of units of one resource, with concrete masks."""
    resource: int
    units: tuple[int, ...]
    stages: Stage
    access: Access
    layout: Layout | None
    discard: bool

    @property
    def writes(self) -> bool:
        return bool(self.access & WRITE_ACCESS)

    @property
    def reads(self) -> bool:
        return bool(self.access & ~WRITE_ACCESS)


@dataclass(frozen=True, slots=True)
class ResolvedPass:
    index: int
    name: str
    queue: str
    accesses: tuple[ResolvedAccess, ...]


@dataclass(frozen=True, slots=True)
class ResolvedGraph:
    graph: Graph
    resources: tuple[ResourceInfo, ...]
    passes: tuple[ResolvedPass, ...]
    resource_index: dict
    image_usage: tuple[int, ...]    # derived usage flags per resource (ImageUsage or BufferUsage value)
    outputs: tuple[int, ...]


def validate(graph: Graph) -> ResolvedGraph:
    resources = _resource_infos(graph)
    index = {r.name: r.index for r in resources}
    outputs = []
    for name in graph.outputs:
        if name not in index:
            raise FrameGraphError("unknown output resource", resource=name)
        outputs.append(index[name])
    usage = [0] * len(resources)
    written = [set() for _ in resources]
    passes = []
    seen = set()
    for p_index, p in enumerate(graph.passes):
        if p.name in seen:
            raise FrameGraphError("duplicate pass name", pass_name=p.name)
        seen.add(p.name)
        merged = _merge_pass(p, resources, index, usage)
        _check_reads_written(p.name, merged, resources, written)
        passes.append(ResolvedPass(p_index, p.name, p.queue, merged))
    return ResolvedGraph(graph, resources, tuple(passes), index, tuple(usage), tuple(outputs))


def _resource_infos(graph: Graph) -> tuple[ResourceInfo, ...]:
    cuts: dict[str, set[int]] = {}
    by_name: dict[str, ResourceDecl] = {}
    for r in graph.resources:
        if r.name in by_name:
            raise FrameGraphError("duplicate resource name", resource=r.name)
        by_name[r.name] = r
        desc = r.desc
        if isinstance(desc, ImageDesc):
            if desc.mips < 1 or desc.layers < 1 or min(desc.extent) < 1:
                raise FrameGraphError("image needs positive extent, mips and layers", resource=r.name)
            if desc.mips > 1 + max(desc.extent).bit_length() - 1:
                raise FrameGraphError(f"{desc.mips} mips is more than the extent allows", resource=r.name)
        else:
            if desc.size < 1:
                raise FrameGraphError("buffer size must be positive", resource=r.name)
            cuts[r.name] = {0, desc.size}
        if r.sharing not in ("exclusive", "concurrent"):
            raise FrameGraphError(f"unknown sharing {r.sharing!r}", resource=r.name)
        if r.swapchain and not isinstance(desc, ImageDesc):
            raise FrameGraphError("a swapchain resource must be an image", resource=r.name)
    for p in graph.passes:
        for a in p.accesses:
            r = by_name.get(a.resource)
            if r is None:
                raise FrameGraphError("unknown resource", pass_name=p.name, resource=a.resource)
            if r.kind == "buffer":
                if a.mips is not None or a.layers is not None:
                    raise FrameGraphError("mips/layers given for a buffer", pass_name=p.name, resource=r.name)
                if a.range is not None:
                    off, size = a.range
                    if off < 0 or size < 1 or off + size > r.desc.size:
                        raise FrameGraphError(f"range {list(a.range)} outside buffer of {r.desc.size} bytes",
                                              pass_name=p.name, resource=r.name)
                    cuts[r.name].update((off, off + size))
            elif a.range is not None:
                raise FrameGraphError("byte range given for an image", pass_name=p.name, resource=r.name)
    infos = []
    for i, r in enumerate(graph.resources):
        if isinstance(r.desc, ImageDesc):
            infos.append(ResourceInfo(i, r, r.desc.mips * r.desc.layers))
        else:
            c = tuple(sorted(cuts[r.name]))
            infos.append(ResourceInfo(i, r, len(c) - 1, c))
    return tuple(infos)


def _units(p_name: str, a, info: ResourceInfo) -> tuple[int, ...]:
    desc = info.decl.desc
    if not info.is_image:
        if a.range is None:
            return tuple(range(info.unit_count))
        cuts = info.buffer_cuts
        lo = bisect_left(cuts, a.range[0])
        hi = bisect_left(cuts, a.range[0] + a.range[1])
        return tuple(range(lo, hi))
    mb, mc = a.mips if a.mips is not None else (0, desc.mips)
    lb, lc = a.layers if a.layers is not None else (0, desc.layers)
    if mb < 0 or mc < 1 or mb + mc > desc.mips:
        raise FrameGraphError(f"mips [{mb}, {mc}] out of range (image has {desc.mips})", pass_name=p_name,
                              resource=info.name)
    if lb < 0 or lc < 1 or lb + lc > desc.layers:
        raise FrameGraphError(f"layers [{lb}, {lc}] out of range (image has {desc.layers})", pass_name=p_name,
                              resource=info.name)
    L = desc.layers
    return tuple(m * L + l for m in range(mb, mb + mc) for l in range(lb, lb + lc))


def _merge_pass(p, resources, index, usage) -> tuple[ResolvedAccess, ...]:
    # unit -> [stages, access, layout, discard, writes]
    per_unit: dict[tuple[int, int], list] = {}
    for a in p.accesses:
        info: AccessInfo = lookup(a.access, pass_name=p.name, resource=a.resource)
        res = resources[index[a.resource]]
        if res.is_image:
            if info.layout is None:
                raise FrameGraphError(f"'{info.name}' is a buffer access, '{res.name}' is an image",
                                      pass_name=p.name, resource=res.name)
            layout = layout_for_format(info.layout, res.decl.desc.format)
            usage[res.index] |= int(info.image_usage)
        else:
            if info.buffer_usage is None:
                raise FrameGraphError(f"'{info.name}' is an image access, '{res.name}' is a buffer",
                                      pass_name=p.name, resource=res.name)
            layout = None
            usage[res.index] |= int(info.buffer_usage)
        if a.discard and not info.writes:
            raise FrameGraphError(f"discard on '{info.name}', which does not write", pass_name=p.name,
                                  resource=res.name)
        for u in _units(p.name, a, res):
            key = (res.index, u)
            cur = per_unit.get(key)
            access = effective_access(info, a.discard)
            if cur is None:
                per_unit[key] = [info.stages, access, layout, a.discard, info.writes]
                continue
            if layout is not None:
                merged = merge_layouts(cur[2], layout, cur[4], info.writes)
                if merged is None:
                    raise FrameGraphError(
                        f"accesses need layouts {cur[2].name} and {layout.name} on the same subresource "
                        f"{_describe_unit(res, u)}", pass_name=p.name, resource=res.name)
                cur[2] = merged
            cur[0] |= info.stages
            cur[1] |= access
            # Another access of the unit in the same pass reads it unless it is a discarding write too.
            cur[3] = cur[3] and a.discard
            cur[4] = cur[4] or info.writes
    groups: dict[tuple, list[int]] = {}
    for (r, u), (stages, access, layout, discard, _w) in per_unit.items():
        groups.setdefault((r, stages, access, layout, discard), []).append(u)
    return tuple(ResolvedAccess(r, tuple(sorted(units)), Stage(stages), Access(access), layout, discard)
                 for (r, stages, access, layout, discard), units in groups.items())


def _describe_unit(res: ResourceInfo, unit: int) -> str:
    if res.is_image:
        m, l = res.unit_rect(unit)
        return f"(mip {m}, layer {l})"
    return f"bytes [{res.buffer_cuts[unit]}, {res.buffer_cuts[unit + 1]})"


def _check_reads_written(p_name, merged, resources, written) -> None:
    """A pure read of a transient (or an imported resource that starts undefined) must see a write."""
    for a in merged:
        res = resources[a.resource]
        undefined_start = res.decl.transient or (res.decl.initial == "undefined")
        if undefined_start and not a.writes:
            missing = [u for u in a.units if u not in written[a.resource]]
            if missing:
                raise FrameGraphError(f"reads {_describe_unit(res, missing[0])}, which no earlier pass wrote",
                                      pass_name=p_name, resource=res.name)
    for a in merged:
        if a.writes:
            written[a.resource].update(a.units)


def usage_names(res: ResourceInfo, usage: int) -> list[str]:
    return (ImageUsage(usage) if res.is_image else BufferUsage(usage)).names()
