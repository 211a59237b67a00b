"""The parts of a `framegraph-plan/1` dict the simulation reads, parsed once into frozen records."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .vocab import NO_WORK, UNDEFINED, dst_scope, norm_layout, pairs, src_scope

WHOLE = 1 << 62     # the size of a buffer whose size the plan does not give


@dataclass(frozen=True)
class Resource:
    name: str
    kind: str                       # "image" | "buffer"
    mips: int
    layers: int
    size: int
    imported: bool
    swapchain: bool
    exclusive: bool                 # VK_SHARING_MODE_EXCLUSIVE: queue family ownership applies
    initial: dict | None            # imported: {"stages", "access", "layout"}
    final: dict | None
    final_queue: str | None         # the queue the plan establishes the final state on
    heap: object | None             # placed (aliasable) memory
    offset: int

    @classmethod
    def from_json(cls, d: dict) -> "Resource":
        size = int(d.get("size") or 0)
        return cls(name=d["name"], kind=d.get("kind", "image"), mips=int(d.get("mips") or 1),
                   layers=int(d.get("layers") or 1), size=size if size > 0 else WHOLE,
                   imported=bool(d.get("imported")), swapchain=bool(d.get("swapchain")),
                   exclusive=d.get("sharing", "exclusive") != "concurrent",
                   initial=d.get("initial") if d.get("imported") else None,
                   final=d.get("final") if d.get("imported") else None,
                   final_queue=d.get("final_queue"),
                   heap=d.get("heap"), offset=int(d.get("offset") or 0))

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

    def span(self, spec, total: int) -> range:
        """A `[base, count]` of mips or layers (None = all; a non-numeric count = the rest)."""
        if not spec:
            return range(total)
        base = int(spec[0])
        count = spec[1] if len(spec) > 1 else 1
        count = total - base if not isinstance(count, int) or count < 0 else count
        return range(base, min(base + count, total))

    def byte_range(self, spec) -> tuple[int, int]:
        """A buffer `[offset, size]` as [lo, hi) (None = whole; non-numeric size = VK_WHOLE_SIZE)."""
        if not spec:
            return 0, self.size
        lo = int(spec[0])
        size = spec[1] if len(spec) > 1 else None
        hi = self.size if not isinstance(size, int) or size < 0 else lo + size
        return lo, min(hi, self.size)


@dataclass(frozen=True)
class Barrier:
    """One memory, buffer or image barrier of a dependency, with its masks parsed."""
    kind: str                       # "memory" | "buffer" | "image"
    resource: str | None
    src: int                        # stage masks as named (meta stages expanded)
    dst: int
    src_access: int
    dst_access: int
    old: str | None = None
    new: str | None = None
    mips: tuple | None = None
    layers: tuple | None = None
    range: tuple | None = None
    src_family: int | None = None
    dst_family: int | None = None

    @cached_property
    def src_exec(self) -> int:
        return src_scope(self.src)

    @cached_property
    def dst_exec(self) -> int:
        return dst_scope(self.dst)

    @cached_property
    def src_pairs(self) -> int:
        """First access scope: only the stages named (not the logically earlier ones)."""
        return pairs(self.src & ~NO_WORK, self.src_access)

    @cached_property
    def dst_pairs(self) -> int:
        return pairs(self.dst & ~NO_WORK, self.dst_access)

    @property
    def transition(self) -> bool:
        return self.kind == "image" and self.old != self.new

    @property
    def from_undefined(self) -> bool:
        return self.old == UNDEFINED

    @property
    def transfers_ownership(self) -> bool:
        return (self.kind != "memory" and self.src_family is not None and self.dst_family is not None
                and self.src_family != self.dst_family)

    @property
    def extent_key(self) -> tuple:
        """Identifies the range a release/acquire pair must agree on."""
        return (self.resource, _tup(self.mips), _tup(self.layers), _tup(self.range),
                self.src_family, self.dst_family)


def _tup(v):
    return None if v is None else tuple(v)


def layout_of(d: dict, key: str) -> str | None:
    return norm_layout(d.get(key))


def strip_reasons(dep) -> object:
    """A dependency as compared between set_event and wait_events: provenance does not count."""
    if isinstance(dep, dict):
        return {k: strip_reasons(v) for k, v in dep.items() if k != "reasons"}
    if isinstance(dep, list):
        return [strip_reasons(v) for v in dep]
    return dep
