"""VulkanContext: one instance, one physical device, one logical device and the queues we use.

It owns every Vulkan object created through it (see registry.py) and tears them down in
reverse creation order on destroy(); validation is on unless FRAMEGRAPH_VALIDATION=0.
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import Any, Callable

import vulkan as vk

from . import device as _device
from . import validation as _validation
from .debug import DebugUtils
from .device import PhysicalDeviceInfo, Queue, QueueFamily
from .registry import ObjectRegistry

MESA_VENDOR_ID = 0x10005          # VK_VENDOR_ID_MESA: lavapipe's vendorID

# kind -> (create, destroy) for objects made by vkCreateX(device, info, None) / vkDestroyX(device, h, None).
_SIMPLE_OBJECTS: dict[str, tuple[Callable, Callable]] = {
    "VkBuffer": (vk.vkCreateBuffer, vk.vkDestroyBuffer),
    "VkBufferView": (vk.vkCreateBufferView, vk.vkDestroyBufferView),
    "VkImage": (vk.vkCreateImage, vk.vkDestroyImage),
    "VkImageView": (vk.vkCreateImageView, vk.vkDestroyImageView),
    "VkSampler": (vk.vkCreateSampler, vk.vkDestroySampler),
    "VkShaderModule": (vk.vkCreateShaderModule, vk.vkDestroyShaderModule),
    "VkPipelineLayout": (vk.vkCreatePipelineLayout, vk.vkDestroyPipelineLayout),
    "VkPipelineCache": (vk.vkCreatePipelineCache, vk.vkDestroyPipelineCache),
    "VkDescriptorSetLayout": (vk.vkCreateDescriptorSetLayout, vk.vkDestroyDescriptorSetLayout),
    "VkDescriptorPool": (vk.vkCreateDescriptorPool, vk.vkDestroyDescriptorPool),
    "VkCommandPool": (vk.vkCreateCommandPool, vk.vkDestroyCommandPool),
    "VkFence": (vk.vkCreateFence, vk.vkDestroyFence),
    "VkSemaphore": (vk.vkCreateSemaphore, vk.vkDestroySemaphore),
    "VkEvent": (vk.vkCreateEvent, vk.vkDestroyEvent),
    "VkQueryPool": (vk.vkCreateQueryPool, vk.vkDestroyQueryPool),
    "VkDeviceMemory": (vk.vkAllocateMemory, vk.vkFreeMemory),
}


class VulkanContext:
    """The device-level owner of everything the backend creates.

    Usage: `with VulkanContext() as ctx: buf = ctx.create("VkBuffer", info, name="staging")`;
    after the block every object is destroyed and ctx.live_count() == 0.
    """

    def __init__(self, *, validation: bool | None = None, sync_validation: bool = True,
                 device_name: str | None = None, app_name: str = "framegraph") -> None:
        self.registry = ObjectRegistry()
        self.messages = _validation.MESSAGES
        self.instance: Any = None
        self.device: Any = None
        self.debug = DebugUtils(None, enabled=False)
        try:
            self._create_instance(validation, sync_validation, app_name)
            self._create_device(device_name)
        except BaseException:
            self.destroy()
            raise

    # -- bring-up ------------------------------------------------------------------------

    def _create_instance(self, validation: bool | None, sync_validation: bool, app_name: str) -> None:
        layers = _validation.available_layers()
        extensions = _validation.available_instance_extensions()
        want_validation = _validation.validation_requested(validation)
        if want_validation and _validation.LAYER_NAME not in layers:
            if validation:
                raise RuntimeError(f"validation requested but {_validation.LAYER_NAME} is not installed "
                                   "(Debian: vulkan-validationlayers)")
            warnings.warn(f"{_validation.LAYER_NAME} not installed; running without validation",
                          RuntimeWarning, stacklevel=3)
            want_validation = False
        self.validation = want_validation
        self.sync_validation = want_validation and sync_validation
        # debug_utils comes from the loader, so names, labels and loader messages work
        # even with validation off.
        debug_utils = _validation.DEBUG_UTILS_EXTENSION in extensions or want_validation

        # Chaining the messenger info into the instance covers vkCreate/DestroyInstance.
        chain = _validation.messenger_create_info() if debug_utils else None
        if want_validation:
            chain = _validation.validation_features(chain, sync_validation=self.sync_validation)
        # Surface extensions cost nothing when no window is made, and let any context present.
        self.instance_extensions = frozenset(
            ([_validation.DEBUG_UTILS_EXTENSION] if debug_utils else [])
            + [name for name in _validation.surface_extensions() if name in extensions])
        if "VK_KHR_surface" not in self.instance_extensions:
            self.instance_extensions -= set(_validation.surface_extensions())
        app = vk.VkApplicationInfo(pApplicationName=app_name, applicationVersion=1,
                                   pEngineName="framegraph", engineVersion=1,
                                   apiVersion=_device.API_VERSION)
        create_info = vk.VkInstanceCreateInfo(
            pNext=chain, pApplicationInfo=app,
            ppEnabledLayerNames=[_validation.LAYER_NAME] if want_validation else None,
            ppEnabledExtensionNames=sorted(self.instance_extensions) or None)
        instance = vk.vkCreateInstance(create_info, None)
        self.instance = instance
        self.registry.add("VkInstance", instance, lambda: vk.vkDestroyInstance(instance, None))

        if debug_utils:
            create = vk.vkGetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT")
            destroy = vk.vkGetInstanceProcAddr(instance, "vkDestroyDebugUtilsMessengerEXT")
            messenger = create(instance, _validation.messenger_create_info(), None)
            self.registry.add("VkDebugUtilsMessengerEXT", messenger,
                              lambda: destroy(instance, messenger, None))
        self.debug = DebugUtils(instance, enabled=debug_utils)

    def _create_device(self, device_name: str | None) -> None:
        physical = _device.choose_physical_device(_device.describe_physical_devices(self.instance), device_name)
        self.physical: PhysicalDeviceInfo = physical
        self.physical_device = physical.handle
        self.properties = vk.vkGetPhysicalDeviceProperties(physical.handle)
        self.memory_properties = vk.vkGetPhysicalDeviceMemoryProperties(physical.handle)
        self.queue_families: tuple[QueueFamily, ...] = physical.queue_families
        families = _device.assign_queue_families(physical.queue_families)
        device, placement, extensions, features = _device.create_logical_device(physical, families)
        self.device = device
        self.device_extensions: frozenset[str] = extensions
        self.features: dict[str, bool] = features
        self.registry.add("VkDevice", device, lambda: vk.vkDestroyDevice(device, None))
        self.queues: dict[str, Queue] = {}
        for logical, (family, index) in placement.items():
            handle = vk.vkGetDeviceQueue(device, family, index)
            self.queues[logical] = Queue(family, index, handle)
        for family in sorted({q.family for q in self.queues.values()}):
            names = [n for n, q in self.queues.items() if q.family == family]
            self.set_name(self.queues[names[0]].handle, "VkQueue", "+".join(names))

    # -- facts ---------------------------------------------------------------------------

    @property
    def device_name(self) -> str:
        return self.physical.name

    @property
    def lavapipe(self) -> bool:
        """Mesa's CPU driver (llvmpipe), whose quirks the recorder works around."""
        return self.physical.vendor_id == MESA_VENDOR_ID and self.physical.type == vk.VK_PHYSICAL_DEVICE_TYPE_CPU

    @property
    def timestamp_period_ns(self) -> float:
        return self.properties.limits.timestampPeriod

    def queue(self, name: str) -> Queue:
        return self.queues[name]

    # -- object lifetimes ----------------------------------------------------------------

    def track(self, kind: str, handle: Any, destroy: Callable[[], None], *, name: str | None = None,
              parent: tuple | None = None) -> Any:
        """Register an object created outside create(); `destroy` is called exactly once (or never,
        when `parent` -- (kind, handle) -- is destroyed first and takes it along)."""
        self.registry.add(kind, handle, destroy, name, parent=parent)
        if name:
            self.set_name(handle, kind, name)
        return handle

    def create(self, kind: str, create_info: Any, *, name: str | None = None) -> Any:
        """vkCreate<kind>(device, create_info) for the kinds in _SIMPLE_OBJECTS, registered."""
        create, destroy = _SIMPLE_OBJECTS[kind]
        device = self.device
        handle = create(device, create_info, None)
        return self.track(kind, handle, lambda: destroy(device, handle, None), name=name)

    def create_graphics_pipeline(self, create_info: Any, *, name: str | None = None) -> Any:
        device = self.device
        handle = vk.vkCreateGraphicsPipelines(device, vk.VK_NULL_HANDLE, 1, [create_info], None)[0]
        return self.track("VkPipeline", handle, lambda: vk.vkDestroyPipeline(device, handle, None), name=name)

    def create_compute_pipeline(self, create_info: Any, *, name: str | None = None) -> Any:
        device = self.device
        handle = vk.vkCreateComputePipelines(device, vk.VK_NULL_HANDLE, 1, [create_info], None)[0]
        return self.track("VkPipeline", handle, lambda: vk.vkDestroyPipeline(device, handle, None), name=name)

    def allocate_command_buffers(self, pool: Any, count: int = 1, *, level: int = vk.VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                 name: str | None = None) -> list[Any]:
        device = self.device
        info = vk.VkCommandBufferAllocateInfo(commandPool=pool, level=level, commandBufferCount=count)
        handles = list(vk.vkAllocateCommandBuffers(device, info))
        for i, handle in enumerate(handles):
            label = name if count == 1 or not name else f"{name}[{i}]"
            self.track("VkCommandBuffer", handle,
                       lambda h=handle: vk.vkFreeCommandBuffers(device, pool, 1, [h]), name=label,
                       parent=("VkCommandPool", pool))
        return handles

    def device_function(self, name: str, pfn_type: str):
        """A device-level extension command as a raw cffi function pointer (None when the device
        lacks it): the binding's own wrapper costs several µs of argument conversion per call."""
        return self._raw_function("_device_functions", vk.lib.vkGetDeviceProcAddr, self.device, name, pfn_type)

    def instance_function(self, name: str, pfn_type: str):
        """An instance-extension command (e.g. debug-utils labels) as a raw cffi function pointer,
        None when absent; see device_function."""
        return self._raw_function("_instance_functions", vk.lib.vkGetInstanceProcAddr, self.instance, name, pfn_type)

    def _raw_function(self, cache: str, get_proc_addr, owner, name: str, pfn_type: str):
        functions = self.__dict__.setdefault(cache, {})
        fn = functions.get(name, False)
        if fn is False:
            raw = get_proc_addr(owner, name.encode())
            fn = functions[name] = None if raw == vk.ffi.NULL else vk.ffi.cast(pfn_type, raw)
        return fn

    def release(self, handle: Any, kind: str | None = None) -> None:
        """Destroy one object before the context ends; the caller vouches the GPU is done with it."""
        self.registry.release(handle, kind)

    @contextmanager
    def scope(self):
        """Objects created inside the block are destroyed (after a device wait) when it exits."""
        mark = self.registry.mark()
        try:
            yield self
        finally:
            if self.device is not None:
                vk.vkDeviceWaitIdle(self.device)
            self.registry.release_since(mark)

    def live_objects(self) -> dict[str, int]:
        return self.registry.live_counts()

    def live_count(self, kind: str | None = None) -> int:
        return self.registry.live_count(kind)

    # -- debug ---------------------------------------------------------------------------

    def set_name(self, handle: Any, kind: str, name: str) -> None:
        if self.device is not None:
            self.debug.set_name(self.device, handle, kind, name)

    def begin_label(self, command_buffer: Any, name: str, color=(0.0, 0.0, 0.0, 0.0)) -> None:
        self.debug.begin_label(command_buffer, name, color)

    def end_label(self, command_buffer: Any) -> None:
        self.debug.end_label(command_buffer)

    def label(self, command_buffer: Any, name: str, color=(0.0, 0.0, 0.0, 0.0)):
        return self.debug.label(command_buffer, name, color)

    # -- teardown ------------------------------------------------------------------------

    def wait_idle(self) -> None:
        if self.device is not None:
            vk.vkDeviceWaitIdle(self.device)

    @property
    def destroyed(self) -> bool:
        return self.instance is None

    def destroy(self) -> None:
        """Idempotent. Waits for the device, then destroys everything, newest first."""
        if self.instance is None and len(self.registry) == 0:
            return
        try:
            self.wait_idle()
        finally:
            try:
                self.registry.release_all()
            finally:
                self.device = None
                self.instance = None
                self.debug = DebugUtils(None, enabled=False)

    def __enter__(self) -> "VulkanContext":
        return self

    def __exit__(self, *exc_info) -> None:
        self.destroy()

    def __repr__(self) -> str:
        state = "destroyed" if self.destroyed else getattr(self, "physical", None) and self.device_name
        return (f"<VulkanContext {state} validation={getattr(self, 'validation', None)} "
                f"sync={getattr(self, 'sync_validation', None)}>")
