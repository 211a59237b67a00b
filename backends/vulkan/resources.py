"""Physical resources behind a plan: one allocator for every image and buffer the backend owns,
and a cache that maps a plan's resource names to them frame after frame.

Transients are cached per frame slot, so the host wait that frees a slot also frees its
transients (a plan orders accesses within one frame only). History resources and imports
without an external object persist across slots. A transient the plan placed (`heap`/`offset`)
is bound into its frame slot's memory for that heap (heaps.py) at the plan's offset, so
transients whose lifetimes do not overlap share memory; everything else gets its own allocation.
"""
from __future__ import annotations

from typing import Any, Iterable, NamedTuple

import vulkan as vk

from framegraph.errors import FrameGraphError
from framegraph.vk import Format

from . import memory as _memory
from framegraph.plan import ResourceDesc

from .heaps import HeapMemory, PlacementMismatch, TransientHeaps, narrow_memory_types
from .memory import DEVICE_LOCAL, HOST_READBACK
from .owner import Owner
from .registry import handle_value

_HOST_VISIBLE = vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
READBACKS_KEPT = 8           # read readback buffers an Allocator keeps for reuse (Allocator.recycle)
_generation = [0]


def generation() -> int:
    """Counts image views and resources destroyed so far: a handle value seen before may name a new
    object after this changes, so structs cached by handle are rebuilt (recorder.Program.memo)."""
    return _generation[0]


_warned: set = set()


def warn_once(cause: tuple, message: str, category=UserWarning, *, stacklevel: int = 4) -> None:
    """A Python warning the first time `cause` happens in this process (a frame loop would
    otherwise repeat it every frame; warnings' own registry keys on the text, which may vary).
    `stacklevel` counts from warn_once: the default points at the caller's caller's caller."""
    if cause in _warned:
        return
    _warned.add(cause)
    import warnings
    warnings.warn(message, category, stacklevel=stacklevel)


def vk_value(name: str) -> int:
    """A Vulkan enum or flag given by its full name (as plans write them) as its number."""
    try:
        return getattr(vk, name)
    except AttributeError:
        raise FrameGraphError(f"the vulkan binding has no {name!r}") from None


def flag_bits(names: Iterable[str]) -> int:
    """The Vulkan flags for a tuple of their full names (memoized: plans ask every frame)."""
    bits = _FLAG_BITS.get(names) if type(names) is tuple else None
    if bits is None:
        bits = 0
        for name in names:
            bits |= vk_value(name)
        if type(names) is tuple and len(_FLAG_BITS) < 4096:
            _FLAG_BITS[names] = bits
    return bits


_FLAG_BITS: dict[tuple, int] = {}


def aspect_of(format_name: str) -> int:
    fmt = Format.parse(format_name)
    if fmt.has_depth:
        return vk.VK_IMAGE_ASPECT_DEPTH_BIT | (vk.VK_IMAGE_ASPECT_STENCIL_BIT if fmt.has_stencil else 0)
    return vk.VK_IMAGE_ASPECT_COLOR_BIT


def format_name_of(value: int) -> str:
    return Format(value).full_name


