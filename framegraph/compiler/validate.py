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
from ..vk import BufferUsage, ImageUsage, Layout, WRITE_ACCESS


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


_WRITE = int(WRITE_ACCESS)


@dataclass(frozen=True, slots=True)
class ResolvedAccess:
    """A pass's merged access to a set of units of one resource, with concrete masks (plain ints on
    the compiler's hot path; Stage/Access objects only at the plan's edge)."""
    resource: int
    units: tuple[int, ...]
    stages: int
    access: int
    layout: Layout | None
    discard: bool
    writes: bool = False
    reads: bool = False

    @staticmethod
    def of(resource: int, units: tuple[int, ...], stages: int, access: int, layout, discard: bool):
        stages, access = int(stages), int(access)
        return ResolvedAccess(resource, units, stages, access, layout, discard,
                              bool(access & _WRITE), bool(access & ~_WRITE))


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
    written = [_Written(r) for r in resources]
    resolver = _Resolver(resources, index, usage)
    passes = []
    seen = set()
    for p_index, p in enumerate(graph.passes):
        if p.name in seen:
            raise FrameGraphError("duplicate pass name", pass_name=p.name)
        seen.add(p.name)
        merged = resolver.merge_pass(p)
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


@dataclass(frozen=True, slots=True)
class _Use:
    """One access name applied to one resource: what the table says, fitted to its format."""
    name: str
    stages: int
    access: int           # with the attachment load when the write keeps the contents
    layout: Layout | None
    writes: bool
    usage: int            # image or buffer usage flags it needs


class _Resolver:
    """Resolves declared accesses; table rows per (access, resource, discard) and unit tuples per
    declared range are looked up once per frame, not once per access."""

    def __init__(self, resources, index, usage) -> None:
        self.resources, self.index, self.usage = resources, index, usage
        self._uses: dict = {}
        self._units: dict = {}

    def use(self, p_name: str, a, res: ResourceInfo) -> _Use:
        image = res.is_image
        key = (a.access, image and res.decl.desc.format, a.discard)
        u = self._uses.get(key)
        if u is None:
            u = self._uses[key] = self._use(p_name, a, res)
        self.usage[res.index] |= u.usage
        return u

    @staticmethod
    def _use(p_name: str, a, res: ResourceInfo) -> _Use:
        info: AccessInfo = lookup(a.access, pass_name=p_name, resource=a.resource)
        if res.is_image:
            if info.layout is None:
                raise FrameGraphError(f"'{info.name}' is a buffer access, '{res.name}' is an image",
                                      pass_name=p_name, resource=res.name)
            layout = layout_for_format(info.layout, res.decl.desc.format)
            usage = int(info.image_usage)
        else:
            if info.buffer_usage is None:
                raise FrameGraphError(f"'{info.name}' is an image access, '{res.name}' is a buffer",
                                      pass_name=p_name, resource=res.name)
            layout = None
            usage = int(info.buffer_usage)
        if a.discard and not info.writes:
            raise FrameGraphError(f"discard on '{info.name}', which does not write", pass_name=p_name,
                                  resource=res.name)
        return _Use(info.name, int(info.stages), int(effective_access(info, a.discard)), layout, info.writes, usage)

    def units(self, p_name: str, a, res: ResourceInfo) -> tuple[int, ...]:
        key = (res.index, a.mips, a.layers, a.range)
        units = self._units.get(key)
        if units is None:
            units = self._units[key] = _units(p_name, a, res)
        return units

    def merge_pass(self, p) -> tuple[ResolvedAccess, ...]:
        resources, index = self.resources, self.index
        accesses = p.accesses
        if len({a.resource for a in accesses}) == len(accesses):
            # The common case: each resource once, nothing to merge per unit.
            out = []
            for a in accesses:
                r = index[a.resource]
                res = resources[r]
                u = self.use(p.name, a, res)
                out.append(ResolvedAccess.of(r, self.units(p.name, a, res), u.stages, u.access, u.layout,
                                             a.discard))
            return tuple(out)
        return self._merge_units(p)

    def _merge_units(self, p) -> tuple[ResolvedAccess, ...]:
        # unit -> [stages, access, layout, discard, writes]
        per_unit: dict[tuple[int, int], list] = {}
        for a in p.accesses:
            res = self.resources[self.index[a.resource]]
            use = self.use(p.name, a, res)
            layout = use.layout
            for u in self.units(p.name, a, res):
                key = (res.index, u)
                cur = per_unit.get(key)
                if cur is None:
                    per_unit[key] = [use.stages, use.access, layout, a.discard, use.writes]
                    continue
                if layout is not None:
                    merged = merge_layouts(cur[2], layout, cur[4], use.writes)
                    if merged is None:
                        raise FrameGraphError(
                            f"accesses need layouts {cur[2].name} and {layout.name} on the same subresource "
                            f"{_describe_unit(res, u)}", pass_name=p.name, resource=res.name)
                    cur[2] = merged
                cur[0] |= use.stages
                cur[1] |= use.access
                # Another access of the unit in the same pass reads it unless it is a discarding write too.
                cur[3] = cur[3] and a.discard
                cur[4] = cur[4] or use.writes
        groups: dict[tuple, list[int]] = {}
        for (r, u), (stages, access, layout, discard, _w) in per_unit.items():
            groups.setdefault((r, stages, access, layout, discard), []).append(u)
        return tuple(ResolvedAccess.of(r, tuple(sorted(units)), stages, access, layout, discard)
                     for (r, stages, access, layout, discard), units in groups.items())


def _describe_unit(res: ResourceInfo, unit: int) -> str:
    if res.is_image:
        m, l = res.unit_rect(unit)
        return f"(mip {m}, layer {l})"
    return f"bytes [{res.buffer_cuts[unit]}, {res.buffer_cuts[unit + 1]})"


class _Written:
    """Which units of a resource some pass has written so far (a set until all are)."""
    __slots__ = ("units", "complete", "count")

    def __init__(self, res: ResourceInfo) -> None:
        self.units: set[int] = set()
        self.count = res.unit_count
        self.complete = False

    def add(self, units) -> None:
        if not self.complete:
            self.units.update(units)
            if len(self.units) == self.count:
                self.complete, self.units = True, set()


def _check_reads_written(p_name, merged, resources, written) -> None:
    """A pure read of a transient (or an imported resource that starts undefined) must see a write."""
    for a in merged:
        if a.writes:
            continue
        w = written[a.resource]
        if w.complete:
            continue
        res = resources[a.resource]
        undefined_start = res.decl.transient or (res.decl.initial == "undefined")
        if undefined_start:
            missing = [u for u in a.units if u not in w.units]
            if missing:
                raise FrameGraphError(f"reads {_describe_unit(res, missing[0])}, which no earlier pass wrote",
                                      pass_name=p_name, resource=res.name)
    for a in merged:
        if a.writes:
            written[a.resource].add(a.units)


def usage_names(res: ResourceInfo, usage: int) -> list[str]:
    key = (res.is_image, usage)
    names = _USAGE_NAMES.get(key)
    if names is None:
        names = _USAGE_NAMES[key] = tuple((ImageUsage(usage) if res.is_image else BufferUsage(usage)).names())
    return list(names)


_USAGE_NAMES: dict = {}   # (is image, flags) -> their Vulkan names: a handful of distinct values per frame
