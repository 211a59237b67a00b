"""Physical resources behind a plan: one allocator for every image and buffer the backend owns,
and a cache that maps a plan's resource names to them frame after frame.

Transients are cached per frame slot, so the host wait that frees a slot also frees its
transients (a plan orders accesses within one frame only). History resources and imports
without an external object persist across slots. Allocation stays behind `Allocator` so a
plan's `heap`/`offset` placement can later be honoured there without touching callers.
"""
from __future__ import annotations

from typing import Any, Iterable

import vulkan as vk

from framegraph.errors import FrameGraphError
from framegraph.vk import Format

from . import memory as _memory
from .memory import DEVICE_LOCAL, HOST_READBACK
from .owner import Owner
from .registry import handle_value

_HOST_VISIBLE = vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
_generation = [0]


def generation() -> int:
    """Counts image views and resources destroyed so far: a handle value seen before may name a new
    object after this changes, so structs cached by handle are rebuilt (recorder.Program.memo)."""
    return _generation[0]


def vk_value(name: str) -> int:
    """A Vulkan enum or flag given by its full name (as plans write them) as its number."""
    try:
        return getattr(vk, name)
    except AttributeError:
        raise FrameGraphError(f"the vulkan binding has no {name!r}") from None


def flag_bits(names: Iterable[str]) -> int:
    bits = 0
    for name in names:
        bits |= vk_value(name)
    return bits


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
                 samples: int = 1, usage: int = 0, memory: Any = None, owned: bool = True) -> None:
        self.ctx = ctx
        self.name = name
        self.handle = handle
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
                 mapped=None, owned: bool = True) -> None:
        self.ctx = ctx
        self.name = name
        self.handle = handle
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


