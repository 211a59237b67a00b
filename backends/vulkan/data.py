"""Getting data into and out of frames without touching Vulkan: persistent buffers and images
created with data, per-frame uploads, and readback futures that wait for their own frame.

A persistent resource is created when the first frame that imports it resolves, with the usage
that frame's plan derived from its declared accesses (plus transfer, for its data and readback);
it lives until `destroy()` or the renderer's close. Between frames it rests in `state` (an access
name, as `history_image` uses): each frame imports it from and back to that state, so its accesses
across frames are ordered by the plan's own barriers.

Per-frame host data (`FrameData`: uniforms, light lists, instance transforms) lives in one
host-visible buffer per frame slot that the host writes and the frame's passes read in place: no
copy pass, and no barrier (a queue submission makes the host writes made before it visible to the
device; Vulkan spec, "Host Write Ordering Guarantees"). Since the data is not in any command, a
frame that uses it can be declared once and replayed (`render(build, redeclare=False)`).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import vulkan as vk

from framegraph.access import lookup
from framegraph.errors import FrameGraphError, expect_int, show_value
from framegraph.graph import MAX_BUFFER_SIZE, MAX_EXTENT, Handle
from framegraph.vk import Format

from .commands import one_time_commands
from .memory import DEVICE_LOCAL, HOST_UPLOAD
from .resources import PhysicalBuffer, PhysicalImage, flag_bits, initialize_image

_BUFFER_TRANSFER = vk.VK_BUFFER_USAGE_TRANSFER_SRC_BIT | vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT
_IMAGE_TRANSFER = vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT | vk.VK_IMAGE_USAGE_TRANSFER_DST_BIT

# VK_WHOLE_SIZE as a VkDeviceSize: the binding's vk.VK_WHOLE_SIZE is -1, which cffi refuses for a uint64_t.
WHOLE_SIZE = 0xFFFF_FFFF_FFFF_FFFF

# numpy view of a texel: (dtype, components); formats not listed read back as raw bytes per texel.
_TEXELS = {
    Format.R8_UNORM: (np.uint8, 1), Format.R8G8_UNORM: (np.uint8, 2), Format.R8G8B8A8_UNORM: (np.uint8, 4),
    Format.R8G8B8A8_SRGB: (np.uint8, 4), Format.B8G8R8A8_UNORM: (np.uint8, 4), Format.B8G8R8A8_SRGB: (np.uint8, 4),
    Format.R16_SFLOAT: (np.float16, 1), Format.R16G16_SFLOAT: (np.float16, 2),
    Format.R16G16B16A16_SFLOAT: (np.float16, 4), Format.R32_UINT: (np.uint32, 1), Format.R32_SFLOAT: (np.float32, 1),
    Format.R32G32_SFLOAT: (np.float32, 2), Format.R32G32B32A32_SFLOAT: (np.float32, 4),
    Format.D32_SFLOAT: (np.float32, 1), Format.D16_UNORM: (np.uint16, 1),
}


def as_bytes(data) -> bytes:
    """Bytes as given; numpy arrays as they are laid out; lists of numbers as float32 (int32 if all
    are ints) -- the same rule as PassContext.upload and push constants. Anything else is a
    FrameGraphError (field 'data'; callers add the resource): a string, None, an array of Python
    objects (its bytes would be pointers) or a list holding None (it would turn into NaN)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, np.ndarray):
        if data.dtype.hasobject:
            raise FrameGraphError(f"a numpy array of {data.dtype} holds Python objects, whose bytes are "
                                  "pointers: give an array of numbers", field="data")
        return np.ascontiguousarray(data).tobytes()
    return _list_bytes(data)


def _list_bytes(data) -> bytes:
    """as_bytes of a list of numbers (the slow path: checks every element)."""
    try:
        items = None if isinstance(data, str) else list(data)
    except TypeError:
        items = None
    if items is None:
        raise FrameGraphError(f"takes bytes, a numpy array or a list of numbers, got {show_value(data)}",
                              field="data")
    if items and all(isinstance(v, int) for v in items):
        try:
            return np.asarray(items, dtype=np.int32).tobytes()
        except OverflowError:
            raise FrameGraphError("a list of ints is uploaded as int32 and these do not fit: give a numpy array "
                                  "of the dtype you mean", field="data") from None
    try:
        values = np.asarray(items)
    except (TypeError, ValueError) as e:      # ragged nesting
        raise FrameGraphError(f"not a list of numbers ({e})", field="data") from None
    if values.dtype.kind not in "biuf":       # None, strings, objects: float32 would make them NaN or parse them
        bad = [v for v in values.flat if not isinstance(v, (int, float, np.integer, np.floating))]
        raise FrameGraphError(f"a list of numbers (uploaded as int32 or float32) holds "
                              f"{show_value(bad[0] if bad else values.dtype)}", field="data")
    return values.astype(np.float32).tobytes()


