"""Debug names and command-buffer labels through VK_EXT_debug_utils.

The entry points come from vkGetInstanceProcAddr; where the extension is absent every
call is a no-op, so callers name and label unconditionally.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import vulkan as vk

from .registry import handle_value

# Vulkan type name -> VkObjectType, for the kinds the registry tracks.
OBJECT_TYPES = {
    "VkInstance": vk.VK_OBJECT_TYPE_INSTANCE,
    "VkPhysicalDevice": vk.VK_OBJECT_TYPE_PHYSICAL_DEVICE,
    "VkDevice": vk.VK_OBJECT_TYPE_DEVICE,
    "VkQueue": vk.VK_OBJECT_TYPE_QUEUE,
    "VkSemaphore": vk.VK_OBJECT_TYPE_SEMAPHORE,
    "VkCommandBuffer": vk.VK_OBJECT_TYPE_COMMAND_BUFFER,
    "VkFence": vk.VK_OBJECT_TYPE_FENCE,
    "VkDeviceMemory": vk.VK_OBJECT_TYPE_DEVICE_MEMORY,
    "VkBuffer": vk.VK_OBJECT_TYPE_BUFFER,
    "VkImage": vk.VK_OBJECT_TYPE_IMAGE,
    "VkEvent": vk.VK_OBJECT_TYPE_EVENT,
    "VkQueryPool": vk.VK_OBJECT_TYPE_QUERY_POOL,
    "VkBufferView": vk.VK_OBJECT_TYPE_BUFFER_VIEW,
    "VkImageView": vk.VK_OBJECT_TYPE_IMAGE_VIEW,
    "VkShaderModule": vk.VK_OBJECT_TYPE_SHADER_MODULE,
    "VkPipelineCache": vk.VK_OBJECT_TYPE_PIPELINE_CACHE,
    "VkPipelineLayout": vk.VK_OBJECT_TYPE_PIPELINE_LAYOUT,
    "VkPipeline": vk.VK_OBJECT_TYPE_PIPELINE,
    "VkDescriptorSetLayout": vk.VK_OBJECT_TYPE_DESCRIPTOR_SET_LAYOUT,
    "VkSampler": vk.VK_OBJECT_TYPE_SAMPLER,
    "VkDescriptorPool": vk.VK_OBJECT_TYPE_DESCRIPTOR_POOL,
    "VkDescriptorSet": vk.VK_OBJECT_TYPE_DESCRIPTOR_SET,
    "VkCommandPool": vk.VK_OBJECT_TYPE_COMMAND_POOL,
    "VkSurfaceKHR": vk.VK_OBJECT_TYPE_SURFACE_KHR,
    "VkSwapchainKHR": vk.VK_OBJECT_TYPE_SWAPCHAIN_KHR,
    "VkDebugUtilsMessengerEXT": vk.VK_OBJECT_TYPE_DEBUG_UTILS_MESSENGER_EXT,
}


class DebugUtils:
    def __init__(self, instance, *, enabled: bool) -> None:
        self.enabled = enabled
        self._set_name = self._begin = self._end = self._insert = None
        if enabled:
            get = lambda name: vk.vkGetInstanceProcAddr(instance, name)  # noqa: E731
            self._set_name = get("vkSetDebugUtilsObjectNameEXT")
            self._begin = get("vkCmdBeginDebugUtilsLabelEXT")
            self._end = get("vkCmdEndDebugUtilsLabelEXT")
            self._insert = get("vkCmdInsertDebugUtilsLabelEXT")

    def set_name(self, device, handle: Any, kind: str, name: str) -> None:
        if self._set_name is None or not name:
            return
        info = vk.VkDebugUtilsObjectNameInfoEXT(
            objectType=OBJECT_TYPES[kind], objectHandle=handle_value(handle), pObjectName=name)
        self._set_name(device, info)

    @staticmethod
    def _label(name: str, color) -> Any:
        return vk.VkDebugUtilsLabelEXT(pLabelName=name, color=list(color))

    def label_struct(self, name: str, color=(0.0, 0.0, 0.0, 0.0)) -> Any:
        """A label built once and passed to begin_label_struct every frame (struct building is slow)."""
        return self._label(name, color)

    def begin_label_struct(self, command_buffer, label) -> None:
        if self._begin is not None:
            self._begin(command_buffer, label)

    def begin_label(self, command_buffer, name: str, color=(0.0, 0.0, 0.0, 0.0)) -> None:
        if self._begin is not None:
            self._begin(command_buffer, self._label(name, color))

    def end_label(self, command_buffer) -> None:
        if self._end is not None:
            self._end(command_buffer)

    def insert_label(self, command_buffer, name: str, color=(0.0, 0.0, 0.0, 0.0)) -> None:
        if self._insert is not None:
            self._insert(command_buffer, self._label(name, color))

    @contextmanager
    def label(self, command_buffer, name: str, color=(0.0, 0.0, 0.0, 0.0)):
        """`with ctx.debug.label(cmd, "gbuffer"):` brackets the pass's commands in a debug group."""
        self.begin_label(command_buffer, name, color)
        try:
            yield
        finally:
            self.end_label(command_buffer)
