"""Where frames go: an offscreen image read back to numpy, or a GLFW window's swapchain. Both
have one interface, so a renderer or sample does not care which; FRAMEGRAPH_OFFSCREEN=1 forces
offscreen.

Targets add to the frame's graph rather than record anything themselves: the offscreen readback
is a pass (transfer_read of the output, transfer_write of a host buffer whose final state is
host_read), so its barriers come from the plan like every other.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import vulkan as vk
from vulkan import ffi

from framegraph.errors import FrameGraphError, expect_int, show_value
from framegraph.graph import MAX_EXTENT, Handle
from framegraph.vk import Format

from .owner import Owner
from .recorder import static
from .resources import PhysicalImage


def _output_handle(result, name: str) -> Handle:
    if isinstance(result, Handle) and result.name == name:
        return result
    raise FrameGraphError(f"the build function must return the final handle of the target image "
                          f"(frame.output after its last write), got {result!r}", resource=name)


def offscreen_forced() -> bool:
    return os.environ.get("FRAMEGRAPH_OFFSCREEN", "").strip().lower() in ("1", "true", "yes", "on")


def make_target(width: int, height: int, *, title: str = "framegraph", offscreen: bool | None = None, **kw):
    """A WindowTarget, or an OffscreenTarget when asked, when FRAMEGRAPH_OFFSCREEN=1, or when no
    display is there to open a window on."""
    if offscreen is None:
        offscreen = offscreen_forced() or not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if offscreen:
        return OffscreenTarget(width, height)
    return WindowTarget(width, height, title=title, **kw)


# What read() returns (HxWx4 uint8, RGBA order) can hold: 8-bit RGBA and BGRA (swizzled). Another
# 4-byte format (R32_SFLOAT, A2B10G10R10) would come back as its raw bytes posing as RGBA8.
OFFSCREEN_FORMATS = (Format.R8G8B8A8_UNORM, Format.R8G8B8A8_SRGB, Format.B8G8R8A8_UNORM, Format.B8G8R8A8_SRGB)


def _side(value, field: str, name: str) -> int:
    return expect_int(value, field, 1, MAX_EXTENT, resource=name)


class OffscreenTarget:
    """An image of the backend's (one per frame slot) that the frame renders into; after the frame
    `read()` returns it as an HxWx4 uint8 array (RGBA order) and `save_png()` writes it. Its format
    is one of OFFSCREEN_FORMATS (what such an array holds); width and height 1 to MAX_EXTENT,
    checked here rather than at every frame."""

    def __init__(self, width: int = 64, height: int = 64, *, format: str = "R8G8B8A8_UNORM",
                 name: str = "output", readback: bool = True, readback_queue: str = "graphics") -> None:
        self.width, self.height = _side(width, "width", name), _side(height, "height", name)
        try:
            self.format = Format.parse(format)
        except (ValueError, TypeError, AttributeError):
            self.format = None
        if self.format not in OFFSCREEN_FORMATS:
            raise FrameGraphError(f"{show_value(format)}: an offscreen target is read back as 8-bit RGBA, so its "
                                  f"format is one of {', '.join(f.name for f in OFFSCREEN_FORMATS)}",
                                  resource=name, field="format")
        self._format_name = self.format.full_name      # what each frame is told (begin_frame)
        self.name = name
        self.readback = readback
        # "transfer" reads back on the DMA queue where the device has one (an ownership transfer
        # and a semaphore come with it, from the plan).
        self.readback_queue = readback_queue
        self.renderer = None
        self._buffers: dict[tuple, Any] = {}
        self._frames: dict[int, tuple] = {}    # slot -> (frame index, readback buffer, extent)
        self._pending = None

    @property
    def extent(self) -> tuple[int, int]:
        return self.width, self.height

    def resize(self, width: int, height: int) -> None:
        self.width, self.height = _side(width, "width", self.name), _side(height, "height", self.name)

    # -- the renderer's calls -------------------------------------------------------------
    def attach(self, renderer) -> None:
        self.renderer = renderer

    def begin_frame(self, frame) -> None:
        frame.extent = (self.width, self.height)
        frame.format = self._format_name

    def declare(self, fg, frame) -> Handle:
        # No external object: the renderer allocates it per slot, with TRANSFER_SRC as an output.
        return fg.import_image(self.name, format=self.format, extent=self.extent, initial="undefined")

    def _buffer(self, slot: int):
        key = (slot, self.width, self.height)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = self.renderer.allocator.staging(
                name=f"{self.name}.readback#{slot}", size=self.width * self.height * 4, readback=True)
        return buffer

    def end_graph(self, fg, frame, result) -> None:
        handle = _output_handle(result, self.name)
        fg.output(handle)
        if not self.readback:
            return
        buffer = self._buffer(frame.slot)
        name = f"{self.name}.readback"
        rb = fg.import_buffer(name, size=buffer.size, final="host_read", external=buffer)
        with fg.add_pass(name, queue=self.readback_queue) as p:
            p.reads(handle, "transfer_read")
            p.writes(rb, "transfer_write", discard=True)
            # The same copy every frame of a slot (its own buffer): replayable.
            p.execute(static(lambda ctx: ctx.copy_image_to_buffer(self.name, name)))
        self._pending = (frame.slot, (frame.index, buffer, self.extent))

    def semaphores(self, frame):
        return None, None

    def reuse_graph(self, fg, frame) -> None:
        """The renderer uses `fg`, declared for an earlier frame of this slot, again."""
        if self.readback:
            self._pending = (frame.slot, (frame.index, self._buffer(frame.slot), frame.extent))

    def end_frame(self, frame, present_queue) -> None:
        if self._pending is not None:
            slot, held = self._pending
            self._frames[slot] = held
            self._pending = None

    def abort_frame(self, frame) -> None:
        self._pending = None

    # -- results --------------------------------------------------------------------------
    def read(self, frame: int | None = None) -> np.ndarray:
        """The image of `frame` (default: the latest), waiting for it to finish on the GPU."""
        if not self.readback:
            raise RuntimeError("this target was made with readback=False")
        if not self._frames:
            raise RuntimeError("no frame has been rendered yet")
        if frame is None:
            frame = max(f for f, _, _ in self._frames.values())
        found = [(b, e) for f, b, e in self._frames.values() if f == frame]
        if not found:
            raise RuntimeError(f"frame {frame} is no longer held (only the last frames in flight are)")
        buffer, (width, height) = found[0]
        self.renderer.wait_frame(frame)
        pixels = buffer.read().reshape(height, width, 4)
        if self.format in (Format.B8G8R8A8_UNORM, Format.B8G8R8A8_SRGB):
            pixels = pixels[..., [2, 1, 0, 3]]
        return np.ascontiguousarray(pixels)

    def save_png(self, path, frame: int | None = None):
        return save_png(self.read(frame), path)

    def close(self) -> None:
        self._frames.clear()
        for buffer in self._buffers.values():
            if buffer in self.renderer.allocator.live:
                self.renderer.allocator.free(buffer)
        self._buffers.clear()


def save_png(array: np.ndarray, path):
    from pathlib import Path

    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(array), "RGBA").save(path)
    return path


# -- windows ------------------------------------------------------------------------------
_PREFERRED_FORMATS = (Format.B8G8R8A8_UNORM, Format.R8G8B8A8_UNORM, Format.B8G8R8A8_SRGB, Format.R8G8B8A8_SRGB)
_PRESENT_MODES = {"fifo": vk.VK_PRESENT_MODE_FIFO_KHR, "mailbox": vk.VK_PRESENT_MODE_MAILBOX_KHR,
                  "immediate": vk.VK_PRESENT_MODE_IMMEDIATE_KHR}
_SWAPCHAIN_USAGE = (vk.VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | vk.VK_IMAGE_USAGE_TRANSFER_DST_BIT
                    | vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT)


class WindowTarget:
    """A GLFW window with a VkSurfaceKHR and a swapchain. Binary semaphores appear only where the
    plan says: the acquire wait (its first use of the image) and the present signal. An out-of-date
    or suboptimal swapchain (raised by the binding as exceptions) is recreated at the next frame,
    which then declares the new size, so the renderer compiles what depends on it."""

    def __init__(self, width: int = 640, height: int = 480, *, title: str = "framegraph", name: str = "swapchain",
                 present_mode: str = "fifo", visible: bool = True) -> None:
        self.requested = (int(width), int(height))
        self.title = title
        self.name = name
        self.present_mode_name = present_mode
        self.visible = visible
        self.renderer = None
        self.window = None
        self.surface = None
        self.swapchain = None
        self.images: list[PhysicalImage] = []
        self.extent = (0, 0)
        self.format = None
        self.recreations = 0
        self.wsi_reports: dict[str, int] = {}   # e.g. {"present: VkSuboptimalKhr": 1}
        self.dirty = False
        self._acquire: list = []
        self._present: list = []
        self._index = ffi.new("uint32_t*")
        self._acquired = False
        self._glfw = None

    # -- set-up ---------------------------------------------------------------------------
    def attach(self, renderer) -> None:
        import glfw

        self._glfw = glfw
        self.renderer = renderer
        ctx = renderer.ctx
        if "VK_KHR_swapchain" not in ctx.device_extensions:
            raise RuntimeError("the device lacks VK_KHR_swapchain: no window target here")
        if not glfw.init():
            raise RuntimeError(f"glfw.init() failed (DISPLAY={os.environ.get('DISPLAY')!r}): {glfw.get_error()}")
        self.owner = Owner(ctx)
        try:
            glfw.window_hint(glfw.CLIENT_API, glfw.NO_API)
            glfw.window_hint(glfw.RESIZABLE, glfw.TRUE)
            glfw.window_hint(glfw.VISIBLE, glfw.TRUE if self.visible else glfw.FALSE)
            self.window = glfw.create_window(*self.requested, self.title, None, None)
            if not self.window:
                raise RuntimeError(f"glfw.create_window failed: {glfw.get_error()}")
            instance, device = ctx.instance, ctx.device
            iproc = lambda n: vk.vkGetInstanceProcAddr(instance, n)  # noqa: E731
            dproc = lambda n: vk.vkGetDeviceProcAddr(device, n)      # noqa: E731
            self._surface_support = iproc("vkGetPhysicalDeviceSurfaceSupportKHR")
            self._surface_caps = iproc("vkGetPhysicalDeviceSurfaceCapabilitiesKHR")
            self._surface_formats = iproc("vkGetPhysicalDeviceSurfaceFormatsKHR")
            self._surface_modes = iproc("vkGetPhysicalDeviceSurfacePresentModesKHR")
            destroy_surface = iproc("vkDestroySurfaceKHR")
            self._create_swapchain = dproc("vkCreateSwapchainKHR")
            self._destroy_swapchain = dproc("vkDestroySwapchainKHR")
            self._get_images = dproc("vkGetSwapchainImagesKHR")
            self._acquire_next = dproc("vkAcquireNextImageKHR")
            self._queue_present = dproc("vkQueuePresentKHR")

            surface = ffi.new("VkSurfaceKHR[1]")
            result = glfw.create_window_surface(instance, self.window, None, surface)
            if result != vk.VK_SUCCESS:
                raise RuntimeError(f"glfwCreateWindowSurface failed with VkResult {result}")
            self.surface = surface[0]
            # Not named: naming an instance-level surface through the device crashes layer 1.3.239.
            ctx.track("VkSurfaceKHR", self.surface, lambda s=self.surface: destroy_surface(instance, s, None))
            self.owner.adopt("VkSurfaceKHR", self.surface)
            family = ctx.queues["graphics"].family
            if not self._surface_support(ctx.physical_device, family, self.surface):
                raise RuntimeError(f"queue family {family} cannot present to this surface")
            formats = [(f.format, f.colorSpace) for f in self._surface_formats(ctx.physical_device, self.surface)]
            chosen = next(((f, cs) for want in _PREFERRED_FORMATS for f, cs in formats
                           if f == int(want) and cs == vk.VK_COLOR_SPACE_SRGB_NONLINEAR_KHR), None)
            if chosen is None:
                raise RuntimeError(f"no supported surface format among {formats}")
            self.format, self.color_space = Format(chosen[0]), chosen[1]
            modes = list(self._surface_modes(ctx.physical_device, self.surface))
            wanted = _PRESENT_MODES[self.present_mode_name]
            self.present_mode = wanted if wanted in modes else vk.VK_PRESENT_MODE_FIFO_KHR
            for slot in range(renderer.frames_in_flight):
                self._acquire.append(self.owner.create("VkSemaphore", vk.VkSemaphoreCreateInfo(),
                                                       name=f"{self.title}.acquire#{slot}"))
            self._recreate()
        except BaseException:
            self.close()
            raise

    def framebuffer_size(self) -> tuple[int, int]:
        return tuple(self._glfw.get_framebuffer_size(self.window))

    def _recreate(self) -> None:
        ctx = self.renderer.ctx
        self.renderer.wait()
        caps = self._surface_caps(ctx.physical_device, self.surface)
        if caps.currentExtent.width != 0xFFFFFFFF:
            width, height = caps.currentExtent.width, caps.currentExtent.height
        else:
            width, height = self.framebuffer_size()
            width = min(max(width, caps.minImageExtent.width), caps.maxImageExtent.width)
            height = min(max(height, caps.minImageExtent.height), caps.maxImageExtent.height)
        if width == 0 or height == 0:
            raise RuntimeError("the window has no area (minimised?)")
        usage = _SWAPCHAIN_USAGE & caps.supportedUsageFlags
        count = caps.minImageCount + 1
        if caps.maxImageCount:
            count = min(count, caps.maxImageCount)
        alpha = (vk.VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR
                 if caps.supportedCompositeAlpha & vk.VK_COMPOSITE_ALPHA_OPAQUE_BIT_KHR
                 else caps.supportedCompositeAlpha & -caps.supportedCompositeAlpha)
        old = self.swapchain
        info = vk.VkSwapchainCreateInfoKHR(
            surface=self.surface, minImageCount=count, imageFormat=int(self.format), imageColorSpace=self.color_space,
            imageExtent=vk.VkExtent2D(width=width, height=height), imageArrayLayers=1, imageUsage=usage,
            imageSharingMode=vk.VK_SHARING_MODE_EXCLUSIVE, preTransform=caps.currentTransform,
            compositeAlpha=alpha, presentMode=self.present_mode, clipped=vk.VK_TRUE, oldSwapchain=old)
        swapchain = self._create_swapchain(ctx.device, info, None)
        for image in self.images:
            image.destroy_views()
        if old is not None:
            self.owner.release(old, "VkSwapchainKHR")
        device, destroy = ctx.device, self._destroy_swapchain
        ctx.track("VkSwapchainKHR", swapchain, lambda: destroy(device, swapchain, None), name=f"{self.title}.swapchain")
        self.swapchain = self.owner.adopt("VkSwapchainKHR", swapchain)
        handles = list(self._get_images(ctx.device, swapchain))
        self.images = [PhysicalImage(ctx, name=f"{self.name}[{i}]", handle=h, format=int(self.format),
                                     extent=(width, height, 1), usage=usage, owned=False)
                       for i, h in enumerate(handles)]
        while len(self._present) < len(self.images):
            self._present.append(self.owner.create("VkSemaphore", vk.VkSemaphoreCreateInfo(),
                                                   name=f"{self.title}.present#{len(self._present)}"))
        self.extent = (width, height)
        self.usage = usage
        self.dirty = False
        if old is not None:
            self.recreations += 1

    # -- the renderer's calls -------------------------------------------------------------
    def begin_frame(self, frame) -> None:
        self._acquired = False
        self._glfw.poll_events()
        if self.dirty or self.framebuffer_size() != self.extent:
            self._recreate()
        while True:
            try:
                self._acquire_next(self.renderer.ctx.device, self.swapchain, vk.UINT64_MAX,
                                   self._acquire[frame.slot], vk.VK_NULL_HANDLE, self._index)
            except vk.VkErrorOutOfDateKhr as report:
                self._report("acquire", report)
                self._recreate()
                continue
            except vk.VkSuboptimalKhr as report:
                self._report("acquire", report)
                self.dirty = True          # acquired all the same: render and present, then recreate
            break
        self._acquired = True
        frame.image_index = int(self._index[0])
        frame.extent = self.extent
        frame.format = self.format.full_name

    def declare(self, fg, frame) -> Handle:
        return fg.import_image(self.name, format=self.format, extent=self.extent, swapchain=True,
                               external=self.images[frame.image_index])

    def end_graph(self, fg, frame, result) -> None:
        fg.output(_output_handle(result, self.name))

    def reuse_graph(self, fg, frame) -> None:
        """Nothing to do: the renderer keys reused graphs by swapchain image (what `declare` imports)."""

    def semaphores(self, frame):
        return self._acquire[frame.slot], self._present[frame.image_index]

    def end_frame(self, frame, present_queue) -> None:
        if present_queue is None:
            raise FrameGraphError("the frame never used the swapchain image, so it cannot be presented",
                                  resource=self.name)
        info = vk.VkPresentInfoKHR(pWaitSemaphores=[self._present[frame.image_index]],
                                   pSwapchains=[self.swapchain], pImageIndices=[frame.image_index])
        try:
            self._queue_present(present_queue, info)
        except (vk.VkErrorOutOfDateKhr, vk.VkSuboptimalKhr) as report:
            # Either way the present's semaphore wait still happens; recreate before the next frame.
            self._report("present", report)
            self.dirty = True

    def abort_frame(self, frame) -> None:
        """The frame failed after the acquire: wait on (consume) its acquire semaphore so the slot can
        reuse it, and recreate the swapchain at the next frame to get the unpresented image back."""
        self.dirty = True
        if not self._acquired:          # failed before the acquire: nothing to give back
            return
        self._acquired = False
        ctx = self.renderer.ctx
        queue = ctx.queues["graphics"].handle
        wait = vk.VkSemaphoreSubmitInfo(semaphore=self._acquire[frame.slot],
                                        stageMask=vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT)
        vk.vkQueueSubmit2(queue, 1, [vk.VkSubmitInfo2(pWaitSemaphoreInfos=[wait])], vk.VK_NULL_HANDLE)
        vk.vkQueueWaitIdle(queue)
        self.dirty = True

    def _report(self, where: str, report: Exception) -> None:
        key = f"{where}: {type(report).__name__}"
        self.wsi_reports[key] = self.wsi_reports.get(key, 0) + 1

    # -- window ---------------------------------------------------------------------------
    def should_close(self) -> bool:
        return bool(self._glfw.window_should_close(self.window))

    def set_size(self, width: int, height: int) -> None:
        self._glfw.set_window_size(self.window, int(width), int(height))

    def close(self) -> None:
        if self.renderer is not None and not self.renderer.ctx.destroyed:
            self.renderer.ctx.wait_idle()
        for image in self.images:
            image.destroy_views()
        self.images = []
        if getattr(self, "owner", None) is not None:
            self.owner.close()
            self.owner = None
        self.swapchain = self.surface = None
        if self.window is not None:
            self._glfw.destroy_window(self.window)
            self.window = None
        if self._glfw is not None:
            self._glfw.terminate()
            self._glfw = None