def _texel_view(raw: np.ndarray, fmt: Format, width: int, height: int, layers: int) -> np.ndarray:
    dtype, comps = _TEXELS.get(fmt, (np.uint8, fmt.texel_size))
    out = raw.view(dtype).reshape(layers, height, width, comps)
    if fmt in (Format.B8G8R8A8_UNORM, Format.B8G8R8A8_SRGB):
        out = out[..., [2, 1, 0, 3]]
    out = out[0] if layers == 1 else out
    return np.ascontiguousarray(out)


# -- persistent resources ---------------------------------------------------------------------------

class _Persistent:
    """Shared by PersistentBuffer/PersistentImage. They also subclass PhysicalBuffer/PhysicalImage
    so that anything taking a physical resource (external=, bindings) takes them; every attribute
    and method of the physical object is delegated to the one created at first use."""
    kind = ""

    def __getattr__(self, name: str):
        physical = self.__dict__.get("physical")
        if physical is None:
            raise AttributeError(f"{type(self).__name__} {self.__dict__.get('name')!r} has no {name!r} before a "
                                 "frame has used it")
        return getattr(physical, name)

    def __init__(self, renderer, name: str, state: str, data: bytes | None) -> None:
        lookup(state, resource=name)                      # an unknown access name fails here, not in a frame
        self.renderer = renderer
        self.name = name
        self.state = state
        self._data = data
        self.physical: PhysicalImage | PhysicalBuffer | None = None
        self._destroyed = False
        self._checked = None        # the plan resource last checked against `physical`

    def _created(self, usage: int, plan_resource, queue: str) -> Any:
        raise NotImplementedError

    def resolve(self, plan_resource, *, queue: str = "graphics"):
        """The object behind this import in a plan (ResourceCache calls it): created on first use
        with the plan's usage, then checked against later plans (a frame declared once brings the
        same plan resource every frame: checked once; destroy() clears `physical`)."""
        physical = self.physical
        if plan_resource is self._checked and physical is not None:
            return physical
        if self._destroyed:
            raise FrameGraphError("persistent resource used after destroy()", resource=self.name)
        self._check_open()
        needed = flag_bits(plan_resource.usage)
        if self.physical is None:
            self.physical = self._created(needed, plan_resource, queue)
        elif needed & ~self.physical.usage:
            raise FrameGraphError(
                f"this frame uses it in a new way ({', '.join(plan_resource.usage)}) that its first frame did "
                f"not: pass uses=[...] access names when creating it so it is made for every use",
                resource=self.name)
        self._checked = plan_resource
        return self.physical

    def _check_open(self) -> None:
        """Closing the renderer freed this with everything else it made: touching it then would
        use freed Vulkan objects (a crash, not an exception)."""
        if self.renderer._closed:
            raise FrameGraphError("used after its renderer was closed (closing it freed this)", resource=self.name)

    def _staging(self):
        if not self._data:              # none, or empty: nothing to copy (a 0-byte buffer is invalid Vulkan)
            return None
        staging = self.renderer.allocator.staging(name=f"{self.name}.upload", size=len(self._data))
        staging.write(self._data)
        return staging

    def destroy(self) -> None:
        """Free it once every frame in flight that may use it has finished."""
        if self._destroyed:
            return
        self._destroyed = True
        if self.renderer._closed:         # freed with the renderer
            self.physical = None
        if self.physical is not None:
            self.renderer.wait()
            self.renderer.allocator.free(self.physical)
            self.physical = None