class Allocator:
    """Creates and frees every image and buffer the backend owns (dedicated allocations for now)."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.owner = Owner(ctx)
        self.live: set = set()

    def _sharing(self, families: Iterable[int]) -> dict:
        unique = sorted(set(families))
        if len(unique) > 1:
            return dict(sharingMode=vk.VK_SHARING_MODE_CONCURRENT, pQueueFamilyIndices=unique)
        # CONCURRENT needs two families or more; with one, exclusive is the same thing.
        return dict(sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE)

    def _memory(self, requirements, memory, name, placement):
        if placement is not None:
            raise NotImplementedError("placed (aliased) allocations are not implemented yet")
        return _memory.allocate(self.ctx, requirements, memory, name=f"{name}.memory")

    def image(self, *, name: str, format: int, extent, mips: int = 1, layers: int = 1, samples: int = 1,
              usage: int, families: Iterable[int] = (), memory=DEVICE_LOCAL, placement=None) -> PhysicalImage:
        w, h, *d = extent
        info = vk.VkImageCreateInfo(
            imageType=vk.VK_IMAGE_TYPE_2D, format=format,
            extent=vk.VkExtent3D(width=w, height=h, depth=d[0] if d else 1),
            mipLevels=mips, arrayLayers=layers, samples=samples, tiling=vk.VK_IMAGE_TILING_OPTIMAL,
            usage=usage, initialLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED, **self._sharing(families))
        handle = self.owner.create("VkImage", info, name=name)
        mem = self._memory(vk.vkGetImageMemoryRequirements(self.ctx.device, handle), memory, name, placement)
        self.owner.adopt("VkDeviceMemory", mem)
        vk.vkBindImageMemory(self.ctx.device, handle, mem, 0)
        image = PhysicalImage(self.ctx, name=name, handle=handle, format=format, extent=extent, mips=mips,
                              layers=layers, samples=samples, usage=usage, memory=mem)
        self.live.add(image)
        return image

    def buffer(self, *, name: str, size: int, usage: int, families: Iterable[int] = (), memory=DEVICE_LOCAL,
               placement=None) -> PhysicalBuffer:
        info = vk.VkBufferCreateInfo(size=size, usage=usage, **self._sharing(families))
        handle = self.owner.create("VkBuffer", info, name=name)
        mem = self._memory(vk.vkGetBufferMemoryRequirements(self.ctx.device, handle), memory, name, placement)
        self.owner.adopt("VkDeviceMemory", mem)
        vk.vkBindBufferMemory(self.ctx.device, handle, mem, 0)
        mapped = None
        if memory[0] & _HOST_VISIBLE:
            mapped = memoryview(vk.vkMapMemory(self.ctx.device, mem, 0, size, 0)).cast("B")
        buffer = PhysicalBuffer(self.ctx, name=name, handle=handle, size=size, usage=usage, memory=mem,
                                mapped=mapped)
        self.live.add(buffer)
        return buffer

    def staging(self, *, name: str, size: int, readback: bool = False) -> PhysicalBuffer:
        """A host-visible buffer for uploads (TRANSFER_SRC) or readback (TRANSFER_DST)."""
        if readback:
            return self.buffer(name=name, size=size, usage=vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               memory=HOST_READBACK)
        return self.buffer(name=name, size=size, usage=vk.VK_BUFFER_USAGE_TRANSFER_SRC_BIT,
                           memory=_memory.HOST_UPLOAD)

    def free(self, resource) -> None:
        """Destroy one resource now (the caller vouches the GPU is done with it)."""
        _generation[0] += 1
        self.live.discard(resource)
        if isinstance(resource, PhysicalImage):
            resource.destroy_views()
            self.owner.release(resource.handle, "VkImage")
        else:
            if resource.mapped is not None:
                resource.mapped.release()
                resource.mapped = None
                vk.vkUnmapMemory(self.ctx.device, resource.memory)
            self.owner.release(resource.handle, "VkBuffer")
        self.owner.release(resource.memory, "VkDeviceMemory")

    def close(self) -> None:
        for resource in list(self.live):
            if isinstance(resource, PhysicalImage):
                resource.destroy_views()
            elif resource.mapped is not None:
                resource.mapped.release()
                resource.mapped = None
        self.live.clear()
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


def _host_accessed(plan, name: str) -> bool:
    host = vk.VK_PIPELINE_STAGE_2_HOST_BIT
    for p in plan.passes:
        for a in p.accesses:
            if a.resource == name and int(a.stages) & host:
                return True
    for r in plan.resources:
        if r.name == name:
            return any(s is not None and int(s.stages) & host for s in (r.initial, r.final))
    return False


def _needs_initial_state(r) -> bool:
    """An image we create for an import (history, or an import given no object) whose plan starts
    from a defined layout: it must be in that layout before its first frame."""
    return (r.kind == "image" and r.imported and r.initial is not None and r.initial.layout is not None
            and int(r.initial.layout) != vk.VK_IMAGE_LAYOUT_UNDEFINED)


def initialize_image(ctx, image: PhysicalImage, layout: int, *, queue: str = "graphics") -> None:
    """Clear a new image to zero and leave it in `layout`, finished before any frame uses it (a fence
    wait), so the first plan that names it finds the state its `initial` promises."""
    from .commands import one_time_commands

    whole = image.subresource_range()
    to_dst = vk.VkImageMemoryBarrier2(
        dstStageMask=vk.VK_PIPELINE_STAGE_2_CLEAR_BIT, dstAccessMask=vk.VK_ACCESS_2_TRANSFER_WRITE_BIT,
        oldLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED, newLayout=vk.VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
        srcQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED, dstQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED,
        image=image.handle, subresourceRange=whole)
    to_final = vk.VkImageMemoryBarrier2(
        srcStageMask=vk.VK_PIPELINE_STAGE_2_CLEAR_BIT, srcAccessMask=vk.VK_ACCESS_2_TRANSFER_WRITE_BIT,
        dstStageMask=vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT,
        dstAccessMask=vk.VK_ACCESS_2_MEMORY_READ_BIT | vk.VK_ACCESS_2_MEMORY_WRITE_BIT,
        oldLayout=vk.VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, newLayout=layout,
        srcQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED, dstQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED,
        image=image.handle, subresourceRange=whole)
    with one_time_commands(ctx, queue=queue, name=f"{image.name}.initialize") as cmd:
        vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pImageMemoryBarriers=[to_dst]))
        if image.aspect == vk.VK_IMAGE_ASPECT_COLOR_BIT:
            vk.vkCmdClearColorImage(cmd, image.handle, vk.VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                    vk.VkClearColorValue(float32=[0.0, 0.0, 0.0, 0.0]), 1, [whole])
        else:
            vk.vkCmdClearDepthStencilImage(cmd, image.handle, vk.VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                                           vk.VkClearDepthStencilValue(depth=0.0, stencil=0), 1, [whole])
        vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pImageMemoryBarriers=[to_final]))


class _Entry:
    __slots__ = ("resource", "last_used")

    def __init__(self, resource, last_used: int) -> None:
        self.resource = resource
        self.last_used = last_used


class ResourceCache:
    """Plan resource name -> physical resource, for one frame slot at a time.

    Keys are (name, descriptor[, slot]): a re-declared identical graph finds its resources again;
    a changed descriptor (e.g. a resize) allocates anew, and the old entry is freed once no frame in
    flight can use it (`collect`).
    """

    def __init__(self, ctx, allocator: Allocator, *, frames_in_flight: int, keep_frames: int = 4) -> None:
        self.ctx = ctx
        self.allocator = allocator
        self.frames_in_flight = frames_in_flight
        self.keep_frames = keep_frames
        self._owned: dict[tuple, _Entry] = {}
        self._wrapped: dict[tuple, _Entry] = {}    # imports given as raw handles: our views over them
        self.allocations = 0                       # resources created so far (tests watch it)

    @staticmethod
    def descriptor(r, families: tuple[int, ...], extra_usage: int = 0, host: bool = False) -> tuple:
        if r.kind == "image":
            return ("image", r.format, tuple(r.extent), r.mips, r.layers, r.samples,
                    flag_bits(r.usage) | extra_usage, families)
        return ("buffer", r.size, flag_bits(r.usage) | extra_usage, families, host)

    def resolve(self, plan, *, outputs: Iterable[str] = (), imports: dict | None = None, slot: int,
                frame: int) -> dict[str, Any]:
        imports = imports or {}
        outputs = set(outputs)
        all_families = tuple(sorted({q["family"] for q in plan.queues.values()}))
        resolved: dict[str, Any] = {}
        for r in plan.resources:
            external = imports.get(r.name)
            if external is not None:
                resolved[r.name] = self._import(r, external, frame)
                continue
            if r.swapchain:
                raise FrameGraphError("swapchain image imported without the image (use a WindowTarget)",
                                      resource=r.name)
            families = all_families if r.sharing == "concurrent" else ()
            extra = vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT if (r.kind == "image" and r.name in outputs) else 0
            if _needs_initial_state(r):
                extra |= vk.VK_IMAGE_USAGE_TRANSFER_DST_BIT
            host = r.kind == "buffer" and _host_accessed(plan, r.name)
            desc = self.descriptor(r, families, extra, host)
            # History persists across frames (its state carries over); the rest is per slot.
            key = (r.name, desc, None if r.history else slot)
            entry = self._owned.get(key)
            if entry is None:
                entry = self._owned[key] = _Entry(self._allocate(r, desc, families, slot), frame)
                if _needs_initial_state(r):
                    initialize_image(self.ctx, entry.resource, int(r.initial.layout),
                                     queue=self._first_queue(plan, r.name))
            entry.last_used = frame
            resolved[r.name] = entry.resource
        return resolved

    def _first_queue(self, plan, name: str) -> str:
        """The context's logical queue on the family of the first pass that uses `name`: an exclusive
        image starts out owned by the family that initialized it."""
        stream = next((p.stream for p in plan.passes if any(a.resource == name for a in p.accesses)), "graphics")
        family = plan.queues.get(stream, {}).get("family")
        return next((q for q, info in self.ctx.queues.items() if info.family == family), "graphics")

    def _import(self, r, external, frame: int):
        if isinstance(external, (PhysicalImage, PhysicalBuffer)):
            _check_import(external, r)
            return external
        handle = external.handle if isinstance(external, (_memory.Image, _memory.Buffer)) else external
        key = (r.name, handle_value(handle), self.descriptor(r, ()))
        entry = self._wrapped.get(key)
        if entry is None:
            entry = self._wrapped[key] = _Entry(wrap_import(self.ctx, r.name, external, r), frame)
        entry.last_used = frame
        return entry.resource

    def _allocate(self, r, desc, families, slot):
        self.allocations += 1
        label = r.name if slot is None else f"{r.name}#{slot}"
        if r.kind == "image":
            return self.allocator.image(name=label, format=vk_value(r.format), extent=tuple(r.extent),
                                        mips=r.mips, layers=r.layers, samples=r.samples, usage=desc[6],
                                        families=families)
        memory = HOST_READBACK if desc[4] else DEVICE_LOCAL
        return self.allocator.buffer(name=label, size=r.size, usage=desc[2], families=families, memory=memory)

    def collect(self, completed_frame: int) -> int:
        """Free entries unused for `keep_frames` frames that no frame in flight can still use
        (every frame up to `completed_frame` has finished on the GPU). Returns how many."""
        freed = 0
        horizon = completed_frame - self.keep_frames
        for table, owned in ((self._owned, True), (self._wrapped, False)):
            for key in [k for k, e in table.items() if e.last_used <= horizon]:
                resource = table.pop(key).resource
                if owned:
                    self.allocator.free(resource)
                elif isinstance(resource, PhysicalImage):
                    resource.destroy_views()
                freed += 1
        return freed

    def __len__(self) -> int:
        return len(self._owned)

    def close(self) -> None:
        for entry in self._wrapped.values():
            if isinstance(entry.resource, PhysicalImage):
                entry.resource.destroy_views()
        self._wrapped.clear()
        for entry in self._owned.values():
            self.allocator.free(entry.resource)
        self._owned.clear()
