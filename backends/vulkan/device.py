"""Which physical device, which queue families, and which features the logical device gets.

A discrete GPU wins unless FRAMEGRAPH_DEVICE (or device_name) names one by substring; logical
queues graphics/compute/transfer map to dedicated families where they exist, else to graphics.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, NamedTuple

import vulkan as vk
from vulkan import ffi

API_VERSION = vk.VK_MAKE_VERSION(1, 3, 0)

DEVICE_TYPE_NAMES = {
    vk.VK_PHYSICAL_DEVICE_TYPE_OTHER: "other",
    vk.VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: "integrated_gpu",
    vk.VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: "discrete_gpu",
    vk.VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: "virtual_gpu",
    vk.VK_PHYSICAL_DEVICE_TYPE_CPU: "cpu",
}

# Vulkan's numbers: the binding lacks some of these names (VK_QUEUE_PROTECTED_BIT).
_QUEUE_FLAG_NAMES = (
    (0x001, "graphics"),
    (0x002, "compute"),
    (0x004, "transfer"),
    (0x008, "sparse_binding"),
    (0x010, "protected"),
    (0x020, "video_decode"),
    (0x040, "video_encode"),
    (0x100, "optical_flow"),
)

LOGICAL_QUEUES = ("graphics", "compute", "transfer")


class DeviceSelectionError(RuntimeError):
    pass


def version_string(version: int) -> str:
    return f"{vk.VK_VERSION_MAJOR(version)}.{vk.VK_VERSION_MINOR(version)}.{vk.VK_VERSION_PATCH(version)}"


def driver_version_string(vendor_id: int, version: int) -> str:
    # Driver versions are vendor-encoded; NVIDIA's is the one common exception to the API packing.
    if vendor_id == 0x10DE:
        return f"{(version >> 22) & 0x3FF}.{(version >> 14) & 0xFF}.{(version >> 6) & 0xFF}"
    return version_string(version)


@dataclass(frozen=True)
class QueueFamily:
    index: int
    flags: int
    count: int
    timestamp_valid_bits: int

    @property
    def flag_names(self) -> tuple[str, ...]:
        return tuple(name for bit, name in _QUEUE_FLAG_NAMES if self.flags & bit)

    def has(self, bit: int) -> bool:
        return bool(self.flags & bit)


class Queue(NamedTuple):
    family: int
    index: int
    handle: Any      # VkQueue


@dataclass(frozen=True)
class PhysicalDeviceInfo:
    handle: Any
    name: str
    type: int
    api_version: int
    driver_version: int
    vendor_id: int
    device_id: int
    queue_families: tuple[QueueFamily, ...]

    @property
    def type_name(self) -> str:
        return DEVICE_TYPE_NAMES.get(self.type, str(self.type))


def describe_physical_devices(instance) -> list[PhysicalDeviceInfo]:
    infos = []
    for handle in vk.vkEnumeratePhysicalDevices(instance):
        props = vk.vkGetPhysicalDeviceProperties(handle)
        families = tuple(
            QueueFamily(i, f.queueFlags, f.queueCount, f.timestampValidBits)
            for i, f in enumerate(vk.vkGetPhysicalDeviceQueueFamilyProperties(handle)))
        infos.append(PhysicalDeviceInfo(
            handle, props.deviceName, props.deviceType, props.apiVersion, props.driverVersion,
            props.vendorID, props.deviceID, families))
    return infos


def requested_device_name(device_name: str | None) -> str | None:
    return device_name if device_name is not None else (os.environ.get("FRAMEGRAPH_DEVICE") or None)


def choose_physical_device(devices: list[PhysicalDeviceInfo], device_name: str | None) -> PhysicalDeviceInfo:
    if not devices:
        raise DeviceSelectionError("no Vulkan physical device found (is a driver installed? "
                                   "on Debian: mesa-vulkan-drivers; VK_DRIVER_FILES set?)")
    wanted = requested_device_name(device_name)
    if wanted is not None:
        for device in devices:
            if wanted.lower() in device.name.lower():
                return device
        names = ", ".join(repr(d.name) for d in devices)
        raise DeviceSelectionError(f"no Vulkan device name contains {wanted!r}; devices: {names}")
    for device in devices:
        if device.type == vk.VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
            return device
    return devices[0]


def assign_queue_families(families: tuple[QueueFamily, ...]) -> dict[str, int]:
    """Logical queue name -> family index.

    Dedicated families let compute and copies overlap graphics; where none exists the
    logical queue shares the graphics family (and, with one queue, the graphics queue).
    """
    graphics = [f for f in families if f.has(vk.VK_QUEUE_GRAPHICS_BIT)]
    if not graphics:
        raise DeviceSelectionError("the device has no graphics queue family")
    # Prefer the family that does everything: the spec guarantees one exists alongside graphics.
    graphics_family = next((f for f in graphics if f.has(vk.VK_QUEUE_COMPUTE_BIT)), graphics[0]).index
    compute_family = next((f.index for f in families
                           if f.has(vk.VK_QUEUE_COMPUTE_BIT) and not f.has(vk.VK_QUEUE_GRAPHICS_BIT)),
                          graphics_family)
    transfer_family = next((f.index for f in families
                            if f.has(vk.VK_QUEUE_TRANSFER_BIT)
                            and not f.has(vk.VK_QUEUE_GRAPHICS_BIT | vk.VK_QUEUE_COMPUTE_BIT)),
                           graphics_family)
    return {"graphics": graphics_family, "compute": compute_family, "transfer": transfer_family}


def _feature_chain():
    """Query structs for the features we need, linked Vulkan13 -> Vulkan12 (cffi-owned)."""
    v12 = ffi.new("VkPhysicalDeviceVulkan12Features*")
    v12.sType = vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES
    v13 = ffi.new("VkPhysicalDeviceVulkan13Features*")
    v13.sType = vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES
    v13.pNext = v12
    features2 = ffi.new("VkPhysicalDeviceFeatures2*")
    features2.sType = vk.VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2
    features2.pNext = v13
    return features2, v13, v12


REQUIRED_FEATURES = (("Vulkan13", "synchronization2"), ("Vulkan13", "dynamicRendering"),
                     ("Vulkan12", "timelineSemaphore"))

# Enabled where the device offers them: presenting to a window, and descriptors pushed into the
# command buffer (no pools to manage per frame). Callers check ctx.device_extensions.
OPTIONAL_DEVICE_EXTENSIONS = ("VK_KHR_swapchain", "VK_KHR_push_descriptor")


def available_device_extensions(physical_handle) -> set[str]:
    return {ext.extensionName for ext in vk.vkEnumerateDeviceExtensionProperties(physical_handle, None)}


def create_logical_device(physical: PhysicalDeviceInfo, families: dict[str, int]):
    """Returns (VkDevice, {logical name: (family, queue index)}, enabled extension names,
    {optional feature: enabled})."""
    if physical.api_version < API_VERSION:
        raise DeviceSelectionError(f"{physical.name} supports Vulkan {version_string(physical.api_version)}; "
                                   "framegraph needs 1.3")
    supported, s13, s12 = _feature_chain()
    vk.vkGetPhysicalDeviceFeatures2(physical.handle, supported)
    tables = {"Vulkan13": s13, "Vulkan12": s12}
    missing = [f"{table}.{name}" for table, name in REQUIRED_FEATURES if not getattr(tables[table], name)]
    if missing:
        raise DeviceSelectionError(f"{physical.name} lacks required features: {', '.join(missing)}")

    enable, e13, e12 = _feature_chain()
    for table, name in REQUIRED_FEATURES:
        setattr({"Vulkan13": e13, "Vulkan12": e12}[table], name, vk.VK_TRUE)
    # Timestamps are reset from the host between frames without a command buffer.
    e12.hostQueryReset = s12.hostQueryReset
    # glslc --target-env=vulkan1.3 writes compute local sizes as LocalSizeId, which needs maintenance4.
    e13.maintenance4 = s13.maintenance4

    unique = sorted(set(families.values()))
    queue_infos = [vk.VkDeviceQueueCreateInfo(queueFamilyIndex=family, queueCount=1, pQueuePriorities=[1.0])
                   for family in unique]
    available = available_device_extensions(physical.handle)
    extensions = [name for name in OPTIONAL_DEVICE_EXTENSIONS if name in available]
    create_info = vk.VkDeviceCreateInfo(pNext=enable, pQueueCreateInfos=queue_infos,
                                        ppEnabledExtensionNames=extensions or None)
    device = vk.vkCreateDevice(physical.handle, create_info, None)
    features = {"hostQueryReset": bool(e12.hostQueryReset), "maintenance4": bool(e13.maintenance4)}
    return device, {name: (family, 0) for name, family in families.items()}, frozenset(extensions), features
