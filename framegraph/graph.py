"""Declaring a frame: resources, passes and their accesses, as frozen data.

`FrameGraph` is the builder users call every frame (Daxa-style prose: `reads`, `writes`,
`execute`); `Graph` is the immutable result the compiler consumes and the JSON file describes.
Handles are versioned: a write returns a new handle and using the old one afterwards is an error.
The builder also keeps the frame's structural key as it goes (`FrameGraph.structural_key()`), so a
plan cache can tell a re-declared frame from a changed one without freezing or walking the graph.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from .access import lookup
from .errors import FrameGraphError
from .vk import Format

QUEUES = ("graphics", "compute", "transfer")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageDesc:
    format: Format
    extent: tuple[int, int, int]
    mips: int = 1
    layers: int = 1
    samples: int = 1

    def __post_init__(self):
        object.__setattr__(self, "format", Format.parse(self.format))
        ext = tuple(int(x) for x in self.extent)
        if len(ext) == 2:
            ext = (*ext, 1)
        object.__setattr__(self, "extent", ext)

    @property
    def kind(self) -> str:
        return "image"

    def byte_size_estimate(self) -> int:
        """Texel bytes over all mips and layers (the offline memory estimate; devices may pad)."""
        w, h, d = self.extent
        total = 0
        for m in range(self.mips):
            total += max(1, w >> m) * max(1, h >> m) * max(1, d >> m)
        return total * self.layers * self.samples * self.format.texel_size


@dataclass(frozen=True, slots=True, kw_only=True)
class BufferDesc:
    size: int

    @property
    def kind(self) -> str:
        return "buffer"

    def byte_size_estimate(self) -> int:
        return self.size


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceDecl:
    """A resource of the frame. Transient unless imported; history resources are imported ones
    whose state carries over from the previous frame (initial == final)."""
    name: str
    desc: ImageDesc | BufferDesc
    imported: bool = False
    swapchain: bool = False
    history: bool = False
    initial: str = "undefined"
    final: str | None = None
    sharing: str = "exclusive"

    @property
    def kind(self) -> str:
        return self.desc.kind

    @property
    def transient(self) -> bool:
        return not self.imported


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessDecl:
    """One declared access. Ranges are `(base, count)`; None means the whole resource."""
    resource: str
    access: str
    mips: tuple[int, int] | None = None
    layers: tuple[int, int] | None = None
    range: tuple[int, int] | None = None
    discard: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PassDecl:
    name: str
    queue: str = "graphics"
    accesses: tuple[AccessDecl, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Graph:
    """The structural description of one frame: what the compiler and the JSON file see."""
    name: str
    resources: tuple[ResourceDecl, ...]
    passes: tuple[PassDecl, ...]
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Handle:
    """A version of a resource. Writes return the next version; older versions are stale."""
    name: str
    version: int = 0


class PassBuilder:
    """Collects one pass's accesses; returned by `FrameGraph.add_pass`."""

    def __init__(self, graph: "FrameGraph", name: str, queue: str):
        self._graph = graph
        self.name = name
        self.queue = queue
        # Plain tuples in AccessDecl's field order: they are this pass's part of the structural key,
        # and AccessDecls are built from them only when the graph is frozen (a cache hit never is).
        self._accesses: list[tuple] = []
        self._entry_versions: dict[str, int] = {}

    def _check(self, handle: Handle) -> None:
        if not isinstance(handle, Handle):
            raise FrameGraphError(f"expected a Handle, got {type(handle).__name__}", pass_name=self.name)
        current = self._graph._versions.get(handle.name)
        if current is None:
            raise FrameGraphError("unknown resource", pass_name=self.name, resource=handle.name)
        entry = self._entry_versions.setdefault(handle.name, current)
        # Inside one pass, reads and writes happen together: the version on entry and the ones
        # this pass produced are all current.
        if not entry <= handle.version <= current:
            raise FrameGraphError(f"stale handle (version {handle.version}, current {current}): "
                                  "use the handle returned by the latest write", pass_name=self.name,
                                  resource=handle.name)

    def _add(self, handle, access, mips, layers, range, discard):
        self._check(handle)
        info = lookup(access, pass_name=self.name, resource=handle.name)
        mips, layers, range = _pair(mips), _pair(layers), _pair(range)
        # A range spelled out in full is the same access as no range: store it the one way, so the
        # structural key (and the plan cache) sees them as equal.
        desc = self._graph._resources[handle.name].desc
        if isinstance(desc, ImageDesc):
            mips = None if mips == (0, desc.mips) else mips
            layers = None if layers == (0, desc.layers) else layers
        elif range == (0, desc.size):
            range = None
        self._accesses.append((handle.name, info.name, mips, layers, range, discard))
        return info

    def reads(self, handle: Handle, access: str, *, mips=None, layers=None, range=None) -> Handle:
        info = self._add(handle, access, mips, layers, range, False)
        if info.writes:
            raise FrameGraphError(f"'{info.name}' writes: declare it with writes()", pass_name=self.name,
                                  resource=handle.name)
        return handle

    def writes(self, handle: Handle, access: str, *, mips=None, layers=None, range=None,
               discard: bool = False) -> Handle:
        """Declare a write; returns the resource's next version. `discard=True`: the old contents
        are not needed (clear / DONT_CARE load)."""
        info = self._add(handle, access, mips, layers, range, discard)
        if not info.writes:
            raise FrameGraphError(f"'{info.name}' only reads: declare it with reads()", pass_name=self.name,
                                  resource=handle.name)
        self._graph._versions[handle.name] += 1
        return Handle(handle.name, self._graph._versions[handle.name])

    def execute(self, callback: Callable) -> "PassBuilder":
        """The callback records the pass's commands later, given a backend context."""
        self._graph.callbacks[self.name] = callback
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def decl(self) -> PassDecl:
        return PassDecl(name=self.name, queue=self.queue, accesses=tuple(
            AccessDecl(resource=r, access=a, mips=m, layers=l, range=b, discard=d)
            for r, a, m, l, b, d in self._accesses))


