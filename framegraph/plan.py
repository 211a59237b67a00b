"""The compiled frame: immutable per-queue command streams, submits, resources and statistics,
serialisable to `framegraph-plan/1` JSON (DESIGN.md, docs/formats.md)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .vk import Access, Layout, Stage

FORMAT = "framegraph-plan/1"


def _layout(l: Layout | None):
    return None if l is None else l.full_name


@dataclass(frozen=True, slots=True)
class Reason:
    producer: str | None
    consumer: str | None
    resource: str
    hazard: str

    def to_dict(self):
        return {"producer": self.producer, "consumer": self.consumer, "resource": self.resource,
                "hazard": self.hazard}


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryBarrier:
    src_stages: Stage
    src_access: Access
    dst_stages: Stage
    dst_access: Access

    def to_dict(self):
        return {"src_stages": self.src_stages.names(), "src_access": self.src_access.names(),
                "dst_stages": self.dst_stages.names(), "dst_access": self.dst_access.names()}


@dataclass(frozen=True, slots=True, kw_only=True)
class BufferBarrier(MemoryBarrier):
    resource: str
    range: tuple[int, int]
    src_queue: int | None = None
    dst_queue: int | None = None

    def to_dict(self):
        return {"resource": self.resource, "range": list(self.range), **MemoryBarrier.to_dict(self),
                "src_queue": self.src_queue, "dst_queue": self.dst_queue}


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageBarrier(MemoryBarrier):
    resource: str
    mips: tuple[int, int]
    layers: tuple[int, int]
    old_layout: Layout
    new_layout: Layout
    src_queue: int | None = None
    dst_queue: int | None = None

    def to_dict(self):
        return {"resource": self.resource, "mips": list(self.mips), "layers": list(self.layers),
                **MemoryBarrier.to_dict(self), "old_layout": self.old_layout.full_name,
                "new_layout": self.new_layout.full_name, "src_queue": self.src_queue,
                "dst_queue": self.dst_queue}


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependency:
    """One VkDependencyInfo."""
    memory: tuple[MemoryBarrier, ...] = ()
    buffers: tuple[BufferBarrier, ...] = ()
    images: tuple[ImageBarrier, ...] = ()

    def to_dict(self):
        return {"memory": [m.to_dict() for m in self.memory], "buffers": [b.to_dict() for b in self.buffers],
                "images": [i.to_dict() for i in self.images]}

    def merged(self, other: "Dependency") -> "Dependency":
        return Dependency(memory=self.memory + other.memory, buffers=self.buffers + other.buffers,
                          images=self.images + other.images)


@dataclass(frozen=True, slots=True, kw_only=True)
class BarrierCmd:
    dependency: Dependency
    reasons: tuple[Reason, ...] = ()
    op: str = "barrier"

    def to_dict(self):
        return {"op": "barrier", "dependency": self.dependency.to_dict(),
                "reasons": [r.to_dict() for r in self.reasons]}


@dataclass(frozen=True, slots=True, kw_only=True)
class PassCmd:
    pass_name: str
    op: str = "pass"

    def to_dict(self):
        return {"op": "pass", "pass": self.pass_name}


@dataclass(frozen=True, slots=True, kw_only=True)
class SetEventCmd:
    event: str
    dependency: Dependency
    reasons: tuple[Reason, ...] = ()
    op: str = "set_event"

    def to_dict(self):
        return {"op": "set_event", "event": self.event, "dependency": self.dependency.to_dict(),
                "reasons": [r.to_dict() for r in self.reasons]}


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitEventsCmd:
    events: tuple[str, ...]
    dependencies: tuple[Dependency, ...]
    reasons: tuple[Reason, ...] = ()
    op: str = "wait_events"

    def to_dict(self):
        return {"op": "wait_events", "events": list(self.events),
                "dependencies": [d.to_dict() for d in self.dependencies],
                "reasons": [r.to_dict() for r in self.reasons]}


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetEventCmd:
    event: str
    stages: Stage
    op: str = "reset_event"

    def to_dict(self):
        return {"op": "reset_event", "event": self.event, "stages": self.stages.names()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait:
    """A semaphore wait: on another queue's timeline value, or the swapchain acquire."""
    stages: Stage
    queue: str | None = None
    value: int | None = None
    acquire: str | None = None

    def to_dict(self):
        if self.acquire is not None:
            return {"acquire": self.acquire, "stages": self.stages.names()}
        return {"queue": self.queue, "value": self.value, "stages": self.stages.names()}