class PersistentBuffer(_Persistent, PhysicalBuffer):
    """A buffer that keeps its contents across frames. `use(fg)` imports it into a frame."""
    kind = "buffer"

    def __init__(self, renderer, name: str, *, size: int, data: bytes | None, state: str, uses: Sequence[str]):
        if data is not None and len(data) % 4:
            data += bytes(-len(data) % 4)      # the zeros after it are filled from a multiple of 4
        super().__init__(renderer, name, state, data)
        self.size = int(size)
        self.hint = 0
        for access in (state, *uses):
            bits = lookup(access).buffer_usage
            self.hint |= int(bits or 0)

    def use(self, fg) -> Handle:
        """Import into `fg`; returns the handle passes read and write."""
        return fg.import_buffer(self.name, size=self.size, initial=self.state, final=self.state, external=self)

    def _created(self, usage, plan_resource, queue):
        buffer = self.renderer.allocator.buffer(name=self.name, size=self.size,
                                                usage=usage | self.hint | _BUFFER_TRANSFER, memory=DEVICE_LOCAL)
        ctx = self.renderer.ctx
        # Made outside one_time_commands: its scope destroys what is created inside it.
        staging = self._staging()
        try:
            with one_time_commands(ctx, queue=queue, name=f"{self.name}.create") as cmd:
                copied = 0 if staging is None else len(self._data)
                if copied:
                    vk.vkCmdCopyBuffer(cmd, staging.handle, buffer.handle, 1,
                                       [vk.VkBufferCopy(srcOffset=0, dstOffset=0, size=copied)])
                if copied < self.size:          # the rest reads as zeros
                    vk.vkCmdFillBuffer(cmd, buffer.handle, copied, WHOLE_SIZE, 0)
        finally:
            if staging is not None:
                self.renderer.allocator.free(staging)
        self._data = None
        return buffer

    def read(self, dtype=np.uint8) -> np.ndarray:
        """Its contents after every frame submitted so far (waits for them)."""
        self._check_open()
        if self.physical is None:
            raise FrameGraphError("no frame has used it yet (its contents are the data it was created with)",
                                  resource=self.name)
        return read_resource(self.renderer, self.physical, self.state).view(dtype)


class FrameData:
    """Host data that changes every frame, read by the frame's passes without a copy: one
    host-visible, mapped buffer per frame slot. `set(data)` any time; a frame reads the data set
    last before its `render()` (the renderer writes it into that frame's slot after the slot's
    previous frame has finished, so a frame in flight never sees it change). `use(fg, frame)`
    imports this frame's buffer; its first access needs no barrier (the initial state is
    `host_write`, made visible by the submission itself).

        lights = renderer.create_frame_data("lights", size=64 * 32)
        def build(fg, frame):
            l = lights.use(fg, frame)            # then p.reads(l, "fragment_shader_read_storage")
        lights.set(light_array)                  # each frame, before render()
        renderer.render(build, redeclare=False)  # nothing re-declared or re-recorded
    """

    def __init__(self, renderer, name: str, *, size: int, data: bytes | None, uses: Sequence[str]) -> None:
        self.renderer = renderer
        self.name = name
        self.size = size
        self._data = bytearray(size)
        self.version = 0                    # bumped by set(); each slot copies when it is behind
        self._slots = [_FrameDataSlot(self, k, uses) for k in range(renderer.frames_in_flight)]
        if data is not None:
            self.set(data)

    def set(self, data, offset: int = 0) -> None:
        """The bytes the next frames read (numpy array, bytes, or a list of floats), at `offset`.
        Call it from the thread that calls render() (render copies the bytes into the frame's buffer)."""
        try:
            raw = as_bytes(data)
        except FrameGraphError as e:
            raise e.at(resource=self.name) from None
        if type(offset) is not int:
            offset = expect_int(offset, "offset", 0, self.size, resource=self.name)
        if offset < 0 or offset + len(raw) > self.size:
            raise FrameGraphError(f"{len(raw)} bytes at offset {offset} do not fit a {self.size}-byte frame data "
                                  "buffer", resource=self.name)
        self._data[offset:offset + len(raw)] = raw
        self.version += 1

    def use(self, fg, frame) -> Handle:
        """Import this frame's buffer into `fg` (`frame`: the FrameInfo build() is given)."""
        slot = getattr(frame, "slot", None)
        if not isinstance(slot, int) or not 0 <= slot < len(self._slots):
            raise FrameGraphError(f"use(fg, frame) takes the FrameInfo build() gets, got {type(frame).__name__}",
                                  resource=self.name)
        return fg.import_buffer(self.name, size=self.size, initial="host_write", external=self._slots[slot])

    def destroy(self) -> None:
        """Free the buffers once every frame in flight that may use them has finished."""
        for s in self._slots:
            s.destroy()