def _pair(value) -> tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, int):
        return (value, 1)
    base, count = value
    return (int(base), int(count))


class FrameGraph:
    """Builder for one frame. Cheap to re-declare every frame; `graph()` freezes it."""

    def __init__(self, name: str = "frame"):
        self.name = name
        self._resources: dict[str, ResourceDecl] = {}
        self._versions: dict[str, int] = {}
        self._passes: list[PassBuilder] = []
        self._outputs: list[str] = []
        self._resource_keys: list[tuple] = []
        self.callbacks: dict[str, Callable] = {}
        self.imports: dict[str, object] = {}

    def _add_resource(self, decl: ResourceDecl, external=None) -> Handle:
        if decl.name in self._resources:
            raise FrameGraphError("duplicate resource name", resource=decl.name)
        self._resources[decl.name] = decl
        self._resource_keys.append(_resource_key(decl))
        self._versions[decl.name] = 0
        if external is not None:
            self.imports[decl.name] = external
        return Handle(decl.name, 0)

    def create_image(self, name: str, *, format, extent: Sequence[int], mips: int = 1, layers: int = 1,
                     samples: int = 1) -> Handle:
        return self._add_resource(ResourceDecl(name=name, desc=ImageDesc(
            format=format, extent=tuple(extent), mips=mips, layers=layers, samples=samples)))

    def create_buffer(self, name: str, *, size: int) -> Handle:
        return self._add_resource(ResourceDecl(name=name, desc=BufferDesc(size=size)))

    def import_image(self, name: str, *, format, extent: Sequence[int], mips: int = 1, layers: int = 1,
                     samples: int = 1, initial: str = "undefined", final: str | None = None,
                     swapchain: bool = False, external=None) -> Handle:
        """An image owned outside the frame. `external` is what the backend binds (e.g. the
        swapchain image of this frame); it is not part of the structure the compiler sees."""
        if swapchain:
            final = final or "present"
        return self._add_resource(ResourceDecl(
            name=name, desc=ImageDesc(format=format, extent=tuple(extent), mips=mips, layers=layers,
                                      samples=samples),
            imported=True, swapchain=swapchain, initial=initial, final=final), external)

    def import_buffer(self, name: str, *, size: int, initial: str = "undefined", final: str | None = None,
                      external=None) -> Handle:
        return self._add_resource(ResourceDecl(name=name, desc=BufferDesc(size=size), imported=True,
                                               initial=initial, final=final), external)

    def history_image(self, name: str, *, format, extent: Sequence[int], state: str, mips: int = 1,
                      layers: int = 1, external=None) -> Handle:
        """An image that persists across frames and is left in `state` at the end of each."""
        return self._add_resource(ResourceDecl(
            name=name, desc=ImageDesc(format=format, extent=tuple(extent), mips=mips, layers=layers),
            imported=True, history=True, initial=state, final=state), external)

    def add_pass(self, name: str, *, queue: str = "graphics") -> PassBuilder:
        if any(p.name == name for p in self._passes):
            raise FrameGraphError("duplicate pass name", pass_name=name)
        if queue not in QUEUES:
            raise FrameGraphError(f"unknown queue {queue!r} (use one of {QUEUES})", pass_name=name)
        builder = PassBuilder(self, name, queue)
        self._passes.append(builder)
        return builder

    def output(self, handle: Handle) -> None:
        """Mark a resource whose final contents the frame exists to produce."""
        if handle.name not in self._resources:
            raise FrameGraphError("unknown output resource", resource=handle.name)
        if handle.name not in self._outputs:
            self._outputs.append(handle.name)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self._outputs)

    def structural_key(self) -> tuple:
        """What the compiler sees of this frame, as nested tuples of plain values: equal keys mean
        equal `graph()`s (and `structural_key(fg.graph())` is the same key). Execute callbacks and
        imported objects (`imports`) are not part of it."""
        return (self.name, tuple(self._resource_keys),
                tuple([(p.name, p.queue, tuple(p._accesses)) for p in self._passes]), tuple(self._outputs))

    def graph(self) -> Graph:
        return Graph(name=self.name, resources=tuple(self._resources.values()),
                     passes=tuple(p.decl() for p in self._passes), outputs=tuple(self._outputs))


def _resource_key(r: ResourceDecl) -> tuple:
    d = r.desc
    if isinstance(d, ImageDesc):
        desc = ("image", int(d.format), d.extent, d.mips, d.layers, d.samples)
    else:
        desc = ("buffer", d.size)
    return (r.name, desc, r.imported, r.swapchain, r.history, r.initial, r.final, r.sharing)


def structural_key(graph: "Graph | FrameGraph") -> tuple:
    """The structural key of a frozen Graph (e.g. one read from JSON): the same tuple a FrameGraph
    that declares this graph builds as it goes. Equal keys mean equal graphs, hence equal plans."""
    if isinstance(graph, FrameGraph):
        return graph.structural_key()
    return (graph.name, tuple([_resource_key(r) for r in graph.resources]),
            tuple([(p.name, p.queue, tuple([(a.resource, a.access, a.mips, a.layers, a.range, a.discard)
                                            for a in p.accesses])) for p in graph.passes]),
            graph.outputs)
