"""Transient memory for compiled plans: one VkDeviceMemory per plan heap (per frame slot) that placed
resources are bound into at the plan's offsets. (The device's memory requirements reach the
compiler through `ResourceCache.requirements`, called with each resource's creation record.)

- `TransientHeaps` keeps the memory: a plan heap maps to the physical heap of its frame slot with
  the same (kind, memory type, host access, ordinal among such heaps), so plans that alternate or
  recompile share memory. A heap is reallocated only when a plan needs it bigger; the resources
  bound to the old memory are destroyed first (the caller has waited for the slot's previous
  frame). Heaps no plan has used for `keep_frames` frames of their slot are freed with the resources in them.
"""
from __future__ import annotations

from typing import Any, Callable

import vulkan as vk

from .memory import find_memory_type

DEVICE_LOCAL = vk.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT
HOST_COHERENT = vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | vk.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT


class PlacementMismatch(Exception):
    """The object's real requirements do not fit the plan's placement (size, alignment or type)."""


class HeapMemory:
    """One VkDeviceMemory that placed resources are bound into; host-visible ones stay mapped."""

    __slots__ = ("key", "handle", "size", "type_index", "host", "mapped", "last_used", "name")

    def __init__(self, key: tuple, handle: Any, size: int, type_index: int, host: bool, mapped, name: str) -> None:
        self.key = key
        self.handle = handle
        self.size = size
        self.type_index = type_index
        self.host = host
        self.mapped = mapped
        self.last_used = -1
        self.name = name

    def __repr__(self) -> str:
        return f"<HeapMemory {self.name} {self.size} bytes, type {self.type_index}{' mapped' if self.mapped else ''}>"


def types_with(memory_properties, required: int) -> int:
    """The memoryTypeBits of the types whose property flags include `required`."""
    bits = 0
    for i in range(memory_properties.memoryTypeCount):
        if memory_properties.memoryTypes[i].propertyFlags & required == required:
            bits |= 1 << i
    return bits


def choose_type(memory_properties, bits: int, host: bool) -> int:
    """Device-local memory for device-only heaps; host-visible, coherent (device-local preferred)
    for heaps a host access touches; any type among `bits` if those flags are missing."""
    attempts = [(HOST_COHERENT, DEVICE_LOCAL)] if host else [(DEVICE_LOCAL, 0)]
    attempts.append((0, 0))
    for required, preferred in attempts:
        try:
            return find_memory_type(memory_properties, bits, required, preferred)
        except RuntimeError:
            continue
    raise RuntimeError(f"no memory type among bits {bits:#x}")


def narrow_memory_types(memory_properties, bits: int, host: bool) -> int:
    """Narrow memoryTypeBits to the types this resource will really use, so the compiler groups
    device-only and host-accessed resources into separate heaps where the device tells them apart."""
    narrowed = bits & types_with(memory_properties, HOST_COHERENT if host else DEVICE_LOCAL)
    return narrowed or bits


class TransientHeaps:
    """Physical heaps per frame slot, kept across frames and plans, grown on demand."""

    def __init__(self, allocator, *, keep_frames: int = 4) -> None:
        self.allocator = allocator
        self.keep_frames = keep_frames
        self._heaps: dict[tuple, HeapMemory] = {}
        self._layouts: dict[tuple, tuple] = {}     # (id(plan), slot) -> (plan, see _layout)
        self.allocations = 0      # VkDeviceMemory allocated for heaps so far (tests watch it)
        self.grown = 0            # reallocations because a plan needed a heap bigger

    def prepare(self, plan, *, slot: int, frame: int, on_free: Callable[[HeapMemory], None]) -> dict[int, HeapMemory]:
        """The memory for each of `plan`'s heaps in frame slot `slot` (whose previous frame has
        finished): reused, grown (after `on_free` destroyed what is bound to the old memory) or new."""
        if not plan.heaps:
            return {}
        out = {}
        for heap_id, key, size, type_index, is_host in self._layout(plan, slot):
            heap = self._heaps.get(key)
            if heap is not None and heap.size < size:
                on_free(heap)
                self._free(heap)
                self.grown += 1
                heap = None
            if heap is None:
                heap = self._heaps[key] = self._allocate(key, size, type_index, is_host)
            heap.last_used = frame
            out[heap_id] = heap
        return out

    def _layout(self, plan, slot: int) -> list[tuple]:
        """(heap id, key, size, memory type, host) for each of the plan's heaps in `slot`: worked out
        once per plan and slot (memory types are a walk over the device's types), kept with the plan
        so that its id is not reused while it is here."""
        entry = self._layouts.get((id(plan), slot))
        if entry is not None and entry[0] is plan:
            return entry[1]
        props = self.allocator.ctx.memory_properties
        needs_host = {r.heap for r in plan.resources if r.heap is not None and r.create is not None and r.create.host}
        ordinals: dict[tuple, int] = {}
        layout = []
        for h in plan.heaps:
            bits = int(h.get("memory_type_bits") or 0) or (1 << props.memoryTypeCount) - 1
            is_host = h["id"] in needs_host
            type_index = choose_type(props, bits, is_host)
            group = (h.get("kind", "image"), type_index, is_host)
            k = ordinals[group] = ordinals.get(group, -1) + 1
            layout.append((h["id"], (slot,) + group + (k,), max(1, int(h["size"])), type_index, is_host))
        if len(self._layouts) >= 64:
            self._layouts.clear()
        self._layouts[(id(plan), slot)] = (plan, layout)
        return layout

    def _allocate(self, key: tuple, size: int, type_index: int, host: bool) -> HeapMemory:
        slot, kind, _, _, k = key
        name = f"heap.{kind}{k}{'.host' if host else ''}#{slot}"
        handle, mapped = self.allocator.heap_memory(size, type_index, host=host, name=name)
        self.allocations += 1
        return HeapMemory(key, handle, size, type_index, host, mapped, name)

    def _free(self, heap: HeapMemory) -> None:
        self._heaps.pop(heap.key, None)
        self.allocator.free_heap_memory(heap.handle)
        heap.mapped = None

    def collect(self, horizon: int, on_free: Callable[[HeapMemory], None]) -> int:
        """Free heaps last used at or before `horizon` (every frame up to it has finished)."""
        stale = [h for h in self._heaps.values() if h.last_used <= horizon]
        for heap in stale:
            on_free(heap)
            self._free(heap)
        return len(stale)

    def oldest_use(self) -> int | None:
        """The earliest frame any heap was last used in (None without heaps)."""
        return min((h.last_used for h in self._heaps.values()), default=None)

    def heaps(self, slot: int | None = None) -> list[HeapMemory]:
        return [h for h in self._heaps.values() if slot is None or h.key[0] == slot]

    def __len__(self) -> int:
        return len(self._heaps)

    def close(self, on_free: Callable[[HeapMemory], None]) -> None:
        for heap in list(self._heaps.values()):
            on_free(heap)
            self._free(heap)