class PhysicalImage:
    """A VkImage with what recording needs: format, extent, aspect, and views per subresource range
    (created on first request, destroyed with the image; the image itself only if owned)."""

    def __init__(self, ctx, *, name: str, handle: Any, format: int, extent, mips: int = 1, layers: int = 1,
                 samples: int = 1, usage: int = 0, memory: Any = None, owned: bool = True,
                 heap: HeapMemory | None = None, offset: int = 0) -> None:
        self.ctx = ctx
        self.name = name
        self.handle = handle
        self.heap = heap          # placed in a shared heap (memory is the heap's, not ours) at offset
        self.offset = offset
        self.format = int(format)
        self.format_name = format_name_of(self.format)
        w, h, *d = tuple(int(x) for x in extent)
        self.extent = (w, h, d[0] if d else 1)
        self.mips = mips
        self.layers = layers
        self.samples = samples
        self.usage = usage
        self.memory = memory
        self.owned = owned
        self.aspect = aspect_of(self.format_name)
        self._views: dict[tuple, Any] = {}

    def mip_extent(self, mip: int = 0) -> tuple[int, int]:
        return max(1, self.extent[0] >> mip), max(1, self.extent[1] >> mip)

    def subresource_range(self, mips=None, layers=None, aspect: int | None = None):
        mb, mc = mips or (0, self.mips)
        lb, lc = layers or (0, self.layers)
        return vk.VkImageSubresourceRange(aspectMask=aspect or self.aspect, baseMipLevel=mb, levelCount=mc,
                                          baseArrayLayer=lb, layerCount=lc)

    def view(self, mips=None, layers=None, *, aspect: int | None = None, array: bool | None = None) -> Any:
        """A view of `mips`/`layers` ((base, count); default: all). Layer counts above one (or
        array=True) give a 2D array view."""
        mips = tuple(mips or (0, self.mips))
        layers = tuple(layers or (0, self.layers))
        aspect = aspect or self.aspect
        array = layers[1] > 1 if array is None else array
        key = (mips, layers, aspect, array)
        view = self._views.get(key)
        if view is None:
            info = vk.VkImageViewCreateInfo(
                image=self.handle, format=self.format,
                viewType=vk.VK_IMAGE_VIEW_TYPE_2D_ARRAY if array else vk.VK_IMAGE_VIEW_TYPE_2D,
                subresourceRange=self.subresource_range(mips, layers, aspect))
            label = f"{self.name}.view[m{mips[0]}+{mips[1]},l{layers[0]}+{layers[1]}]"
            view = self._views[key] = self.ctx.create("VkImageView", info, name=label)
        return view

    def destroy_views(self) -> None:
        if self._views:
            _generation[0] += 1
        while self._views:
            _, view = self._views.popitem()
            if not self.ctx.destroyed:
                self.ctx.release(view, "VkImageView")

    def __repr__(self) -> str:
        return f"<PhysicalImage {self.name} {self.format_name} {self.extent[0]}x{self.extent[1]}>"


class PhysicalBuffer:
    """A VkBuffer; host-visible ones stay mapped (`mapped` is a writable memoryview)."""

    def __init__(self, ctx, *, name: str, handle: Any, size: int, usage: int = 0, memory: Any = None,
                 mapped=None, owned: bool = True, heap: HeapMemory | None = None, offset: int = 0) -> None:
        self.ctx = ctx
        self.name = name
        self.handle = handle
        self.heap = heap
        self.offset = offset
        self.size = size
        self.usage = usage
        self.memory = memory
        self.mapped = mapped
        self.owned = owned

    def read(self, dtype="uint8"):
        """A copy of the contents (host-visible buffers; after the GPU work that wrote them)."""
        import numpy as np
        if self.mapped is None:
            raise ValueError(f"buffer {self.name!r} is not host-visible")
        return np.frombuffer(self.mapped, dtype=dtype).copy()

    def write(self, data, offset: int = 0) -> None:
        if self.mapped is None:
            raise ValueError(f"buffer {self.name!r} is not host-visible")
        raw = memoryview(data).cast("B")
        self.mapped[offset:offset + len(raw)] = raw

    def __repr__(self) -> str:
        return f"<PhysicalBuffer {self.name} {self.size} bytes>"


def _sharing(families: Iterable[int]) -> dict:
    unique = sorted(set(families))
    if len(unique) > 1:
        return dict(sharingMode=vk.VK_SHARING_MODE_CONCURRENT, pQueueFamilyIndices=unique)
    # CONCURRENT needs two families or more; with one, exclusive is the same thing.
    return dict(sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE)


def image_create_info(*, format: int, extent, mips: int = 1, layers: int = 1, samples: int = 1, usage: int,
                      families: Iterable[int] = ()):
    """The VkImageCreateInfo of every image the allocator makes (and whose requirements it queries)."""
    w, h, *d = extent
    return vk.VkImageCreateInfo(
        imageType=vk.VK_IMAGE_TYPE_2D, format=format,
        extent=vk.VkExtent3D(width=w, height=h, depth=d[0] if d else 1),
        mipLevels=mips, arrayLayers=layers, samples=samples, tiling=vk.VK_IMAGE_TILING_OPTIMAL,
        usage=usage, initialLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED, **_sharing(families))


def buffer_create_info(*, size: int, usage: int, families: Iterable[int] = ()):
    return vk.VkBufferCreateInfo(size=size, usage=usage, **_sharing(families))


def _requirements2():
    """An output VkMemoryRequirements2 with its sType set (the binding's default leaves it zero)."""
    return vk.VkMemoryRequirements2(sType=vk.VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2)


def _requirements_tuple(r) -> tuple[int, int, int]:
    return int(r.size), int(r.alignment), int(r.memoryTypeBits)