class _FrameDataSlot(_Persistent, PhysicalBuffer):
    """One frame slot's buffer of a FrameData: made at the first frame that imports it (host-visible,
    with that plan's usage), brought up to date whenever a frame resolves it."""
    kind = "buffer"

    def __init__(self, owner: FrameData, slot: int, uses: Sequence[str]) -> None:
        super().__init__(owner.renderer, f"{owner.name}[{slot}]", "host_write", None)
        self.owner = owner
        self.size = owner.size
        self.written = -1
        self.hint = 0
        for access in uses:
            self.hint |= int(lookup(access).buffer_usage or 0)

    def use(self, fg, frame) -> Handle:
        return self.owner.use(fg, frame)

    def resolve(self, plan_resource, *, queue: str = "graphics"):
        # Called once per frame while the frame is prepared, after the slot's previous frame finished.
        physical = super().resolve(plan_resource, queue=queue)
        if self.written != self.owner.version:
            physical.write(self.owner._data)
            self.written = self.owner.version
        return physical

    def _created(self, usage, plan_resource, queue):
        self.written = -1
        return self.renderer.allocator.buffer(name=self.name, size=self.size, usage=usage | self.hint,
                                              memory=HOST_UPLOAD)


class PersistentImage(_Persistent, PhysicalImage):
    """A 2D image (mips, layers) that keeps its contents across frames."""
    kind = "image"

    def __init__(self, renderer, name: str, *, format, extent, mips: int, layers: int, data: bytes | None,
                 state: str, uses: Sequence[str]):
        super().__init__(renderer, name, state, data)
        try:
            self.format = Format.parse(format)
        except (ValueError, AttributeError, TypeError):
            raise FrameGraphError(f"unknown format {show_value(format)} (a VK_FORMAT name, e.g. 'R8G8B8A8_UNORM')",
                                  resource=name, field="format") from None
        if not isinstance(extent, (tuple, list)) or len(extent) != 2:
            raise FrameGraphError(f"extent {show_value(extent)}: (width, height)", resource=name, field="extent")
        self.extent = tuple(expect_int(v, "extent", 1, MAX_EXTENT, resource=name) for v in extent)
        self.mips = mips
        self.layers = layers
        self.hint = 0
        for access in (state, *uses):            # its resting state is a use too (a layout needs usage)
            self.hint |= int(lookup(access).image_usage or 0)
        if data is not None:
            expected = self.extent[0] * self.extent[1] * layers * self.format.texel_size
            if len(data) != expected:
                raise FrameGraphError(f"{len(data)} bytes of data; mip 0 of {self.extent[0]}x{self.extent[1]}x"
                                      f"{layers} {self.format.name} is {expected}", resource=name)

    def use(self, fg) -> Handle:
        return fg.import_image(self.name, format=self.format.name, extent=self.extent, mips=self.mips,
                               layers=self.layers, initial=self.state, final=self.state, external=self)

    def _created(self, usage, plan_resource, queue):
        ctx = self.renderer.ctx
        image = self.renderer.allocator.image(name=self.name, format=int(self.format), extent=self.extent,
                                              mips=self.mips, layers=self.layers,
                                              usage=usage | self.hint | _IMAGE_TRANSFER)
        layout = lookup(self.state).layout
        layout = int(layout) if layout is not None else vk.VK_IMAGE_LAYOUT_GENERAL
        staging = self._staging()
        try:
            initialize_image(ctx, image, layout, queue=queue, name=f"{self.name}.create",
                             copy_from=None if staging is None else (staging, [_region(image, 0)]))
        finally:
            if staging is not None:
                self.renderer.allocator.free(staging)
        self._data = None
        return image

    def read(self, *, layer: int | None = None) -> np.ndarray:
        """Mip 0 after every frame submitted so far (waits for them): (height, width, components)."""
        self._check_open()
        if self.physical is None:
            raise FrameGraphError("no frame has used it yet", resource=self.name)
        if layer is not None:
            layer = expect_int(layer, "layer", 0, self.layers - 1, resource=self.name)
        raw = read_resource(self.renderer, self.physical, self.state)
        out = _texel_view(raw, self.format, self.extent[0], self.extent[1], self.layers)
        return out if layer is None or self.layers == 1 else out[layer]


