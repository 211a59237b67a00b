"""Dedicated allocations for one-off buffers and images (staging, readback, samples, tests).

Chooses the memory type: required flags must hold, preferred flags win ties. The aliased
heaps of compiled plans are placed elsewhere; this is the simple path next to them.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import vulkan as vk

HOST_READBACK = (vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | vk.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                 vk.VK_MEMORY_PROPERTY_HOST_CACHED_BIT)
HOST_UPLOAD = (vk.VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | vk.VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0)
DEVICE_LOCAL = (vk.VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0)


class Buffer(NamedTuple):
    handle: Any
    memory: Any
    size: int


class Image(NamedTuple):
    handle: Any
    memory: Any
    format: int
    extent: tuple[int, int, int]


def find_memory_type(memory_properties, type_bits: int, required: int, preferred: int = 0) -> int:
    candidates = [i for i in range(memory_properties.memoryTypeCount)
                  if type_bits & (1 << i)
                  and memory_properties.memoryTypes[i].propertyFlags & required == required]
    if not candidates:
        raise RuntimeError(f"no memory type with flags {required:#x} among bits {type_bits:#x}")
    for i in candidates:
        if memory_properties.memoryTypes[i].propertyFlags & preferred == preferred:
            return i
    return candidates[0]


def allocate(ctx, requirements, memory: tuple[int, int], *, name: str | None = None) -> Any:
    required, preferred = memory
    index = find_memory_type(ctx.memory_properties, requirements.memoryTypeBits, required, preferred)
    info = vk.VkMemoryAllocateInfo(allocationSize=requirements.size, memoryTypeIndex=index)
    return ctx.create("VkDeviceMemory", info, name=name)


def create_buffer(ctx, *, size: int, usage: int, memory: tuple[int, int] = DEVICE_LOCAL,
                  name: str | None = None) -> Buffer:
    handle = ctx.create("VkBuffer", vk.VkBufferCreateInfo(
        size=size, usage=usage, sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE), name=name)
    requirements = vk.vkGetBufferMemoryRequirements(ctx.device, handle)
    mem = allocate(ctx, requirements, memory, name=name and f"{name}.memory")
    vk.vkBindBufferMemory(ctx.device, handle, mem, 0)
    return Buffer(handle, mem, size)


def create_image_2d(ctx, *, width: int, height: int, format: int, usage: int,
                    memory: tuple[int, int] = DEVICE_LOCAL, name: str | None = None) -> Image:
    info = vk.VkImageCreateInfo(
        imageType=vk.VK_IMAGE_TYPE_2D, format=format,
        extent=vk.VkExtent3D(width=width, height=height, depth=1),
        mipLevels=1, arrayLayers=1, samples=vk.VK_SAMPLE_COUNT_1_BIT,
        tiling=vk.VK_IMAGE_TILING_OPTIMAL, usage=usage,
        sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE, initialLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED)
    handle = ctx.create("VkImage", info, name=name)
    requirements = vk.vkGetImageMemoryRequirements(ctx.device, handle)
    mem = allocate(ctx, requirements, memory, name=name and f"{name}.memory")
    vk.vkBindImageMemory(ctx.device, handle, mem, 0)
    return Image(handle, mem, format, (width, height, 1))


def read_buffer(ctx, buffer: Buffer, dtype=np.uint8) -> np.ndarray:
    """Copy a host-visible, coherent buffer's contents out (after the GPU is done with it)."""
    mapped = vk.vkMapMemory(ctx.device, buffer.memory, 0, buffer.size, 0)
    try:
        return np.frombuffer(mapped, dtype=dtype).copy()
    finally:
        vk.vkUnmapMemory(ctx.device, buffer.memory)