class Allocator:
    """Creates and frees every image and buffer the backend owns: dedicated allocations, or bound
    into a transient heap's memory at a plan's offset (`placement=(HeapMemory, offset, size)`)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.owner = Owner(ctx)
        self.live: set = set()
        self._requirements: dict[tuple, tuple[int, int, int]] = {}
        self._heap_views: dict[int, Any] = {}     # mapped heap memory: handle value -> memoryview
        self._readbacks: list[PhysicalBuffer] = []   # read readback buffers kept for reuse, oldest first

    @staticmethod
    def _sharing(families: Iterable[int]) -> dict:
        return _sharing(families)

    # -- requirements --------------------------------------------------------------------
    def requirements(self, desc: ResourceDesc) -> tuple[int, int, int]:
        """(size, alignment, memoryTypeBits) of the object `desc` describes, from
        vkGetDevice{Image,Buffer}MemoryRequirements (Vulkan 1.3): nothing is created. Memoized."""
        cached = self._requirements.get(desc)
        if cached is not None:
            return cached
        if desc.kind == "image":
            info = image_create_info(format=vk_value(desc.format), extent=desc.extent, mips=desc.mips,
                                     layers=desc.layers, samples=desc.samples, usage=flag_bits(desc.usage),
                                     families=desc.families)
            out = vk.vkGetDeviceImageMemoryRequirements(
                self.ctx.device, vk.VkDeviceImageMemoryRequirements(pCreateInfo=info), _requirements2())
        else:
            info = buffer_create_info(size=desc.size, usage=flag_bits(desc.usage), families=desc.families)
            out = vk.vkGetDeviceBufferMemoryRequirements(
                self.ctx.device, vk.VkDeviceBufferMemoryRequirements(pCreateInfo=info), _requirements2())
        result = self._requirements[desc] = _requirements_tuple(out.memoryRequirements)
        return result

    # -- heaps ---------------------------------------------------------------------------
    def heap_memory(self, size: int, type_index: int, *, host: bool, name: str) -> tuple[Any, Any]:
        """A VkDeviceMemory for a transient heap; host-visible ones are mapped whole (a memoryview)."""
        handle = self.owner.create("VkDeviceMemory", vk.VkMemoryAllocateInfo(
            allocationSize=size, memoryTypeIndex=type_index), name=name)
        mapped = None
        if host:
            mapped = memoryview(vk.vkMapMemory(self.ctx.device, handle, 0, size, 0)).cast("B")
            self._heap_views[handle_value(handle)] = mapped
        return handle, mapped

    def free_heap_memory(self, handle: Any) -> None:
        """Free a heap's memory (the caller destroyed what was bound to it and the GPU is done)."""
        view = self._heap_views.pop(handle_value(handle), None)
        if view is not None:
            view.release()
            vk.vkUnmapMemory(self.ctx.device, handle)
        self.owner.release(handle, "VkDeviceMemory")

    def _check_placement(self, requirements, placement, name: str) -> None:
        heap, offset, size = placement
        real_size, alignment, bits = _requirements_tuple(requirements)
        problems = []
        if real_size > size:
            problems.append(f"needs {real_size} bytes, the plan placed {size}")
        if offset % alignment:
            problems.append(f"offset {offset} is not a multiple of its alignment {alignment}")
        if not bits & (1 << heap.type_index):
            problems.append(f"memory type {heap.type_index} is not among its types {bits:#x}")
        if offset + real_size > heap.size:
            problems.append(f"ends at {offset + real_size}, past the heap's {heap.size} bytes")
        if problems:
            raise PlacementMismatch(f"{name}: " + "; ".join(problems))

    def _bind(self, kind: str, handle, requirements, memory, name, placement):
        """Bind `handle` to a new dedicated allocation, or into the placement's heap; returns the
        VkDeviceMemory (dedicated) or None (placed)."""
        bind = vk.vkBindImageMemory if kind == "VkImage" else vk.vkBindBufferMemory
        if placement is not None:
            try:
                self._check_placement(requirements, placement, name)
            except PlacementMismatch:
                self.owner.release(handle, kind)
                raise
            bind(self.ctx.device, handle, placement[0].handle, placement[1])
            return None
        mem = _memory.allocate(self.ctx, requirements, memory, name=f"{name}.memory")
        self.owner.adopt("VkDeviceMemory", mem)
        bind(self.ctx.device, handle, mem, 0)
        return mem

    # -- resources -----------------------------------------------------------------------
    def image(self, *, name: str, format: int, extent, mips: int = 1, layers: int = 1, samples: int = 1,
              usage: int, families: Iterable[int] = (), memory=DEVICE_LOCAL, placement=None) -> PhysicalImage:
        """A new image: its own memory, or with `placement=(HeapMemory, offset, size)` bound into a
        heap at `offset` (raises PlacementMismatch, creating nothing, if it does not fit there)."""
        info = image_create_info(format=format, extent=extent, mips=mips, layers=layers, samples=samples,
                                 usage=usage, families=families)
        handle = self.owner.create("VkImage", info, name=name)
        mem = self._bind("VkImage", handle, vk.vkGetImageMemoryRequirements(self.ctx.device, handle), memory,
                         name, placement)
        image = PhysicalImage(self.ctx, name=name, handle=handle, format=format, extent=extent, mips=mips,
                              layers=layers, samples=samples, usage=usage, memory=mem,
                              heap=placement[0] if placement else None, offset=placement[1] if placement else 0)
        self.live.add(image)
        return image

    def buffer(self, *, name: str, size: int, usage: int, families: Iterable[int] = (), memory=DEVICE_LOCAL,
               placement=None) -> PhysicalBuffer:
        """A new buffer: its own memory (mapped when host-visible), or placed like `image`; a placed
        buffer in a mapped heap gets the heap's mapping at its offset."""
        handle = self.owner.create("VkBuffer", buffer_create_info(size=size, usage=usage, families=families),
                                   name=name)
        mem = self._bind("VkBuffer", handle, vk.vkGetBufferMemoryRequirements(self.ctx.device, handle), memory,
                         name, placement)
        mapped = None
        if placement is not None:
            heap, offset, _ = placement
            if heap.mapped is not None:
                mapped = heap.mapped[offset:offset + size]
            elif memory[0] & _HOST_VISIBLE:
                self.owner.release(handle, "VkBuffer")
                raise PlacementMismatch(f"{name}: host access, but heap {heap.name} is not mapped")
        elif memory[0] & _HOST_VISIBLE:
            mapped = memoryview(vk.vkMapMemory(self.ctx.device, mem, 0, size, 0)).cast("B")
        buffer = PhysicalBuffer(self.ctx, name=name, handle=handle, size=size, usage=usage, memory=mem,
                                mapped=mapped, heap=placement[0] if placement else None,
                                offset=placement[1] if placement else 0)
        self.live.add(buffer)
        return buffer

    def staging(self, *, name: str, size: int, readback: bool = False) -> PhysicalBuffer:
        """A host-visible buffer for uploads (TRANSFER_SRC) or readback (TRANSFER_DST)."""
        if readback:
            return self.buffer(name=name, size=size, usage=vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               memory=HOST_READBACK)
        return self.buffer(name=name, size=size, usage=vk.VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                           memory=_memory.HOST_UPLOAD)

    def readback_buffer(self, *, name: str, size: int) -> PhysicalBuffer:
        """A host buffer for a readback (TRANSFER_DST): one that an earlier readback of `name` and
        `size` gave back (`recycle`), else a new one. A frame that reads something back every frame
        then makes no buffer per frame (creating, naming and freeing one costs more than the frame's
        commands) and brings the same object, so the runs around the copy can replay."""
        kept = self._readbacks
        for i in range(len(kept) - 1, -1, -1):
            if kept[i].name == name and kept[i].size == size:
                return kept.pop(i)
        return self.staging(name=name, size=size, readback=True)

    def recycle(self, buffer: PhysicalBuffer) -> None:
        """A readback buffer whose contents the host has copied out (its frame finished): kept for
        the next readback of its name and size. The READBACKS_KEPT most recently given back are
        kept; older ones are freed (a size no frame reads back any more does not stay)."""
        self._readbacks.append(buffer)
        if len(self._readbacks) > READBACKS_KEPT:
            self.free(self._readbacks.pop(0))

    def free(self, resource) -> None:
        """Destroy one resource now (the caller vouches the GPU is done with it). A placed resource
        leaves its heap's memory alone."""
        _generation[0] += 1
        self.live.discard(resource)
        if isinstance(resource, PhysicalImage):
            resource.destroy_views()
            self.owner.release(resource.handle, "VkImage")
        else:
            if resource.mapped is not None:
                resource.mapped.release()
                resource.mapped = None
                if resource.heap is None:
                    vk.vkUnmapMemory(self.ctx.device, resource.memory)
            self.owner.release(resource.handle, "VkBuffer")
        if resource.memory is not None:
            self.owner.release(resource.memory, "VkDeviceMemory")

    def close(self) -> None:
        self._readbacks.clear()
        for resource in list(self.live):
            if isinstance(resource, PhysicalImage):
                resource.destroy_views()
            elif resource.mapped is not None:
                resource.mapped.release()
                resource.mapped = None
        self.live.clear()
        for view in self._heap_views.values():
            view.release()
        self._heap_views.clear()
        self.owner.close()