def _delegate(cls, base) -> None:
    """Route the physical class's methods to the object created at first use."""
    for attr, value in vars(base).items():
        if callable(value) and not attr.startswith("__") and attr not in vars(cls):
            setattr(cls, attr, (lambda a: lambda self, *args, **kw: getattr(self.physical, a)(*args, **kw))(attr))
    cls.__repr__ = lambda self: f"<{type(self).__name__} {self.name}>"


_delegate(PersistentBuffer, PhysicalBuffer)
_delegate(PersistentImage, PhysicalImage)


def _image_barrier(image, src_stage, src_access, old, dst_stage, dst_access, new, subresources):
    return vk.VkImageMemoryBarrier2(
        srcStageMask=src_stage, srcAccessMask=src_access, dstStageMask=dst_stage, dstAccessMask=dst_access,
        oldLayout=old, newLayout=new, srcQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED,
        dstQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED, image=image.handle, subresourceRange=subresources)


def _region(image: PhysicalImage, mip: int, buffer_offset: int = 0):
    width, height = image.mip_extent(mip)
    return vk.VkBufferImageCopy(
        bufferOffset=buffer_offset, imageSubresource=vk.VkImageSubresourceLayers(
            aspectMask=image.aspect, mipLevel=mip, baseArrayLayer=0, layerCount=image.layers),
        imageOffset=vk.VkOffset3D(x=0, y=0, z=0), imageExtent=vk.VkExtent3D(width=width, height=height, depth=1))


def read_resource(renderer, resource, state: str) -> np.ndarray:
    """Bytes of a persistent buffer, or mip 0 of an image, after every submitted frame: waits for
    them, then copies out with barriers from and back to `state` (ALL_COMMANDS on both sides:
    this path is for results, not for speed)."""
    renderer.wait()
    ctx = renderer.ctx
    info = lookup(state)
    is_image = isinstance(resource, PhysicalImage)
    size = (resource.mip_extent(0)[0] * resource.mip_extent(0)[1] * resource.layers
            * Format(resource.format).texel_size) if is_image else resource.size
    staging = renderer.allocator.staging(name=f"{resource.name}.read", size=size, readback=True)
    everything = vk.VK_ACCESS_2_MEMORY_READ_BIT | vk.VK_ACCESS_2_MEMORY_WRITE_BIT
    try:
        with one_time_commands(ctx, name=f"{resource.name}.read") as cmd:
            if is_image:
                layout = int(info.layout) if info.layout is not None else vk.VK_IMAGE_LAYOUT_GENERAL
                whole = resource.subresource_range()
                vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pImageMemoryBarriers=[_image_barrier(
                    resource, vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, everything, layout,
                    vk.VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT, vk.VK_ACCESS_2_TRANSFER_READ_BIT,
                    vk.VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, whole)]))
                vk.vkCmdCopyImageToBuffer(cmd, resource.handle, vk.VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                                          staging.handle, 1, [_region(resource, 0)])
                vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pImageMemoryBarriers=[_image_barrier(
                    resource, vk.VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT, 0, vk.VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                    vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, everything, layout, whole)]))
            else:
                vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pMemoryBarriers=[vk.VkMemoryBarrier2(
                    srcStageMask=vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, srcAccessMask=everything,
                    dstStageMask=vk.VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT,
                    dstAccessMask=vk.VK_ACCESS_2_TRANSFER_READ_BIT)]))
                vk.vkCmdCopyBuffer(cmd, resource.handle, staging.handle, 1,
                                   [vk.VkBufferCopy(srcOffset=0, dstOffset=0, size=size)])
            # The fence wait that ends one_time_commands makes the copy visible to the host.
            vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pMemoryBarriers=[vk.VkMemoryBarrier2(
                srcStageMask=vk.VK_PIPELINE_STAGE_2_ALL_TRANSFER_BIT, srcAccessMask=vk.VK_ACCESS_2_TRANSFER_WRITE_BIT,
                dstStageMask=vk.VK_PIPELINE_STAGE_2_HOST_BIT, dstAccessMask=vk.VK_ACCESS_2_HOST_READ_BIT)]))
        return staging.read()
    finally:
        renderer.allocator.free(staging)


# -- per-frame uploads ------------------------------------------------------------------------------