@dataclass(frozen=True, slots=True, kw_only=True)
class Submit:
    queue: str
    waits: tuple[Wait, ...]
    signal_value: int
    signal_stages: Stage
    commands: tuple
    present: tuple[str, ...] = ()

    def to_dict(self):
        d = {"queue": self.queue, "wait": [w.to_dict() for w in self.waits],
             "signal": {"value": self.signal_value, "stages": self.signal_stages.names()},
             "commands": [c.to_dict() for c in self.commands]}
        if self.present:
            d["present"] = list(self.present)
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanAccess:
    resource: str
    stages: Stage
    access: Access
    layout: Layout | None = None
    mips: tuple[int, int] | None = None
    layers: tuple[int, int] | None = None
    range: tuple[int, int] | None = None
    discard: bool = False

    def to_dict(self):
        d: dict[str, Any] = {"resource": self.resource, "stages": self.stages.names(),
                             "access": self.access.names()}
        if self.layout is not None:
            d.update(layout=self.layout.full_name, mips=list(self.mips), layers=list(self.layers))
        else:
            d["range"] = list(self.range)
        if self.discard:
            d["discard"] = True
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanPass:
    name: str
    queue: str
    stream: str
    accesses: tuple[PlanAccess, ...]

    def to_dict(self):
        return {"name": self.name, "queue": self.queue, "accesses": [a.to_dict() for a in self.accesses]}


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    stages: Stage
    access: Access
    layout: Layout | None

    def to_dict(self):
        d = {"stages": self.stages.names(), "access": self.access.names()}
        if self.layout is not None:
            d["layout"] = self.layout.full_name
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceDesc:
    """Everything a backend needs to create a resource the frame owns (what vkCreateImage /
    vkCreateBuffer take, and the memory it needs), decided once by the compiler: the device's memory
    requirements are queried for exactly this record, and the backend creates exactly this object.
    `usage` includes what the backend itself needs (TRANSFER_SRC on image outputs for readback,
    TRANSFER_DST on images it initializes to an imported initial state)."""
    kind: str                             # "image" | "buffer"
    size: int = 0                         # buffers: bytes as declared
    format: str | None = None             # images: full VK_FORMAT_ name
    extent: tuple[int, int, int] | None = None
    mips: int = 1
    layers: int = 1
    samples: int = 1
    usage: tuple[str, ...] = ()           # full usage flag names
    host: bool = False                    # a host access: host-visible memory
    families: tuple[int, ...] = ()        # VK_SHARING_MODE_CONCURRENT between these; () = EXCLUSIVE
    # The hash, computed once: backends key their objects by this record every frame.
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_hash", hash((self.kind, self.size, self.format, self.extent, self.mips,
                                                self.layers, self.samples, self.usage, self.host, self.families)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self):
        # Rebuilt through __init__, so the hash is computed again: str hashes differ between processes.
        return (_resource_desc, (self.kind, self.size, self.format, self.extent, self.mips, self.layers, self.samples,
                                 self.usage, self.host, self.families))

    def to_dict(self):
        d: dict[str, Any] = {"kind": self.kind}
        if self.kind == "image":
            d.update(format=self.format, extent=list(self.extent), mips=self.mips, layers=self.layers,
                     samples=self.samples)
        else:
            d["size"] = self.size
        d.update(usage=list(self.usage), host=self.host, families=list(self.families))
        return d


def _resource_desc(kind, size, format, extent, mips, layers, samples, usage, host, families) -> ResourceDesc:
    return ResourceDesc(kind=kind, size=size, format=format, extent=extent, mips=mips, layers=layers,
                        samples=samples, usage=usage, host=host, families=families)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanResource:
    name: str
    kind: str
    transient: bool
    imported: bool
    swapchain: bool
    history: bool
    usage: tuple[str, ...]
    sharing: str = "exclusive"
    format: str | None = None
    extent: tuple[int, int, int] | None = None
    mips: int = 1
    layers: int = 1
    samples: int = 1
    size: int = 0
    initial: State | None = None
    final: State | None = None
    final_queue: str | None = None   # the queue (stream) whose submits establish the final state
    heap: int | None = None
    offset: int | None = None
    create: ResourceDesc | None = None    # how the backend creates it (None: used by no kept pass)

    def to_dict(self):
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "transient": self.transient,
                             "imported": self.imported, "swapchain": self.swapchain, "usage": list(self.usage),
                             "sharing": self.sharing}
        if self.history:
            d["history"] = True
        if self.kind == "image":
            d.update(format=self.format, extent=list(self.extent), mips=self.mips, layers=self.layers,
                     samples=self.samples)
        d["size"] = self.size
        if self.imported:
            d["initial"] = self.initial.to_dict() if self.initial else None
            d["final"] = self.final.to_dict() if self.final else None
            if self.final_queue is not None:
                d["final_queue"] = self.final_queue
        if self.heap is not None:
            d.update(heap=self.heap, offset=self.offset)
        if self.create is not None:
            d["create"] = self.create.to_dict()
        return d


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    graph: str
    strategy: str
    queues: dict                 # stream name -> {"family", "index"}
    culled: tuple[str, ...]
    passes: tuple[PlanPass, ...]
    resources: tuple[PlanResource, ...]
    heaps: tuple[dict, ...]
    submits: tuple[Submit, ...]
    stats: dict
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "graph": self.graph, "strategy": self.strategy,
                "queues": {k: dict(v) for k, v in self.queues.items()}, "culled": list(self.culled),
                "passes": [p.to_dict() for p in self.passes],
                "resources": [r.to_dict() for r in self.resources], "heaps": [dict(h) for h in self.heaps],
                "submits": [s.to_dict() for s in self.submits], "stats": dict(self.stats)}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_dot(self, graph) -> str:
        """Graphviz DOT of passes and resources (see framegraph.viz)."""
        from . import viz
        return viz.to_dot(self, graph)

    def explain(self) -> str:
        """Every barrier, event and semaphore wait with its producer → consumer, resource and hazard."""
        from . import viz
        return viz.explain(self)

    def pass_named(self, name: str) -> PlanPass:
        for p in self.passes:
            if p.name == name:
                return p
        raise KeyError(name)

    def commands(self, queue: str | None = None):
        """All commands in submission order (optionally of one queue)."""
        for s in self.submits:
            if queue is None or s.queue == queue:
                yield from s.commands