class StagingRing:
    """Host-visible upload memory for one frame slot: bump-allocated while the frame records, reset
    when the slot comes round again (its frame has finished). Host writes before vkQueueSubmit are
    visible to the device by the submission itself, so uploads need no barrier of their own."""

    def __init__(self, allocator: Allocator, name: str, size: int = 64 * 1024) -> None:
        self.allocator = allocator
        self.name = name
        self.first_size = size
        self.buffers: list[PhysicalBuffer] = []
        self.current = 0
        self.offset = 0

    def allocate(self, size: int, alignment: int = 16) -> tuple[PhysicalBuffer, int]:
        while True:
            if self.current < len(self.buffers):
                buffer = self.buffers[self.current]
                offset = -(-self.offset // alignment) * alignment
                if offset + size <= buffer.size:
                    self.offset = offset + size
                    return buffer, offset
                self.current += 1
                self.offset = 0
                continue
            grow = max(size, self.first_size, 2 * self.buffers[-1].size if self.buffers else 0)
            self.buffers.append(self.allocator.staging(name=f"{self.name}.staging{len(self.buffers)}", size=grow))

    def reset(self) -> None:
        self.current = 0
        self.offset = 0


def wrap_import(ctx, name: str, external, plan_resource) -> PhysicalImage | PhysicalBuffer:
    """A PhysicalImage/PhysicalBuffer for what a user gave in `fg.imports` (not owned by us)."""
    if isinstance(external, (PhysicalImage, PhysicalBuffer)):
        return external
    if plan_resource.kind == "image":
        handle = external.handle if isinstance(external, _memory.Image) else external
        return PhysicalImage(ctx, name=name, handle=handle, format=vk_value(plan_resource.format),
                             extent=plan_resource.extent, mips=plan_resource.mips, layers=plan_resource.layers,
                             samples=plan_resource.samples, owned=False)
    handle = external.handle if isinstance(external, _memory.Buffer) else external
    return PhysicalBuffer(ctx, name=name, handle=handle, size=plan_resource.size, owned=False)


def _check_import(resource, r) -> None:
    if r.kind == "image":
        if not isinstance(resource, PhysicalImage):
            raise FrameGraphError(f"imported object is a {type(resource).__name__}, the graph declares an image",
                                  resource=r.name)
        if (resource.format != vk_value(r.format) or resource.extent[:2] != tuple(r.extent[:2])
                or resource.mips < r.mips or resource.layers < r.layers):
            raise FrameGraphError(
                f"imported image is {resource.format_name} {resource.extent[0]}x{resource.extent[1]} "
                f"(mips {resource.mips}, layers {resource.layers}); the graph declares {r.format} "
                f"{r.extent[0]}x{r.extent[1]} (mips {r.mips}, layers {r.layers})", resource=r.name)
        missing = flag_bits(r.usage) & ~resource.usage
        if resource.usage and missing:
            raise FrameGraphError(f"imported image lacks usage {missing:#x} that the plan needs ({r.usage})",
                                  resource=r.name)
    elif not isinstance(resource, PhysicalBuffer) or resource.size < r.size:
        raise FrameGraphError(f"imported object {resource!r} is not a buffer of at least {r.size} bytes",
                              resource=r.name)


def _needs_initial_state(r) -> bool:
    """An image we create for an import (history, or an import given no object) whose plan starts
    from a defined layout: it must be in that layout before its first frame."""
    return (r.kind == "image" and r.imported and r.initial is not None and r.initial.layout is not None
            and int(r.initial.layout) != vk.VK_IMAGE_LAYOUT_UNDEFINED)


def initialize_image(ctx, image: PhysicalImage, layout: int, *, queue: str = "graphics",
                     copy_from=None, name: str | None = None) -> None:
    """Fill a new image and leave it in `layout`, finished before any frame uses it (a fence wait), so
    the first plan that names it finds the state its `initial` promises: cleared to zero, or copied
    from `copy_from` = (staging buffer, VkBufferImageCopy regions)."""
    from .commands import one_time_commands

    whole = image.subresource_range()
    transfer, write = vk.VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT, vk.VK_ACCESS_2_TRANSFER_WRITE_BIT
    dst = vk.VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL

    def barrier(**masks):
        return vk.VkImageMemoryBarrier2(**masks, srcQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED,
                                        dstQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED, image=image.handle,
                                        subresourceRange=whole)
    to_dst = barrier(dstStageMask=transfer, dstAccessMask=write, oldLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED, newLayout=dst)
    to_final = barrier(srcStageMask=transfer, srcAccessMask=write, dstStageMask=vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
                       dstAccessMask=vk.VK_ACCESS_2_MEMORY_READ_BIT | vk.VK_ACCESS_2_MEMORY_WRITE_BIT,
                       oldLayout=dst, newLayout=layout)
    with one_time_commands(ctx, queue=queue, name=name or f"{image.name}.initialize") as cmd:
        vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pImageMemoryBarriers=[to_dst]))
        if copy_from is not None:
            staging, regions = copy_from
            vk.vkCmdCopyBufferToImage(cmd, staging.handle, image.handle, dst, len(regions), regions)
        elif image.aspect == vk.VK_IMAGE_ASPECT_COLOR_BIT:
            vk.vkCmdClearColorImage(cmd, image.handle, dst, vk.VkClearColorValue(float32=[0.0, 0.0, 0.0, 0.0]), 1,
                                    [whole])
        else:
            vk.vkCmdClearDepthStencilImage(cmd, image.handle, dst, vk.VkClearDepthStencilValue(depth=0.0, stencil=0),
                                           1, [whole])
        vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pImageMemoryBarriers=[to_final]))