def upload(fg, name_or_handle, data, *, queue: str = "graphics", pass_name: str | None = None) -> Handle:
    """Put `data` into a buffer for this frame: a new transient named `name` (sized to the data) or
    an existing buffer handle (e.g. a persistent one). Adds a transfer pass that copies it through
    the frame's staging memory and returns the written handle, which later passes read."""
    try:
        raw = as_bytes(data)
    except FrameGraphError as e:
        name = name_or_handle.name if isinstance(name_or_handle, Handle) else str(name_or_handle)
        raise e.at(resource=name) from None
    if isinstance(name_or_handle, Handle):
        handle = name_or_handle
    else:
        handle = fg.create_buffer(str(name_or_handle), size=max(4, -(-len(raw) // 4) * 4))
    resource = handle.name
    with fg.add_pass(pass_name or f"upload.{resource}", queue=queue) as p:
        written = p.writes(handle, "transfer_write", range=(0, len(raw)), discard=True)
        p.execute(lambda ctx: ctx.upload(resource, raw))
    return written


# -- readback futures -------------------------------------------------------------------------------

class Readback:
    """The contents of a resource at a point of one frame, available once that frame has finished:
    `result()` waits for exactly that frame. It raises (never returns zeros) when the frame was not
    submitted, e.g. because render() raised. Its host buffer goes back to the renderer by result()
    (the next readback of the same resource reuses it; or it is freed with the renderer): take the
    result of every readback you ask for."""

    def __init__(self, renderer, frame_index: int, buffer: PhysicalBuffer, *, shape=None, dtype=None,
                 image=None) -> None:
        self.renderer = renderer
        self.frame = frame_index
        self._buffer = buffer
        self._shape = shape
        self._dtype = dtype
        self._image = image              # (format, width, height, layers) for image readbacks
        self._recorded = False
        self._value = None

    def done(self) -> bool:
        """True once the frame has finished on the GPU (does not wait)."""
        if not self._submitted():
            return False
        for slot in self.renderer.slots:
            if slot.frame == self.frame:
                try:
                    values = slot.values
                    return all(vk.vkGetSemaphoreCounterValue(self.renderer.ctx.device, self.renderer._timelines[s])
                               >= v for s, v in values.items())
                except Exception:
                    return False
        return True

    def _submitted(self) -> bool:
        return self._recorded and self.renderer.frame > self.frame

    def result(self) -> np.ndarray:
        if self._value is not None:
            return self._value
        if not self._submitted():
            raise RuntimeError(f"frame {self.frame} was never submitted (render() raised, or result() was "
                               "called inside the build function): there is nothing to read")
        self.renderer.wait_frame(self.frame)
        raw = self._buffer.read()
        if self._image is not None:
            fmt, width, height, layers = self._image
            value = _texel_view(raw, fmt, width, height, layers)
        else:
            value = raw.view(self._dtype or np.uint8)
            if self._shape is not None:
                value = value.reshape(self._shape)
        self._value = value
        self.renderer.allocator.recycle(self._buffer)       # the next readback of it reuses the buffer
        self._buffer = None
        return value

    def __array__(self, dtype=None, copy=None):
        value = self.result()
        return value if dtype is None else value.astype(dtype)


def _check_view(name: str, size: int, dtype, shape) -> None:
    """readback's dtype and shape for a `size`-byte buffer, checked when asked for (at result() a
    bad one raised a bare numpy error, the frame long gone)."""
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except (TypeError, ValueError):
            raise FrameGraphError(f"not a numpy dtype: {show_value(dtype)}", resource=name, field="dtype") from None
        if dtype.hasobject or size % dtype.itemsize:
            raise FrameGraphError(f"{size} bytes do not read back as {dtype}", resource=name, field="dtype")
    if shape is not None:
        count = size // (dtype.itemsize if dtype is not None else 1)
        try:                                  # numpy's own rule (one -1 allowed), on a view of no memory
            np.broadcast_to(np.uint8(0), (count,)).reshape(shape)
        except (TypeError, ValueError):
            raise FrameGraphError(f"{show_value(shape)} does not fit {count} elements of "
                                  f"{dtype if dtype is not None else np.dtype(np.uint8)} ({size} bytes)",
                                  resource=name, field="shape") from None


def readback(renderer, fg, handle: Handle, *, queue: str = "graphics", mip: int = 0, dtype=None, shape=None,
             pass_name: str | None = None) -> Readback:
    """Copy `handle` (a buffer, or one mip of an image, all layers) into host memory at this point
    of the frame being declared; returns a Readback whose result() waits for that frame."""
    if not isinstance(handle, Handle):
        raise TypeError(f"readback() takes the Handle to read, got {type(handle).__name__}")
    decl = fg._resources.get(handle.name)
    if decl is None:
        raise FrameGraphError("unknown resource", resource=handle.name)
    index = renderer.frame
    target = f"{handle.name}.readback"        # the same name every frame: the plan cache hits
    name = pass_name or f"readback.{handle.name}"
    if decl.kind == "image":
        mip = expect_int(mip, "mip", 0, decl.desc.mips - 1, resource=handle.name)
        if dtype is not None or shape is not None:
            raise FrameGraphError("an image reads back as (height, width, components) of its format's type: "
                                  "dtype= and shape= are for buffers", resource=handle.name,
                                  field="dtype" if dtype is not None else "shape")
        fmt = Format.parse(decl.desc.format)
        width, height = max(1, decl.desc.extent[0] >> mip), max(1, decl.desc.extent[1] >> mip)
        layers = decl.desc.layers
        size = width * height * layers * fmt.texel_size
        image = (fmt, width, height, layers)
    else:
        if isinstance(mip, bool) or not hasattr(type(mip), "__index__") or mip.__index__() != 0:
            raise FrameGraphError(f"a buffer has no mips, got mip={show_value(mip)}", resource=handle.name,
                                  field="mip")
        size, image = decl.desc.size, None
        _check_view(handle.name, size, dtype, shape)
    buffer = renderer.allocator.readback_buffer(name=target, size=size)
    future = Readback(renderer, index, buffer, shape=shape, dtype=dtype, image=image)
    out = fg.import_buffer(target, size=size, final="host_read", external=buffer)
    source = handle.name

    def execute(ctx):
        if image is not None:
            ctx.copy_image_to_buffer(source, target, mip=mip)
        else:
            ctx.copy_buffer(source, target, size)
        future._recorded = True

    with fg.add_pass(name, queue=queue) as p:
        if image is not None:
            p.reads(handle, "transfer_read", mips=(mip, 1))
        else:
            p.reads(handle, "transfer_read")
        p.writes(out, "transfer_write", discard=True)
        # Recorded every frame, never replayed: the callback is what marks the future as recorded.
        from . import recorder
        marker = getattr(recorder, "dynamic", None)
        p.execute(marker(execute) if marker is not None else execute)
    return future


# -- what Renderer's thin methods call ----------------------------------------------------------------

def _named_bytes(name: str, data) -> bytes:
    try:
        return as_bytes(data)
    except FrameGraphError as e:
        raise e.at(resource=name) from None


def _buffer_data(name: str, data, size: int | None) -> tuple[bytes | None, int]:
    """(the data as bytes or None, the buffer's size rounded up to 4 bytes) for a buffer made with
    `data=` and/or `size=` (at least one; the data must fit)."""
    raw = None if data is None else _named_bytes(name, data)
    if size is None:
        if raw is None:
            raise FrameGraphError("give data= or size=", resource=name)
        size = len(raw)
    size = expect_int(size, "size", -MAX_BUFFER_SIZE, MAX_BUFFER_SIZE, resource=name)
    if size < 1:
        raise FrameGraphError(f"size must be at least 1 byte, got {size}", resource=name, field="size")
    if raw is not None and len(raw) > size:
        raise FrameGraphError(f"{len(raw)} bytes of data for a {size}-byte buffer", resource=name)
    return raw, max(4, -(-size // 4) * 4)


def create_buffer(renderer, name: str, *, data=None, size: int | None = None, state: str = "general",
                  uses: Sequence[str] = ()) -> PersistentBuffer:
    raw, size = _buffer_data(name, data, size)
    return PersistentBuffer(renderer, name, size=size, data=raw, state=state, uses=uses)


def create_frame_data(renderer, name: str, *, data=None, size: int | None = None, uses: Sequence[str] = ()
                      ) -> FrameData:
    raw, size = _buffer_data(name, data, size)
    return FrameData(renderer, name, size=size, data=raw, uses=uses)


def create_image(renderer, name: str, *, format, extent, data=None, mips: int = 1, layers: int = 1,
                 state: str = "any_shader_read_sampled", uses: Sequence[str] = ()) -> PersistentImage:
    raw = None if data is None else _named_bytes(name, data)
    return PersistentImage(renderer, name, format=format, extent=extent, mips=mips, layers=layers, data=raw,
                           state=state, uses=uses)