class _Entry:
    __slots__ = ("resource", "last_used", "heap")

    def __init__(self, resource, last_used: int, heap: tuple | None = None) -> None:
        self.resource = resource
        self.last_used = last_used
        self.heap = heap          # key of the transient heap it is bound into (None: own memory)


def same_values(a: dict, b: dict) -> bool:
    """a == b for the per-frame memos (imports, callbacks), where a value's own __eq__ raising, or
    answering something that is not a bool (an array), means "not the same"."""
    try:
        return bool(a == b)
    except Exception:
        return False


class _ResolveMemo(NamedTuple):
    """What a plan resolved to in one slot, and what that depended on: the cache's generation (no
    entry created or freed since), the transient heaps, the imported objects."""
    plan: Any
    generation: int
    heap_keys: tuple
    imports: dict
    resolved: dict           # handed out as it is: callers read it, never change it
    entries: list            # every _Entry the frame uses (their last_used moves each frame)
    persistent: list         # (plan resource, persistent import, queue): resolved again every frame


class ResourceCache:
    """Plan resource name -> physical resource, for one frame slot at a time.

    Keys are (name, descriptor[, slot]): a re-declared identical graph finds its resources again;
    a changed descriptor (e.g. a resize) allocates anew, and the old entry is freed once no frame in
    flight can use it and its slot's last `keep_frames` frames did not (`collect`). A placed transient's key adds its heap and offset: plans that place
    it alike share the object; the objects in a heap go when the heap is regrown or freed.
    """

    def __init__(self, ctx, allocator: Allocator, *, frames_in_flight: int, keep_frames: int = 4) -> None:
        self.ctx = ctx
        self.allocator = allocator
        self.frames_in_flight = frames_in_flight
        self.keep_frames = keep_frames
        self._owned: dict[tuple, _Entry] = {}
        self._first_streams: dict[int, tuple] = {}   # id(plan) -> (plan, {resource: first stream})
        self._wrapped: dict[tuple, _Entry] = {}    # imports given as raw handles: our views over them
        # Bumped whenever an entry of _owned or _wrapped comes or goes: a frame resolved with the same
        # plan, slot, imports, heaps and generation finds the same objects (see _ResolveMemo).
        self._generation = 0
        self._memo: dict[tuple, _ResolveMemo] = {}
        self._floor = -(1 << 62)       # collect(): no entry or heap was last used before this frame
        self.heaps = TransientHeaps(allocator, keep_frames=keep_frames)
        self.allocations = 0                       # resources created so far (tests watch it)
        self.resolve_hits = 0                      # frames resolved from a memo (tests watch it)

    def requirements(self, desc: ResourceDesc) -> tuple[int, int, int]:
        """The device's (size, alignment, memoryTypeBits) for creating `desc`: the function the
        compiler calls while placing transients (`framegraph.compile(..., memory_requirements=...)`).
        Memory types narrow to the ones the object will use (host-visible for host access), so
        device-only and host-accessed resources get separate heaps where the device tells them apart."""
        size, alignment, bits = self.allocator.requirements(desc)
        return size, alignment, narrow_memory_types(self.ctx.memory_properties, bits, desc.host)

    @property
    def plan_cache_key(self):
        """What `requirements` answers depend on: the device (the driver's numbers, its memory
        types). A PlanCache keys plans by it, so renderers on one context share plans."""
        return self.ctx

    def resolve(self, plan, *, outputs: Iterable[str] = (), imports: dict | None = None, slot: int,
                frame: int) -> dict[str, Any]:
        imports = imports or {}
        if plan.culled and not plan.passes:
            warn_once(("all culled", plan.graph, plan.culled),
                      f"frame {plan.graph!r}: every pass was culled ({', '.join(plan.culled)}), so it records "
                      "nothing; mark what the frame produces with fg.output(handle)")
        heaps = (self.heaps.prepare(plan, slot=slot, frame=frame, on_free=self._free_heap_entries) if plan.heaps
                 else {})
        heap_keys = tuple([h.key for h in heaps.values()])
        # One memo per plan, slot and set of imported objects (a window's frames alternate between
        # its swapchain images); the memo keeps the objects, so their ids are not reused meanwhile.
        memo_key = (id(plan), slot, tuple([id(v) for v in imports.values()]))
        memo = self._memo.get(memo_key)
        if (memo is not None and memo.plan is plan and memo.generation == self._generation
                and memo.heap_keys == heap_keys and same_values(memo.imports, imports)):
            # The same objects as last time: mark them used, and let persistent imports (which
            # create themselves, or copy frame data) do their per-frame part.
            self.resolve_hits += 1
            for entry in memo.entries:
                entry.last_used = frame
            # The memo's own dict, unless a persistent import answers with another object: the
            # same dict frame after frame tells Program.rebind that nothing moved.
            resolved = memo.resolved
            for r, external, queue in memo.persistent:
                physical = external.resolve(r, queue=queue)
                if physical is not resolved[r.name]:
                    if resolved is memo.resolved:
                        resolved = dict(resolved)
                    resolved[r.name] = physical
            return resolved
        resolved: dict[str, Any] = {}
        entries: list[_Entry] = []
        persistent: list[tuple] = []
        for r in plan.resources:
            external = imports.get(r.name)
            if external is not None:
                if hasattr(external, "resolve") and hasattr(external, "use"):    # data.PersistentBuffer/Image
                    queue = self._first_queue(plan, r.name)
                    resolved[r.name] = external.resolve(r, queue=queue)
                    persistent.append((r, external, queue))
                    continue
                entry = self._import(r, external, frame)
                if entry is not None:
                    entries.append(entry)
                    resolved[r.name] = entry.resource
                else:
                    resolved[r.name] = external
                continue
            desc = r.create
            if desc is None or (r.transient and not desc.usage):
                # Declared but used by no kept pass: nothing to create (usage 0 is invalid Vulkan).
                continue
            if r.swapchain:
                raise FrameGraphError("swapchain image imported without the image (use a WindowTarget)",
                                      resource=r.name)
            heap = heaps.get(r.heap) if (r.transient and r.heap is not None) else None
            # History persists across frames (its state carries over); the rest is per slot.
            key = (r.name, desc, slot, heap.key, r.offset) if heap is not None else (
                r.name, desc, None if r.history else slot)
            entry = self._owned.get(key)
            if entry is None:
                placement = (heap, r.offset, r.size) if heap is not None else None
                try:
                    created = self._allocate(r, desc, slot, placement)
                except PlacementMismatch as e:
                    # The compiler placed this object with this device's requirements for this very
                    # record: a mismatch means the plan was compiled for another device or with
                    # other requirements. Its aliasing would not describe what runs: refuse it.
                    raise FrameGraphError(f"the plan's placement does not fit this device ({e}); compile the "
                                          "frame with this renderer (its memory requirements)",
                                          resource=r.name) from None
                entry = self._owned[key] = _Entry(created, frame, heap.key if heap is not None else None)
                self._generation += 1
                if _needs_initial_state(r):
                    initialize_image(self.ctx, entry.resource, int(r.initial.layout),
                                     queue=self._first_queue(plan, r.name))
            entry.last_used = frame
            entries.append(entry)
            resolved[r.name] = entry.resource
        if len(self._memo) >= 64:
            self._memo.clear()
        self._memo[memo_key] = _ResolveMemo(plan, self._generation, heap_keys, dict(imports), resolved, entries,
                                            persistent)
        return resolved

    def placed_objects(self) -> list[tuple[str, Any, int]]:
        """(object name, the heap memory it is bound into, offset) of every placed object alive:
        what tests compare with the plans (names are '<resource>#<slot>@<heap>+<offset>')."""
        return [(e.resource.name, e.resource.heap, e.resource.offset) for e in self._owned.values()
                if e.resource.heap is not None]

    def _first_queue(self, plan, name: str) -> str:
        """The context's logical queue on the family of the first pass that uses `name`: an exclusive
        image starts out owned by the family that initialized it. Persistent imports ask every frame:
        one scan of the passes per plan (the plan is kept with its map, so its id is not reused)."""
        entry = self._first_streams.get(id(plan))
        if entry is None or entry[0] is not plan:
            first: dict[str, str] = {}
            for p in plan.passes:
                for a in p.accesses:
                    first.setdefault(a.resource, p.stream)
            if len(self._first_streams) >= 64:
                self._first_streams.clear()
            entry = self._first_streams[id(plan)] = (plan, first)
        stream = entry[1].get(name, "graphics")
        family = plan.queues.get(stream, {}).get("family")
        return next((q for q, info in self.ctx.queues.items() if info.family == family), "graphics")

    def _import(self, r, external, frame: int) -> _Entry | None:
        """Our wrapper over an imported handle (None: a physical resource, used as it is)."""
        if isinstance(external, (PhysicalImage, PhysicalBuffer)):
            _check_import(external, r)
            return None
        handle = external.handle if isinstance(external, (_memory.Image, _memory.Buffer)) else external
        key = (r.name, handle_value(handle), r.create)
        entry = self._wrapped.get(key)
        if entry is None:
            entry = self._wrapped[key] = _Entry(wrap_import(self.ctx, r.name, external, r), frame)
            self._generation += 1
        entry.last_used = frame
        return entry

    def _allocate(self, r, desc: ResourceDesc, slot, placement=None):
        label = r.name if slot is None else f"{r.name}#{slot}"
        if placement is not None:
            label += f"@{placement[0].name}+{placement[1]}"
        if desc.kind == "image":
            resource = self.allocator.image(name=label, format=vk_value(desc.format), extent=tuple(desc.extent),
                                            mips=desc.mips, layers=desc.layers, samples=desc.samples,
                                            usage=flag_bits(desc.usage), families=desc.families,
                                            placement=placement)
        else:
            resource = self.allocator.buffer(name=label, size=desc.size, usage=flag_bits(desc.usage),
                                             families=desc.families,
                                             memory=HOST_READBACK if desc.host else DEVICE_LOCAL, placement=placement)
        self.allocations += 1
        return resource

    def _free_heap_entries(self, heap: HeapMemory) -> None:
        """Destroy the cached objects bound into `heap` (before its memory is freed or regrown)."""
        for key in [k for k, e in self._owned.items() if e.heap == heap.key]:
            self.allocator.free(self._owned.pop(key).resource)
            self._generation += 1

    def collect(self, completed_frame: int) -> int:
        """Free entries unused for `keep_frames` frames of their slot that no frame in flight can
        still use (every frame up to `completed_frame` has finished on the GPU). Returns how many.

        Counted in frames of the slot (every `frames_in_flight`-th frame), as an entry of one slot
        sees them: shapes of frame taking turns (a shadow cascade updated every third frame) keep
        their objects with any number of frames in flight, rather than making them again each turn."""
        freed = 0
        horizon = completed_frame - self.keep_frames * self.frames_in_flight
        if horizon < self._floor:
            # Nothing here was last used at or before the horizon: the oldest use found by the last
            # scan is a lower bound (uses only move forward; new entries are newer still).
            return 0
        for table, owned in ((self._owned, True), (self._wrapped, False)):
            for key in [k for k, e in table.items() if e.last_used <= horizon]:
                resource = table.pop(key).resource
                self._generation += 1
                if owned:
                    self.allocator.free(resource)
                elif isinstance(resource, PhysicalImage):
                    resource.destroy_views()
                freed += 1
        freed += self.heaps.collect(horizon, self._free_heap_entries)
        uses = [e.last_used for e in self._owned.values()] + [e.last_used for e in self._wrapped.values()]
        oldest_heap = self.heaps.oldest_use()
        if oldest_heap is not None:
            uses.append(oldest_heap)
        self._floor = min(uses, default=horizon + 1)
        return freed

    def __len__(self) -> int:
        return len(self._owned)

    def close(self) -> None:
        for entry in self._wrapped.values():
            if isinstance(entry.resource, PhysicalImage):
                entry.resource.destroy_views()
        self._wrapped.clear()
        self.heaps.close(self._free_heap_entries)
        for entry in self._owned.values():
            self.allocator.free(entry.resource)
        self._owned.clear()
        self._memo.clear()
        self._generation += 1
